package stream

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

type record struct {
	s    Stream
	line string // without the newline
}

func encode(recs []record) []byte {
	var b []byte
	for _, r := range recs {
		if r.s == Stdout {
			b = append(b, stdoutLabel[:]...)
		} else {
			b = append(b, stderrLabel[:]...)
		}
		b = append(b, r.line...)
		b = append(b, '\n')
	}
	return b
}

func expected(recs []record) (out, errOut []byte) {
	for _, r := range recs {
		if r.s == Stdout {
			out = append(append(out, r.line...), '\n')
		} else {
			errOut = append(append(errOut, r.line...), '\n')
		}
	}
	return
}

// demuxChunks feeds log to a Demuxer cut at the given sizes.
func demuxChunks(t testing.TB, log []byte, cut func(int) int) (out, errOut []byte) {
	var d Demuxer
	emit := func(s Stream, p []byte) error {
		if s == Stdout {
			out = append(out, p...)
		} else {
			errOut = append(errOut, p...)
		}
		return nil
	}
	for len(log) > 0 {
		n := min(cut(len(log)), len(log))
		if err := d.Feed(log[:n], emit); err != nil {
			t.Fatal(err)
		}
		log = log[n:]
	}
	if err := d.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return
}

func TestDemuxRecords(t *testing.T) {
	recs := []record{
		{Stdout, "hello"}, {Stderr, "oops"}, {Stdout, ""}, {Stdout, "no-newline"},
		// Label-looking bytes inside a line stay output.
		{Stdout, "a\x01\x01\x01b\x02\x02\x02c"}, {Stderr, "\x01\x01"},
	}
	log := encode(recs)
	wantOut, wantErr := expected(recs)
	for size := 1; size <= len(log); size++ {
		out, errOut := demuxChunks(t, log, func(int) int { return size })
		if !bytes.Equal(out, wantOut) || !bytes.Equal(errOut, wantErr) {
			t.Fatalf("chunk %d: got %q / %q; want %q / %q", size, out, errOut, wantOut, wantErr)
		}
	}
}

func TestDemuxPreambleIsOutput(t *testing.T) {
	out, errOut := demuxChunks(t, []byte("pre\x02\x02\x02err\n"), func(int) int { return 2 })
	if string(out) != "pre\x02\x02\x02err\n" || len(errOut) != 0 {
		// The bytes before any label belong to the current line (stdout);
		// the label inside that line is not at a record start.
		t.Fatalf("got %q / %q", out, errOut)
	}
}

func TestDemuxOffset(t *testing.T) {
	log := encode([]record{{Stdout, "abc"}, {Stderr, "de"}})
	var d Demuxer
	_ = d.Feed(log[:5], func(Stream, []byte) error { return nil })
	_ = d.Feed(log[5:], func(Stream, []byte) error { return nil })
	if d.Offset() != int64(len(log)) {
		t.Fatalf("Offset = %d; want %d", d.Offset(), len(log))
	}
}

func FuzzDemux(f *testing.F) {
	f.Add([]byte("hello\x00world"), uint8(3), int64(1))
	f.Add([]byte("\x01\x01\x01\n\x02"), uint8(1), int64(7))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, seed int64) {
		// Build records from data: split at newlines, alternate streams by
		// a seeded choice.
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		var recs []record
		for _, line := range bytes.Split(data, []byte("\n")) {
			s := Stdout
			if rng.IntN(2) == 1 {
				s = Stderr
			}
			recs = append(recs, record{s, string(line)})
		}
		log := encode(recs)
		wantOut, wantErr := expected(recs)
		step := int(chunk%64) + 1
		out, errOut := demuxChunks(t, log, func(n int) int {
			return 1 + rng.IntN(step)
		})
		if !bytes.Equal(out, wantOut) || !bytes.Equal(errOut, wantErr) {
			t.Fatalf("got %q / %q; want %q / %q", out, errOut, wantOut, wantErr)
		}
	})
}

func scan(t testing.TB, token string, input []byte, cut func(int) int) (out []byte, code int, ok bool) {
	s := NewScanner(token)
	emit := func(p []byte) error { out = append(out, p...); return nil }
	for len(input) > 0 {
		n := min(cut(len(input)), len(input))
		if err := s.Feed(input[:n], emit); err != nil {
			t.Fatal(err)
		}
		input = input[n:]
	}
	code, ok = s.Done()
	if !ok {
		_ = s.Flush(emit)
	}
	return out, code, ok
}

func TestScanner(t *testing.T) {
	const tok = "\x1eDTNabc:"
	cases := []struct {
		in, out string
		code    int
		ok      bool
	}{
		{"hello\n\x1eDTNabc:0\n", "hello\n", 0, true},
		{"no-newline\x1eDTNabc:7\n", "no-newline", 7, true},
		{"\x1eDTNabc:127\nlate output\n", "", 127, true},
		{"\x1eDTN\x1eDTNabc:3\n", "\x1eDTN", 3, true},
		{"\x1e\x1e\x1eDTNabc:1\n", "\x1e\x1e", 1, true},
		{"no marker \x1eDTNab", "no marker \x1eDTNab", 0, false},
		{"", "", 0, false},
	}
	for _, tc := range cases {
		for size := 1; size <= len(tc.in)+1; size++ {
			out, code, ok := scan(t, tok, []byte(tc.in), func(int) int { return size })
			if string(out) != tc.out || code != tc.code || ok != tc.ok {
				t.Errorf("%q chunk %d: got %q %d %v; want %q %d %v", tc.in, size, out, code, ok, tc.out, tc.code, tc.ok)
			}
		}
	}
}

func TestScannerBulk(t *testing.T) {
	const tok = "\x1eTK:"
	for _, tc := range []struct {
		in   string
		out  string
		code int
		bulk bool
	}{
		{"out" + tok + "B3\nlater", "out", 3, true},
		{tok + "B0\n", "", 0, true},
		{"x" + tok + "12\n", "x", 12, false},
		{tok + "BX0\n", "", 0, true},
		{tok + "X7\n", "", 7, false},
	} {
		for cut := 1; cut <= len(tc.in); cut++ {
			s := NewScanner(tok)
			var out []byte
			in := []byte(tc.in)
			for len(in) > 0 {
				n := min(cut, len(in))
				if err := s.Feed(in[:n], func(b []byte) error { out = append(out, b...); return nil }); err != nil {
					t.Fatal(err)
				}
				in = in[n:]
			}
			code, ok := s.Done()
			if !ok || code != tc.code || s.Bulk() != tc.bulk || string(out) != tc.out {
				t.Fatalf("%q cut %d: out %q code %d ok %v bulk %v", tc.in, cut, out, code, ok, s.Bulk())
			}
		}
	}
	s := NewScanner(tok)
	_ = s.Feed([]byte(tok+"XB1\n"), func([]byte) error { return nil })
	if !s.ShellGone() || !s.Bulk() {
		t.Fatal("flags XB not both seen")
	}
	for _, bad := range []string{tok + "BB1\n", tok + "B\n", tok + "1B\n", tok + "XX1\n"} {
		s := NewScanner(tok)
		if err := s.Feed([]byte(bad), func([]byte) error { return nil }); err != ErrBadMarker {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestScannerAfter(t *testing.T) {
	const tok = "\x1eTK:"
	in := "out" + tok + "B1\nerr" + tok + "2\nlater"
	for cut := 1; cut <= len(in); cut++ {
		first, second := NewScanner(tok), NewScanner(tok)
		var out, errOut []byte
		first.After = func(b []byte) error {
			return second.Feed(b, func(b []byte) error { errOut = append(errOut, b...); return nil })
		}
		for p := []byte(in); len(p) > 0; {
			n := min(cut, len(p))
			if err := first.Feed(p[:n], func(b []byte) error { out = append(out, b...); return nil }); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		c1, ok1 := first.Done()
		c2, ok2 := second.Done()
		if string(out) != "out" || string(errOut) != "err" || !ok1 || !ok2 || c1 != 1 || c2 != 2 || !first.Bulk() || second.Bulk() {
			t.Fatalf("cut %d: %q %q %v %v %d %d", cut, out, errOut, ok1, ok2, c1, c2)
		}
	}
}

func TestScannerBadMarker(t *testing.T) {
	s := NewScanner("#M:")
	if err := s.Feed([]byte("x#M:abc\n"), func([]byte) error { return nil }); err != ErrBadMarker {
		t.Fatalf("err = %v; want ErrBadMarker", err)
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("output"), uint8(4), uint8(3), int64(2))
	f.Fuzz(func(t *testing.T, out []byte, code uint8, chunk uint8, seed int64) {
		const tok = "\x1eDTN0123456789abcdef:"
		if bytes.Contains(out, []byte(tok)) {
			t.Skip()
		}
		in := append(append(append([]byte{}, out...), tok...), []byte(itoa(int(code))+"\ntrailing")...)
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		step := int(chunk%32) + 1
		got, gotCode, ok := scan(t, tok, in, func(int) int { return 1 + rng.IntN(step) })
		if !ok || gotCode != int(code) || !bytes.Equal(got, out) {
			t.Fatalf("got %q %d %v; want %q %d", got, gotCode, ok, out, code)
		}
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestTail(t *testing.T) {
	cases := []struct {
		max     int
		writes  []string
		want    string
		dropped int64
	}{
		{-1, []string{"abc", "def"}, "abcdef", 0},
		{0, []string{"abc"}, "", 3},
		{4, []string{"ab", "cd"}, "abcd", 0},
		{4, []string{"ab", "cdef"}, "cdef", 2},
		{4, []string{"abcdefgh"}, "efgh", 4},
		{4, []string{"abc", "d", "e", "fg", "hijkl"}, "ijkl", 8},
		{3, []string{"a", "b", "c", "d", "e"}, "cde", 2},
	}
	for _, tc := range cases {
		tl := Tail{Max: tc.max}
		total := 0
		for _, w := range tc.writes {
			_, _ = tl.Write([]byte(w))
			total += len(w)
		}
		if tl.String() != tc.want || tl.Dropped() != tc.dropped {
			t.Errorf("Tail(%d) %q: got %q dropped %d; want %q dropped %d", tc.max, tc.writes, tl.String(), tl.Dropped(), tc.want, tc.dropped)
		}
		if kept := len(tl.Bytes()); int64(kept)+tl.Dropped() != int64(total) {
			t.Errorf("Tail(%d): kept %d + dropped %d != total %d", tc.max, kept, tl.Dropped(), total)
		}
	}
}

func FuzzTail(f *testing.F) {
	f.Add([]byte("hello world"), uint8(4), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, max uint8, seed int64) {
		rng := rand.New(rand.NewPCG(uint64(seed), 3))
		tl := Tail{Max: int(max)}
		rest := data
		for len(rest) > 0 {
			n := 1 + rng.IntN(len(rest))
			_, _ = tl.Write(rest[:n])
			rest = rest[n:]
		}
		want := data
		if len(want) > int(max) {
			want = want[len(want)-int(max):]
		}
		if !bytes.Equal(tl.Bytes(), want) || tl.Dropped() != int64(len(data)-len(want)) {
			t.Fatalf("got %q dropped %d; want %q", tl.Bytes(), tl.Dropped(), want)
		}
	})
}

func BenchmarkDemux(b *testing.B) {
	var recs []record
	for i := 0; i < 1000; i++ {
		recs = append(recs, record{Stream(1 + i%2), "the quick brown fox jumps over the lazy dog 0123456789"})
	}
	log := encode(recs)
	tok := "\x1eDTN0123456789abcdef:"
	sOut, sErr := NewScanner(tok), NewScanner(tok)
	discard := func([]byte) error { return nil }
	emit := func(s Stream, p []byte) error {
		if s == Stdout {
			return sOut.Feed(p, discard)
		}
		return sErr.Feed(p, discard)
	}
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	var d Demuxer
	for b.Loop() {
		for off := 0; off < len(log); off += 1024 {
			_ = d.Feed(log[off:min(off+1024, len(log))], emit)
		}
	}
}

func TestTailDiscard(t *testing.T) {
	for _, max := range []int{-1, 0, 4} {
		tl := Tail{Max: max}
		_, _ = tl.Write([]byte("abc"))
		tl.Discard(10)
		_, _ = tl.Write([]byte("xy"))
		want, dropped := "xy", int64(13)
		if max == 0 {
			want, dropped = "", 15
		}
		if tl.String() != want || tl.Dropped() != dropped {
			t.Fatalf("Max %d: kept %q dropped %d, want %q %d", max, tl.String(), tl.Dropped(), want, dropped)
		}
	}
}
