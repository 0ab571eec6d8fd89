package tools

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/workspace"
)

// read_file's limits.
const (
	defaultReadLines = 2000      // lines returned when limit is omitted
	maxReadLines     = 10000     // the most lines one call returns
	maxLineBytes     = 2000      // longer lines are cut
	maxReadBytes     = 256 << 10 // a call stops after this much text
)

// FileContent is the structured result of read_file.
type FileContent struct {
	Path string `json:"path"`
	// Content holds the lines returned, as in the file (without numbers;
	// lines longer than 2000 bytes are cut).
	Content string `json:"content"`
	// StartLine and EndLine number the first and last line returned,
	// from 1; EndLine is StartLine-1 when none was.
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine"`
	// More reports that the file goes on after EndLine.
	More bool `json:"more"`
}

var fileContentSchema = object([]string{"path", "content", "startLine", "endLine", "more"}, map[string]prop{
	"path":      str("The file's path, as given."),
	"content":   str("The lines returned, without line numbers."),
	"startLine": integer("The number of the first line returned, from 1."),
	"endLine":   integer("The number of the last line returned."),
	"more":      boolean("The file goes on after endLine."),
})

func (k *Toolkit) filesystem() workspace.Filesystem {
	return k.sb.(workspace.FilesystemProvider).Filesystem()
}

// fileError turns a filesystem error into a tool error.
func (k *Toolkit) fileError(tool string, err error) *Result {
	return k.sandboxFail(k.name(tool)+": "+err.Error(), err)
}

// readInput is read_file's input.
type readInput struct {
	Path   string `json:"path"`
	Offset *int   `json:"offset"`
	Limit  *int   `json:"limit"`
}

func (k *Toolkit) readFileTool() *Tool {
	return &Tool{
		Description: "Read a text file in the sandbox. Lines come numbered (number, tab, text), " +
			strconv.Itoa(defaultReadLines) + " at most unless limit says otherwise; use offset and limit to read a long file in parts.",
		InputSchema: object([]string{"path"}, map[string]prop{
			"path":   str("The file's path: absolute, or relative to the sandbox's working directory."),
			"offset": {"type": "integer", "minimum": 1, "description": "The number of the first line to return, from 1 (default 1)."},
			"limit": {"type": "integer", "minimum": 1, "maximum": maxReadLines,
				"description": "How many lines to return at most (default " + strconv.Itoa(defaultReadLines) + ")."},
		}),
		OutputSchema: fileContentSchema,
		Annotations:  Annotations{Title: "Read a file", ReadOnly: true, Idempotent: true},
		decode: func(input json.RawMessage) (any, error) {
			var in readInput
			if err := decodeInput(input, &in); err != nil {
				return nil, err
			}
			if err := required(input, "path", in.Path, true, "the file to read"); err != nil {
				return nil, err
			}
			switch {
			case in.Offset != nil && *in.Offset < 1:
				return nil, fieldError("offset", "must be a line number from 1")
			case in.Limit != nil && (*in.Limit < 1 || *in.Limit > maxReadLines):
				return nil, fieldError("limit", "must be from 1 to %d lines", maxReadLines)
			}
			return &in, nil
		},
		run: func(ctx context.Context, in any) *Result { return k.runRead(ctx, in.(*readInput)) },
	}
}

func (k *Toolkit) runRead(ctx context.Context, in *readInput) *Result {
	rc, err := k.filesystem().Open(ctx, in.Path)
	if err != nil {
		return k.fileError(ReadFile, err)
	}
	defer rc.Close()
	start, limit := 1, defaultReadLines
	if in.Offset != nil {
		start = *in.Offset
	}
	if in.Limit != nil {
		limit = *in.Limit
	}
	out := &FileContent{Path: in.Path, StartLine: start, EndLine: start - 1}
	text, err := readLines(bufio.NewReaderSize(rc, 64<<10), out, limit)
	switch {
	case err != nil:
		return k.fileError(ReadFile, err)
	case out.EndLine < start && start > 1:
		return k.fail(fmt.Sprintf("%s: offset %d is past the end of %s, which has %d lines", k.name(ReadFile), start, in.Path, out.EndLine))
	case out.EndLine < start:
		text = "(empty file)\n"
	case out.More:
		text += fmt.Sprintf("[… the file goes on; read on with offset %d …]\n", out.EndLine+1)
	}
	return &Result{Text: text, Structured: structured(out)}
}

// readLines reads lines from r into out, from out.StartLine, at most limit
// of them (and maxReadBytes), and returns them numbered. When the file
// ends before StartLine, out.EndLine is its number of lines.
func readLines(r *bufio.Reader, out *FileContent, limit int) (string, error) {
	var numbered, content strings.Builder
	for n := 1; ; n++ {
		if n >= out.StartLine && (n-out.StartLine >= limit || content.Len() >= maxReadBytes) {
			_, err := r.Peek(1)
			out.More = err == nil
			break
		}
		line, cut, err := readLine(r)
		if err == io.EOF {
			if n < out.StartLine {
				out.EndLine = n - 1
			}
			break
		}
		if err != nil {
			return "", err
		}
		if n < out.StartLine {
			continue
		}
		if strings.IndexByte(line, 0) >= 0 || !utf8.ValidString(line) {
			return "", fmt.Errorf("%s %w", out.Path, errNotText)
		}
		content.WriteString(line)
		body := strings.TrimSuffix(line, "\n")
		if cut > 0 {
			body += fmt.Sprintf(" [… line cut: %d more bytes …]", cut)
		}
		fmt.Fprintf(&numbered, "%6d\t%s\n", n, body)
		out.EndLine = n
	}
	out.Content = content.String()
	return numbered.String(), nil
}

// readLine reads one line, with its newline, keeping at most maxLineBytes
// of it (cut back to a UTF-8 character boundary, the newline kept) and
// counting the bytes cut. It returns io.EOF only when no line is left.
func readLine(r *bufio.Reader) (string, int, error) {
	var kept []byte
	total := 0
	for {
		chunk, err := r.ReadSlice('\n')
		total += len(chunk)
		kept = append(kept, chunk[:min(maxLineBytes-len(kept), len(chunk))]...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && total > 0:
		case err != nil:
			return "", 0, err
		}
		if total == len(kept) {
			return string(kept), 0, nil
		}
		kept = kept[:completeUTF8(kept)]
		cut := total - len(kept)
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			kept = append(kept, '\n')
			cut--
		}
		return string(kept), cut, nil
	}
}

// FileWritten is the structured result of write_file.
type FileWritten struct {
	Path  string `json:"path"`
	Bytes int    `json:"bytes"`
}

func (k *Toolkit) writeFileTool() *Tool {
	type writeInput struct {
		Path    string  `json:"path"`
		Content *string `json:"content"`
	}
	return &Tool{
		Description: "Write a text file in the sandbox, creating it and its parent directories, or replacing all its content.",
		InputSchema: object([]string{"path", "content"}, map[string]prop{
			"path":    str("The file's path: absolute, or relative to the sandbox's working directory."),
			"content": str("The file's entire new content."),
		}),
		OutputSchema: object([]string{"path", "bytes"}, map[string]prop{
			"path": str("The file's path, as given."), "bytes": integer("The bytes written."),
		}),
		Annotations: Annotations{Title: "Write a file", Destructive: true, Idempotent: true},
		decode: func(input json.RawMessage) (any, error) {
			var in writeInput
			if err := decodeInput(input, &in); err != nil {
				return nil, err
			}
			if err := required(input, "path", in.Path, true, "the file to write"); err != nil {
				return nil, err
			}
			if in.Content == nil {
				return nil, fieldError("content", "is required: the file's entire content (it may be empty)")
			}
			return &in, nil
		},
		run: func(ctx context.Context, v any) *Result {
			in := v.(*writeInput)
			if err := k.filesystem().WriteFile(ctx, in.Path, []byte(*in.Content), 0o644); err != nil {
				return k.fileError(WriteFile, err)
			}
			out := &FileWritten{Path: in.Path, Bytes: len(*in.Content)}
			return &Result{Text: fmt.Sprintf("Wrote %d bytes to %s.", out.Bytes, in.Path), Structured: structured(out)}
		},
	}
}

// FileEdited is the structured result of edit_file.
type FileEdited struct {
	Path         string `json:"path"`
	Replacements int    `json:"replacements"`
}

// editInput is edit_file's input.
type editInput struct {
	Path       string  `json:"path"`
	OldString  string  `json:"old_string"`
	NewString  *string `json:"new_string"`
	ReplaceAll bool    `json:"replace_all"`
}

func (k *Toolkit) editFileTool() *Tool {
	return &Tool{
		Description: "Replace text in a file in the sandbox: old_string, which must occur exactly once (include surrounding lines to make it unique), " +
			"becomes new_string. With replace_all, every occurrence is replaced. Whitespace and indentation must match exactly.",
		InputSchema: object([]string{"path", "old_string", "new_string"}, map[string]prop{
			"path":        str("The file's path: absolute, or relative to the sandbox's working directory."),
			"old_string":  str("The exact text to replace."),
			"new_string":  str("The text to put in its place."),
			"replace_all": boolean("Replace every occurrence of old_string, not just one (default false)."),
		}),
		OutputSchema: object([]string{"path", "replacements"}, map[string]prop{
			"path": str("The file's path, as given."), "replacements": integer("How many occurrences were replaced."),
		}),
		Annotations: Annotations{Title: "Edit a file", Destructive: true},
		decode: func(input json.RawMessage) (any, error) {
			var in editInput
			if err := decodeInput(input, &in); err != nil {
				return nil, err
			}
			if err := required(input, "path", in.Path, true, "the file to edit"); err != nil {
				return nil, err
			}
			switch {
			case in.OldString == "":
				return nil, required(input, "old_string", in.OldString, true, "the exact text to replace")
			case in.NewString == nil:
				return nil, fieldError("new_string", "is required: the text to put in place of old_string (it may be empty)")
			case *in.NewString == in.OldString:
				return nil, fieldError("new_string", "is the same as old_string: nothing would change")
			}
			return &in, nil
		},
		run: func(ctx context.Context, v any) *Result { return k.runEdit(ctx, v.(*editInput)) },
	}
}

func (k *Toolkit) runEdit(ctx context.Context, in *editInput) *Result {
	fsys := k.filesystem()
	data, err := fsys.ReadFile(ctx, in.Path)
	if err != nil {
		return k.fileError(EditFile, err)
	}
	text := string(data)
	n := strings.Count(text, in.OldString)
	switch {
	case n == 0:
		return k.fail(k.name(EditFile) + ": old_string does not occur in " + in.Path + "; read the file and copy the text exactly, whitespace included")
	case n > 1 && !in.ReplaceAll:
		return k.fail(fmt.Sprintf("%s: old_string occurs %d times in %s; include more surrounding text to make it unique, or set replace_all", k.name(EditFile), n, in.Path))
	}
	text = strings.Replace(text, in.OldString, *in.NewString, n)
	if err := fsys.WriteFile(ctx, in.Path, []byte(text), 0o644); err != nil {
		return k.fileError(EditFile, err)
	}
	out := &FileEdited{Path: in.Path, Replacements: n}
	unit := "occurrences"
	if n == 1 {
		unit = "occurrence"
	}
	return &Result{Text: fmt.Sprintf("Replaced %d %s in %s.", n, unit, in.Path), Structured: structured(out)}
}
