package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		`"name": "execute_command"`,
		`"description": "Cloud sandbox with isolated execution (typescript runtime).`,
		`"required": [`,
		`"stdout": "Hello from the agent\n"`,
		`"exitCode": 1`,
		`"error": "invalid arguments: \"command\" is required"`,
	)
}

func TestHandler(t *testing.T) {
	examplesupport.UseEmbedded(t)
	var notice bytes.Buffer
	sb, cleanup, err := examplesupport.Connect(t.Context(), &notice)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	tool, handle := ExecuteCommandTool(sb)
	if !json.Valid(tool.Parameters) {
		t.Fatalf("the tool's parameters are not JSON: %s", tool.Parameters)
	}

	for _, tc := range []struct {
		name, input string
		want        []string // substrings of the JSON result
	}{
		{"unknown field", `{"command":"ls","flags":"-l"}`, []string{`"success":false`, `unknown field \"flags\"`}},
		{"not an object", `"ls"`, []string{`"success":false`, `"error":"invalid arguments:`}},
		{"wrong type", `{"command":["ls"]}`, []string{`"error":"invalid arguments:`}},
		{"negative timeout", `{"command":"ls","timeout_seconds":-1}`, []string{`"timeout_seconds\" must be a positive number`}},
		{"bad env name", `{"command":"env","env":{"NOT-A-NAME":"x"}}`, []string{`"success":false`, `invalid input`}},
		{"cwd and env", `{"command":"pwd && echo \"$X\"","cwd":"/","env":{"X":"y"}}`, []string{`"success":true`, `"stdout":"/\ny\n"`}},
		{"timeout", `{"command":"sleep","args":["30"],"timeout_seconds":0.2}`, []string{`"exitCode":124`, `"timedOut":true`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := handle(t.Context(), json.RawMessage(tc.input))
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("result %s lacks %s", out, w)
				}
			}
		})
	}
}
