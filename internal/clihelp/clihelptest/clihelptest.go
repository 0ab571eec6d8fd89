// Package clihelptest finds the DAYTONA_* settings a program reads, for
// the tests of its -help: the names in the string literals of the Go
// files of the program and of every package it imports outside the
// standard library (the Daytona SDK included).
package clihelptest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// notSettings are DAYTONA_* names in string literals that are no
// environment variable: daytonatest's preview proxy takes the token in
// the query parameter DAYTONA_SANDBOX_AUTH_KEY, as Daytona's does; the
// "source" of today's error answers is DAYTONA_API, DAYTONA_DAEMON or
// DAYTONA_PROXY.
var notSettings = []string{"DAYTONA_SANDBOX_AUTH_KEY", "DAYTONA_API", "DAYTONA_DAEMON", "DAYTONA_PROXY"}

var name = regexp.MustCompile(`DAYTONA_[A-Z0-9_]*[A-Z0-9]`)

// DaytonaNames returns the DAYTONA_* names in the string literals of
// package pkg (as go list understands it, from the test's directory) and
// its non-standard dependencies, sorted.
func DaytonaNames(t testing.TB, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{.Dir}}{{range .GoFiles}}`+"\t"+`{{.}}{{end}}{{end}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, "\t")
		for _, file := range fields[1:] {
			f, err := parser.ParseFile(fset, filepath.Join(fields[0], file), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					for _, m := range name.FindAllString(s, -1) {
						found[m] = !slices.Contains(notSettings, m)
					}
				}
				return true
			})
		}
	}
	var names []string
	for _, n := range slices.Sorted(maps.Keys(found)) {
		if found[n] {
			names = append(names, n)
		}
	}
	return names
}
