package tools

import (
	"errors"
	"io/fs"

	"github.com/agentworkspace/daytona/workspace"
)

// sandboxFail returns the tool error msg about err, an error the sandbox
// returned. When err is an infrastructure failure, the result carries it
// in Err, for adapters to return to their caller.
func (k *Toolkit) sandboxFail(msg string, err error) *Result {
	r := k.fail(msg)
	if infrastructure(err) {
		r.Err = k.secrets.wrap(err)
	}
	return r
}

// wrap returns err with secrets redacted from its message; errors.Is and
// errors.As still see err.
func (s *secrets) wrap(err error) error {
	if s == nil || err == nil {
		return err
	}
	return redactedError{err: err, msg: s.replace(err.Error())}
}

// redactedError is an error whose message was redacted.
type redactedError struct {
	err error
	msg string
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// infrastructure reports whether err, returned by the sandbox for a call
// whose input the toolkit had checked, is a failure of the sandbox or of
// the way to it (its service, the network, a sandbox that is gone) rather
// than something the model asked for: anything but the errors the
// workspace contract gives about a name or a process (io/fs errors and
// *fs.PathError, workspace.ErrProcessNotFound, workspace.ErrUnsupported)
// and the toolkit's own findings about a file (errNotText).
func infrastructure(err error) bool {
	var pe *fs.PathError
	switch {
	case err == nil, errors.As(err, &pe), errors.Is(err, errNotText),
		errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrExist),
		errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrInvalid),
		errors.Is(err, workspace.ErrProcessNotFound), errors.Is(err, workspace.ErrUnsupported):
		return false
	}
	return true
}

// errNotText is read_file's refusal of a file that holds binary data.
var errNotText = errors.New("is not a text file (it holds binary data); inspect it with a command such as file or xxd")
