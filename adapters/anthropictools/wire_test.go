package anthropictools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/agentworkspace/daytona/adapters/anthropictools"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// hostile are the tool_use blocks the scripted model sends in one
// message: good ones and the mistakes models make. wants are what each
// result holds.
var hostile = []struct {
	name, input string
	isError     bool
	wants       []string
}{
	{"execute_command", `{"command":"echo hello"}`, false, []string{"hello\nExit code: 0"}},
	{"execute_command", `{"command":["ls"]}`, true, []string{`invalid input for execute_command: field "command" must be a string, not array`}},
	{"execute_command", `{}`, true, []string{`field "command" is required`}},
	{"execute_command", `"ls"`, true, []string{"the input must be a JSON object, not string"}},
	{"execute_command", `{"command":"ls","flags":"-l"}`, true, []string{`unknown field "flags"`}},
	{"launch_rockets", `{}`, true, []string{`unknown tool "launch_rockets"; the tools are execute_command, get_process_output`}},
	{"execute_command", `{"command":"echo forbidden"}`, true, []string{"execute_command was refused: this command is forbidden here"}},
	{"execute_command", `{"command":"echo \"$T\"; exit 3","env":{"T":"` + secret + `"}}`, false, []string{tools.Redacted + "\nExit code: 3"}},
	{"execute_command", `{"command":"sleep 5","timeout":0.2}`, true, []string{"The command timed out after"}},
	{"execute_command", `{"command":"seq 1 300000"}`, false, []string{"1\n2\n", "[… 299800 lines omitted …]\n", "300000\nExit code: 0"}},
	{"read_file", `{"path":"missing.txt"}`, true, []string{"read_file: open missing.txt: file does not exist"}},
}

// TestMessages drives the Anthropic client against a local server
// speaking the Messages API: the model sends the hostile tool_use blocks,
// the adapter runs them, and the second request carries one tool_result
// per block (is_error for tool errors), checked on the wire, with the
// tool definitions in the first.
func TestMessages(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := anthropictools.New(sb, &anthropictools.Options{Tools: toolOptions()})
	if err != nil {
		t.Fatal(err)
	}
	blocks := []string{`{"type":"text","text":"Let me look."}`}
	for i, c := range hostile {
		blocks = append(blocks, fmt.Sprintf(`{"type":"tool_use","id":"toolu_%d","name":%q,"input":%s}`, i, c.name, c.input))
	}
	srv := newModelServer(t, "/v1/messages",
		`{"id":"msg_1","type":"message","role":"assistant","model":"m","stop_reason":"tool_use","stop_sequence":null,
		  "usage":{"input_tokens":1,"output_tokens":1},"content":[`+strings.Join(blocks, ",")+`]}`,
		`{"id":"msg_2","type":"message","role":"assistant","model":"m","stop_reason":"end_turn","stop_sequence":null,
		  "usage":{"input_tokens":1,"output_tokens":1},"content":[{"type":"text","text":"All done."}]}`)
	client := anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test-key"), option.WithMaxRetries(0))

	params := anthropic.MessageNewParams{
		Model:     "m",
		MaxTokens: 1024,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Work in the sandbox."))},
		Tools:     kit.Tools(),
	}
	msg, err := client.Messages.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	results, err := kit.Call(t.Context(), msg.Content)
	if err != nil {
		t.Fatal(err)
	}
	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
	final, err := client.Messages.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Content) != 1 || final.Content[0].Text != "All done." {
		t.Errorf("final answer %+v", final.Content)
	}

	defs, _ := srv.request(t, 0)["tools"].([]any)
	want := kit.Toolkit().Tools()
	if len(defs) != len(want) {
		t.Fatalf("%d tools sent; want %d", len(defs), len(want))
	}
	for i, d := range defs {
		def, _ := d.(map[string]any)
		if def["name"] != want[i].Name || def["description"] != want[i].Description || !sameJSON(t, def["input_schema"], want[i].InputSchema) {
			t.Errorf("tool %d sent as %v; want %s with %s", i, def, want[i].Name, want[i].InputSchema)
		}
	}
	msgs, _ := srv.request(t, 1)["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("%d messages in the second request; want 3", len(msgs))
	}
	user, _ := msgs[2].(map[string]any)
	content, _ := user["content"].([]any)
	if user["role"] != "user" || len(content) != len(hostile) {
		t.Fatalf("last message: role %v, %d blocks; want %d", user["role"], len(content), len(hostile))
	}
	for i, b := range content {
		checkResult(t, i, b)
	}
	if strings.Contains(encode(t, content), secret) {
		t.Error("the secret went to the model")
	}
}

// checkResult checks the tool_result block sent back for the i-th
// hostile block.
func checkResult(t *testing.T, i int, b any) {
	t.Helper()
	block, _ := b.(map[string]any)
	parts, _ := block["content"].([]any)
	if block["type"] != "tool_result" || block["tool_use_id"] != fmt.Sprintf("toolu_%d", i) || block["is_error"] != hostile[i].isError || len(parts) != 1 {
		t.Errorf("block %d: %v", i, block)
		return
	}
	part, _ := parts[0].(map[string]any)
	text, _ := part["text"].(string)
	for _, w := range hostile[i].wants {
		if part["type"] != "text" || !strings.Contains(text, w) {
			t.Errorf("block %d (%s %s): %.300q lacks %q", i, hostile[i].name, hostile[i].input, text, w)
		}
	}
	if len(text) > tools.DefaultMaxBytes+200 {
		t.Errorf("block %d: %d bytes sent back", i, len(text))
	}
}
