package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
)

// list_files's limits.
const (
	defaultListEntries = 200
	maxListEntries     = 5000
)

// FileList is the structured result of list_files.
type FileList struct {
	Path    string      `json:"path"`
	Entries []FileEntry `json:"entries"`
	// Truncated reports that there were more entries than max_entries.
	Truncated bool `json:"truncated"`
}

// FileEntry is one entry of a FileList.
type FileEntry struct {
	// Path is relative to the listed directory, slash-separated.
	Path string `json:"path"`
	// Type is "file", "dir", "symlink" or "other".
	Type string `json:"type"`
	// Size is a file's size in bytes (0 for others, or when unknown).
	Size int64 `json:"size"`
}

var fileListSchema = object([]string{"path", "entries", "truncated"}, map[string]prop{
	"path": str("The directory listed, as given."),
	"entries": {"type": "array", "description": "The entries, directories before their contents, by name.",
		"items": prop{"type": "object", "additionalProperties": false, "required": []string{"path", "type", "size"},
			"properties": map[string]prop{
				"path": str("The entry's path, relative to the listed directory."),
				"type": {"type": "string", "enum": []string{"file", "dir", "symlink", "other"}},
				"size": integer("A file's size in bytes."),
			}}},
	"truncated": boolean("There were more entries than max_entries."),
})

// listInput is list_files's input.
type listInput struct {
	Path       string `json:"path"`
	Recursive  bool   `json:"recursive"`
	MaxEntries *int   `json:"max_entries"`
}

func (k *Toolkit) listFilesTool() *Tool {
	return &Tool{
		Description: "List a directory in the sandbox: names, types and sizes, sorted by name. With recursive, subdirectories too (symbolic links are not followed, and never lead out of the directory).",
		InputSchema: object(nil, map[string]prop{
			"path":      str("The directory: absolute, or relative to the sandbox's working directory (default: the working directory)."),
			"recursive": boolean("List subdirectories' contents too (default false)."),
			"max_entries": {"type": "integer", "minimum": 1, "maximum": maxListEntries,
				"description": "Stop after this many entries (default " + strconv.Itoa(defaultListEntries) + ")."},
		}),
		OutputSchema: fileListSchema,
		Annotations:  Annotations{Title: "List files", ReadOnly: true, Idempotent: true},
		decode: func(input json.RawMessage) (any, error) {
			var in listInput
			if err := decodeInput(input, &in); err != nil {
				return nil, err
			}
			if in.MaxEntries != nil && (*in.MaxEntries < 1 || *in.MaxEntries > maxListEntries) {
				return nil, fieldError("max_entries", "must be from 1 to %d", maxListEntries)
			}
			if err := noNUL("path", in.Path); err != nil {
				return nil, err
			}
			if in.Path == "" {
				in.Path = "."
			}
			return &in, nil
		},
		run: func(ctx context.Context, v any) *Result { return k.runList(ctx, v.(*listInput)) },
	}
}

func (k *Toolkit) runList(ctx context.Context, in *listInput) *Result {
	limit := defaultListEntries
	if in.MaxEntries != nil {
		limit = *in.MaxEntries
	}
	out := &FileList{Path: in.Path, Entries: []FileEntry{}}
	if err := k.walk(ctx, in.Path, "", in.Recursive, limit, out); err != nil {
		return k.fileError(ListFiles, err)
	}
	var b strings.Builder
	for _, e := range out.Entries {
		switch e.Type {
		case "dir":
			b.WriteString(e.Path + "/\n")
		case "file":
			fmt.Fprintf(&b, "%s (%d bytes)\n", e.Path, e.Size)
		case "symlink":
			b.WriteString(e.Path + "@\n")
		default:
			b.WriteString(e.Path + "\n")
		}
	}
	switch {
	case out.Truncated:
		fmt.Fprintf(&b, "[… more entries not shown; list a subdirectory, or raise max_entries …]\n")
	case len(out.Entries) == 0:
		b.WriteString("(empty directory)\n")
	}
	return &Result{Text: b.String(), Structured: structured(out)}
}

// walk appends the entries of dir (rel, relative to the listed directory)
// to out, depth first, until limit. It descends only into directories of
// their own, never through a symbolic link (see ownDir).
func (k *Toolkit) walk(ctx context.Context, root, rel string, recursive bool, limit int, out *FileList) error {
	dir := path.Join(root, rel)
	entries, err := k.filesystem().ReadDir(ctx, dir)
	if err != nil {
		return err
	}
	var own []bool
	if recursive {
		own = k.ownDirs(ctx, dir, entries)
	}
	for i, de := range entries {
		if len(out.Entries) >= limit {
			out.Truncated = true
			return nil
		}
		e := FileEntry{Path: path.Join(rel, de.Name()), Type: entryType(de.Type())}
		if e.Type == "file" {
			if info, err := de.Info(); err == nil {
				e.Size = info.Size()
			}
		}
		if recursive && e.Type == "dir" && !own[i] {
			e.Type = "symlink"
		}
		out.Entries = append(out.Entries, e)
		if recursive && e.Type == "dir" {
			if err := k.walk(ctx, root, e.Path, recursive, limit, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownDirs reports, for each of dir's entries listed as a directory, whether
// it is a directory of its own (see ownDir), asking about up to eight at a
// time.
func (k *Toolkit) ownDirs(ctx context.Context, dir string, entries []fs.DirEntry) []bool {
	own := make([]bool, len(entries))
	slots := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, de := range entries {
		if entryType(de.Type()) != "dir" {
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			own[i] = k.ownDir(ctx, dir, entries, de)
		})
	}
	wg.Wait()
	return own
}

// ownDir reports whether de, an entry of dir listed as a directory, is a
// directory of its own rather than a symbolic link to one. A filesystem
// that follows links when it lists (as Daytona's toolbox does:
// apps/daemon/pkg/toolbox/fs/list_files.go:45-52 at v0.190.0 describes
// each entry with os.Stat) says nothing of links, so the walk asks where
// the entry's ".." leads, as the system resolves it: back into dir for a
// directory of dir, elsewhere for a link such as "self -> ." or one to
// another tree. It stats "<dir>/<de>/../<mark>", where mark is another
// entry of dir (a file if there is one), and compares it with mark as
// listed; when de is dir's only entry, it goes one level higher and back
// into dir by its name. A link to a directory beside it in dir cannot be
// told apart and is listed as that directory; it neither loops nor leaves
// dir.
func (k *Toolkit) ownDir(ctx context.Context, dir string, entries []fs.DirEntry, de fs.DirEntry) bool {
	up := strings.TrimSuffix(dir, "/") + "/" + de.Name() + "/.."
	var mark fs.DirEntry
	for _, e := range entries {
		if e.Name() != de.Name() && (mark == nil || e.Type().IsRegular() && !mark.Type().IsRegular()) {
			mark = e
		}
	}
	if mark != nil {
		want, err := mark.Info()
		return err == nil && k.statsAs(ctx, up+"/"+mark.Name(), want)
	}
	back, self := up+"/../"+path.Base(dir), dir
	if base := path.Base(dir); base == "." || base == ".." || base == "/" {
		back, self = up+"/..", dir+"/.."
	}
	want, err := k.filesystem().Stat(ctx, self)
	return err == nil && k.statsAs(ctx, back, want)
}

// statsAs reports whether name is described as want is.
func (k *Toolkit) statsAs(ctx context.Context, name string, want fs.FileInfo) bool {
	got, err := k.filesystem().Stat(ctx, name)
	return err == nil && got.Mode() == want.Mode() && got.Size() == want.Size() && got.ModTime().Equal(want.ModTime())
}

func entryType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "file"
	default:
		return "other"
	}
}
