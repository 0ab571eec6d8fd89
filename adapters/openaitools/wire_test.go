package openaitools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/agentworkspace/daytona/adapters/openaitools"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// hostile are the tool calls the scripted model makes in one turn: good
// ones and the mistakes models make. wants are what each result holds.
var hostile = []struct {
	name, args string
	wants      []string
}{
	{"execute_command", `{"command":"echo hello"}`, []string{"hello\nExit code: 0"}},
	{"execute_command", `{"command":`, []string{"invalid input for execute_command: the input is not valid JSON"}},
	{"execute_command", `{"command":"ls","flags":"-l"}`, []string{`unknown field "flags"`}},
	{"launch_rockets", `{}`, []string{`unknown tool "launch_rockets"; the tools are execute_command, get_process_output`}},
	{"execute_command", `{"command":"echo forbidden"}`, []string{"execute_command was refused: this command is forbidden here"}},
	{"execute_command", `{"command":"echo \"$T\"","env":{"T":"` + secret + `"}}`, []string{tools.Redacted + "\nExit code: 0"}},
	{"execute_command", `{"command":"seq 1 300000"}`, []string{"1\n2\n", "[… 299800 lines omitted …]\n", "300000\nExit code: 0"}},
	{"read_file", `{"path":"missing.txt"}`, []string{"read_file: open missing.txt: file does not exist"}},
}

// checkResult checks the text sent back for the i-th hostile call.
func checkResult(t *testing.T, i int, text any) {
	t.Helper()
	s, ok := text.(string)
	if !ok {
		t.Errorf("call %d: result %v is no string", i, text)
		return
	}
	for _, w := range hostile[i].wants {
		if !strings.Contains(s, w) {
			t.Errorf("call %d (%s %s): %.300q lacks %q", i, hostile[i].name, hostile[i].args, s, w)
		}
	}
	if len(s) > tools.DefaultMaxBytes+200 {
		t.Errorf("call %d: %d bytes sent back", i, len(s))
	}
}

// TestChatCompletions drives the OpenAI client against a local server
// speaking Chat Completions: the model asks for the hostile calls, the
// adapter runs them, and the second request carries one tool message per
// call, checked on the wire, with the tool definitions in the first.
func TestChatCompletions(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := openaitools.New(sb, &openaitools.Options{Tools: toolOptions()})
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for i, c := range hostile {
		calls = append(calls, fmt.Sprintf(`{"id":"call_%d","type":"function","function":{"name":%q,"arguments":%s}}`, i, c.name, encode(t, c.args)))
	}
	srv := newModelServer(t, "/chat/completions",
		`{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls",
		  "message":{"role":"assistant","content":null,"tool_calls":[`+strings.Join(calls, ",")+`]}}]}`,
		`{"id":"c2","object":"chat.completion","created":2,"model":"m","choices":[{"index":0,"finish_reason":"stop",
		  "message":{"role":"assistant","content":"All done."}}]}`)
	client := openai.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test-key"), option.WithMaxRetries(0))

	params := openai.ChatCompletionNewParams{
		Model:    "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Work in the sandbox.")},
		Tools:    kit.ChatTools(),
	}
	completion, err := client.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	msg := completion.Choices[0].Message
	results, err := kit.CallChat(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	params.Messages = append(params.Messages, msg.ToParam())
	params.Messages = append(params.Messages, results...)
	final, err := client.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if final.Choices[0].Message.Content != "All done." {
		t.Errorf("final answer %q", final.Choices[0].Message.Content)
	}

	checkTools(t, kit, srv.request(t, 0)["tools"], func(def map[string]any) map[string]any {
		if def["type"] != "function" {
			t.Errorf("tool type %v", def["type"])
		}
		fn, _ := def["function"].(map[string]any)
		return fn
	})
	second := srv.request(t, 1)
	msgs, _ := second["messages"].([]any)
	if len(msgs) != 2+len(hostile) {
		t.Fatalf("%d messages in the second request; want %d", len(msgs), 2+len(hostile))
	}
	if asst, _ := msgs[1].(map[string]any); asst["role"] != "assistant" || len(asst["tool_calls"].([]any)) != len(hostile) {
		t.Errorf("message 1: %v", msgs[1])
	}
	for i, m := range msgs[2:] {
		tm, _ := m.(map[string]any)
		if tm["role"] != "tool" || tm["tool_call_id"] != fmt.Sprintf("call_%d", i) {
			t.Errorf("tool message %d: role %v, tool_call_id %v", i, tm["role"], tm["tool_call_id"])
		}
		checkResult(t, i, tm["content"])
	}
	if strings.Contains(encode(t, msgs[2:]), secret) { // the model's own call holds it
		t.Error("the secret went to the model")
	}
}

// TestResponses does the same with the Responses API: function_call
// items in, function_call_output items (with call_id) out, sent with
// previous_response_id.
func TestResponses(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := openaitools.New(sb, &openaitools.Options{Tools: toolOptions()})
	if err != nil {
		t.Fatal(err)
	}
	items := []string{`{"type":"reasoning","id":"rs_1","summary":[]}`}
	for i, c := range hostile {
		items = append(items, fmt.Sprintf(`{"type":"function_call","id":"fc_%d","call_id":"call_%d","name":%q,"arguments":%s,"status":"completed"}`,
			i, i, c.name, encode(t, c.args)))
	}
	srv := newModelServer(t, "/responses",
		`{"id":"resp_1","object":"response","created_at":1,"model":"m","status":"completed","output":[`+strings.Join(items, ",")+`]}`,
		`{"id":"resp_2","object":"response","created_at":2,"model":"m","status":"completed","output":[
		  {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"All done.","annotations":[]}]}]}`)
	client := openai.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test-key"), option.WithMaxRetries(0))

	resp, err := client.Responses.New(t.Context(), responses.ResponseNewParams{
		Model: "m",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Work in the sandbox.")},
		Tools: kit.ResponseTools(),
	})
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := kit.CallResponses(t.Context(), resp.Output)
	if err != nil {
		t.Fatal(err)
	}
	final, err := client.Responses.New(t.Context(), responses.ResponseNewParams{
		Model:              "m",
		PreviousResponseID: openai.String(resp.ID),
		Input:              responses.ResponseNewParamsInputUnion{OfInputItemList: outputs},
		Tools:              kit.ResponseTools(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if final.OutputText() != "All done." {
		t.Errorf("final answer %q", final.OutputText())
	}

	checkTools(t, kit, srv.request(t, 0)["tools"], func(def map[string]any) map[string]any {
		if def["type"] != "function" || def["strict"] != false {
			t.Errorf("tool type %v, strict %v", def["type"], def["strict"])
		}
		return def
	})
	second := srv.request(t, 1)
	input, _ := second["input"].([]any)
	if second["previous_response_id"] != "resp_1" || len(input) != len(hostile) {
		t.Fatalf("second request: previous_response_id %v, %d input items; want %d", second["previous_response_id"], len(input), len(hostile))
	}
	for i, it := range input {
		item, _ := it.(map[string]any)
		if item["type"] != "function_call_output" || item["call_id"] != fmt.Sprintf("call_%d", i) {
			t.Errorf("item %d: type %v, call_id %v", i, item["type"], item["call_id"])
		}
		checkResult(t, i, item["output"])
	}
	if strings.Contains(encode(t, second), secret) {
		t.Error("the secret went to the model")
	}
}

// checkTools checks the tool definitions of a request against the
// toolkit's: fn returns a definition's name, description and parameters.
func checkTools(t *testing.T, kit *openaitools.Toolkit, sent any, fn func(map[string]any) map[string]any) {
	t.Helper()
	defs, _ := sent.([]any)
	want := kit.Toolkit().Tools()
	if len(defs) != len(want) {
		t.Fatalf("%d tools sent; want %d", len(defs), len(want))
	}
	for i, d := range defs {
		def, _ := d.(map[string]any)
		f := fn(def)
		if f["name"] != want[i].Name || f["description"] != want[i].Description || !sameJSON(t, f["parameters"], want[i].InputSchema) {
			t.Errorf("tool %d sent as %v; want %s with %s", i, def, want[i].Name, want[i].InputSchema)
		}
	}
}
