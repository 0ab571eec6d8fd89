package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/internal/mcptest"
)

// asMain is the environment variable that makes the test binary run as
// the command: the tests that run daytona-mcp start it so, instead of
// building the command (which costs a link, seconds on a loaded machine).
const asMain = "DAYTONA_MCP_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// command returns the command daytona-mcp with args: this test binary,
// which then runs main (built with -race when the tests are).
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	return cmd
}

// TestStdioLocal drives the command with -local over stdio with the
// SDK's client: every tool (the file tools too: daytona.Sandbox has a
// Filesystem), schemas, progress, a policy refusal; and an API
// key in its environment never reaches tool output or stderr.
func TestStdioLocal(t *testing.T) {
	t.Parallel()
	const key = "dtn_test_api_key_0123456789"
	cmd := command(t, "-local", "-deny", "forbidden|shutdown")
	cmd.Env = append(cmd.Env, "DAYTONA_API_KEY="+key)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client, rec := mcptest.NewClient()
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mcptest.Exercise(t, cs, rec, mcptest.Want{Files: true, Refused: "echo forbidden", RefusedText: "execute_command was refused: the command matches this server's deny pattern"})

	// The server's own environment holds the key; a command reads it.
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "execute_command", Arguments: map[string]any{
		"command": "tr '\\0' '\\n' < /proc/" + itoa(cmd.Process.Pid) + "/environ | grep DAYTONA_API_KEY; echo " + key}})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Content[0].(*mcp.TextContent).Text
	if strings.Contains(out, key) || !strings.Contains(out, "DAYTONA_API_KEY=[REDACTED]\n[REDACTED]\n") {
		t.Errorf("the key is not redacted:\n%s", out)
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	for _, want := range []string{"commands run on this machine, as the current user", "serving MCP on stdin and stdout"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), key) {
		t.Errorf("stderr shows the key:\n%s", stderr.String())
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestNoCredentials(t *testing.T) {
	t.Setenv("DAYTONA_API_KEY", "")
	t.Setenv("DAYTONA_JWT_TOKEN", "")
	t.Chdir(t.TempDir()) // no .env
	err := run(t.Context(), nil, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "no Daytona credentials") || !strings.Contains(err.Error(), "-local") {
		t.Errorf("run without credentials: %v", err)
	}
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-http", "0.0.0.0:8080"}, "not a loopback address: set DAYTONA_MCP_TOKEN"},
		{[]string{"-http", ":8080"}, "not a loopback address"},
		{[]string{"-http", "nonsense"}, "-http nonsense"},
		{[]string{"-deny", "("}, "-deny"},
		{[]string{"-local", "-id", "x"}, "exclude each other"},
		{[]string{"-timeout", "-1s"}, "WithTimeout"},
		{[]string{"-language", "cobol"}, "cobol"},
		{[]string{"-local", "-tools", "read_file,rm_rf"}, `Options.Tools names "rm_rf"`},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		err := run(t.Context(), tc.args, strings.NewReader(""), io.Discard, io.Discard, noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v; want an error with %q", tc.args, err, tc.want)
		}
	}
	if err := (&config{http: "10.1.2.3:80"}).checkHTTP(func(string) string { return "tok" }); err != nil {
		t.Errorf("non-loopback with a token: %v", err)
	}
}

// TestHTTPLocal runs the server over HTTP in-process with a generated
// token, printed once on stderr.
func TestHTTPLocal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-local", "-http", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, pw, func(string) string { return "" })
		pw.Close()
	}()
	var token, url string
	sc := bufio.NewScanner(pr)
	for (token == "" || url == "") && sc.Scan() {
		line := sc.Text()
		if _, t, ok := strings.Cut(line, "(shown once): "); ok {
			token = t
		}
		if _, rest, ok := strings.Cut(line, "streamable HTTP at "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	hc := &http.Client{Transport: authorized{token}}
	client, _ := mcptest.NewClient()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_command", Arguments: map[string]any{"command": "echo " + token}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "[REDACTED]\nExit code: 0" {
		t.Errorf("call: %v %+v", err, res)
	}
	cs.Close()
	hc.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

type authorized struct{ token string }

func (a authorized) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	return http.DefaultTransport.RoundTrip(r)
}

func (a authorized) CloseIdleConnections() {
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
