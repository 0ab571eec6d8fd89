package tools

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripANSI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello\tworld\r\n", "hello\tworld\r\n"},
		{"colours", "\x1b[1;31merror\x1b[0m: x\n", "error: x\n"},
		{"cursor", "a\x1b[2K\x1b[1Gb", "ab"},
		{"private mode", "\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"},
		{"osc title bel", "\x1b]0;title\x07text", "text"},
		{"osc hyperlink st", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"charset", "\x1b(Babc", "abc"},
		{"two-byte", "\x1b=\x1b>x", "x"},
		{"c1 csi", "\u009b31mred\u009b0m", "red"},
		{"c1 osc", "\u009d0;t\u009cok", "ok"},
		{"c2 letters kept", "Ãé Û", "Ãé Û"},
		{"lone esc at end", "abc\x1b", "abc"},
		{"unterminated osc ends at newline", "\x1b]0;never ends\nnext", "\nnext"},
		{"malformed csi keeps next byte", "\x1b[12\nrest", "\nrest"},
		{"utf-8 inside osc", "\x1b]0;héllo\x07ok", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripANSI(tc.in); got != tc.want {
				t.Errorf("StripANSI(%q) = %q; want %q", tc.in, got, tc.want)
			}
			// The same, one byte at a time.
			var b strings.Builder
			st := ansiStripper{w: &b}
			for i := range len(tc.in) {
				st.Write([]byte{tc.in[i]})
			}
			st.Flush()
			if b.String() != tc.want {
				t.Errorf("byte by byte: got %q; want %q", b.String(), tc.want)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	t.Parallel()
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			b.WriteString("line " + itoa(i) + "\n")
		}
		return b.String()
	}
	for _, tc := range []struct {
		name string
		in   string
		b    Budget
		want string
	}{
		{"fits", "a\nb\n", Budget{}, "a\nb\n"},
		{"empty", "", Budget{}, ""},
		{"exactly the lines", lines(1, 8), Budget{MaxLines: 8}, lines(1, 8)},
		{"head and tail by lines", lines(1, 20), Budget{MaxLines: 8},
			lines(1, 2) + "[… 12 lines omitted …]\n" + lines(15, 20)},
		{"one line omitted", lines(1, 9), Budget{MaxLines: 8}, lines(1, 2) + "[… 1 line omitted …]\n" + lines(4, 9)},
		{"no final newline", strings.TrimSuffix(lines(1, 20), "\n"), Budget{MaxLines: 8},
			lines(1, 2) + "[… 12 lines omitted …]\n" + strings.TrimSuffix(lines(15, 20), "\n")},
		{"by bytes", lines(1, 20), Budget{MaxBytes: 64}, // 7 bytes a line (8 from line 10): 16 head, 48 tail
			lines(1, 2) + "[… 12 lines omitted …]\n" + lines(15, 20)},
		{"one long line", strings.Repeat("x", 200), Budget{MaxBytes: 64},
			strings.Repeat("x", 16) + "[… 136 bytes omitted …]" + strings.Repeat("x", 48)},
		{"long last line", "first\n" + strings.Repeat("y", 200), Budget{MaxBytes: 64},
			"first\n[… 152 bytes omitted …]" + strings.Repeat("y", 48)},
		{"utf-8 boundaries", strings.Repeat("é", 100), Budget{MaxBytes: 64},
			strings.Repeat("é", 8) + "[… 136 bytes omitted …]" + strings.Repeat("é", 24)},
		{"utf-8 odd cut", "a" + strings.Repeat("€", 100), Budget{MaxBytes: 64}, // € is 3 bytes
			"a" + strings.Repeat("€", 5) + "[… 237 bytes omitted …]" + strings.Repeat("€", 16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Trim(tc.in, tc.b)
			if got != tc.want {
				t.Errorf("Trim:\n got %q\nwant %q", got, tc.want)
			}
			if sv := savedTrim(tc.in, tc.b, 7); sv != got {
				t.Errorf("through a saver:\n got %q\nwant %q", sv, got)
			}
		})
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestTailOnly(t *testing.T) {
	t.Parallel()
	in := "1\n2\n3\n4\n5\n"
	v := view{head: in, totalBytes: 10, newlines: 5, last: '\n'}
	if got, want := v.trim(Budget{}.tailOnly(2)), "[… 3 lines omitted …]\n4\n5\n"; got != want {
		t.Errorf("tail 2: got %q; want %q", got, want)
	}
	if got := v.trim(Budget{}.tailOnly(9)); got != in {
		t.Errorf("tail 9: got %q; want all", got)
	}
}

// savedTrim writes s to a saver in chunks of n bytes and trims its view.
func savedTrim(s string, b Budget, n int) string {
	sv := newSaver(b.withDefaults().MaxBytes)
	for len(s) > 0 {
		k := min(n, len(s))
		sv.Write([]byte(s[:k]))
		s = s[k:]
	}
	return sv.view().trim(b.headAndTail())
}

func TestBudgetValidate(t *testing.T) {
	t.Parallel()
	for _, b := range []Budget{{MaxBytes: 63}, {MaxBytes: -1}, {MaxLines: 1}, {MaxLines: -5}} {
		if b.validate() == nil {
			t.Errorf("%+v: validate() = nil; want an error", b)
		}
	}
	if err := (Budget{MaxBytes: 64, MaxLines: 2}).validate(); err != nil {
		t.Errorf("minimal budget: %v", err)
	}
}

func TestRedactorSplitSecret(t *testing.T) {
	t.Parallel()
	var got strings.Builder
	r := redactor{s: newSecrets([]string{"", "s3cr3t-key"}), w: func(b []byte) { got.Write(b) }}
	for _, chunk := range []string{"key=s3c", "r3t-k", "ey; and s", "3cr3t-key!", " s3"} {
		r.write([]byte(chunk))
	}
	r.flush()
	if want := "key=" + Redacted + "; and " + Redacted + "! s3"; got.String() != want {
		t.Errorf("got %q; want %q", got.String(), want)
	}
}

func TestEmitterWholeCharacters(t *testing.T) {
	t.Parallel()
	var reports []Progress
	e := &emitter{fn: func(p Progress) { reports = append(reports, p) }}
	e.emit("stdout", []byte("a\xc3"))
	e.emit("stderr", []byte("\xe2\x82"))
	e.emit("stdout", []byte("\xa9b"))
	e.flush("stderr")
	want := []Progress{{"stdout", "a", 1}, {"stdout", "éb", 4}, {"stderr", "\xe2\x82", 6}}
	if len(reports) != len(want) {
		t.Fatalf("reports %q; want %q", reports, want)
	}
	for i := range want {
		if reports[i] != want[i] {
			t.Errorf("report %d = %+v; want %+v", i, reports[i], want[i])
		}
	}
}

func FuzzTrim(f *testing.F) {
	f.Add("line 1\nline 2\n", 64, 2, 3)
	f.Add(strings.Repeat("é€𝄞\n", 50), 70, 5, 1)
	f.Add("\xff\xfe"+strings.Repeat("x", 300), 64, 3, 5)
	f.Fuzz(func(t *testing.T, s string, maxBytes, maxLines, chunk int) {
		b := Budget{MaxBytes: 64 + abs(maxBytes)%512, MaxLines: 2 + abs(maxLines)%50}
		got := Trim(s, b)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Trim made valid UTF-8 invalid: %q -> %q", s, got)
		}
		head, tail, marked := splitMarker(got)
		if !marked {
			if got != s {
				t.Fatalf("no marker, yet changed: %q -> %q", s, got)
			}
		} else {
			if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, tail) || len(head)+len(tail) >= len(s) {
				t.Fatalf("not a head and a tail of the input: %q -> %q", s, got)
			}
			if len(head)+len(tail) > b.MaxBytes || strings.Count(head+tail, "\n") > b.MaxLines {
				t.Fatalf("over budget %+v: %q", b, got)
			}
		}
		if sv := savedTrim(s, b, 1+abs(chunk)%100); sv != got {
			t.Fatalf("saver differs:\n got %q\nwant %q", sv, got)
		}
	})
}

func FuzzStripANSI(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\n", 3)
	f.Add("\u009b1m\x1b]8;;u\x07é\x1b", 1)
	f.Fuzz(func(t *testing.T, s string, chunk int) {
		got := StripANSI(s)
		if strings.IndexByte(got, 0x1b) >= 0 {
			t.Fatalf("ESC left in %q -> %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("made valid UTF-8 invalid: %q -> %q", s, got)
		}
		var b strings.Builder
		st := ansiStripper{w: &b}
		n := 1 + abs(chunk)%16
		for rest := s; len(rest) > 0; {
			k := min(n, len(rest))
			st.Write([]byte(rest[:k]))
			rest = rest[k:]
		}
		st.Flush()
		if b.String() != got {
			t.Fatalf("in chunks of %d: %q; whole: %q", n, b.String(), got)
		}
	})
}

// splitMarker splits a trimmed text at its marker.
func splitMarker(s string) (head, tail string, ok bool) {
	i := strings.Index(s, "[… ")
	j := strings.Index(s, " omitted …]")
	if i < 0 || j < i {
		return s, "", false
	}
	tail = s[j+len(" omitted …]"):]
	if strings.HasSuffix(s[:j], "line") || strings.HasSuffix(s[:j], "lines") {
		tail = strings.TrimPrefix(tail, "\n")
	}
	return s[:i], tail, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
