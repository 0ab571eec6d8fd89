//go:build unix

package daytonatest

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Request is one entry of the request log: a request to the control plane
// ({URL}/api) or the toolbox ({URL}/toolbox/), matched to a route or not.
// Requests to the test controls, and to paths outside those two, are not
// logged.
type Request struct {
	Time   time.Time `json:"time"`   // when the request arrived
	Method string    `json:"method"` // HTTP method
	Path   string    `json:"path"`   // URL path, such as /toolbox/{id}/process/session
	Query  string    `json:"query,omitempty"`
	Op     Op        `json:"op"`
	// Status is the response status: 101 for an accepted WebSocket upgrade,
	// 0 while the request is still being served or when its connection was
	// dropped with no response (its sandbox stopped under it).
	Status int `json:"status"`
	// Duration is how long the request took to serve; for a follow stream,
	// how long the stream stayed open. 0 while in flight.
	Duration time.Duration `json:"-"`
	// Body is the request body when it is JSON, else nil.
	Body json.RawMessage `json:"body,omitempty"`
}

// MarshalJSON adds the duration in milliseconds, for clients in other
// languages.
func (r Request) MarshalJSON() ([]byte, error) {
	type plain Request
	return json.Marshal(struct {
		plain
		DurationMs float64 `json:"durationMs"`
	}{plain(r), float64(r.Duration) / float64(time.Millisecond)})
}

type requestLog struct {
	mu      sync.Mutex // guards the fields below
	entries []*Request
	counts  map[Op]int
	max     int
}

func (l *requestLog) begin(t time.Time, r *http.Request, op Op, body []byte) *Request {
	e := &Request{Time: t, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Op: op}
	if len(body) > 0 && json.Valid(body) {
		e.Body = append(json.RawMessage(nil), body...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = make(map[Op]int)
	}
	l.counts[op]++
	l.entries = append(l.entries, e)
	if l.max > 0 && len(l.entries) > l.max {
		drop := len(l.entries) - l.max
		copy(l.entries, l.entries[drop:])
		clear(l.entries[len(l.entries)-drop:])
		l.entries = l.entries[:len(l.entries)-drop]
	}
	return e
}

func (l *requestLog) finish(e *Request, status int, d time.Duration) {
	l.mu.Lock()
	e.Status = status
	e.Duration = d
	l.mu.Unlock()
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Request, len(l.entries))
	for i, e := range l.entries {
		out[i] = *e
	}
	return out
}

func (l *requestLog) countsCopy() map[Op]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[Op]int, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

func (l *requestLog) count(op Op) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[op]
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.counts = nil
	l.mu.Unlock()
}

// compile-time check that the log entries encode.
var _ json.Marshaler = Request{}
