package stream

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// readHeader feeds in to a Header in pieces cut at random and returns the
// stdout it passed on.
func readHeader(t testing.TB, marker string, in []byte, seed uint64) (out []byte, h *Header) {
	t.Helper()
	h = NewHeader(marker)
	emit := func(b []byte) error { out = append(out, b...); return nil }
	rng := rand.New(rand.NewPCG(seed, 7))
	for len(in) > 0 {
		n := 1 + rng.IntN(len(in))
		if err := h.Feed(in[:n], emit); err != nil {
			t.Fatal(err)
		}
		in = in[n:]
	}
	if err := h.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return out, h
}

func TestHeader(t *testing.T) {
	const m = "\x1eM:"
	cases := []struct {
		name, in, stdout string
		mode             byte
	}{
		{"raw", m + "R\nplain \x01 output", "plain \x01 output", ModeRaw},
		{"no bash", m + "N\n", "", ModeNoBash},
		{"undefined", m + "V\n", "", ModeUndefined},
		{"files", m + "D/a/b.out\t/a/b.err\nafter", "after", ModeFiles},
		{"files, merged", m + "D/a/b.out\n", "", ModeFiles},
		{"no header", "hello", "hello", ModeNone},
		{"header prefix only", "\x1eM", "\x1eM", ModeNone},
		{"header with a wrong letter", m + "X\nz", m + "X\nz", ModeNone},
		{"files with a control byte", m + "D/a\x01\n", m + "D/a\x01\n", ModeNone},
		{"files cut short", m + "D/a/b", m + "D/a/b", ModeNone},
	}
	for _, tc := range cases {
		for seed := range uint64(20) {
			out, h := readHeader(t, m, []byte(tc.in), seed)
			if string(out) != tc.stdout || h.Mode() != tc.mode {
				t.Fatalf("%s (seed %d): got %q mode %q; want %q mode %q", tc.name, seed, out, h.Mode(), tc.stdout, tc.mode)
			}
		}
	}
}

func TestHeaderFiles(t *testing.T) {
	const m = "\x1eM:"
	for seed := range uint64(20) {
		_, h := readHeader(t, m, []byte(m+"D/x y/o.out\t/x y/e.err\n"), seed)
		if o, e, ok := h.Files(); !ok || o != "/x y/o.out" || e != "/x y/e.err" {
			t.Fatalf("Files() = %q, %q, %v", o, e, ok)
		}
		_, h = readHeader(t, m, []byte(m+"D/o\n"), seed)
		if o, e, ok := h.Files(); !ok || o != "/o" || e != "" {
			t.Fatalf("merged: Files() = %q, %q, %v", o, e, ok)
		}
		_, h = readHeader(t, m, []byte(m+"R\n"), seed)
		if _, _, ok := h.Files(); ok {
			t.Fatal("Files() of a raw header")
		}
	}
	// A header longer than the bound is not ours: it is output.
	long := m + "D/" + string(bytes.Repeat([]byte("a"), maxPaths)) + "\n"
	out, h := readHeader(t, m, []byte(long), 1)
	if h.Mode() != ModeNone || string(out) != long {
		t.Fatalf("mode %q, %d bytes out", h.Mode(), len(out))
	}
}

// FuzzHeader: whatever the output, what Header passes on plus the header
// it read is the input.
func FuzzHeader(f *testing.F) {
	f.Add([]byte("\x1eM:D/a\t/b\nxyz"), uint64(1))
	f.Add([]byte("\x1eM:R"), uint64(2))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		const m = "\x1eM:"
		out, h := readHeader(t, m, in, seed)
		var head []byte
		switch h.Mode() {
		case ModeNone, ModeUndecided:
		default:
			head = append(append(append([]byte(m), h.Mode()), h.paths...), '\n')
		}
		if !bytes.Equal(append(head, out...), in) {
			t.Fatalf("in %q: header %q, out %q", in, head, out)
		}
	})
}
