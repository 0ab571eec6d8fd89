package einotools_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/flow/agent/react"
	"github.com/cloudwego/eino/schema"

	"github.com/agentworkspace/daytona/adapters/einotools"
)

// scriptedModel is a chat model that asks for tool calls after the
// user's message and then answers with what the tools returned, as a
// model would.
type scriptedModel struct {
	calls []call

	mu    *sync.Mutex
	tools *[]string // names of the tools the agent bound
}

func (m *scriptedModel) Generate(_ context.Context, input []*schema.Message, _ ...model.Option) (*schema.Message, error) {
	last := input[len(input)-1]
	if last.Role == schema.User {
		return assistant(m.calls...), nil
	}
	var results []string
	for _, msg := range input {
		if msg.Role == schema.Tool {
			results = append(results, msg.ToolCallID+": "+msg.Content)
		}
	}
	return schema.AssistantMessage("The tools said:\n"+strings.Join(results, "\n"), nil), nil
}

func (m *scriptedModel) Stream(ctx context.Context, input []*schema.Message, opts ...model.Option) (*schema.StreamReader[*schema.Message], error) {
	msg, err := m.Generate(ctx, input, opts...)
	if err != nil {
		return nil, err
	}
	return schema.StreamReaderFromArray([]*schema.Message{msg}), nil
}

func (m *scriptedModel) WithTools(infos []*schema.ToolInfo) (model.ToolCallingChatModel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.tools = nil
	for _, info := range infos {
		*m.tools = append(*m.tools, info.Name)
	}
	return m, nil
}

// TestReactAgent runs Eino's ReAct agent with the sandbox's tools and a
// scripted model, in both modes: the model's tool calls run in the
// sandbox and their results come back to it.
func TestReactAgent(t *testing.T) {
	sb, _ := newSandbox(t)
	cfg, err := einotools.New(sb, options())
	if err != nil {
		t.Fatal(err)
	}
	var bound []string
	m := &scriptedModel{mu: &sync.Mutex{}, tools: &bound, calls: []call{
		{"execute_command", `{"command":"echo hello from eino; echo ` + secret + `"}`},
		{"list_files", `{"path":`},
		{"launch_rockets", `{}`},
	}}
	agent, err := react.NewAgent(t.Context(), &react.AgentConfig{ToolCallingModel: m, ToolsConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	wants := []string{
		"call-0: hello from eino\n" + "[REDACTED]\nExit code: 0\n",
		"call-1: invalid input for list_files: the input is not valid JSON",
		`call-2: unknown tool "launch_rockets"; the tools are execute_command, `,
	}
	check := func(answer string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(answer, w) {
				t.Errorf("answer %q lacks %q", answer, w)
			}
		}
		if strings.Contains(answer, secret) {
			t.Errorf("the secret reached the model")
		}
	}
	msg, err := agent.Generate(t.Context(), []*schema.Message{schema.UserMessage("say hello")})
	if err != nil {
		t.Fatal(err)
	}
	check(msg.Content)
	m.mu.Lock()
	if strings.Join(bound, ",") != "execute_command,get_process_output,kill_process,read_file,write_file,edit_file,list_files" {
		t.Errorf("the model was given the tools %q", bound)
	}
	m.mu.Unlock()

	sr, err := agent.Stream(t.Context(), []*schema.Message{schema.UserMessage("say hello")})
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	var answer strings.Builder
	for {
		chunk, err := sr.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		answer.WriteString(chunk.Content)
	}
	check(answer.String())
}
