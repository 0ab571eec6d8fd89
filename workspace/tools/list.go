package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
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
		Description: "List a directory in the sandbox: names, types and sizes, sorted by name. With recursive, subdirectories too (symbolic links are not followed).",
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
// to out, depth first, until limit.
func (k *Toolkit) walk(ctx context.Context, root, rel string, recursive bool, limit int, out *FileList) error {
	entries, err := k.filesystem().ReadDir(ctx, path.Join(root, rel))
	if err != nil {
		return err
	}
	for _, de := range entries {
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
		out.Entries = append(out.Entries, e)
		if recursive && e.Type == "dir" {
			if err := k.walk(ctx, root, e.Path, recursive, limit, out); err != nil {
				return err
			}
		}
	}
	return nil
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
