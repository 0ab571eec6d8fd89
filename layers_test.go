package daytona_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is this module's import path.
const module = "github.com/agentworkspace/daytona"

// layers says which packages of this module each package below the root,
// and pool above it, may import (see README, "Architecture"): imports only
// go down, the internal packages never import the root, workspace imports
// nothing of the module but its own, and pool uses the root's public API
// (and the workspace contract it is written in) only. A package missing here may import nothing of
// the module. Changing a layer's imports means changing this table, on
// purpose.
var layers = map[string][]string{
	"internal/retry":        nil,
	"internal/shell":        nil,
	"internal/stream":       nil,
	"internal/follow":       nil,
	"internal/jsonstream":   nil,
	"internal/apierr":       {"internal/retry", "internal/follow"},
	"internal/fault":        {"internal/apierr"},
	"internal/toolbox":      {"internal/apierr", "internal/retry", "internal/follow", "internal/jsonstream", "internal/stream"},
	"internal/mount":        {"internal/shell", "workspace"},
	"internal/files":        {"internal/fault"},
	"internal/controlplane": {"internal/toolbox", "internal/apierr", "internal/fault", "internal/retry"},
	"internal/command": {"internal/toolbox", "internal/apierr", "internal/fault", "internal/retry",
		"internal/shell", "internal/stream", "internal/follow", "workspace"},
	"workspace":                  {"workspace/internal/jsonenc"},
	"workspace/internal/jsonenc": nil,
	"workspace/tools":            {"workspace", "workspace/internal/jsonenc"},
	"workspace/sandboxtest":      {"workspace"},
	"pool":                       {".", "workspace"},
}

// TestLayers: every package under internal/, workspace/ and pool/ imports
// only what its layer allows (test files aside).
func TestLayers(t *testing.T) {
	t.Parallel()
	for _, root := range []string{"internal", "workspace", "pool"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			imports := moduleImports(t, path)
			if len(imports) == 0 {
				return nil
			}
			allowed, known := layers[filepath.ToSlash(path)]
			for _, imp := range imports {
				if !known || !contains(allowed, imp) {
					t.Errorf("%s imports %s, which its layer does not allow (see layers in layers_test.go)", path, imp)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// moduleImports returns the packages of this module that the non-test Go
// files of dir import, relative to the module (the root as ".").
func moduleImports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			switch {
			case path == module:
				seen["."] = true
			case strings.HasPrefix(path, module+"/"):
				seen[strings.TrimPrefix(path, module+"/")] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
