package shell

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// InlineMax is the most output of one stream that comes back through the
// session's log (see Script); more goes through a file.
const InlineMax = 16 << 10

// BulkMark follows the marker, before the exit code, on a stream whose
// output stayed in its file (see Script).
const BulkMark = 'B'

// GoneMark follows the marker (and BulkMark), before the exit code, on
// stdout when the session's shell was gone once the command had ended (the
// command killed it): the session cannot run another command.
const GoneMark = 'X'

// Script returns the text to submit to a session: a short part that
// any session shell runs (bash, zsh or sh), which starts the runner, a
// bash function, with the command's data on a here-document (see data.go):
//
//	# agentworkspace-daytona <marker in hex>
//	__daytona_w=<the runner's functions, quoted>
//	{ if [ -n "$BASH_VERSION" ]; then
//	declare -F <runner> >/dev/null || eval "$__daytona_w"; ( <runner> "${BASH_SOURCE[0]}" )
//	elif command -v bash >/dev/null 2>&1; then bash -c "$__daytona_w
//	<runner> \"\$1\"" bash "$0"
//	else <header N, message, marker 127>; fi; } 3<<'__DAYTONA_<hex>' </dev/null
//	<data>
//	__DAYTONA_<hex>
//
// The runner, named for a digest of its body, is defined once in a bash
// session shell (session shells only run this package's scripts) and runs
// in a subshell of it, or in bash started by another session shell: one
// process either way, in which the command runs too, its end reported by
// the runner's EXIT trap. A command that may end that process otherwise or
// take its EXIT trap (see MayLeaveItsShell) runs in a subshell of the
// runner instead, one more process; one that does so unseen ends without
// the runner's report, and the caller takes the exit code the daemon
// recorded and reads the files. It writes
// the command's stdout and stderr (one file when MergeStderr) to files
// next to the script, in the directory where the daemon keeps the
// command's log, which the daemon deletes with the session (in /tmp when
// the script was not sourced from a file of its own; with no writable
// directory, or with Raw, output goes to the log as the daemon relays it):
//
//	<marker>D<stdout file>\t<stderr file>\n   (the header)
//	... the command runs ...
//	<stdout, if inline><marker>[B][X]<exit code>\n
//	<stderr, if inline><marker>[B]<exit code>\n
//
// all on stdout, so that one labeller writes it and nothing of the other
// stream lands inside its long lines (the daemon's two labellers append to
// one log, a long line in several writes). Without files, stdout and
// stderr go to the log as they come, each followed by a marker (and the
// header says R).
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
// The runner (and the command's subshell, if any) waits for its children
// before it exits on SIGTERM: the daemon, which on deleting a session sends
// SIGTERM to its processes and SIGKILL only to those left once its shell
// has no child, thus kills a command that ignores SIGTERM. The command
// keeps the daemon's stdout pipe open on descriptor 19 (where the runner
// writes its report; 18 is stderr's, without files), so that jobs it
// leaves in the background hold the session as they would with the daemon
// alone. The command runs inside the runner function: return in it ends
// it, as exit does, on every session shell. Its report undoes the shell
// options a command may leave set (xtrace, errexit, nounset, pipefail)
// before it runs.
func (s Spec) Script() string {
	if s.Marker == "" {
		panic("shell: Spec.Script with an empty marker")
	}
	h := hex.EncodeToString([]byte(s.Marker))
	delim := dataDelimiter(s.Marker)
	flags := "-"
	if s.MergeStderr {
		flags += "M"
	}
	if s.Raw {
		flags += "R"
	}
	if MayLeaveItsShell(s.Command) {
		flags += "S"
	}
	args := "agentws-" + h + " " + flags + " $$"
	run := fmt.Sprintf("if [ -n \"$BASH_VERSION\" ]; then ( %s \"${BASH_SOURCE[0]}\" %s )\nelse bash -c \"$%s\n$%s\n%s \\\"\\$@\\\"\" bash \"$0\" %s; fi",
		runnerName, args, cmdFuncVar, runnerVar, runnerName, args)
	m := printfEscape(s.Marker)
	var b strings.Builder
	if s.Defined {
		b.WriteString(scriptTag + h + "\n")
		fmt.Fprintf(&b, "{ if [ -n \"${%s-}\" ]; then\n[ -z \"$BASH_VERSION\" ] || declare -F %s >/dev/null || eval \"$%s\"\n%s\n", runnerVar, runnerName, runnerVar, run)
		fmt.Fprintf(&b, "else command printf '%s%c\\n'; command printf '%s127\\n'; command printf '%s127\\n' >&2; fi", m, ModeUndefined, m, m)
	} else {
		// The command's function, on the first line (see cmdTemplate).
		fmt.Fprintf(&b, "%s=%s; [ -z \"$BASH_VERSION\" ] || eval \"$%s\" %s%s\n", cmdFuncVar, cmdQuoted, cmdFuncVar, scriptTag, h)
		b.WriteString(runnerVar + "=" + runnerQuoted + "\n")
		fmt.Fprintf(&b, "{ if [ -n \"$BASH_VERSION\" ] || command -v bash >/dev/null 2>&1; then\n")
		fmt.Fprintf(&b, "[ -z \"$BASH_VERSION\" ] || declare -F %s >/dev/null || eval \"$%s\"\n%s\n", runnerName, runnerVar, run)
		fmt.Fprintf(&b, "else command printf '%sN\\n'; command printf '%%s\\n' %s >&2; command printf '%s127\\n'; command printf '%s127\\n' >&2; fi",
			m, Quote(NoBashMessage), m, m)
	}
	stdin := ""
	if !s.KeepStdin {
		stdin = " </dev/null"
	}
	fmt.Fprintf(&b, "; } 3<<'%s'%s\n", delim, stdin)
	b.Write(s.data())
	b.WriteString("\n" + delim + "\n")
	return b.String()
}

// runnerVar holds the runner's functions in the session shell; its name
// ends in their version, as runnerName does.
var runnerVar = "__daytona_w_" + runnerVersion

// runnerQuoted and cmdQuoted are the runner's functions and the
// command's as shell words, and runnerName the runner's name. The
// functions' names end in a digest of their templates: a new runner gets
// new names, so that a session shell that defined an older one defines the
// new one.
var runnerQuoted, cmdQuoted, runnerName, runnerVersion = func() (string, string, string, string) {
	body := strings.NewReplacer("{T0}", strconv.Itoa(InlineMax), "{T1}", strconv.Itoa(InlineMax+1), "{CTL}", inlineControls).Replace(runnerTemplate)
	sum := sha256.Sum256([]byte(cmdTemplate + "\n" + body))
	v := hex.EncodeToString(sum[:6])
	return Quote(strings.ReplaceAll(body, "{V}", v)), Quote(strings.ReplaceAll(cmdTemplate, "{V}", v)), "__daytona_run_" + v, v
}()

// cmdFuncVar holds cmdTemplate's function in the session shell.
var cmdFuncVar = "__daytona_c_" + runnerVersion

// inlineControls are the control characters, besides tab, newline,
// vertical tab, form feed and carriage return, that output may hold and
// still come back through the log: all of C0 but NUL and the daemon's
// label bytes 01 and 02 (ESC among them, for colours).
const inlineControls = `$'\003\004\005\006\007\010\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037'`

// cmdTemplate defines the function that runs the command in the runner's
// process (or a subshell of it): the environment, the directory, no positional parameters, and
// the command with its arguments appended quoted. It is one line, defined
// (by eval) on the first line of the script under a bash session shell and
// of bash's script under another, so that bash numbers the lines of the
// command's own errors from 1, as in bash -c.
const cmdTemplate = `__daytona_cmd_{V}() { trap 'wait; exit 143' TERM; for __daytona_v in "${__daytona_e[@]}"; do export "$__daytona_v" || exit; done; ` +
	`if [ -n "$__daytona_d" ]; then cd -- "$__daytona_d" || exit; fi; set --; ` +
	`if [ "${#__daytona_a[@]}" = 0 ]; then eval "$__daytona_c"; else eval "$__daytona_c"' "${__daytona_a[@]}"'; fi; }`

// runnerTemplate defines the runner and its helper that checks a stream
// for the log (the command runs in cmdTemplate's); see Script. {V} stands
// for their version. The runner's arguments are the script's path, the
// stem of the files' names, flags (M: one file for both streams; R: no
// files; S: the command in a subshell) and the session shell's process id,
// which its report checks once the command has ended (GoneMark). It reads
// the data, picks the files (next to the script if its first line is ours
// and its directory is writable and printable, else in /tmp, which it then
// cleans itself), sends its own stdout and stderr where the command's go,
// and runs the command: in its own process, with an EXIT trap that calls
// __daytona_end with the exit code and what it needs baked in (the
// command may change variables), or, with S, in a subshell (with the
// runner's stderr on /dev/null meanwhile, so that bash's report of a
// subshell killed by a signal stays out of the output) and then
// __daytona_end. That decides per stream whether its output goes in the
// log (__daytona_chk: an empty file does; else a read
// of at most InlineMax + 1 characters up to a NUL must reach the end of
// the file; ASCII without 00-02 and DEL is accepted at once, anything else
// only if it is at most InlineMax bytes and the UTF-8 locale finds every
// character printable, a space or an allowed control: where no UTF-8
// locale exists, no byte above 127 passes).
const runnerTemplate = `__daytona_run_{V}() {
trap 'exit 143' TERM
local __daytona_h __daytona_v __daytona_c= __daytona_d= __daytona_m= __daytona_x=${1-} __daytona_o= __daytona_r= __daytona_k=
local -a __daytona_a=() __daytona_e=()
while IFS= read -r -N 11 __daytona_h <&3; do
__daytona_v=
if [ "$((10#${__daytona_h:1}))" -gt 0 ]; then IFS= read -r -N "$((10#${__daytona_h:1}))" __daytona_v <&3; fi
case $__daytona_v in *\\*) builtin printf -v __daytona_v %b "$__daytona_v" ;; esac
case $__daytona_h in
c*) __daytona_c=$__daytona_v ;;
a*) __daytona_a+=("$__daytona_v") ;;
e*) __daytona_e+=("$__daytona_v") ;;
d*) __daytona_d=$__daytona_v ;;
m*) __daytona_m=$__daytona_v ;;
*) break ;;
esac
done
case $3 in *R*) __daytona_x=/ ;; esac
if [ "$__daytona_x" != / ]; then
if [ -n "$__daytona_x" ] && IFS= read -r __daytona_h <"$__daytona_x" && case $__daytona_h in *"# agentworkspace-daytona ${2#agentws-}") true ;; *) false ;; esac; then
__daytona_x=${__daytona_x%/*}
case $__daytona_x in /*[!\ -~]*) __daytona_x= ;; /?*) [ -w "$__daytona_x" ] || __daytona_x= ;; *) __daytona_x= ;; esac
else __daytona_x=; fi 2>/dev/null
if [ -z "$__daytona_x" ] && [ -w /tmp ]; then __daytona_x=/tmp __daytona_k=1; fi
if [ -n "$__daytona_x" ]; then
__daytona_o=$__daytona_x/$2.out __daytona_r=$__daytona_x/$2.err
case $3 in *M*) __daytona_r= ;; esac
{ true >"$__daytona_o" && true >"${__daytona_r:-$__daytona_o}"; } 2>/dev/null || __daytona_o=
fi
fi
if [ -z "$__daytona_o" ]; then
builtin printf '%sR\n' "$__daytona_m"
case $3 in *M*) exec 19>&1 18>&2 2>&1 ;; *) exec 19>&1 18>&2 ;; esac
elif [ -z "$__daytona_r" ]; then
builtin printf '%sD%s\n' "$__daytona_m" "$__daytona_o"
exec 19>&1 >>"$__daytona_o" 2>&1
else
builtin printf '%sD%s\t%s\n' "$__daytona_m" "$__daytona_o" "$__daytona_r"
exec 19>&1 >>"$__daytona_o" 2>>"$__daytona_r"
fi
exec 3<&-
case $3 in *S*)
{ ( __daytona_cmd_{V} ) 2>&17 17>&- 18>&-; } 17>&2 2>/dev/null
__daytona_end_{V} "$?" "$__daytona_m" "$__daytona_o" "$__daytona_r" "$__daytona_k" "$4" ;;
esac
builtin printf -v __daytona_h '__daytona_end_{V} "$__daytona_s" %q %q %q %q %q' "$__daytona_m" "$__daytona_o" "$__daytona_r" "$__daytona_k" "$4"
trap "{ __daytona_s=\$?; set +vxeuo pipefail; } 2>/dev/null; $__daytona_h" EXIT
__daytona_cmd_{V}
{ exit; } 2>/dev/null
}
__daytona_end_{V}() {
exec 2>/dev/null
trap - ERR DEBUG RETURN
IFS=$' \t\n'
local s=$1 m=$2 o=$3 r=$4 k=$5 p=$6 g= b= h
if [ -r "/proc/$p/stat" ]; then IFS= read -r h <"/proc/$p/stat"; h=${h##*) }; case $h in [ZX]*) g=X ;; esac
elif ! kill -0 "$p"; then g=X; fi
if [ -z "$o" ]; then
builtin printf '%s%s%d\n' "$m" "$g" "$s" >&19; builtin printf '%s%d\n' "$m" "$s" >&18
exit "$s"
fi
if __daytona_chk_{V} "$o"; then builtin printf '%s%s%s%d\n' "$__daytona_i" "$m" "$g" "$s" >&19
else builtin printf '%sB%s%d\n' "$m" "$g" "$s" >&19; b=1; fi
if [ -z "$r" ]; then builtin printf '%s%d\n' "$m" "$s" >&19
elif __daytona_chk_{V} "$r"; then builtin printf '%s%s%d\n' "$__daytona_i" "$m" "$s" >&19
else builtin printf '%sB%d\n' "$m" "$s" >&19; b=1; fi
if [ -n "$k" ] && [ -z "$b" ]; then command rm -f -- "$o" $r; fi
exit "$s"
}
__daytona_chk_{V}() {
__daytona_i=
[ -s "$1" ] || { [ -e "$1" ] && return 0; return 1; }
local x r
IFS= read -r -d '' -n {T1} x <"$1"; r=$?
[ "$r" = 1 ] || return 1
case $x in *[!$'\003'-$'\176']*) ;; *) __daytona_i=$x; return 0 ;; esac
local LC_ALL=C
[ "${#x}" -le {T0} ] || return 1
{ LC_ALL=C.UTF-8; } 2>/dev/null
case $x in *[![:print:][:space:]{CTL}]*) return 1 ;; esac
__daytona_i=$x
}`
