package einotools

import (
	"context"
	"errors"
	"strings"

	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/schema"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// streamable is execute_command: an invokable tool that also streams.
type streamable struct {
	*invokable
	budget tools.Budget
}

var _ tool.StreamableTool = (*streamable)(nil)

// StreamableRun runs the command and streams its result: the first lines
// of its standard output as they arrive, then the rest of the text when
// it ends. The chunks join up to exactly InvokableRun's text: only whole
// lines that the trimmed result always begins with are sent early (at
// most Budget.MaxLines/4 of them, within Budget.MaxBytes/4 bytes).
// Failures that InvokableRun returns end the stream with that error.
// A command runs to its end even if the stream is closed early: cancel
// ctx to stop it.
func (t *streamable) StreamableRun(ctx context.Context, argumentsInJSON string, _ ...tool.Option) (*schema.StreamReader[string], error) {
	head := &headLines{maxLines: t.budget.MaxLines / 4, maxBytes: t.budget.MaxBytes / 4}
	// Room for every early chunk, the rest and an error: sending never
	// waits, so the command's output never waits for the reader.
	sr, sw := schema.Pipe[string](head.maxLines + 2)
	var sent strings.Builder // written by the progress function, read after the call
	outer := tools.ProgressFrom(ctx)
	pctx := tools.WithProgress(ctx, func(p tools.Progress) {
		if outer != nil {
			outer(p)
		}
		if chunk := head.take(p); chunk != "" {
			sent.WriteString(chunk)
			sw.Send(chunk, nil)
		}
	})
	go func() {
		defer sw.Close()
		text, err := t.InvokableRun(pctx, argumentsInJSON)
		if err != nil {
			sw.Send("", err)
			return
		}
		rest, ok := strings.CutPrefix(text, sent.String())
		if !ok { // cannot happen while headLines follows tools' trimming
			sw.Send("", errors.New("einotools: "+t.tool.Name+": the output streamed is not the start of the result"))
			return
		}
		if rest != "" {
			sw.Send(rest, nil)
		}
	}()
	return sr, nil
}

// headLines picks, from a command's output as it arrives, the whole lines
// of standard output that its result will begin with whether or not the
// output is trimmed: at most maxLines lines in at most maxBytes bytes
// (a result's stdout starts with all of it, or with the longest such
// prefix).
type headLines struct {
	maxLines, maxBytes int
	lines, bytes       int
	partial            string // the start of a line not yet ended
	done               bool   // a line did not fit: nothing more is sent
}

// take returns the lines of p to send now, if any.
func (h *headLines) take(p tools.Progress) string {
	if h.done || p.Stream != "stdout" {
		return ""
	}
	text := h.partial + p.Text
	var out strings.Builder
	for {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			break
		}
		line := text[:i+1]
		if h.lines+1 > h.maxLines || h.bytes+len(line) > h.maxBytes {
			h.done, h.partial = true, ""
			return out.String()
		}
		out.WriteString(line)
		h.lines++
		h.bytes += len(line)
		text = text[i+1:]
	}
	if h.bytes+len(text) > h.maxBytes { // this line cannot fit either
		h.done, text = true, ""
	}
	h.partial = text
	return out.String()
}
