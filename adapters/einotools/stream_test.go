package einotools_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/schema"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// TestStreamJoinsToInvoke runs commands through the node in both modes:
// the chunks of the stream join up to exactly the invoked text, whatever
// the output (trimmed or not, long lines, no final newline, stderr only,
// escape sequences, a secret split across lines), and output that fits the
// head of the budget comes in more than one chunk.
func TestStreamJoinsToInvoke(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, &tools.Options{Redact: []string{secret}, Budget: tools.Budget{MaxLines: 40, MaxBytes: 2048}})
	for _, tc := range []struct {
		name, command string
		early         bool // some output comes before the end
	}{
		{"short", `echo one; echo two`, true},
		{"lines trimmed", `seq 1 100000`, true},
		{"bytes trimmed", `for i in $(seq 30); do printf '%0100d\n' $i; done`, true},
		{"no final newline", `printf 'a\nb'`, true},
		{"one long line", `head -c 100000 /dev/zero | tr '\0' x`, false},
		{"long line after short ones", `echo a; echo b; head -c 5000 /dev/zero | tr '\0' y; echo; echo c`, true},
		{"stderr only", `seq 1 50 >&2`, false},
		{"both", `echo out; echo err >&2; echo out2; exit 3`, true},
		{"escape sequences", `printf '\033[1mbold\033[0m\n\033[31mred\033[0m\n'`, true},
		{"secret", `echo "` + secret + `"; echo "` + secret[:5] + `"`, true},
		{"no output", `true`, false},
		{"multibyte", `for i in $(seq 100); do echo "héllo wörld ✓ $i"; done`, true},
		{"background", `sleep 0.1`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := argsJSON(tc.command)
			if tc.name == "background" {
				args = `{"command":"sleep 0.1","background":true}`
			}
			in := assistant(call{"execute_command", args})
			msgs, err := node.Invoke(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := contents(t, msgs)[0]
			chunks, err := streamed(t, t.Context(), node, in)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(chunks[0], "")
			if tc.name == "background" { // two runs, two pids
				got, want = strings.Split(got, "pid")[0], strings.Split(want, "pid")[0]
			}
			if got != want {
				t.Errorf("the stream joins up to\n%.500q\nwant\n%.500q", got, want)
			}
			if early := len(chunks[0]) > 1; early != tc.early {
				t.Errorf("%d chunks %.200q; want early output %v", len(chunks[0]), chunks[0], tc.early)
			}
			if strings.Contains(got, secret) {
				t.Errorf("the secret is in the stream")
			}
		})
	}
}

// TestStreamIsLive checks that the first lines reach the stream while the
// command runs: the command waits for a file that the test creates only
// after the first chunk arrived.
func TestStreamIsLive(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, nil)
	dir := t.TempDir()
	sr, err := node.Stream(t.Context(), assistant(call{"execute_command",
		argsJSON(`echo waiting; while [ ! -e ` + dir + `/go ]; do sleep 0.05; done; echo done`)}))
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	first, err := sr.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Content != "waiting\n" {
		t.Fatalf("first chunk %q", first[0].Content)
	}
	if _, err := sb.ExecuteCommand(t.Context(), "touch "+dir+"/go", nil, nil); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for {
		msgs, err := sr.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rest.WriteString(msgs[0].Content)
	}
	if rest.String() != "done\nExit code: 0" {
		t.Errorf("rest %q", rest.String())
	}
}

// TestStreamClosedEarly closes the node's stream after the first chunk:
// the command runs to its end, and the rest of its result still reaches
// Eino's callbacks, which read their own copy of the stream.
func TestStreamClosedEarly(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, nil)
	dir := t.TempDir()
	var rest strings.Builder
	ended := make(chan error, 1)
	handler := callbacks.NewHandlerBuilder().OnEndWithStreamOutputFn(
		func(ctx context.Context, _ *callbacks.RunInfo, out *schema.StreamReader[callbacks.CallbackOutput]) context.Context {
			go func() {
				defer out.Close()
				for {
					chunk, err := out.Recv()
					if err != nil {
						ended <- err
						return
					}
					rest.WriteString(tool.ConvCallbackOutput(chunk).Response)
				}
			}()
			return ctx
		}).Build()
	ctx := callbacks.InitCallbacks(t.Context(), &callbacks.RunInfo{}, handler)
	sr, err := node.Stream(ctx, assistant(call{"execute_command",
		argsJSON(`echo waiting; while [ ! -e ` + dir + `/go ]; do sleep 0.05; done; seq 3`)}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sr.Recv(); err != nil {
		t.Fatal(err)
	}
	sr.Close()
	if err := os.WriteFile(dir+"/go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err != io.EOF {
		t.Fatalf("the callbacks' stream ended with %v", err)
	}
	if got := rest.String(); got != "waiting\n1\n2\n3\nExit code: 0" {
		t.Errorf("the callbacks read %q", got)
	}
}
