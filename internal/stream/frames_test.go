package stream

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// decodeFrames feeds in to a Frames in pieces cut at random and returns
// what it passed on per stream.
func decodeFrames(t testing.TB, marker string, in []byte, seed uint64) (out [3][]byte, f *Frames) {
	t.Helper()
	f = NewFrames(marker)
	emit := func(st Stream, b []byte) error { out[st] = append(out[st], b...); return nil }
	rng := rand.New(rand.NewPCG(seed, 7))
	for len(in) > 0 {
		n := 1 + rng.IntN(len(in))
		if err := f.Feed(in[:n], emit); err != nil {
			t.Fatal(err)
		}
		in = in[n:]
	}
	if err := f.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return out, f
}

func TestFrames(t *testing.T) {
	const m = "\x1eM:"
	cases := []struct {
		name           string
		in             string
		stdout, stderr string
		mode           byte
		corrupt        bool
	}{
		{"framed", m + "F\nohello%0A\neerr%00%FF\no%25%01\n", "hello\n%\x01", "err\x00\xff", ModeFramed, false},
		{"raw", m + "R\nplain \x01 output", "plain \x01 output", "", ModeRaw, false},
		{"no bash", m + "N\n", "", "", ModeNoBash, false},
		{"no header", "hello", "hello", "", ModeUnframed, false},
		{"header prefix only", "\x1eM", "\x1eM", "", ModeUnframed, false},
		{"header with a wrong letter", m + "X\nz", m + "X\nz", "", ModeUnframed, false},
		{"bad tag", m + "F\nxab\nook\n", "xab" + "ok", "", ModeFramed, true},
		{"bad escape", m + "F\no%G1z\n", "%G1z", "", ModeFramed, true},
		{"empty records", m + "F\no\ne\n", "", "", ModeFramed, false},
		{"files", m + "D/a/b.out\t/a/b.err\nafter", "after", "", ModeFiles, false},
		{"files, merged", m + "D/a/b.out\n", "", "", ModeFiles, false},
		{"files with a control byte", m + "D/a\x01\n", m + "D/a\x01\n", "", ModeUnframed, false},
		{"files cut short", m + "D/a/b", m + "D/a/b", "", ModeUnframed, false},
	}
	for _, tc := range cases {
		for seed := range uint64(20) {
			out, f := decodeFrames(t, m, []byte(tc.in), seed)
			if string(out[Stdout]) != tc.stdout || string(out[Stderr]) != tc.stderr || f.Mode() != tc.mode || f.Corrupt() != tc.corrupt {
				t.Fatalf("%s (seed %d): got %q / %q mode %q corrupt %v; want %q / %q mode %q corrupt %v", tc.name, seed,
					out[Stdout], out[Stderr], f.Mode(), f.Corrupt(), tc.stdout, tc.stderr, tc.mode, tc.corrupt)
			}
		}
	}
}

func TestFramesFiles(t *testing.T) {
	const m = "\x1eM:"
	for seed := range uint64(20) {
		_, f := decodeFrames(t, m, []byte(m+"D/x y/o.out\t/x y/e.err\n"), seed)
		if o, e, ok := f.Files(); !ok || o != "/x y/o.out" || e != "/x y/e.err" {
			t.Fatalf("Files() = %q, %q, %v", o, e, ok)
		}
		_, f = decodeFrames(t, m, []byte(m+"D/o\n"), seed)
		if o, e, ok := f.Files(); !ok || o != "/o" || e != "" {
			t.Fatalf("merged: Files() = %q, %q, %v", o, e, ok)
		}
		_, f = decodeFrames(t, m, []byte(m+"R\n"), seed)
		if _, _, ok := f.Files(); ok {
			t.Fatal("Files() of a raw header")
		}
	}
	// A header longer than the bound is not ours: it is output.
	long := m + "D/" + string(bytes.Repeat([]byte("a"), maxPaths)) + "\n"
	out, f := decodeFrames(t, m, []byte(long), 1)
	if f.Mode() != ModeUnframed || string(out[Stdout]) != long {
		t.Fatalf("mode %q, %d bytes out", f.Mode(), len(out[Stdout]))
	}
}

// FuzzFrames checks that any bytes, framed as the encoder frames them,
// come back exactly whatever the cuts.
func FuzzFrames(f *testing.F) {
	f.Add([]byte("a\nb%\x00"), []byte{0xff, 'x'}, uint64(1))
	f.Fuzz(func(t *testing.T, o, e []byte, seed uint64) {
		const m = "\x1eDTN0:"
		in := []byte(m + "F\n")
		for i, p := range [][]byte{o, e} {
			tag := "oe"[i]
			for len(p) > 0 {
				n := min(len(p), 1024)
				in = append(in, tag)
				for _, c := range p[:n] {
					if c <= 2 || c == '\n' || c == '%' || c >= 0x80 {
						in = append(in, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
					} else {
						in = append(in, c)
					}
				}
				in = append(in, '\n')
				p = p[n:]
			}
		}
		out, fr := decodeFrames(t, m, in, seed)
		if !bytes.Equal(out[Stdout], o) || !bytes.Equal(out[Stderr], e) || fr.Corrupt() {
			t.Fatalf("got %q / %q, want %q / %q", out[Stdout], out[Stderr], o, e)
		}
	})
}
