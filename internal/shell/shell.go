// Package shell builds the shell text that runs an agent's command in a
// Daytona session: argument quoting that carries any byte, environment,
// working directory, bash whatever the session's shell, a subshell that
// keeps session state clean, an output encoder that the daemon's line
// labelling cannot damage, and the completion marker that reports the exit
// code in-band.
package shell

import (
	"regexp"
	"strings"
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports whether name can be exported: [A-Za-z_][A-Za-z0-9_]*.
func ValidEnvName(name string) bool { return envName.MatchString(name) }

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

// leaveWords are the words after which a command may end its shell
// without running its EXIT trap or replace that trap (exec, trap, kill,
// BASHPID), run code this package cannot see (eval, source, ., a
// function, builtins switched off or renamed) or set shell options (set);
// see MayLeaveItsShell.
var leaveWords = map[string]bool{
	"exec": true, "trap": true, "kill": true, "BASHPID": true, "eval": true, "source": true, ".": true,
	"function": true, "enable": true, "shopt": true, "alias": true, "unset": true, "builtin": true,
	// bash 5.2 reports "pop_var_context: head of shell_variables not a
	// function context" on stderr when errexit ends a shell inside eval
	// inside a function outside a subshell (bash -c under a zsh session).
	"set": true,
}

// MayLeaveItsShell reports whether command may end the shell that runs it
// other than by exiting (exec, a kill of itself), replace that shell's EXIT
// trap, or change how that shell runs builtins (a function or an alias of
// its own): the runner then starts it in a subshell of its own, one more
// process, so that nothing the command does keeps the runner from
// reporting how it ended. Other commands run in the runner's own process.
// A command that does so anyway (in a file it sources under another name)
// ends without its marker, and the exit code the daemon recorded stands.
func MayLeaveItsShell(command string) bool {
	if strings.Contains(command, "()") {
		return true
	}
	word := func(r rune) bool {
		return r == '_' || r == '.' || r == '/' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	for _, w := range strings.FieldsFunc(command, func(r rune) bool { return !word(r) }) {
		if leaveWords[w] {
			return true
		}
	}
	return false
}
