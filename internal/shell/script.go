package shell

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
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
	// Raw writes the output raw, as where the sandbox has no perl.
	Raw bool
	// Defined leaves the runner's definition out of a FileScript: the
	// session shell has it from an earlier FileScript. Where it has not,
	// the script runs nothing and says so (ModeUndefined).
	Defined bool
}

// Header modes: the letter after the marker in the first line the script
// prints on stdout.
const (
	ModeFramed = 'F' // output passes through the encoder (see Frames)
	ModeRaw    = 'R' // no perl in the sandbox: output is raw
	ModeNoBash = 'N' // no bash in the sandbox: the command did not run
)

// NoBashMessage is what the script prints on stderr, after "daytona: ",
// when the sandbox has no bash; the command then does not run and its
// exit code is 127.
const NoBashMessage = "the sandbox has no bash, which runs every command"

// cmdVar and innerVar hold the command line and the bash script that runs
// it, in the session shell.
const (
	cmdVar   = "__daytona_cmd"
	innerVar = "__daytona_run"
)

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

// Script returns the text to submit to a session. The session's shell may
// be zsh, bash or sh (the daemon picks the first of zsh and bash in
// /etc/shells); the script runs the command under bash whatever it is, so
// that quoting and word splitting are bash's everywhere:
//
//	# agentworkspace-daytona <marker in hex>
//	__daytona_cmd=<command and args, quoted>
//	__daytona_run=<inner, quoted>
//	if [ -n "$BASH_VERSION" ]; then ( set -- "$__daytona_cmd"; eval "$__daytona_run" ) </dev/null
//	elif command -v bash >/dev/null 2>&1; then bash -c "$__daytona_run" bash "$__daytona_cmd" </dev/null
//	else <header N, message, marker 127>; fi
//
// (A bash session runs inner in a subshell, which saves starting bash.)
//
// Inner (see inner) prints the header, then runs the command in a subshell
// with eval, so that nothing it does to its shell (cd, export, exit, a
// syntax error) reaches the script, and prints the marker with its exit
// status; bash exits with that status too.
func (s Spec) Script() string {
	if s.Marker == "" {
		panic("shell: Spec.Script with an empty marker")
	}
	var b strings.Builder
	b.WriteString(scriptTag + hex.EncodeToString([]byte(s.Marker)) + "\n")
	b.WriteString(cmdVar + "=" + Quote(Join(s.Command, s.Args)) + "\n")
	b.WriteString(innerVar + "=" + Quote(s.inner()) + "\n")
	stdin := ""
	if !s.KeepStdin {
		stdin = " </dev/null"
	}
	fmt.Fprintf(&b, "if [ -n \"$BASH_VERSION\" ]; then ( set -- \"$%s\"; eval \"$%s\" )%s\n", cmdVar, innerVar, stdin)
	fmt.Fprintf(&b, "elif command -v bash >/dev/null 2>&1; then bash -c \"$%s\" bash \"$%s\"%s\n", innerVar, cmdVar, stdin)
	m := printfEscape(s.Marker)
	fmt.Fprintf(&b, "else command printf '%sN\\n'; command printf '%%s\\n' %s >&2; command printf '%s127\\n'; command printf '%s127\\n' >&2; fi",
		m, Quote("daytona: "+NoBashMessage), m, m)
	return b.String()
}

// inner returns the bash script that runs the command given as $1:
//
//	fin() { c=$?; printf '<marker>%d\n' "$c"; printf '<marker>%d\n' "$c" >&2; exit "$c"; }
//	if command -v perl >/dev/null 2>&1; then
//	printf '<marker>F\n'
//	exec perl -e <driver> <marker in hex> <merge> '( export K=v && cd -- dir && eval "set --;$1" )' "$1"
//	fi
//	printf '<marker>R\n'
//	( export K=v && cd -- dir && eval "set --;$1" ); fin
//
// The command runs in a subshell with eval, so that nothing it does to its
// shell (cd, export, exit, a syntax error) reaches the script, with no
// positional parameters. With perl, the driver (see encoder.go) runs it and
// writes its output as records and the marker after it. Without perl,
// output is written raw and fin writes the marker. (The command is not run
// from a shell function: bash would name its errors "environment".)
func (s Spec) inner() string {
	m := printfEscape(s.Marker)
	var r strings.Builder
	r.WriteString("( ")
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.WriteString("export " + k + "=" + Quote(s.Env[k]) + " && ")
	}
	if s.Cwd != "" {
		r.WriteString("cd -- " + Quote(s.Cwd) + " && ")
	}
	r.WriteString(`eval "set --;$1" )`)
	run := r.String()
	merge := "0"
	if s.MergeStderr {
		merge = "1"
	}
	perl := "command -v perl >/dev/null 2>&1"
	if s.Raw {
		perl = "false"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fin() { c=$?; command printf '%s%%d\\n' \"$c\"; command printf '%s%%d\\n' \"$c\" >&2; exit \"$c\"; }\n", m, m)
	fmt.Fprintf(&b, "if %s; then\ncommand printf '%sF\\n'\n", perl, m)
	fmt.Fprintf(&b, "exec perl -e %s %s %s %s \"$1\"\nfi\n", Quote(encoder), hex.EncodeToString([]byte(s.Marker)), merge, Quote(run))
	if s.MergeStderr {
		run += " 2>&1"
	}
	fmt.Fprintf(&b, "command printf '%sR\\n'\n%s; fin", m, run)
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

// ParseScript recovers the command line (the command and its arguments
// quoted, as Join writes them) and the marker from a script made by Script
// or FileScript, so that a later program can follow a command it did not
// start. ok is false for any other text.
func ParseScript(script string) (command, marker string, ok bool) {
	line, rest, found := strings.Cut(script, "\n")
	i := strings.LastIndex(line, scriptTag)
	if !found || i < 0 || (i > 0 && line[i-1] != ' ') {
		return "", "", false
	}
	m, err := hex.DecodeString(line[i+len(scriptTag):])
	if err != nil || len(m) == 0 {
		return "", "", false
	}
	if strings.HasSuffix(rest, fileScriptEnd(string(m))) {
		return parseFileScript(rest, string(m))
	}
	if !strings.HasPrefix(rest, cmdVar+"=") {
		return "", "", false
	}
	command, rest, err = Unquote(strings.TrimPrefix(rest, cmdVar+"="))
	if err != nil || !strings.HasPrefix(rest, "\n") {
		return "", "", false
	}
	return command, string(m), true
}

// parseFileScript reads the command line from the data of a FileScript:
// the line before the closing delimiter.
func parseFileScript(rest, marker string) (command, m string, ok bool) {
	body := strings.TrimSuffix(rest, fileScriptEnd(marker))
	data := body[strings.LastIndexByte(body, '\n')+1:]
	cmd, args, err := parseData(data)
	if err != nil {
		return "", "", false
	}
	return Join(cmd, args), marker, true
}

// fileScriptEnd is how a FileScript with this marker ends: the closing
// delimiter of its data.
func fileScriptEnd(marker string) string {
	return "\n__DAYTONA_" + strings.ToUpper(hex.EncodeToString([]byte(marker))) + "\n"
}
