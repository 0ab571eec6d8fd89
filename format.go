package daytona

import (
	"fmt"
	"log/slog"
	"strconv"
)

// How a Sandbox prints. It holds credentials (behind pointers, so that even
// a printed copy shows none); these methods print what identifies it.

// String returns "daytona.Sandbox{id: ..., status: ..., daytonaID: ...}".
// It never contains a credential.
func (s *Sandbox) String() string {
	if s == nil {
		return "daytona.Sandbox(nil)"
	}
	return "daytona.Sandbox{id: " + strconv.Quote(s.ID()) + ", status: " + string(s.Status()) +
		", daytonaID: " + strconv.Quote(s.DaytonaID()) + "}"
}

// GoString returns the same as String, for %#v.
func (s *Sandbox) GoString() string { return s.String() }

// Format prints the Sandbox as String does, for every verb (%v, %+v, %#v,
// %s, %q, ...), so that no verb prints its fields.
func (s *Sandbox) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	_, _ = fmt.Fprint(f, s.String())
}

// LogValue makes slog print the Sandbox's id, status and Daytona id, and
// nothing else.
func (s *Sandbox) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("id", s.ID()),
		slog.String("status", string(s.Status())),
		slog.String("daytonaID", s.DaytonaID()),
	)
}
