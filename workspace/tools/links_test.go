package tools_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// Issue #19 item 4: list_files, recursive, never follows a symbolic link:
// a link to the directory itself, to a parent, or to a tree outside is
// listed as a link and not walked, however the sandbox lists links
// (Daytona's toolbox lists a link to a directory as a directory).
func TestListFilesNeverFollowsLinks(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "proj")
	for _, d := range []string{"src/pkg", "empty", "solo"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "src/pkg/a.go"), []byte("package pkg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"self": ".", "src/up": "..", "src/pkg/root": "../..", "out": outside, "src/back": "../src",
		"solo/solo": "../solo", "dangling": "nowhere",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	res := call(t, kit, "list_files", `{"path":"`+root+`","recursive":true,"max_entries":5000}`)
	want(t, res, false)
	fl := decode[tools.FileList](t, res)
	got := map[string]string{}
	for _, e := range fl.Entries {
		got[e.Path] = e.Type
	}
	wantTypes := map[string]string{
		"empty": "dir", "out": "symlink", "self": "symlink", "solo": "dir", "solo/solo": "symlink",
		"src": "dir", "src/back": "symlink", "src/pkg": "dir", "src/pkg/a.go": "file", "src/pkg/root": "symlink", "src/up": "symlink",
	}
	for p, typ := range wantTypes {
		if got[p] != typ {
			t.Errorf("%s: type %q, want %q", p, got[p], typ)
		}
	}
	if len(got) != len(wantTypes) || fl.Truncated {
		t.Errorf("entries %v, want exactly %v", got, wantTypes)
	}
	if strings.Contains(res.Text, "secret.txt") || strings.Contains(res.Text, "self/") {
		t.Errorf("the walk followed a link:\n%s", res.Text)
	}
}

// The same through relative names, from the working directory, with the
// links made by the sandbox's own commands.
func TestListFilesNeverFollowsLinksRelative(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	want(t, call(t, kit, "execute_command", `{"command":"mkdir -p w/d/e && touch w/d/e/f && ln -s . w/d/self && ln -s .. w/up && ln -s d/e w/sib"}`), false)
	for _, input := range []string{`{"path":"w","recursive":true}`, `{"path":"./w/","recursive":true}`, `{"recursive":true}`} {
		res := call(t, kit, "list_files", input)
		want(t, res, false)
		for _, loop := range []string{"self/", "up/", "w/w/"} {
			if strings.Contains(res.Text, loop) {
				t.Errorf("%s: the walk went through a link (%s):\n%s", input, loop, res.Text)
			}
		}
		if !strings.Contains(res.Text, "d/self@") || !strings.Contains(res.Text, "d/e/f (0 bytes)") {
			t.Errorf("%s:\n%s", input, res.Text)
		}
	}
}
