package shell

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// InlineMax is the most output of one stream that comes back through the
// session's log (see FileScript); more goes through a file.
const InlineMax = 16 << 10

// ModeFiles is the header mode of a command whose output goes to files
// (see FileScript); the header names them.
const ModeFiles = 'D'

// BulkMark follows the marker, before the exit code, on a stream whose
// output stayed in its file (see FileScript).
const BulkMark = 'B'

// FileScript returns the text to submit to a session: a short part that
// any session shell runs (bash, zsh or sh), which starts the runner, a
// bash program, with the command's data on a here-document (see data.go):
//
//	# agentworkspace-daytona <marker in hex>
//	__daytona_w=<the runner, quoted>
//	{ if [ -n "$BASH_VERSION" ]; then ( eval "$__daytona_w" )
//	elif command -v bash >/dev/null 2>&1; then bash -c "$__daytona_w" bash "$0"
//	else <header N, message, marker 127>; fi; } 3<<'__DAYTONA_<hex>' </dev/null
//	<data>
//	__DAYTONA_<hex>
//
// The runner is one process: a subshell of a bash session shell, or bash
// started by another one. It writes the command's stdout and stderr (one
// file when MergeStderr) to files next to the script, in the directory
// where the daemon keeps the command's log, which it deletes with the
// session (in /tmp when the script has no such directory; without any
// writable directory, or with Raw, output goes to the log as it is, as
// the daemon relays it):
//
//	stdout: <marker>D<stdout file>\t<stderr file>\n   (the header; R without files)
//	        ... the command runs in a subshell of the runner ...
//	        <stdout, if inline><marker>[B]<exit code>\n
//	stderr: <stderr, if inline><marker>[B]<exit code>\n
//
// Once the command has exited, a stream of at most InlineMax bytes of
// valid UTF-8 without NUL, 01, 02 and DEL (which the daemon's labelling
// and its JSON answers carry exactly) is printed in the log before the
// marker, and its file is left (the daemon removes it with the session;
// in /tmp, the runner removes it). A longer or binary stream is marked B
// and stays in its file for the caller to read (it reads the file while
// the command runs too) and then delete. The command's exit code (128 +
// the signal for one killed by a signal) follows the marker, and the
// runner exits with it.
//
// The runner survives SIGTERM while the command runs, and the command's
// subshell, which waits for its children before it exits on SIGTERM, too:
// the daemon, which on deleting a session sends SIGTERM to its processes
// and SIGKILL only to those left once its shell has no child, thus kills a
// command that ignores SIGTERM. The subshell also keeps the daemon's
// stdout pipe open on descriptor 19, so that jobs the command leaves in the
// background hold the session as they would with the daemon alone.
func (s Spec) FileScript() string {
	if s.Marker == "" {
		panic("shell: Spec.FileScript with an empty marker")
	}
	h := hex.EncodeToString([]byte(s.Marker))
	delim := "__DAYTONA_" + strings.ToUpper(h)
	var b strings.Builder
	b.WriteString(scriptTag + h + "\n")
	b.WriteString(runnerVar + "=" + Quote(s.runner()) + "\n")
	stdin := ""
	if !s.KeepStdin {
		stdin = " </dev/null"
	}
	fmt.Fprintf(&b, "{ if [ -n \"$BASH_VERSION\" ]; then ( eval \"$%s\" )\n", runnerVar)
	fmt.Fprintf(&b, "elif command -v bash >/dev/null 2>&1; then bash -c \"$%s\" bash \"$0\"\n", runnerVar)
	m := printfEscape(s.Marker)
	fmt.Fprintf(&b, "else command printf '%sN\\n'; command printf '%%s\\n' %s >&2; command printf '%s127\\n'; command printf '%s127\\n' >&2; fi; } 3<<'%s'%s\n",
		m, Quote(NoBashMessage), m, m, delim, stdin)
	b.Write(s.data())
	b.WriteString("\n" + delim + "\n")
	return b.String()
}

// runnerVar holds the runner in the session shell.
const runnerVar = "__daytona_w"

// runner returns the bash program that runs the command (see FileScript).
func (s Spec) runner() string {
	h := hex.EncodeToString([]byte(s.Marker))
	m := printfEscape(s.Marker)
	raw := ""
	if s.Raw {
		raw = "1"
	}
	errFile, header, toFiles, toLog := `$__daytona_x/agentws-`+h+`.err`, `'`+m+`D%s\t%s\n' "$__daytona_o" "$__daytona_r"`,
		`>>"$__daytona_o" 2>>"$__daytona_r"`, `2>&18`
	errTrailer := `if __daytona_chk "$__daytona_r"; then builtin printf '%s` + m + `%d\n' "$__daytona_i" "$__daytona_s" >&2
else builtin printf '` + m + `B%d\n' "$__daytona_s" >&2; __daytona_b=1; fi`
	if s.MergeStderr {
		errFile, header, toFiles, toLog = `$__daytona_o`, `'`+m+`D%s\n' "$__daytona_o"`, `>>"$__daytona_o" 2>&1`, `2>&1`
		errTrailer = `builtin printf '` + m + `%d\n' "$__daytona_s" >&2`
	}
	r := strings.NewReplacer(
		"{RAW}", raw, "{TAG}", scriptTag+h, "{HEX}", h, "{M}", m, "{ERRFILE}", errFile,
		"{HEADER}", header, "{TOFILES}", toFiles, "{TOLOG}", toLog, "{ERRTRAILER}", errTrailer,
		"{RUN}", s.run(), "{T1}", strconv.Itoa(InlineMax+1), "{CTL}", inlineControls,
	)
	return r.Replace(runnerTemplate)
}

// run returns the subshell's program: the environment, the directory and
// the command, with no positional parameters and the arguments appended
// quoted ("${__daytona_a[@]}").
func (s Spec) run() string {
	cmd := `eval "$__daytona_c"`
	if len(s.Args) > 0 {
		cmd = `eval "$__daytona_c"' "${__daytona_a[@]}"'`
	}
	return `trap 'wait; exit 143' TERM
for __daytona_v in "${__daytona_e[@]}"; do export "$__daytona_v" || exit; done
if [ -n "$__daytona_d" ]; then cd -- "$__daytona_d" || exit; fi
set --
` + cmd
}

// inlineControls are the control characters, besides tab, newline,
// vertical tab, form feed and carriage return, that output may hold and
// still come back through the log: all of C0 but NUL and the daemon's
// label bytes 01 and 02 (ESC among them, for colours).
const inlineControls = `$'\003\004\005\006\007\010\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037'`

// runnerTemplate is the runner; see FileScript. It reads the data, picks
// the files (next to the script if its first line is ours and its
// directory is writable and printable, else in /tmp, which it then cleans
// itself), runs the command (with its own stderr on /dev/null meanwhile,
// so that bash's report of a command killed by a signal stays out of the
// log), and decides per stream whether its output
// goes in the log (__daytona_chk: a regular read of at most InlineMax + 1
// bytes up to a NUL reaches the end; ASCII without 00-02 and DEL is
// accepted at once, anything else only if the UTF-8 locale finds every
// character printable, a space or an allowed control: where no UTF-8
// locale exists, no byte above 127 passes).
const runnerTemplate = `trap 'exit 143' TERM
__daytona_c= __daytona_d= __daytona_a=() __daytona_e=()
while IFS= LC_ALL=C read -r -N 11 __daytona_h <&3; do
__daytona_v=
if [ "$((10#${__daytona_h:1}))" -gt 0 ]; then IFS= LC_ALL=C read -r -N "$((10#${__daytona_h:1}))" __daytona_v <&3; fi
builtin printf -v __daytona_v %b "$__daytona_v"
case $__daytona_h in
c*) __daytona_c=$__daytona_v ;;
a*) __daytona_a+=("$__daytona_v") ;;
e*) __daytona_e+=("$__daytona_v") ;;
d*) __daytona_d=$__daytona_v ;;
*) break ;;
esac
done
__daytona_x=${BASH_SOURCE[0]:-${1-}} __daytona_o= __daytona_k=
if [ -z '{RAW}' ]; then
if [ -n "$__daytona_x" ] && IFS= read -r __daytona_h <"$__daytona_x" && [ "$__daytona_h" = '{TAG}' ]; then
__daytona_x=${__daytona_x%/*}
case $__daytona_x in /*[!\ -~]*) __daytona_x= ;; /?*) [ -w "$__daytona_x" ] || __daytona_x= ;; *) __daytona_x= ;; esac
else __daytona_x=; fi 2>/dev/null
if [ -z "$__daytona_x" ] && [ -w /tmp ]; then __daytona_x=/tmp __daytona_k=1; fi
if [ -n "$__daytona_x" ]; then
__daytona_o=$__daytona_x/agentws-{HEX}.out __daytona_r={ERRFILE}
{ true >"$__daytona_o" && true >"$__daytona_r"; } 2>/dev/null || __daytona_o=
fi
fi
exec 18>&2 2>/dev/null
if [ -n "$__daytona_o" ]; then
builtin printf {HEADER}
(
{RUN}
) 19>&1 {TOFILES} 3<&- 18>&-
else
builtin printf '{M}R\n'
(
{RUN}
) {TOLOG} 3<&- 18>&-
fi
__daytona_s=$?
exec 2>&18 18>&-
if [ -z "$__daytona_o" ]; then
builtin printf '{M}%d\n' "$__daytona_s"; builtin printf '{M}%d\n' "$__daytona_s" >&2
exit "$__daytona_s"
fi
__daytona_chk() {
local x r
[ -r "$1" ] || return 1
IFS= LC_ALL=C read -r -d '' -n {T1} x <"$1"; r=$?
[ "$r" = 1 ] || return 1
local LC_ALL=C
case $x in *[!$'\003'-$'\176']*) ;; *) __daytona_i=$x; return 0 ;; esac
{ LC_ALL=C.UTF-8; } 2>/dev/null
case $x in *[![:print:][:space:]{CTL}]*) return 1 ;; esac
__daytona_i=$x
}
__daytona_b=
if __daytona_chk "$__daytona_o"; then builtin printf '%s{M}%d\n' "$__daytona_i" "$__daytona_s"
else builtin printf '{M}B%d\n' "$__daytona_s"; __daytona_b=1; fi
{ERRTRAILER}
if [ -n "$__daytona_k" ] && [ -z "$__daytona_b" ]; then command rm -f -- "$__daytona_o" "$__daytona_r"; fi
exit "$__daytona_s"`
