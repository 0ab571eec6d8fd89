package stream

import "strings"

// Frames decodes the stdout side of a command run by shell.Spec.Script:
// first a header line (the completion marker, a mode letter and a
// newline), then, in framed mode, records written by the sandbox's output
// encoder:
//
//	<tag><payload>\n
//
// where tag is 'o' (stdout) or 'e' (stderr) and the payload is the output
// with NUL, 01, 02, newline, '%' and invalid UTF-8 bytes written as %XX. In
// raw mode (no perl in the sandbox), and when the output does not start
// with the header, what follows is stdout as is.
//
// Input may be cut anywhere, including inside the header, a tag or an
// escape. Create a Frames with NewFrames. It is not safe for concurrent
// use.
type Frames struct {
	header  []byte // the marker; a mode letter and a newline follow it
	matched int    // header bytes matched so far, the letter included
	letter  byte   // the mode letter, once matched
	mode    byte   // ModeUndecided, ModeUnframed, or the header's letter
	cur     Stream // the current record's stream; 0 at a record start
	last    Stream // the stream of the record that ended last
	inEsc   bool   // inside a %XX escape
	hex     [2]byte
	nhex    int
	corrupt bool
	out     []byte // decoded bytes of the current record not yet passed on
	paths   []byte // the files a ModeFiles header names, so far
}

// Header mode letters, as the script writes them, and the modes Frames
// adds.
const (
	ModeFramed    byte = 'F' // records from the encoder follow
	ModeRaw       byte = 'R' // raw output follows (no perl in the sandbox)
	ModeNoBash    byte = 'N' // the sandbox has no bash; the command did not run
	ModeFiles     byte = 'D' // output goes to the files the header names
	ModeUndefined byte = 'V' // the session's shell has no runner; the command did not run
	ModeUndecided byte = 0   // no header seen yet
	ModeUnframed  byte = 'U' // the output did not start with the header
)

// NewFrames returns a Frames for a command whose marker is marker.
func NewFrames(marker string) *Frames {
	return &Frames{header: []byte(marker)}
}

// Header returns the header line the script writes in the given mode.
func (f *Frames) Header(mode byte) string {
	return string(f.header) + string(mode) + "\n"
}

// Mode returns the header's mode letter, ModeUnframed if the output did
// not start with a header, or ModeUndecided.
func (f *Frames) Mode() byte { return f.mode }

// maxPaths bounds the text of a ModeFiles header after its letter.
const maxPaths = 8 << 10

// Files returns the files that a ModeFiles header names: stdout's, and
// stderr's unless the command's stderr went to the same file (then it is
// empty). ok is false before such a header was read.
func (f *Frames) Files() (stdout, stderr string, ok bool) {
	if f.mode != ModeFiles {
		return "", "", false
	}
	stdout, stderr, _ = strings.Cut(string(f.paths), "\t")
	return stdout, stderr, true
}

// Corrupt reports a malformed record: a byte other than a tag at a record
// start, or a bad escape. Its bytes were passed on as stdout.
func (f *Frames) Corrupt() bool { return f.corrupt }

// Feed decodes p, calling emit with runs of output and their stream. The
// slices passed to emit alias p or the Frames' buffers and are valid only
// during the call. If emit fails, Feed returns its error.
func (f *Frames) Feed(p []byte, emit func(Stream, []byte) error) error {
	if f.mode == ModeUndecided {
		var err error
		if p, err = f.feedHeader(p, emit); err != nil || len(p) == 0 {
			return err
		}
	}
	if f.mode != ModeFramed {
		return emit(Stdout, p)
	}
	return f.feedRecords(p, emit)
}

// Flush passes on header bytes held back at the end of the output as
// stdout; call it when the output is known to be complete.
func (f *Frames) Flush(emit func(Stream, []byte) error) error {
	if f.mode != ModeUndecided || f.matched == 0 {
		return nil
	}
	f.mode = ModeUnframed
	return emit(Stdout, f.held())
}

// feedHeader matches the header at the start of the output and returns
// what remains of p.
func (f *Frames) feedHeader(p []byte, emit func(Stream, []byte) error) ([]byte, error) {
	m := len(f.header)
	for len(p) > 0 {
		c := p[0]
		switch {
		case f.matched < m && c == f.header[f.matched]:
		case f.matched == m && (c == ModeFramed || c == ModeRaw || c == ModeNoBash || c == ModeFiles || c == ModeUndefined):
			f.letter = c
		case f.matched == m+1 && c == '\n':
			f.mode = f.letter
			return p[1:], nil
		case f.matched == m+1 && f.letter == ModeFiles && (c >= ' ' && c < 0x7f || c == '\t'):
			// The files' names, up to the newline.
			if len(f.paths) == maxPaths {
				return f.notHeader(p, emit)
			}
			f.paths = append(f.paths, c)
			p = p[1:]
			continue
		default:
			return f.notHeader(p, emit)
		}
		f.matched++
		p = p[1:]
	}
	return p, nil
}

// notHeader passes on what looked like the start of a header, and p, as
// stdout: the output did not start with our header.
func (f *Frames) notHeader(p []byte, emit func(Stream, []byte) error) ([]byte, error) {
	f.mode = ModeUnframed
	if f.matched == 0 {
		return p, nil
	}
	return p, emit(Stdout, f.held())
}

// held returns the header bytes matched so far.
func (f *Frames) held() []byte {
	b := append([]byte(nil), f.header[:min(f.matched, len(f.header))]...)
	if f.matched > len(f.header) {
		b = append(b, f.letter)
		b = append(b, f.paths...)
	}
	return b
}

// feedRecords decodes records into f.out. The decoded bytes of a record
// are passed on in one piece when the record ends, or when p does (so that
// nothing waits for the next read): a line the command wrote at once
// reaches emit at once.
func (f *Frames) feedRecords(p []byte, emit func(Stream, []byte) error) error {
	for len(p) > 0 {
		switch {
		case f.inEsc:
			f.hex[f.nhex] = p[0]
			f.nhex++
			p = p[1:]
			if f.nhex == 2 {
				f.endEscape()
			}
		case f.cur == 0:
			// A record ended: pass it on before the next starts.
			if err := f.pass(emit); err != nil {
				return err
			}
			switch p[0] {
			case 'o':
				f.cur = Stdout
			case 'e':
				f.cur = Stderr
			default:
				// Not a record: keep the line as stdout, and say so.
				f.corrupt = true
				f.cur = Stdout
				continue
			}
			p = p[1:]
		default:
			p = p[f.feedPayload(p):]
		}
	}
	return f.pass(emit)
}

// pass passes on the decoded bytes held for the current (or just ended)
// record.
func (f *Frames) pass(emit func(Stream, []byte) error) error {
	if len(f.out) == 0 {
		return nil
	}
	st := f.cur
	if st == 0 {
		st = f.last
	}
	err := emit(st, f.out)
	f.out = f.out[:0]
	return err
}

// feedPayload decodes the plain bytes at the start of p, up to an escape
// or the end of the record, consumes that byte too, and returns how many
// bytes it used.
func (f *Frames) feedPayload(p []byte) int {
	i := 0
	for i < len(p) && p[i] != '%' && p[i] != '\n' {
		i++
	}
	f.out = append(f.out, p[:i]...)
	if i == len(p) {
		return i
	}
	if p[i] == '%' {
		f.inEsc, f.nhex = true, 0
	} else {
		f.last, f.cur = f.cur, 0 // the record's newline
	}
	return i + 1
}

// endEscape decodes a complete %XX escape.
func (f *Frames) endEscape() {
	f.inEsc = false
	hi, ok1 := unhex(f.hex[0])
	lo, ok2 := unhex(f.hex[1])
	if ok1 && ok2 {
		f.out = append(f.out, hi<<4|lo)
		return
	}
	f.corrupt = true
	f.out = append(f.out, '%', f.hex[0], f.hex[1])
	if f.hex[0] == '\n' || f.hex[1] == '\n' {
		f.last, f.cur = f.cur, 0 // a newline still ends the record
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
