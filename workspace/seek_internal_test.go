package workspace

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

const content = "0123456789abcdefghij"

// opener opens content from off (ranged) or from 0, counting opens; plain
// and ranged streams hide their io.Seeker.
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

func readN(t *testing.T, r io.Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	got, err := io.ReadFull(r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatalf("Read: %v", err)
	}
	return string(b[:got])
}

// TestReadSeekerReachesOffsets: each way of reaching an offset (reading
// ahead, a ranged reopen, reopening from the start, seeking the stream)
// reads the same bytes, and opens only as often as it must.
func TestReadSeekerReachesOffsets(t *testing.T) {
	cases := []struct {
		name      string
		o         opener
		wantOpens int
	}{
		{"ranged reopen", opener{ranged: true}, 2},
		{"read ahead, reopen back", opener{plain: true}, 2},
		{"seekable stream", opener{}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			r := NewReadSeeker("f", int64(len(content)), nil, o.open)
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

// TestReadSeekerFarSkipReopens: a skip beyond the read-ahead limit opens
// the content again where it goes.
func TestReadSeekerFarSkipReopens(t *testing.T) {
	var asked []int64
	data := strings.Repeat("x", 3*skipLimit) + "end"
	r := NewReadSeeker("f", int64(len(data)), nil, func(off int64) (io.ReadCloser, int64, error) {
		asked = append(asked, off)
		return io.NopCloser(strings.NewReader(data[off:])), off, nil
	})
	readN(t, r, 1)
	if _, err := r.Seek(-3, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, r, 3); got != "end" {
		t.Errorf("read %q", got)
	}
	if len(asked) != 2 || asked[1] != int64(len(data)-3) {
		t.Errorf("opened at %v; want 0, then %d", asked, len(data)-3)
	}
}

func TestReadSeekerErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewReadSeeker("f", -1, nil, func(int64) (io.ReadCloser, int64, error) {
		return io.NopCloser(errReader{boom}), 0, nil
	})
	var pe *fs.PathError
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, boom) || !errors.As(err, &pe) || pe.Path != "f" {
		t.Errorf("Read = %v; want a *fs.PathError for f wrapping the stream's error", err)
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
	missing := &fs.PathError{Op: "open", Path: "/abs/f", Err: fs.ErrNotExist}
	opened := NewReadSeeker("f", 5, nil, func(int64) (io.ReadCloser, int64, error) { return nil, 0, missing })
	if _, err := opened.Read(make([]byte, 1)); !errors.As(err, &pe) || pe.Path != "f" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read = %v; want the cause of the opener's *fs.PathError under this name", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestReadSeekerWithoutReopen: a nil Reopen is an error at the first Read
// that needs it, not a panic; what rc holds is still read.
func TestReadSeekerWithoutReopen(t *testing.T) {
	r := NewReadSeeker("f", -1, nil, nil)
	if _, err := r.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "nil Reopen") {
		t.Errorf("Read = %v", err)
	}
	r = NewReadSeeker("f", 3, io.NopCloser(strings.NewReader("abc")), nil)
	if got := readN(t, r, 3); got != "abc" {
		t.Errorf("read %q", got)
	}
}
