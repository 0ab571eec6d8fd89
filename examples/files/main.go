// Files writes a small project into a sandbox, lists it with fs.WalkDir,
// runs it, and reads its result back: the optional
// workspace.FilesystemProvider capability, and workspace.FS, the io/fs view
// of a sandbox directory.
//
//	go run ./examples/files
//
// Names are absolute, or relative to the sandbox's working directory, the
// directory commands run in; so the files written here are where the
// command looks for them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func main() {
	examplesupport.Main(run)
}

// project is a word counter in POSIX sh, with its input.
var project = []struct {
	name    string
	content string
	perm    fs.FileMode
}{
	{"README.md", "# wordcount\n\nCounts the words of data/*.txt into out/report.txt.\n", 0o644},
	{"count.sh", `#!/bin/sh
set -e
mkdir -p out
for f in data/*.txt; do
  printf '%s %s\n' "$(wc -w < "$f" | tr -d ' ')" "$f"
done > out/report.txt
echo "counted $(ls data/*.txt | wc -l | tr -d ' ') files"
`, 0o755},
	{"data/fox.txt", "the quick brown fox\njumps over the lazy dog\n", 0o644},
	{"data/empty.txt", "", 0o644},
}

// bigSize is the size of an input streamed from a reader.
const bigSize = 1 << 20

const dir = "wordcount"

func run(ctx context.Context, w io.Writer) error {
	sb, cleanup, err := examplesupport.Connect(ctx, w)
	if err != nil {
		return err
	}
	defer cleanup()

	// Files are an optional capability of a workspace.Sandbox.
	var ws workspace.Sandbox = sb
	fp, ok := ws.(workspace.FilesystemProvider)
	if !ok {
		return errors.New("this sandbox has no filesystem")
	}
	fsys := fp.Filesystem()

	// 1. Write the project (the first call starts the sandbox); missing
	// parent directories are created.
	for _, f := range project {
		if err := fsys.WriteFile(ctx, path.Join(dir, f.name), []byte(f.content), f.perm); err != nil {
			return err
		}
	}
	// A large input, streamed from a reader in constant memory.
	big := io.LimitReader(strings.NewReader(strings.Repeat("hello world\n", bigSize/12+1)), bigSize)
	if err := fsys.Create(ctx, path.Join(dir, "data/big.txt"), big, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "Wrote %d files into %s/.\n", len(project)+1, dir)

	// 2. List it with fs.WalkDir, on the io/fs view of the directory.
	if err := list(w, workspace.FS(ctx, fsys, dir)); err != nil {
		return err
	}

	// 3. Run it.
	res, err := sb.ExecuteCommand(ctx, "cd "+dir+" && ./count.sh", nil, nil)
	if err != nil {
		return err
	}
	if !res.Success() {
		return fmt.Errorf("count.sh: exit code %d: %s", res.ExitCode, res.Stderr)
	}
	fmt.Fprintf(w, "Ran count.sh: %s", res.Stdout)

	// 4. Read the result back.
	report, err := fsys.ReadFile(ctx, path.Join(dir, "out/report.txt"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "out/report.txt:\n%s", report)

	// 5. Errors match io/fs.
	_, err = fsys.ReadFile(ctx, path.Join(dir, "out/missing.txt"))
	fmt.Fprintf(w, "Reading a missing file: errors.Is(err, fs.ErrNotExist) = %v (%v)\n", errors.Is(err, fs.ErrNotExist), err)
	return nil
}

// list prints the tree of fsys with fs.WalkDir.
func list(w io.Writer, fsys fs.FS) error {
	fmt.Fprintf(w, "%s/\n", dir)
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		indent := strings.Repeat("  ", strings.Count(p, "/")+1)
		if d.IsDir() {
			fmt.Fprintf(w, "%s%s/\n", indent, d.Name())
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s%s (%d bytes, %v)\n", indent, d.Name(), info.Size(), info.Mode().Perm())
		return nil
	})
}
