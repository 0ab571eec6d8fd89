package openaitools_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
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

// toolOptions are the toolkit options of these tests: a deny-list and a
// secret to redact.
func toolOptions() tools.Options {
	return tools.Options{
		Redact: []string{secret},
		Policy: func(_ context.Context, req tools.Request) error {
			if strings.Contains(string(req.Input), "forbidden") {
				return errors.New("this command is forbidden here")
			}
			return nil
		},
	}
}

// modelServer is a local HTTP server that speaks an LLM API: it records
// each request's body and answers with the next of its scripted answers.
type modelServer struct {
	*httptest.Server
	path string

	mu       sync.Mutex
	answers  []string
	requests []map[string]any
}

func newModelServer(t *testing.T, path string, answers ...string) *modelServer {
	t.Helper()
	m := &modelServer{path: path, answers: answers}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *modelServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req map[string]any
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || r.Method != http.MethodPost || r.URL.Path != m.path || len(m.answers) == 0 {
		http.Error(w, `{"error":{"message":"unexpected request `+r.Method+" "+r.URL.Path+`"}}`, http.StatusBadRequest)
		return
	}
	m.requests = append(m.requests, req)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, m.answers[0])
	m.answers = m.answers[1:]
}

// request returns the body of the i-th request, failing the test if there
// was none.
func (m *modelServer) request(t *testing.T, i int) map[string]any {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if i >= len(m.requests) {
		t.Fatalf("%d requests; want request %d", len(m.requests), i)
	}
	return m.requests[i]
}

// encode returns v as a JSON string literal's contents.
func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether a and b (decoded values or encoded JSON) are
// the same JSON value.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) any {
		raw, ok := v.(json.RawMessage)
		if !ok {
			raw = json.RawMessage(encode(t, v))
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return encode(t, norm(a)) == encode(t, norm(b))
}

// waitGone waits until process pid (run by daytonatest on this machine)
// has ended, failing the test after 20 seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or a zombie
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising
	}
}
