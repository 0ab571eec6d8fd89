package seekread

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

const content = "0123456789abcdefghij"

// opener opens content from off (ranged) or from 0, counting opens; plain
// hides the io.Seeker of its streams.
type opener struct {
	ranged, plain bool
	opens         int
}

func (o *opener) open(off int64) (io.ReadCloser, int64, error) {
	o.opens++
	if !o.ranged {
		off = 0
	}
	r := strings.NewReader(content[off:])
	if o.plain || o.ranged {
		return io.NopCloser(struct{ io.Reader }{r}), off, nil
	}
	return struct {
		io.ReadSeeker
		io.Closer
	}{r, io.NopCloser(nil)}, 0, nil
}

func readN(t *testing.T, r *Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	got, err := io.ReadFull(r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatalf("Read: %v", err)
	}
	return string(b[:got])
}

// TestReaderReachesOffsets: each way of reaching an offset (a ranged
// reopen, reading forward, seeking the stream) reads the same bytes, and
// opens only as often as it must.
func TestReaderReachesOffsets(t *testing.T) {
	cases := []struct {
		name      string
		o         opener
		forward   bool
		wantOpens int
	}{
		{"ranged reopen", opener{ranged: true}, true, 3},
		{"read forward, reopen back", opener{plain: true}, false, 2},
		{"seekable stream", opener{}, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			r := New("f", o.open, nil, Options{Size: int64(len(content)), ReopenForward: tc.forward})
			if got := readN(t, r, 3); got != "012" {
				t.Errorf("first read %q", got)
			}
			if _, err := r.Seek(5, io.SeekCurrent); err != nil {
				t.Fatal(err)
			}
			if got := readN(t, r, 2); got != "89" {
				t.Errorf("read after a forward seek %q", got)
			}
			if _, err := r.Seek(-4, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Seek(1, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if got := readN(t, r, 2); got != "12" {
				t.Errorf("read after rewinding %q", got)
			}
			if o.opens != tc.wantOpens {
				t.Errorf("opened %d times; want %d", o.opens, tc.wantOpens)
			}
			if _, err := r.Seek(int64(len(content)), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	fail := func(err error) error { return &fs.PathError{Op: "read", Path: "f", Err: err} }
	r := New("f", func(int64) (io.ReadCloser, int64, error) {
		return io.NopCloser(iotestErr{boom}), 0, nil
	}, nil, Options{Size: -1, Fail: fail})
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Errorf("Read = %v; want the stream's error through Fail", err)
	}
	if _, err := r.Seek(0, io.SeekEnd); err == nil {
		t.Error("SeekEnd of an unknown size succeeded")
	}
	for _, bad := range []struct {
		off    int64
		whence int
	}{{-1, io.SeekStart}, {0, 7}} {
		if _, err := r.Seek(bad.off, bad.whence); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Seek(%d, %d) = %v; want fs.ErrInvalid", bad.off, bad.whence, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := r.Seek(0, io.SeekStart); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Seek after Close = %v", err)
	}
	if err := r.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	opened := New("f", func(int64) (io.ReadCloser, int64, error) { return nil, 0, boom }, nil, Options{Size: 5})
	if _, err := opened.Read(make([]byte, 1)); err != boom {
		t.Errorf("Read = %v; want the Opener's error as it is", err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }
