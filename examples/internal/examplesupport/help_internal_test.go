package examplesupport

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/clihelp/clihelptest"
)

// TestParseArgs: -help (in any of its spellings) prints the help on
// stdout and exits 0; anything else exits 2 with the help on stderr; no
// argument runs the example.
func TestParseArgs(t *testing.T) {
	wants := append(clihelptest.DaytonaNames(t, "github.com/agentworkspace/daytona/examples/..."),
		"Usage: quickstart", "-help", ".env.local", "TMPDIR", "PATH, LANG, USER, LOGNAME, TZ", "without isolation")
	for _, tc := range []struct {
		args   []string
		exit   bool
		status int
		out    bool // the help on stdout, else on stderr
	}{
		{nil, false, 0, false},
		{[]string{"-help"}, true, 0, true},
		{[]string{"-h"}, true, 0, true},
		{[]string{"--help"}, true, 0, true},
		{[]string{"-v"}, true, 2, false},
		{[]string{"extra"}, true, 2, false},
		{[]string{"-help=nope"}, true, 2, false},
	} {
		var stdout, stderr bytes.Buffer
		exit, status := parseArgs("quickstart", tc.args, &stdout, &stderr)
		if exit != tc.exit || status != tc.status {
			t.Errorf("parseArgs(%q) = %v, %d; want %v, %d", tc.args, exit, status, tc.exit, tc.status)
		}
		help, other := stdout.String(), stderr.String()
		if !tc.out {
			help, other = other, help
		}
		if !tc.exit {
			help = "Usage: quickstart" // nothing printed, nothing checked
		}
		if other != "" {
			t.Errorf("parseArgs(%q) also wrote %q", tc.args, other)
		}
		for _, w := range wants {
			if tc.exit && !strings.Contains(help, w) {
				t.Errorf("parseArgs(%q): the help does not mention %q:\n%s", tc.args, w, help)
			}
		}
	}
}

// TestEveryExampleUsesMain: the main function of every example is
// examplesupport.Main(run), so that -help works for all.
func TestEveryExampleUsesMain(t *testing.T) {
	mains, err := filepath.Glob("../../*/main.go")
	if err != nil || len(mains) < 5 {
		t.Fatalf("examples found: %q, %v", mains, err)
	}
	for _, path := range mains {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		uses := false
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "main" || fn.Recv != nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Main" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "examplesupport" {
						uses = true
					}
				}
				return true
			})
		}
		if !uses {
			t.Errorf("%s: main does not call examplesupport.Main", path)
		}
	}
}
