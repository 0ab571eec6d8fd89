// Package jsonstream decodes one JSON object whose string members may be
// too large to hold in memory: their values are passed on, decoded, piece
// by piece as they are read. It exists for the daemon's answer to a
// synchronous command, which carries a command's whole output (twice) in
// string members.
package jsonstream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Handler receives the members of the object, in order.
type Handler interface {
	// String returns the function that receives the decoded value of the
	// string member key, in pieces (valid only during each call), or nil
	// to skip the value.
	String(key string) func(piece []byte) error
	// Other receives a member whose value is not a string (a number, true,
	// false, null, an object or an array) as its raw JSON.
	Other(key string, raw []byte) error
}

// Limits on what is held in memory.
const (
	maxKey   = 1 << 10 // a member's name
	maxOther = 1 << 20 // a value that is not a string
)

// ErrSyntax reports input that is not one JSON object.
var ErrSyntax = errors.New("jsonstream: invalid JSON object")

// DecodeObject reads one JSON object from r and passes its members to h.
// Only white space may follow it. Invalid UTF-8 inside a string is passed
// on as is (encoding/json would replace it with U+FFFD). It returns h's first error, ErrSyntax
// (wrapped) for malformed input, or r's error (io.ErrUnexpectedEOF for a
// truncated object).
func DecodeObject(r io.Reader, h Handler) error {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	d := &decoder{r: br}
	if err := d.expect('{'); err != nil {
		return err
	}
	c, err := d.nonSpace()
	if err != nil {
		return err
	}
	if c != '}' {
		_ = d.r.UnreadByte()
		if err := d.members(h); err != nil {
			return err
		}
	}
	return d.end()
}

// readers holds the buffered readers of decoders, so that a decoder
// costs no 64 KiB allocation.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

type decoder struct {
	r       *bufio.Reader
	scratch [utf8.UTFMax]byte
}

// members reads the members of the object up to its closing brace.
func (d *decoder) members(h Handler) error {
	for {
		if err := d.expect('"'); err != nil {
			return err
		}
		key, err := d.smallString(maxKey)
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := d.value(key, h); err != nil {
			return err
		}
		c, err := d.nonSpace()
		switch {
		case err != nil:
			return err
		case c == '}':
			return nil
		case c != ',':
			return fmt.Errorf("%w: %q after a member", ErrSyntax, c)
		}
	}
}

// value reads the value of member key.
func (d *decoder) value(key string, h Handler) error {
	c, err := d.nonSpace()
	if err != nil {
		return err
	}
	if c == '"' {
		return d.str(h.String(key))
	}
	_ = d.r.UnreadByte()
	raw, err := d.other()
	if err != nil {
		return err
	}
	return h.Other(key, raw)
}

// end checks that only white space follows the object.
func (d *decoder) end() error {
	c, err := d.nonSpace()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %q after the object", ErrSyntax, c)
}

// nonSpace returns the next byte that is not JSON white space.
func (d *decoder) nonSpace() (byte, error) {
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// expect reads want, after white space.
func (d *decoder) expect(want byte) error {
	c, err := d.nonSpace()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("%w: %q where %q was expected", ErrSyntax, c, want)
	}
	return nil
}

// smallString reads the rest of a string (after its opening quote) of at
// most limit bytes.
func (d *decoder) smallString(limit int) (string, error) {
	var b []byte
	err := d.str(func(p []byte) error {
		if len(b)+len(p) > limit {
			return fmt.Errorf("%w: a string longer than %d bytes where a short one was expected", ErrSyntax, limit)
		}
		b = append(b, p...)
		return nil
	})
	return string(b), err
}

// str reads the rest of a string (after its opening quote), passing its
// decoded bytes to sink (nil: dropped).
func (d *decoder) str(sink func([]byte) error) error {
	emit := func(p []byte) error {
		if sink == nil || len(p) == 0 {
			return nil
		}
		return sink(p)
	}
	for {
		if d.r.Buffered() == 0 {
			if _, err := d.r.Peek(1); err != nil {
				return unexpected(err)
			}
		}
		chunk, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(chunk) && chunk[i] != '"' && chunk[i] != '\\' && chunk[i] >= 0x20 {
			i++
		}
		if err := emit(chunk[:i]); err != nil {
			return err
		}
		_, _ = d.r.Discard(i)
		if i == len(chunk) {
			continue
		}
		c, _ := d.r.ReadByte()
		switch {
		case c == '"':
			return nil
		case c < 0x20:
			return fmt.Errorf("%w: a control character in a string", ErrSyntax)
		}
		p, err := d.escape()
		if err != nil {
			return err
		}
		if err := emit(p); err != nil {
			return err
		}
	}
}

// escape decodes an escape sequence after its backslash.
func (d *decoder) escape() ([]byte, error) {
	c, err := d.r.ReadByte()
	if err != nil {
		return nil, unexpected(err)
	}
	switch c {
	case '"', '\\', '/':
		d.scratch[0] = c
	case 'b':
		d.scratch[0] = '\b'
	case 'f':
		d.scratch[0] = '\f'
	case 'n':
		d.scratch[0] = '\n'
	case 'r':
		d.scratch[0] = '\r'
	case 't':
		d.scratch[0] = '\t'
	case 'u':
		r, err := d.unicode()
		if err != nil {
			return nil, err
		}
		n := utf8.EncodeRune(d.scratch[:], r)
		return d.scratch[:n], nil
	default:
		return nil, fmt.Errorf("%w: escape \\%c", ErrSyntax, c)
	}
	return d.scratch[:1], nil
}

// unicode decodes the hex digits of \uXXXX, and of the low half that
// follows a high surrogate; an unpaired surrogate becomes U+FFFD, as
// encoding/json decodes it.
func (d *decoder) unicode() (rune, error) {
	r, err := d.hex4()
	if err != nil || !utf16.IsSurrogate(r) {
		return r, err
	}
	if r >= 0xDC00 {
		return utf8.RuneError, nil // a low half alone
	}
	next, err := d.r.Peek(6)
	if err != nil || next[0] != '\\' || next[1] != 'u' {
		return utf8.RuneError, nil
	}
	lo, ok := parseHex4(next[2:6])
	if !ok {
		return 0, fmt.Errorf("%w: bad \\u escape", ErrSyntax)
	}
	if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
		_, _ = d.r.Discard(6)
		return dec, nil
	}
	return utf8.RuneError, nil
}

// hex4 reads four hex digits.
func (d *decoder) hex4() (rune, error) {
	b, err := d.r.Peek(4)
	if err != nil {
		return 0, unexpected(err)
	}
	r, ok := parseHex4(b)
	if !ok {
		return 0, fmt.Errorf("%w: bad \\u escape", ErrSyntax)
	}
	_, _ = d.r.Discard(4)
	return r, nil
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// other reads a value that is not a string: a literal or a number up to
// the next delimiter, or a whole object or array.
func (d *decoder) other() ([]byte, error) {
	var raw []byte
	depth, inStr, esc := 0, false, false
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return nil, unexpected(err)
		}
		if depth == 0 && !inStr && (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			_ = d.r.UnreadByte()
			if len(raw) == 0 {
				return nil, fmt.Errorf("%w: a missing value", ErrSyntax)
			}
			return raw, nil
		}
		if raw = append(raw, c); len(raw) > maxOther {
			return nil, fmt.Errorf("%w: a value longer than %d bytes", ErrSyntax, maxOther)
		}
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '{' || c == '['):
			depth++
		case !inStr && (c == '}' || c == ']'):
			if depth--; depth == 0 {
				return raw, nil
			}
		}
	}
}

// unexpected turns the end of the input inside a value into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
