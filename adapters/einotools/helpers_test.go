package einotools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"
	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/einotools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secret is redacted by every toolkit of these tests.
const secret = "sk-test-0123456789"

// newSandbox returns a started daytona.Sandbox on its own daytonatest
// server, destroyed at cleanup, and the server.
func newSandbox(t *testing.T) (*daytona.Sandbox, *daytonatest.Server) {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = sb.Destroy(ctx) // some tests destroy it themselves
	})
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sb, srv
}

// options are the toolkit options of these tests: a deny-list and a
// secret to redact.
func options() *tools.Options {
	return &tools.Options{
		Redact: []string{secret},
		Policy: func(_ context.Context, req tools.Request) error {
			if strings.Contains(string(req.Input), "forbidden") {
				return errors.New("this command is forbidden here")
			}
			return nil
		},
	}
}

// newNode returns a ToolsNode with the tools of sb (einotools.New).
func newNode(t *testing.T, sb workspace.Sandbox, opts *tools.Options) *compose.ToolsNode {
	t.Helper()
	cfg, err := einotools.New(sb, opts)
	if err != nil {
		t.Fatal(err)
	}
	node, err := compose.NewToolNode(t.Context(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// call is one tool call of an assistant message.
type call struct{ name, args string }

// assistant returns an assistant message with the calls, their ids
// "call-0", "call-1", ...
func assistant(calls ...call) *schema.Message {
	tcs := make([]schema.ToolCall, len(calls))
	for i, c := range calls {
		tcs[i] = schema.ToolCall{ID: fmt.Sprintf("call-%d", i), Type: "function",
			Function: schema.FunctionCall{Name: c.name, Arguments: c.args}}
	}
	return schema.AssistantMessage("", tcs)
}

// contents returns the contents of the tool messages, checking that they
// answer the calls in order.
func contents(t *testing.T, msgs []*schema.Message) []string {
	t.Helper()
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if m.Role != schema.Tool || m.ToolCallID != fmt.Sprintf("call-%d", i) {
			t.Errorf("message %d: role %s, tool call id %q", i, m.Role, m.ToolCallID)
		}
		out[i] = m.Content
	}
	return out
}

// streamed runs the node in streaming mode and returns the chunks of each
// tool message, in order of arrival.
func streamed(t *testing.T, ctx context.Context, node *compose.ToolsNode, in *schema.Message) ([][]string, error) {
	t.Helper()
	sr, err := node.Stream(ctx, in)
	if err != nil {
		return nil, err
	}
	defer sr.Close()
	chunks := make([][]string, len(in.ToolCalls))
	for {
		msgs, err := sr.Recv()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return chunks, err
		}
		for i, m := range msgs {
			if m != nil {
				chunks[i] = append(chunks[i], m.Content)
			}
		}
	}
}

// argsJSON encodes execute_command's arguments for command.
func argsJSON(command string) string {
	b, _ := json.Marshal(map[string]string{"command": command})
	return string(b)
}
