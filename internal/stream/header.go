package stream

import "strings"

// Header reads the first line a command run by shell.Spec.Script writes on
// stdout: the completion marker, a mode letter and, for ModeFiles, the
// files its output went to (stdout's, then a tab and stderr's unless it
// went to the same file), then a newline. What follows it, and all of the
// output when it does not start with the header, is stdout as is.
//
// Input may be cut anywhere, including inside the header. Create a Header
// with NewHeader. It is not safe for concurrent use.
type Header struct {
	marker  []byte // the marker; a mode letter and a newline follow it
	matched int    // header bytes matched so far, the letter included
	letter  byte   // the mode letter, once matched
	mode    byte   // ModeUndecided, ModeNone, or the header's letter
	paths   []byte // the files a ModeFiles header names, so far
}

// Header mode letters, as the script writes them (shell.Mode*), and the
// modes Header adds.
const (
	ModeFiles     byte = 'D' // output goes to the files the header names
	ModeRaw       byte = 'R' // output goes to the log as it is
	ModeNoBash    byte = 'N' // the sandbox has no bash; the command did not run
	ModeUndefined byte = 'V' // the session's shell has no runner; the command did not run
	ModeUndecided byte = 0   // no header seen yet
	ModeNone      byte = 'U' // the output did not start with the header
)

// maxPaths bounds the text of a ModeFiles header after its letter.
const maxPaths = 8 << 10

// NewHeader returns a Header for a command whose marker is marker.
func NewHeader(marker string) *Header {
	return &Header{marker: []byte(marker)}
}

// Mode returns the header's mode letter, ModeNone if the output did not
// start with a header, or ModeUndecided.
func (h *Header) Mode() byte { return h.mode }

// Files returns the files that a ModeFiles header names: stdout's, and
// stderr's unless the command's stderr went to the same file (then it is
// empty). ok is false before such a header was read.
func (h *Header) Files() (stdout, stderr string, ok bool) {
	if h.mode != ModeFiles {
		return "", "", false
	}
	stdout, stderr, _ = strings.Cut(string(h.paths), "\t")
	return stdout, stderr, true
}

// Feed reads p, calling emit with the stdout that follows the header (or
// all of it, without a header). The slices passed to emit alias p or the
// Header's buffers and are valid only during the call. If emit fails,
// Feed returns its error.
func (h *Header) Feed(p []byte, emit func([]byte) error) error {
	if h.mode == ModeUndecided {
		var err error
		if p, err = h.feedHeader(p, emit); err != nil || len(p) == 0 {
			return err
		}
	}
	return emit(p)
}

// Flush passes on header bytes held back at the end of the output as
// stdout; call it when the output is known to be complete.
func (h *Header) Flush(emit func([]byte) error) error {
	if h.mode != ModeUndecided || h.matched == 0 {
		return nil
	}
	h.mode = ModeNone
	return emit(h.held())
}

// feedHeader matches the header at the start of the output and returns
// what remains of p.
func (h *Header) feedHeader(p []byte, emit func([]byte) error) ([]byte, error) {
	m := len(h.marker)
	for len(p) > 0 {
		c := p[0]
		switch {
		case h.matched < m && c == h.marker[h.matched]:
		case h.matched == m && (c == ModeFiles || c == ModeRaw || c == ModeNoBash || c == ModeUndefined):
			h.letter = c
		case h.matched == m+1 && c == '\n':
			h.mode = h.letter
			return p[1:], nil
		case h.matched == m+1 && h.letter == ModeFiles && (c >= ' ' && c < 0x7f || c == '\t'):
			// The files' names, up to the newline.
			if len(h.paths) == maxPaths {
				return h.notHeader(p, emit)
			}
			h.paths = append(h.paths, c)
			p = p[1:]
			continue
		default:
			return h.notHeader(p, emit)
		}
		h.matched++
		p = p[1:]
	}
	return p, nil
}

// notHeader passes on what looked like the start of a header, and p, as
// stdout: the output did not start with our header.
func (h *Header) notHeader(p []byte, emit func([]byte) error) ([]byte, error) {
	h.mode = ModeNone
	if h.matched == 0 {
		return p, nil
	}
	return p, emit(h.held())
}

// held returns the header bytes matched so far.
func (h *Header) held() []byte {
	b := append([]byte(nil), h.marker[:min(h.matched, len(h.marker))]...)
	if h.matched > len(h.marker) {
		b = append(b, h.letter)
		b = append(b, h.paths...)
	}
	return b
}
