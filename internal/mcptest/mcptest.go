// Package mcptest drives an MCP server of the toolkit with the MCP SDK's
// own client, the same way over every transport: the tests of mcpserver
// (in memory) and of cmd/daytona-mcp (over stdio of the built command)
// share it.
package mcptest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Recorder keeps the progress notifications a client receives, by token.
type Recorder struct {
	mu     sync.Mutex // guards the fields below
	byTok  map[string][]*mcp.ProgressNotificationParams
	first  map[string]chan struct{} // closed at a token's first notification
	logged []string                 // log messages received
}

// NewClient returns an MCP client that records progress notifications and
// log messages in the returned Recorder.
func NewClient() (*mcp.Client, *Recorder) {
	rec := &Recorder{byTok: map[string][]*mcp.ProgressNotificationParams{}, first: map[string]chan struct{}{}}
	c := mcp.NewClient(&mcp.Implementation{Name: "mcptest", Version: "v0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			tok, _ := req.Params.ProgressToken.(string)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.byTok[tok] = append(rec.byTok[tok], req.Params)
			ch := rec.firstLocked(tok)
			select {
			case <-ch:
			default:
				close(ch)
			}
		},
		//lint:ignore SA1019 deprecated in the protocol, still served; the test checks that no log message arrives
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			b, _ := json.Marshal(req.Params)
			rec.mu.Lock()
			rec.logged = append(rec.logged, string(b))
			rec.mu.Unlock()
		},
	})
	return c, rec
}

func (r *Recorder) firstLocked(tok string) chan struct{} {
	ch, ok := r.first[tok]
	if !ok {
		ch = make(chan struct{})
		r.first[tok] = ch
	}
	return ch
}

// First returns a channel closed when the first notification for tok
// arrives.
func (r *Recorder) First(tok string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstLocked(tok)
}

// Progress returns the notifications for tok so far.
func (r *Recorder) Progress(tok string) []*mcp.ProgressNotificationParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byTok[tok])
}

// Logged returns the log messages received, as JSON.
func (r *Recorder) Logged() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logged)
}

// Want describes the server under test.
type Want struct {
	// Files: the server offers the file tools.
	Files bool
	// Refused is a command the server's policy refuses, and RefusedText
	// part of the refusal's message.
	Refused, RefusedText string
}

// resolve compiles a schema as a client received it.
func resolve(t *testing.T, what string, schema any) *jsonschema.Resolved {
	t.Helper()
	b, err := json.Marshal(schema)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %s: %v", what, b, err)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("%s does not resolve: %v\n%s", what, err, b)
	}
	return r
}

// Validate checks v (any value that encodes to JSON) against a resolved
// schema.
func Validate(t *testing.T, what string, r *jsonschema.Resolved, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := r.Validate(&x); err != nil {
		t.Errorf("%s does not match its schema: %v\n%s", what, err, b)
	}
}

// deadline bounds each wait of the exercise; it is a guard against hangs,
// not a synchronization.
const deadline = 2 * time.Minute

// text returns a result's text content.
func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
