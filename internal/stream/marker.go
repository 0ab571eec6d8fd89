package stream

import (
	"bytes"
	"errors"
)

// Scanner finds the completion marker in one output stream: the bytes
// before it are output; the marker is followed by flags (B: the stream's
// output stayed in its file, see Bulk; X: the session's shell is gone, see
// ShellGone), the exit code in decimal and a newline; what follows is
// given to After, if set, and otherwise ignored (output of background jobs
// that outlive the command). The marker may be cut anywhere across Feed
// calls.
//
// A Scanner is not safe for concurrent use.
type Scanner struct {
	token []byte
	held  []byte // a suffix of the input that may start the token
	code  []byte // digits after the token
	state int
	exit  int
	flags []byte // the letters between the marker and the exit code
	// After, if set, is given what follows the marker's line; by default
	// it is ignored.
	After func([]byte) error
}

const (
	scanning = iota
	inCode
	done
)

// Flags after the marker (shell.BulkMark, shell.GoneMark).
const (
	bulkMark = 'B'
	goneMark = 'X'
)

// maxFlags bounds the flags after a marker.
const maxFlags = 4

// maxCodeDigits bounds the exit code's digits; shells report 0-255.
const maxCodeDigits = 10

// ErrBadMarker reports a marker not followed by an exit code.
var ErrBadMarker = errors.New("stream: malformed completion marker")

// NewScanner returns a Scanner for token, which must not be empty.
func NewScanner(token string) *Scanner {
	if token == "" {
		panic("stream: empty marker token")
	}
	return &Scanner{token: []byte(token), held: make([]byte, 0, len(token))}
}

// Done reports whether the marker and its exit code were seen, and the
// exit code.
func (s *Scanner) Done() (int, bool) { return s.exit, s.state == done }

// Bulk reports whether the marker said that the stream's output stayed in
// its file (a B before the exit code) rather than coming before it.
func (s *Scanner) Bulk() bool { return bytes.IndexByte(s.flags, bulkMark) >= 0 }

// ShellGone reports whether the marker said that the session's shell was
// gone when the command ended (an X before the exit code): the session
// cannot run another command.
func (s *Scanner) ShellGone() bool { return bytes.IndexByte(s.flags, goneMark) >= 0 }

// Feed scans p, passing output bytes (never the marker) to emit. Output is
// held back only while it may be the start of the marker. The slices passed
// to emit alias p or the Scanner's buffer and are valid only during the
// call.
func (s *Scanner) Feed(p []byte, emit func([]byte) error) error {
	for len(p) > 0 {
		var err error
		switch {
		case s.state == done:
			if s.After != nil {
				return s.After(p)
			}
			return nil
		case s.state == inCode:
			p, err = s.feedCode(p)
		case len(s.held) > 0:
			p, err = s.feedHeld(p, emit)
		default:
			p, err = s.scan(p, emit)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// feedCode reads the exit code's digits and the newline after them.
func (s *Scanner) feedCode(p []byte) ([]byte, error) {
	i := 0
	for len(s.code) == 0 && i < len(p) && (p[i] == bulkMark || p[i] == goneMark) {
		if len(s.flags) == maxFlags || bytes.IndexByte(s.flags, p[i]) >= 0 {
			return nil, ErrBadMarker
		}
		s.flags = append(s.flags, p[i])
		i++
	}
	for i < len(p) && p[i] >= '0' && p[i] <= '9' && len(s.code) < maxCodeDigits {
		s.code = append(s.code, p[i])
		i++
	}
	if i == len(p) {
		return nil, nil
	}
	if p[i] != '\n' || len(s.code) == 0 {
		return nil, ErrBadMarker
	}
	n := 0
	for _, c := range s.code {
		n = n*10 + int(c-'0')
	}
	s.exit, s.state = n, done
	return p[i+1:], nil
}

// feedHeld checks whether the held-back prefix of the marker continues
// into p; if not, it releases held bytes up to the next place the marker
// may start within them.
func (s *Scanner) feedHeld(p []byte, emit func([]byte) error) ([]byte, error) {
	need := len(s.token) - len(s.held)
	m := min(need, len(p))
	if bytes.Equal(p[:m], s.token[len(s.held):len(s.held)+m]) {
		if m == need {
			s.held = s.held[:0]
			s.state = inCode
			return p[m:], nil
		}
		s.held = append(s.held, p[:m]...)
		return nil, nil
	}
	k := 1
	for ; k < len(s.held); k++ {
		if bytes.HasPrefix(s.token, s.held[k:]) {
			break
		}
	}
	if err := emit(s.held[:k]); err != nil {
		return nil, err
	}
	s.held = append(s.held[:0], s.held[k:]...)
	return p, nil
}

// scan passes on the output in p up to the marker, or up to a suffix that
// may start it, which is held back.
func (s *Scanner) scan(p []byte, emit func([]byte) error) ([]byte, error) {
	if i := bytes.Index(p, s.token); i >= 0 {
		if i > 0 {
			if err := emit(p[:i]); err != nil {
				return nil, err
			}
		}
		s.state = inCode
		return p[i+len(s.token):], nil
	}
	keep := 0
	for k := min(len(s.token)-1, len(p)); k > 0; k-- {
		if bytes.Equal(p[len(p)-k:], s.token[:k]) {
			keep = k
			break
		}
	}
	if len(p) > keep {
		if err := emit(p[:len(p)-keep]); err != nil {
			return nil, err
		}
	}
	s.held = append(s.held, p[len(p)-keep:]...)
	return nil, nil
}

// Flush emits held-back bytes as output; call it when the stream ended
// without a marker.
func (s *Scanner) Flush(emit func([]byte) error) error {
	if s.state != scanning || len(s.held) == 0 {
		return nil
	}
	h := s.held
	s.held = s.held[:0]
	return emit(h)
}
