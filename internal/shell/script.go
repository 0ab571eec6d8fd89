package shell

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Spec describes one command to run.
type Spec struct {
	Command string            // shell snippet, run as is; valid UTF-8
	Args    []string          // quoted and appended to Command
	Env     map[string]string // exported for the command only
	Cwd     string            // working directory; "" keeps the session's
	// Marker is the completion marker: the script prints Marker, the exit
	// code and a newline on both stdout and stderr after the command, and,
	// before it, a header (Marker, a mode letter, a newline) on stdout.
	// It must not be empty.
	Marker string
	// KeepStdin leaves the command's stdin connected (for a background
	// process that receives input); by default it is /dev/null.
	KeepStdin bool
	// MergeStderr sends the command's stderr into its stdout, in the order
	// it writes them, as 2>&1 does.
	MergeStderr bool
	// Raw sends the output through the session's log as it is, as when no
	// file can be written in the sandbox (for tests).
	Raw bool
	// Defined leaves the runner's definition out of the Script: the
	// session shell has it from an earlier Script. Where it has not, the
	// script runs nothing and says so (ModeUndefined).
	Defined bool
}

// Header modes: the letter after the marker in the first line the script
// prints on stdout.
const (
	ModeFiles     = 'D' // output goes to the files the header names
	ModeRaw       = 'R' // output goes to the log as it is (no file could be written)
	ModeNoBash    = 'N' // no bash in the sandbox: the command did not run
	ModeUndefined = 'V' // Defined, but the session shell has no runner: the command did not run
)

// NoBashMessage is what the script prints on stderr, after "daytona: ",
// when the sandbox has no bash; the command then does not run and its
// exit code is 127.
const NoBashMessage = "the sandbox has no bash, which runs every command"

// scriptTag starts the first line of every script, followed by the
// marker in hex, so that ParseScript can recognise it.
const scriptTag = "# agentworkspace-daytona "

// ErrNUL reports a NUL byte, which no shell word can carry.
var ErrNUL = errors.New("contains a NUL byte")

// Validate checks what the script cannot carry: NUL bytes anywhere, a
// command that is not valid UTF-8 (the script travels as JSON text, and
// the command is written into it as is), invalid environment names.
// Arguments, values and the directory may hold any other bytes.
func (s Spec) Validate() error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("empty command")
	}
	if strings.IndexByte(s.Command, 0) >= 0 {
		return fmt.Errorf("command %w", ErrNUL)
	}
	if !utf8.ValidString(s.Command) {
		return errors.New("command is not valid UTF-8 (pass arbitrary bytes as arguments, which are quoted exactly)")
	}
	for i, a := range s.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %d %w", i, ErrNUL)
		}
	}
	if strings.IndexByte(s.Cwd, 0) >= 0 {
		return fmt.Errorf("working directory %w", ErrNUL)
	}
	for k, v := range s.Env {
		if !ValidEnvName(k) {
			return fmt.Errorf("invalid environment variable name %q", k)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("value of environment variable %s %w", k, ErrNUL)
		}
	}
	return nil
}

// printfEscape writes s for use inside a single-quoted printf format:
// non-printable bytes, %, \ and ' become octal escapes (or %%).
func printfEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			b.WriteString("%%")
		case c < 0x20 || c >= 0x7f || c == '\\' || c == '\'':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ParseScript recovers the command line (the command and its arguments
// quoted, as Join writes them) and the marker from a script made by
// Script, so that a later program can follow a command it did not start.
// ok is false for any other text.
func ParseScript(script string) (command, marker string, ok bool) {
	line, rest, found := strings.Cut(script, "\n")
	i := strings.LastIndex(line, scriptTag)
	if !found || i < 0 || (i > 0 && line[i-1] != ' ') {
		return "", "", false
	}
	m, err := hex.DecodeString(line[i+len(scriptTag):])
	if err != nil || len(m) == 0 || !strings.HasSuffix(rest, scriptEnd(string(m))) {
		return "", "", false
	}
	// The data is the line before the closing delimiter.
	body := strings.TrimSuffix(rest, scriptEnd(string(m)))
	cmd, args, err := parseData(body[strings.LastIndexByte(body, '\n')+1:])
	if err != nil {
		return "", "", false
	}
	return Join(cmd, args), string(m), true
}

// scriptEnd is how a Script with this marker ends: the closing delimiter
// of its data.
func scriptEnd(marker string) string {
	return "\n" + dataDelimiter(marker) + "\n"
}

// dataDelimiter closes the here-document of a Script's data.
func dataDelimiter(marker string) string {
	return "__DAYTONA_" + strings.ToUpper(hex.EncodeToString([]byte(marker)))
}
