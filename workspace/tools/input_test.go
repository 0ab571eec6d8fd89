package tools_test

import (
	"strings"
	"sync"
	"testing"
)

// TestInputErrorsSayWhatIsWrong: every tool tells a missing field from an
// empty one, refuses what no command line, environment or path can hold
// as invalid input (never as a command that "could not run"), and names
// the field at fault.
func TestInputErrorsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	for _, tc := range []struct{ tool, input, want string }{
		{"execute_command", `{"command":""}`, `field "command" must not be empty: the shell command to run`},
		{"execute_command", `{"command":"  \t\n"}`, `field "command" must not be only whitespace`},
		{"execute_command", `{"command":null}`, `field "command" is required`},
		{"execute_command", `{}`, `field "command" is required`},
		{"execute_command", `{"Command":""}`, `field "command" must not be empty`},
		{"execute_command", `{"command":"echo a\u0000b"}`, `field "command" must not contain a NUL byte`},
		{"execute_command", `{"command":"echo","args":["ok","x\u0000y"]}`, `field "args" must not contain NUL bytes; element 1 does`},
		{"execute_command", `{"command":"pwd","cwd":"/t\u0000mp"}`, `field "cwd" must not contain a NUL byte`},
		{"execute_command", `{"command":"env","env":{"1ABC":"x"}}`, `field "env" has the name "1ABC", which is not an environment variable name`},
		{"execute_command", `{"command":"env","env":{"":"x"}}`, `field "env" has the name "", which is not`},
		{"execute_command", `{"command":"env","env":{"A B":"x"}}`, `field "env" has the name "A B"`},
		{"execute_command", `{"command":"env","env":{"A=B":"x"}}`, `field "env" has the name "A=B"`},
		{"execute_command", `{"command":"env","env":{"É":"x"}}`, `field "env" has the name "É"`},
		{"execute_command", `{"command":"env","env":{"OK":"x\u0000y"}}`, `field "env" has a NUL byte in the value of OK`},
		{"get_process_output", `{"pid":""}`, `field "pid" must not be empty: the process id`},
		{"get_process_output", `{"pid":"  "}`, `field "pid" must not be only whitespace`},
		{"get_process_output", `{}`, `field "pid" is required`},
		{"kill_process", `{"pid":""}`, `field "pid" must not be empty`},
		{"kill_process", `{"pid":null}`, `field "pid" is required`},
		{"read_file", `{"path":""}`, `field "path" must not be empty: the file to read`},
		{"read_file", `{"path":"a\u0000b"}`, `field "path" must not contain a NUL byte`},
		{"write_file", `{"path":"","content":"x"}`, `field "path" must not be empty: the file to write`},
		{"write_file", `{"content":"x"}`, `field "path" is required`},
		{"edit_file", `{"path":"","old_string":"a","new_string":"b"}`, `field "path" must not be empty: the file to edit`},
		{"edit_file", `{"path":"x","old_string":"","new_string":"b"}`, `field "old_string" must not be empty: the exact text to replace`},
		{"edit_file", `{"path":"x","new_string":"b"}`, `field "old_string" is required`},
		{"list_files", `{"path":"a\u0000b"}`, `field "path" must not contain a NUL byte`},
	} {
		res := call(t, kit, tc.tool, tc.input)
		want(t, res, true, "invalid input for "+tc.tool+": "+tc.want)
		if strings.Contains(res.Text, "could not run") || strings.Contains(res.Text, "daytona:") {
			t.Errorf("%s(%s): %s", tc.tool, tc.input, res.Text)
		}
	}
	// What may be empty, or blank, is accepted.
	want(t, call(t, kit, "write_file", `{"path":" ","content":""}`), false, "Wrote 0 bytes")
	want(t, call(t, kit, "edit_file", `{"path":" ","old_string":"","new_string":"x"}`), true, `field "old_string" must not be empty`)
	want(t, call(t, kit, "write_file", `{"path":"ws","content":"a  b"}`), false)
	want(t, call(t, kit, "edit_file", `{"path":"ws","old_string":"  ","new_string":"_"}`), false, "Replaced 1")
	want(t, call(t, kit, "execute_command", `{"command":"printf '%s|' \"$E\" \"$_U\"","env":{"E":"","_U":"u"}}`), false, "|u|")
}

// TestInvalidInputRunsNothing: a call refused for its input runs nothing,
// even when only one variable of many is bad; concurrent calls too.
func TestInvalidInputRunsNothing(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			res, err := kit.Call(t.Context(), "execute_command", []byte(`{"command":"touch ran-`+string(rune('a'+i))+`","env":{"GOOD":"1","BAD-NAME":"2"}}`))
			if err != nil || !res.IsError || !strings.Contains(res.Text, `"BAD-NAME"`) {
				t.Errorf("call %d: %v %+v", i, err, res)
			}
		})
	}
	wg.Wait()
	want(t, call(t, kit, "execute_command", `{"command":"ls ran-* 2>/dev/null | wc -l"}`), false, "0\n")
}
