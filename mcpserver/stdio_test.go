package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/mcpserver"
)

// syncBuffer is a bytes.Buffer safe for the server's writes and the
// test's reads at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Close() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// answers decodes the server's output into responses by id.
func answers(t *testing.T, out string) map[string]json.RawMessage {
	t.Helper()
	got := map[string]json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		if msg.ID == nil {
			continue // a notification
		}
		if msg.Result != nil {
			got[string(msg.ID)] = msg.Result
		} else {
			got[string(msg.ID)] = msg.Error
		}
	}
	return got
}

// runPiped serves input (then its end) and returns what was written,
// after Run returned.
func runPiped(t *testing.T, input string) string {
	t.Helper()
	server := newServer(t, newSandbox(t), true)
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := server.Run(ctx, mcpserver.NewIOTransport(io.NopCloser(strings.NewReader(input)), out)); err != nil && ctx.Err() != nil {
		t.Fatalf("Run: %v (the session did not end when its input did)", err)
	}
	return out.String()
}

// TestIOTransportAnswersEveryRequest is `printf ... | daytona-mcp`: every
// request read before the end of the input is answered, a slow command
// included, before Run returns.
func TestIOTransportAnswersEveryRequest(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		mcptest.InitializeLine, mcptest.InitializedLine,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"execute_command","arguments":{"command":"sleep 0.5; echo slow"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"write_file","arguments":{"path":"a.txt","content":"x"}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"no/such/method"}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"execute_command","arguments":{"command":"echo last"}}}`,
	}, "\n") // no newline after the last request
	got := answers(t, runPiped(t, input))
	for id, want := range map[string]string{`1`: `"serverInfo"`, `2`: `"execute_command"`, `"three"`: `slow\nExit code: 0`,
		`4`: `Wrote 1 bytes`, `5`: `not found`, `6`: `last\nExit code: 0`} {
		if !strings.Contains(string(got[id]), want) {
			t.Errorf("answer to %s = %s; want it to contain %q", id, got[id], want)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d answers; want 6: %v", len(got), got)
	}
}

// TestIOTransportCancelled: a request the client cancelled is not waited
// for (the SDK may answer it or not), and the session ends.
func TestIOTransportCancelled(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		mcptest.InitializeLine, mcptest.InitializedLine,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute_command","arguments":{"command":"sleep 30"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"changed my mind"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`,
	}, "\n") + "\n"
	start := time.Now()
	got := answers(t, runPiped(t, input))
	if got[`3`] == nil {
		t.Errorf("tools/list after a cancelled call was not answered: %v", got)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the session waited %v for a cancelled command", d)
	}
}

// failingWriter accepts the first write (the answer to initialize) and
// fails the others, as a closed stdout does.
type failingWriter struct {
	mu     sync.Mutex
	writes int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writes++; w.writes > 1 {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

func (w *failingWriter) Close() error { return nil }

// TestIOTransportOutputFails: when the answers cannot be written, the
// session ends instead of waiting for them forever.
func TestIOTransportOutputFails(t *testing.T) {
	t.Parallel()
	server := newServer(t, newSandbox(t), false)
	input := mcptest.InitializeLine + "\n" + mcptest.InitializedLine + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute_command","arguments":{"command":"echo hi"}}}` + "\n" +
		`{"jsonrpc":"2.0","id":3,"method":"tools/list"}` + "\n"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	server.Run(ctx, mcpserver.NewIOTransport(io.NopCloser(strings.NewReader(input)), &failingWriter{}))
	if ctx.Err() != nil {
		t.Fatal("Run waited for answers it could not write")
	}
}

// TestIOTransportHostileInput: garbage, an oversized batch of ids, odd ids
// and a request split over reads are answered or skipped; nothing hangs.
func TestIOTransportHostileInput(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		mcptest.InitializeLine, mcptest.InitializedLine,
		`{"jsonrpc":"2.0","id":"2","method":"ping"}`, // string "2" and number 2 are two ids
		`{"jsonrpc":"2.0","id":2,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"execute_command","arguments":{"command":"printf '%s' '{[\"}\\\\'"}}}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`, // a notification in disguise: nothing to answer
		`{"jsonrpc":"2.0","id":8,"result":{}}`,        // a response to nothing
	}, "\n") + "\n"
	got := answers(t, runPiped(t, input))
	for _, id := range []string{`1`, `"2"`, `2`, `7`} {
		if got[id] == nil {
			t.Errorf("no answer to %s: %v", id, got)
		}
	}
	if !strings.Contains(string(got[`7`]), `{[\"}\\`) {
		t.Errorf("answer to 7: %s", got[`7`])
	}
}

// TestIOTransportNil: a nil reader or writer ends the session with an
// error that says so, instead of a panic.
func TestIOTransportNil(t *testing.T) {
	t.Parallel()
	server := newServer(t, newSandbox(t), false)
	err := server.Run(t.Context(), mcpserver.NewIOTransport(nil, &syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "mcpserver: NewIOTransport: nil reader") {
		t.Errorf("nil reader: Run = %v", err)
	}
	in := io.NopCloser(strings.NewReader(mcptest.InitializeLine + "\n"))
	if err := server.Run(t.Context(), mcpserver.NewIOTransport(in, nil)); err == nil || !strings.Contains(err.Error(), "nil writer") {
		t.Errorf("nil writer: Run = %v", err)
	}
}
