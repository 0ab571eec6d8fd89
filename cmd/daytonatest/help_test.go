//go:build unix

package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// flagNames returns the names of the flags main.go defines (fs.String,
// fs.Bool, ... called with a literal name).
func flagNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
			return true
		}
		for _, arg := range call.Args[:2] { // Name(name, ...) or NameVar(&v, name, ...)
			if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				names = append(names, s)
				break
			}
		}
		return true
	})
	return names
}

// TestHelp: -help, -h and --help succeed (exit 0) and print, on stdout,
// every flag and the environment variables the server reads.
func TestHelp(t *testing.T) {
	names := flagNames(t)
	if len(names) < 5 {
		t.Fatalf("found only the flags %q in main.go", names)
	}
	for _, arg := range []string{"-help", "-h", "--help"} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{arg}, &stdout, &stderr); err != nil {
			t.Errorf("run(%s) = %v; want nil (exit 0)", arg, err)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s wrote on stderr: %s", arg, stderr.String())
		}
		for _, want := range append(names, "TMPDIR", "PATH, LANG, USER, LOGNAME, TZ") {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s does not mention %q:\n%s", arg, want, stdout.String())
			}
		}
	}
}
