package stream

// Tail keeps the last Max bytes written to it and counts the rest. Max < 0
// keeps everything; Max == 0 keeps nothing. Memory use never exceeds Max
// (beyond slice growth rounding).
//
// The zero Tail keeps nothing. A Tail is not safe for concurrent use.
type Tail struct {
	Max     int
	buf     []byte // ring buffer once full
	start   int    // index of the oldest byte when full
	full    bool
	dropped int64
}

// Write keeps p (or its end) and never fails.
func (t *Tail) Write(p []byte) (int, error) {
	n := len(p)
	switch {
	case t.Max < 0:
		t.buf = append(t.buf, p...)
		return n, nil
	case t.Max == 0:
		t.dropped += int64(n)
		return n, nil
	}
	if !t.full {
		room := t.Max - len(t.buf)
		if len(p) <= room {
			t.buf = append(t.buf, p...)
			return n, nil
		}
		t.buf = append(t.buf, p[:room]...)
		p = p[room:]
		t.full = true
		t.start = 0
	}
	// Full ring: each new byte evicts the oldest.
	t.dropped += int64(len(p))
	if len(p) >= t.Max {
		copy(t.buf, p[len(p)-t.Max:])
		t.start = 0
		return n, nil
	}
	k := copy(t.buf[t.start:], p)
	if k < len(p) {
		copy(t.buf, p[k:])
	}
	t.start = (t.start + len(p)) % t.Max
	return n, nil
}

// Bytes returns the kept bytes in order, as a new slice.
func (t *Tail) Bytes() []byte {
	if !t.full {
		return append([]byte(nil), t.buf...)
	}
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.start:]...)
	return append(out, t.buf[:t.start]...)
}

// String returns the kept bytes as a string.
func (t *Tail) String() string {
	if !t.full {
		return string(t.buf)
	}
	return string(t.Bytes())
}

// Discard records that n bytes of the stream went by without being
// written (they were not read): they and what was kept before them count
// as dropped, since the kept bytes must be the stream's last ones.
func (t *Tail) Discard(n int64) {
	if n <= 0 {
		return
	}
	t.dropped += n + int64(len(t.buf))
	t.buf, t.start, t.full = t.buf[:0], 0, false
}

// Dropped returns how many bytes were written but not kept.
func (t *Tail) Dropped() int64 { return t.dropped }
