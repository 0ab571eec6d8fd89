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
