package openaitools

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// CallChat runs the tool calls of msg, an assistant message of a Chat
// Completions answer, and returns one tool message per call (its
// tool_call_id set), in the order of the calls; none if msg has no tool
// calls. Append msg.ToParam() and then them to the conversation. Every
// call gets an answer, tool errors included; the error is an
// infrastructure failure or the end of ctx, with no messages.
func (t *Toolkit) CallChat(ctx context.Context, msg openai.ChatCompletionMessage) ([]openai.ChatCompletionMessageParamUnion, error) {
	texts, err := t.callAll(ctx, len(msg.ToolCalls), func(i int) call {
		tc := msg.ToolCalls[i]
		if tc.Type == "custom" { // free-form input, which no tool of ours takes
			return call{id: tc.ID, name: tc.Custom.Name, args: tc.Custom.Input}
		}
		return call{id: tc.ID, name: tc.Function.Name, args: tc.Function.Arguments}
	})
	if err != nil {
		return nil, err
	}
	out := make([]openai.ChatCompletionMessageParamUnion, len(texts))
	for i, text := range texts {
		out[i] = openai.ToolMessage(text, msg.ToolCalls[i].ID)
	}
	return out, nil
}

// CallResponses runs the function calls among output, the output items of
// a Responses answer, and returns one function_call_output item per call
// (its call_id set), in the order of the calls; none if there are no
// function calls. Send output's items (or previous_response_id) and them
// in the next request. Other items are left alone. Every call gets an
// answer, tool errors included; the error is an infrastructure failure or
// the end of ctx, with no items.
func (t *Toolkit) CallResponses(ctx context.Context, output []responses.ResponseOutputItemUnion) ([]responses.ResponseInputItemUnionParam, error) {
	var fcs []responses.ResponseFunctionToolCall
	for _, item := range output {
		if item.Type == "function_call" {
			fcs = append(fcs, item.AsFunctionCall())
		}
	}
	texts, err := t.callAll(ctx, len(fcs), func(i int) call {
		return call{id: fcs[i].CallID, name: fcs[i].Name, args: fcs[i].Arguments}
	})
	if err != nil {
		return nil, err
	}
	out := make([]responses.ResponseInputItemUnionParam, len(texts))
	for i, text := range texts {
		out[i] = responses.ResponseInputItemParamOfFunctionCallOutput(text)
		out[i].OfFunctionCallOutput.CallID = openai.String(fcs[i].CallID)
	}
	return out, nil
}

// call is one tool call of a model.
type call struct{ id, name, args string }

// callAll runs n calls at once (the i-th given by get) and returns their
// texts in order, or the first failure in order once all have ended.
func (t *Toolkit) callAll(ctx context.Context, n int, get func(i int) call) ([]string, error) {
	if !t.ready() {
		return nil, errNoToolkit
	}
	texts := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		c := get(i)
		wg.Go(func() { texts[i], errs[i] = t.call(ctx, c) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return texts, nil
}

// call runs one call and returns the text for the model, or an
// infrastructure failure or the end of ctx.
func (t *Toolkit) call(ctx context.Context, c call) (string, error) {
	if t.progress != nil {
		outer := tools.ProgressFrom(ctx)
		ctx = tools.WithProgress(ctx, func(p tools.Progress) {
			if outer != nil {
				outer(p)
			}
			t.progress(c.id, p)
		})
	}
	res, err := t.kit.Call(ctx, c.name, json.RawMessage(c.args))
	if err != nil {
		return "", fmt.Errorf("openaitools: call %s: %w", c.id, err)
	}
	if res.Err != nil {
		return "", fmt.Errorf("openaitools: call %s (%s): %w", c.id, c.name, res.Err)
	}
	return res.Text, nil
}
