package mcpserver

import (
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// NewIOTransport returns an mcp.IOTransport over r and w (newline-delimited
// JSON, as for stdio) that answers every request read before r ends. With
// the SDK's own IOTransport (and StdioTransport), the session ends as soon
// as r ends, abandoning the requests in flight, so that
//
//	printf '%s\n' "$initialize" "$initialized" "$call" | daytona-mcp
//
// prints only the answer to initialize. Here the end of r is held back
// until every request read (not cancelled by the client with
// notifications/cancelled) has its response written to w, or until the
// session is closed: a failed write closes it, and so does the end of the
// context given to mcp.Server.Run, once the calls in progress return (the
// SDK then drops their answers: cancel them first to have them answered).
// A nil r or w fails the session's first read or write with an error
// saying so.
func NewIOTransport(r io.ReadCloser, w io.WriteCloser) *mcp.IOTransport {
	if r == nil {
		r = broken{errors.New("mcpserver: NewIOTransport: nil reader")}
	}
	if w == nil {
		w = broken{errors.New("mcpserver: NewIOTransport: nil writer")}
	}
	t := &inflight{pending: map[jsonrpc.ID]int{}, changed: make(chan struct{}), closed: make(chan struct{})}
	return &mcp.IOTransport{
		Reader: &requestReader{r: r, t: t, split: splitter{max: mcp.DefaultMaxLineLength}},
		Writer: &responseWriter{w: w, t: t, split: splitter{max: mcp.DefaultMaxLineLength}},
	}
}

// broken fails every read and write with err.
type broken struct{ err error }

func (b broken) Read([]byte) (int, error)  { return 0, b.err }
func (b broken) Write([]byte) (int, error) { return 0, b.err }
func (b broken) Close() error              { return nil }

// inflight counts the requests read and not yet answered, by id.
type inflight struct {
	mu      sync.Mutex
	pending map[jsonrpc.ID]int
	changed chan struct{} // closed and replaced when a request is answered

	closeOnce sync.Once
	closed    chan struct{} // closed by Close of the reader
}

func (t *inflight) add(id jsonrpc.ID) {
	t.mu.Lock()
	t.pending[id]++
	t.mu.Unlock()
}

func (t *inflight) done(id jsonrpc.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[id] == 0 {
		return
	}
	if t.pending[id]--; t.pending[id] == 0 {
		delete(t.pending, id)
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// wait returns when no request is pending, or the reader is closed.
func (t *inflight) wait() {
	for {
		t.mu.Lock()
		n, changed := len(t.pending), t.changed
		t.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-changed:
		case <-t.closed:
			return
		}
	}
}

// requestReader records the requests it reads and holds back the end of
// its input until they are answered.
type requestReader struct {
	r     io.ReadCloser
	t     *inflight
	split splitter
	eof   error // the end of r, returned once the requests are answered
}

func (rr *requestReader) Read(p []byte) (int, error) {
	if rr.eof != nil {
		rr.t.wait()
		return 0, rr.eof
	}
	n, err := rr.r.Read(p)
	rr.split.write(p[:n], rr.record)
	if err == io.EOF {
		// The bytes read with the end are requests to answer first: the
		// end is returned by the next Read.
		rr.eof = err
		if n == 0 {
			rr.t.wait()
			return 0, err
		}
		return n, nil
	}
	return n, err
}

// record counts a call, and uncounts a call the client cancelled.
func (rr *requestReader) record(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	switch {
	case !ok:
	case req.IsCall():
		rr.t.add(req.ID)
	case req.Method == "notifications/cancelled":
		var params struct {
			RequestID any `json:"requestId"`
		}
		if json.Unmarshal(req.Params, &params) == nil {
			if id, err := jsonrpc.MakeID(params.RequestID); err == nil && id.IsValid() {
				rr.t.done(id)
			}
		}
	}
}

// Close closes r, and ends a wait for answers: the session is over.
func (rr *requestReader) Close() error {
	rr.t.closeOnce.Do(func() { close(rr.t.closed) })
	return rr.r.Close()
}

// responseWriter writes to w and records the responses written.
type responseWriter struct {
	w     io.WriteCloser
	t     *inflight
	mu    sync.Mutex // guards split
	split splitter
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	n, err := rw.w.Write(p)
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.split.write(p[:n], func(msg jsonrpc.Message) {
		if resp, ok := msg.(*jsonrpc.Response); ok {
			rw.t.done(resp.ID)
		}
	})
	return n, err
}

func (rw *responseWriter) Close() error { return rw.w.Close() }

// splitter finds the JSON objects and arrays (batches) in a stream, as a
// json.Decoder reading it would, and decodes each as JSON-RPC messages.
// Bytes between values are skipped; a value longer than max (which the
// SDK refuses too) is dropped.
type splitter struct {
	max      int
	buf      []byte
	depth    int
	inString bool
	escaped  bool
	tooLong  bool
}

func (s *splitter) write(p []byte, each func(jsonrpc.Message)) {
	start := 0 // of the part of p in the current value
	for i, c := range p {
		switch {
		case s.depth == 0 && c != '{' && c != '[':
			start = i + 1
			continue
		case s.inString && s.escaped:
			s.escaped = false
		case s.inString && c == '\\':
			s.escaped = true
		case s.inString && c == '"':
			s.inString = false
		case s.inString:
		case c == '"':
			s.inString = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
		}
		if s.depth == 0 {
			s.keep(p[start : i+1])
			if !s.tooLong {
				decode(s.buf, each)
			}
			s.buf, s.tooLong, start = s.buf[:0], false, i+1
		}
	}
	if s.depth > 0 {
		s.keep(p[start:])
	}
}

// keep appends b to the current value, unless that makes it too long.
func (s *splitter) keep(b []byte) {
	if s.tooLong || len(s.buf)+len(b) > s.max {
		s.tooLong, s.buf = true, s.buf[:0]
		return
	}
	s.buf = append(s.buf, b...)
}

// decode calls each for the message, or the messages of the batch, in v.
func decode(v []byte, each func(jsonrpc.Message)) {
	if v[0] != '[' {
		if msg, err := jsonrpc.DecodeMessage(v); err == nil {
			each(msg)
		}
		return
	}
	var batch []json.RawMessage
	if json.Unmarshal(v, &batch) != nil {
		return
	}
	for _, raw := range batch {
		if msg, err := jsonrpc.DecodeMessage(raw); err == nil {
			each(msg)
		}
	}
}
