package tools

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// StripANSI removes terminal escape sequences from s: CSI sequences (colours,
// cursor movement), OSC strings (titles, hyperlinks), DCS, SOS, PM and APC
// strings, and two-byte escapes, whether introduced by ESC or by the C1
// control characters U+009B and U+009D (as UTF-8). A string sequence with
// no terminator ends at the next newline, or after 4 KiB, and is dropped.
// Everything else, including newlines, tabs and carriage returns, is kept.
func StripANSI(s string) string {
	if !containsEscape(s) {
		return s
	}
	var b bytes.Buffer
	st := ansiStripper{w: &b}
	st.Write([]byte(s))
	st.Flush()
	return b.String()
}

// containsEscape reports whether s may hold an escape sequence: an ESC, or
// a 0xC2 byte that may start U+009B or U+009D.
func containsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b || s[i] == 0xc2 {
			return true
		}
	}
	return false
}

// ansiState is where an ansiStripper is in the byte stream.
type ansiState uint8

const (
	ansiGround    ansiState = iota // plain text
	ansiC2                         // after a 0xC2 byte in text (a C1 control may follow)
	ansiEsc                        // after ESC
	ansiCSI                        // in a control sequence
	ansiNF                         // after ESC and intermediate bytes
	ansiString                     // in an OSC, DCS, SOS, PM or APC string
	ansiStringEsc                  // after ESC in a string
	ansiStringC2                   // after 0xC2 in a string (U+009C, ST, may follow)
)

// maxANSIString bounds an unterminated string sequence.
const maxANSIString = 4 << 10

// ansiStripper is an io.Writer that removes escape sequences from what it
// writes to w, also when a sequence is split across writes. Flush writes
// what it holds back (at most one byte) at the end of the stream.
type ansiStripper struct {
	w     io.Writer
	state ansiState
	n     int    // bytes in the current string sequence
	out   []byte // reused output buffer
}

// Write strips p and writes the rest to w. It reports len(p) unless w fails.
func (a *ansiStripper) Write(p []byte) (int, error) {
	a.out = a.out[:0]
	for _, c := range p {
		a.step(c)
	}
	if len(a.out) == 0 {
		return len(p), nil
	}
	if _, err := a.w.Write(a.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held-back 0xC2 byte (the stream ended before its next
// byte) and forgets any unfinished sequence.
func (a *ansiStripper) Flush() error {
	held := a.state == ansiC2
	a.state = ansiGround
	if held {
		_, err := a.w.Write([]byte{0xc2})
		return err
	}
	return nil
}

// step consumes one byte.
func (a *ansiStripper) step(c byte) {
	switch a.state {
	case ansiGround:
		a.ground(c)
	case ansiC2:
		a.afterC2(c)
	case ansiEsc:
		a.afterEsc(c)
	case ansiCSI:
		switch {
		case c >= 0x20 && c <= 0x3f: // parameter and intermediate bytes
		case c >= 0x40 && c <= 0x7e: // final byte
			a.state = ansiGround
		default: // malformed: drop the sequence, keep the byte
			a.state = ansiGround
			a.ground(c)
		}
	case ansiNF:
		switch {
		case c >= 0x20 && c <= 0x2f:
		case c >= 0x30 && c <= 0x7e:
			a.state = ansiGround
		default:
			a.state = ansiGround
			a.ground(c)
		}
	default:
		a.inString(c)
	}
}

func (a *ansiStripper) ground(c byte) {
	switch c {
	case 0x1b:
		a.state = ansiEsc
	case 0xc2:
		a.state = ansiC2
	default:
		a.out = append(a.out, c)
	}
}

func (a *ansiStripper) afterC2(c byte) {
	switch c {
	case 0x9b: // U+009B, CSI
		a.state = ansiCSI
	case 0x9d, 0x90, 0x98, 0x9e, 0x9f: // OSC, DCS, SOS, PM, APC
		a.startString()
	default:
		a.out = append(a.out, 0xc2)
		a.state = ansiGround
		a.ground(c)
	}
}

func (a *ansiStripper) afterEsc(c byte) {
	switch {
	case c == '[':
		a.state = ansiCSI
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		a.startString()
	case c == 0x1b: // a new escape; the first one is dropped
	case c >= 0x20 && c <= 0x2f:
		a.state = ansiNF
	case c >= 0x30 && c <= 0x7e: // a two-byte escape
		a.state = ansiGround
	default: // a lone ESC: drop it, keep the byte
		a.state = ansiGround
		a.ground(c)
	}
}

func (a *ansiStripper) startString() {
	a.state = ansiString
	a.n = 0
}

func (a *ansiStripper) inString(c byte) {
	a.n++
	switch {
	case c == 0x07 && a.state != ansiStringC2: // BEL ends an OSC
		a.state = ansiGround
	case a.state == ansiStringEsc:
		if c == '\\' { // ESC \ is ST
			a.state = ansiGround
			return
		}
		a.state = ansiEsc // ESC began a new sequence
		a.afterEsc(c)
	case a.state == ansiStringC2 && c == 0x9c: // U+009C is ST
		a.state = ansiGround
	case (c == '\n' || a.n > maxANSIString) && utf8.RuneStart(c): // unterminated: give up on it
		a.state = ansiGround
		a.ground(c)
	case c == 0x1b:
		a.state = ansiStringEsc
	case c == 0xc2:
		a.state = ansiStringC2
	default:
		a.state = ansiString
	}
}
