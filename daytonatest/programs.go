//go:build unix

package daytonatest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WithoutPrograms hides the named programs from the sandboxes, as in an
// image that lacks them: perl, which Debian and Ubuntu images have (it is
// essential there) but Alpine, slim and distroless-style images do not.
// The sandboxes' shells then get as PATH a directory of links to every
// program in this machine's PATH but those (a program stays reachable by
// its absolute path). The command line's -without flag sets it.
func WithoutPrograms(names ...string) Option {
	return func(c *config) error {
		for _, n := range names {
			if n == "" || strings.ContainsRune(n, '/') {
				return fmt.Errorf("daytonatest: WithoutPrograms(%q): want a program's name", n)
			}
		}
		c.hidden = append(c.hidden, names...)
		return nil
	}
}

// withoutPrograms returns env with PATH replaced by a directory (made in
// dir) of links to every program of PATH but the hidden ones, or env
// itself if nothing is hidden.
func withoutPrograms(env []string, hidden []string, dir string) ([]string, error) {
	if len(hidden) == 0 {
		return env, nil
	}
	i := slices.IndexFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") })
	if i < 0 {
		return env, nil
	}
	farm := filepath.Join(dir, "path")
	if err := os.MkdirAll(farm, 0o755); err != nil {
		return nil, err
	}
	for _, d := range filepath.SplitList(strings.TrimPrefix(env[i], "PATH=")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if slices.Contains(hidden, name) || e.IsDir() {
				continue
			}
			// The first of a name in PATH wins, as in a lookup.
			if err := os.Symlink(filepath.Join(d, name), filepath.Join(farm, name)); err != nil && !os.IsExist(err) {
				return nil, err
			}
		}
	}
	out := slices.Clone(env)
	out[i] = "PATH=" + farm
	return out, nil
}
