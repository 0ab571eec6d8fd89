package tools_test

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace/tools"
)

func TestFileTools(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)

	want(t, call(t, kit, "write_file", `{"path":"src/app/main.go","content":"package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n"}`),
		false, "Wrote 45 bytes to src/app/main.go.")
	// The sandbox's commands see the file.
	want(t, call(t, kit, "execute_command", `{"command":"cat src/app/main.go | wc -l"}`), false, "5\n")

	res := call(t, kit, "read_file", `{"path":"src/app/main.go"}`)
	want(t, res, false, "     1\tpackage main\n     2\t\n     3\tfunc main() {\n     4\t\tprintln(\"hi\")\n     5\t}\n")
	if fc := decode[tools.FileContent](t, res); fc.StartLine != 1 || fc.EndLine != 5 || fc.More || !strings.HasPrefix(fc.Content, "package main\n") {
		t.Errorf("structured: %+v", fc)
	}
	// Absolute names work too: the working directory is pwd's.
	pwd := strings.TrimSpace(decode[tools.CommandOutput](t, call(t, kit, "execute_command", `{"command":"pwd"}`)).Stdout)
	res = call(t, kit, "read_file", `{"path":"`+pwd+`/src/app/main.go","offset":3,"limit":2}`)
	want(t, res, false, "     3\tfunc main() {\n     4\t\tprintln(\"hi\")\n[… the file goes on; read on with offset 5 …]")
	if fc := decode[tools.FileContent](t, res); fc.StartLine != 3 || fc.EndLine != 4 || !fc.More {
		t.Errorf("structured: %+v", fc)
	}

	res = call(t, kit, "edit_file", `{"path":"src/app/main.go","old_string":"\"hi\"","new_string":"\"hello\""}`)
	want(t, res, false, "Replaced 1 occurrence in src/app/main.go.")
	want(t, call(t, kit, "execute_command", `{"command":"grep -c hello src/app/main.go"}`), false, "1\n")
	want(t, call(t, kit, "edit_file", `{"path":"src/app/main.go","old_string":"\t","new_string":"    "}`), false)

	want(t, call(t, kit, "write_file", `{"path":"src/README","content":"a a a"}`), false)
	res = call(t, kit, "list_files", `{"path":"src","recursive":true}`)
	want(t, res, false, "README (5 bytes)\napp/\napp/main.go (")
	if fl := decode[tools.FileList](t, res); len(fl.Entries) != 3 || fl.Entries[1] != (tools.FileEntry{Path: "app", Type: "dir"}) || fl.Truncated {
		t.Errorf("structured: %+v", fl)
	}
	want(t, call(t, kit, "list_files", `{"path":"src"}`), false, "README (5 bytes)\napp/\n")
	want(t, call(t, kit, "list_files", `{"path":"src","recursive":true,"max_entries":2}`), false, "[… more entries not shown")
}

func TestEditFileMatches(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	want(t, call(t, kit, "write_file", `{"path":"f.txt","content":"x = 1\nx = 1\ny = 2\n"}`), false)
	want(t, call(t, kit, "edit_file", `{"path":"f.txt","old_string":"z","new_string":"w"}`), true, "old_string does not occur in f.txt")
	want(t, call(t, kit, "edit_file", `{"path":"f.txt","old_string":"x = 1","new_string":"x = 3"}`), true,
		"old_string occurs 2 times in f.txt", "replace_all")
	res := call(t, kit, "edit_file", `{"path":"f.txt","old_string":"x = 1","new_string":"x = 3","replace_all":true}`)
	want(t, res, false, "Replaced 2 occurrences")
	if fe := decode[tools.FileEdited](t, res); fe.Replacements != 2 {
		t.Errorf("structured: %+v", fe)
	}
	want(t, call(t, kit, "read_file", `{"path":"f.txt"}`), false, "     1\tx = 3\n     2\tx = 3\n     3\ty = 2\n")
}

func TestFileToolErrors(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	want(t, call(t, kit, "write_file", `{"path":"bin","content":"a\u0000b"}`), false)
	want(t, call(t, kit, "write_file", `{"path":"empty","content":""}`), false)
	want(t, call(t, kit, "write_file", `{"path":"src/keep","content":""}`), false)
	want(t, call(t, kit, "write_file", `{"path":"long","content":"`+strings.Repeat("é", 1500)+`\nend\n"}`), false)
	for _, tc := range []struct{ tool, input, want string }{
		{"read_file", `{"path":"missing.txt"}`, "read_file: open missing.txt: file does not exist"},
		{"read_file", `{"path":"src"}`, "read_file: open src: is a directory"},
		{"read_file", `{"path":"~/notes"}`, `read_file: open ~/notes: invalid name: "~" is not expanded`},
		{"read_file", `{"path":"bin"}`, "bin is not a text file"},
		{"read_file", `{"path":"empty","offset":3}`, "offset 3 is past the end of empty, which has 0 lines"},
		{"read_file", `{}`, `field "path" is required`},
		{"read_file", `{"path":"x","limit":0}`, `field "limit" must be from 1 to 10000 lines`},
		{"write_file", `{"path":"x"}`, `field "content" is required`},
		{"write_file", `{"path":"src","content":""}`, "write_file: write src: is a directory"},
		{"write_file", `{"path":"a\u0000b","content":""}`, `invalid input for write_file: field "path" must not contain a NUL byte`},
		{"edit_file", `{"path":"missing","old_string":"a","new_string":"b"}`, "edit_file: read missing: file does not exist"},
		{"edit_file", `{"path":"x","old_string":"","new_string":"b"}`, `field "old_string" must not be empty: the exact text to replace`},
		{"edit_file", `{"path":"x","old_string":"a","new_string":"a"}`, `field "new_string" is the same as old_string`},
		{"edit_file", `{"path":"x","old_string":"a"}`, `field "new_string" is required`},
		{"list_files", `{"path":"missing"}`, "list_files: readdir missing: file does not exist"},
		{"list_files", `{"path":"bin"}`, "list_files: readdir bin: not a directory"},
		{"list_files", `{"max_entries":0}`, `field "max_entries" must be from 1 to 5000`},
	} {
		want(t, call(t, kit, tc.tool, tc.input), true, tc.want)
	}
	want(t, call(t, kit, "read_file", `{"path":"empty"}`), false, "(empty file)")
	res := call(t, kit, "read_file", `{"path":"long"}`)
	want(t, res, false, "     1\t"+strings.Repeat("é", 1000)+" [… line cut: 1000 more bytes …]\n     2\tend\n")
}
