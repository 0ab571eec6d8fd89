package anthropictools

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// Call runs the tool_use blocks among content, the content of a message
// from Claude, and returns one tool_result block per tool_use (with its
// tool_use_id, and is_error for tool errors), in the order of the blocks;
// none if there are no tool_use blocks. Other blocks are left alone.
// Append msg.ToParam() and anthropic.NewUserMessage(results...) to the
// conversation. The error is an infrastructure failure or the end of ctx,
// with no results.
func (t *Toolkit) Call(ctx context.Context, content []anthropic.ContentBlockUnion) ([]anthropic.ContentBlockParamUnion, error) {
	if !t.ready() {
		return nil, errNoToolkit
	}
	var uses []anthropic.ContentBlockUnion
	for _, b := range content {
		if b.Type == "tool_use" {
			uses = append(uses, b)
		}
	}
	results := make([]*tools.Result, len(uses))
	errs := make([]error, len(uses))
	var wg sync.WaitGroup
	for i, u := range uses {
		wg.Go(func() { results[i], errs[i] = t.call(ctx, u.ID, u.Name, u.Input) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	out := make([]anthropic.ContentBlockParamUnion, len(uses))
	for i, res := range results {
		out[i] = anthropic.NewToolResultBlock(uses[i].ID, res.Text, res.IsError)
	}
	return out, nil
}

// call runs one tool_use block and returns its result, or an
// infrastructure failure or the end of ctx.
func (t *Toolkit) call(ctx context.Context, id, name string, input json.RawMessage) (*tools.Result, error) {
	if t.progress != nil {
		outer := tools.ProgressFrom(ctx)
		ctx = tools.WithProgress(ctx, func(p tools.Progress) {
			if outer != nil {
				outer(p)
			}
			t.progress(id, p)
		})
	}
	res, err := t.kit.Call(ctx, name, input)
	if err != nil {
		return nil, fmt.Errorf("anthropictools: tool_use %s: %w", id, err)
	}
	if res.Err != nil {
		return nil, fmt.Errorf("anthropictools: tool_use %s (%s): %w", id, name, res.Err)
	}
	return res, nil
}
