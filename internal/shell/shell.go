// Package shell builds the POSIX shell text that runs an agent's command in
// a Daytona session: argument quoting, environment, working directory, a
// subshell that keeps session state clean, and the completion marker that
// reports the exit code in-band.
package shell

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var safeArg = regexp.MustCompile(`^[A-Za-z0-9._\-/@:=]+$`)

// Quote quotes s for a POSIX shell the way Mastra does: strings made only of
// [A-Za-z0-9._-/@:=] pass unchanged; anything else, including the empty
// string, is single-quoted, each single quote inside closing the quotes,
// adding an escaped quote and reopening them:
//
//	it's  →  'it'\''s'
func Quote(s string) string {
	if safeArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join returns command followed by each arg quoted. command itself is a
// shell snippet and is not quoted.
func Join(command string, args []string) string {
	if len(args) == 0 {
		return command
	}
	var b strings.Builder
	b.WriteString(command)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(Quote(a))
	}
	return b.String()
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports whether name can be exported: [A-Za-z_][A-Za-z0-9_]*.
func ValidEnvName(name string) bool { return envName.MatchString(name) }

// ErrNUL reports a NUL byte, which no shell word can carry.
var ErrNUL = errors.New("contains a NUL byte")

// Spec describes one command to run.
type Spec struct {
	Command string            // shell snippet, run as is
	Args    []string          // quoted and appended to Command
	Env     map[string]string // exported for the command only
	Cwd     string            // working directory; "" keeps the session's
	// Marker, when set, makes the script print Marker followed by the exit
	// code and a newline on both stdout and stderr after the command.
	Marker string
	// KeepStdin leaves the command's stdin connected (for a background
	// process that receives input); by default it is /dev/null.
	KeepStdin bool
}

// Validate checks what the shell cannot represent.
func (s Spec) Validate() error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("empty command")
	}
	if strings.IndexByte(s.Command, 0) >= 0 {
		return fmt.Errorf("command %w", ErrNUL)
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

// Script returns the text to run in a session shell. Everything runs in a
// subshell, so that exports, cd and `exit` cannot change or end the
// session; the command itself runs in an inner subshell on its own lines,
// so that a trailing comment or a here-document cannot swallow the closing
// parenthesis. Stdin is /dev/null: a command that reads it sees end of file
// at once instead of waiting forever.
//
//	( export K='v' && cd '/dir' && (
//	<command> <args>
//	) ) </dev/null
//	( c=$?; command printf '<marker>%d\n' "$c"; command printf '<marker>%d\n' "$c" >&2; exit "$c" )
//
// The marker line's subshell exits with the command's status, so the
// session command's own exit code is the command's too.
func (s Spec) Script() string {
	var b strings.Builder
	b.WriteString("( ")
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("export ")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(Quote(s.Env[k]))
		b.WriteString(" && ")
	}
	if s.Cwd != "" {
		b.WriteString("cd ")
		b.WriteString(Quote(s.Cwd))
		b.WriteString(" && ")
	}
	b.WriteString("(\n")
	b.WriteString(Join(s.Command, s.Args))
	b.WriteString("\n) )")
	if !s.KeepStdin {
		b.WriteString(" </dev/null")
	}
	if s.Marker != "" {
		f := printfEscape(s.Marker)
		fmt.Fprintf(&b, "\n( c=$?; command printf '%s%%d\\n' \"$c\"; command printf '%s%%d\\n' \"$c\" >&2; exit \"$c\" )", f, f)
	}
	return b.String()
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

// MayBackground reports whether command may start a background job (a lone
// &, nohup, setsid, disown). Such a job can keep the command's output open
// after it exits, which holds a synchronous exec open on the daemon; callers
// use a streaming path for these.
func MayBackground(command string) bool {
	for i := 0; i < len(command); i++ {
		if command[i] != '&' {
			continue
		}
		prev, next := byte(0), byte(0)
		if i > 0 {
			prev = command[i-1]
		}
		if i+1 < len(command) {
			next = command[i+1]
		}
		if next == '&' { // &&
			i++
			continue
		}
		if prev == '>' || prev == '<' || prev == '|' || next == '>' {
			continue // >&, <&, |&, &>
		}
		return true
	}
	for _, w := range []string{"nohup", "setsid", "disown"} {
		if strings.Contains(command, w) {
			return true
		}
	}
	return false
}

// ParseScript recovers the command and the marker from a script made by
// Script, so that a later program can follow a command it did not start.
// ok is false for any other text.
func ParseScript(script string) (command, marker string, ok bool) {
	open := strings.Index(script, "(\n")
	end := strings.LastIndex(script, "\n) )")
	if open < 0 || end < open {
		return "", "", false
	}
	command = script[open+2 : end]
	const pre = "command printf '"
	i := strings.Index(script[end:], pre)
	if i < 0 {
		return command, "", true
	}
	rest := script[end+i+len(pre):]
	j := strings.Index(rest, "%d")
	if j < 0 {
		return "", "", false
	}
	m, err := printfUnescape(rest[:j])
	if err != nil {
		return "", "", false
	}
	return command, m, true
}

// printfUnescape reverses printfEscape.
func printfUnescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+1 < len(s) && s[i+1] == '%':
			b.WriteByte('%')
			i++
		case s[i] == '\\' && i+4 <= len(s):
			n := 0
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					return "", errors.New("bad escape")
				}
				n = n*8 + int(c-'0')
			}
			b.WriteByte(byte(n))
			i += 3
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
