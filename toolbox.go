package daytona

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/jsonstream"
	"github.com/agentworkspace/daytona/internal/stream"
)

// The toolbox requests this package sends itself, where the SDK's wrapper
// does not fit.

// syncAnswer is what the daemon's answer to a synchronous session command
// said besides the output, which was fed to the command's output as it
// was read.
type syncAnswer struct {
	CmdID    string
	ExitCode *int
	// replaced reports a U+FFFD in the output: the daemon's JSON stands it
	// in for invalid UTF-8, so unless the output was framed (and so valid
	// UTF-8), bytes may have been lost.
	replaced bool
}

// errAnswerCut reports a synchronous answer that broke off while it was
// read: the command has finished, but its output arrived only in part.
var errAnswerCut = errors.New("the answer to the command broke off")

// toolboxRequest builds a request to the sandbox's toolbox: path (such as
// "/files/download") under its base URL, with the headers the SDK sends
// (authorization, SDK version: the daemon labels output only for a recent
// SDK), and contentType if body is not nil. The caller sends it with
// r.httpClient().
func (r *remote) toolboxRequest(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Request, error) {
	cfg := r.sb.ToolboxClient.GetConfig()
	u := strings.TrimRight(cfg.Servers[0].URL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range cfg.DefaultHeader {
		req.Header.Set(k, v)
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if cfg.UserAgent != "" {
		req.Header.Set("User-Agent", cfg.UserAgent)
	}
	return req, nil
}

// toolboxDo sends a request built as toolboxRequest builds it and returns
// the answer, whose body the caller closes; an error answer (status 300 or
// more) becomes the SDK's error types, and no answer at all an SDK error
// with status 0.
func (r *remote) toolboxDo(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := r.toolboxRequest(ctx, method, path, query, body, contentType)
	if err != nil {
		return nil, err
	}
	resp, err := r.httpClient().Do(req)
	if err != nil {
		return nil, apierr.NoAnswer(err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, apierr.FromResponse(resp)
	}
	return resp, nil
}

// httpClient returns the client for the requests this package sends to the
// toolbox itself (the Sandbox's client: see WithHTTPClient). It has no
// overall timeout: the caller's context bounds each request.
func (r *remote) httpClient() *http.Client { return r.hc }

// postSync runs script synchronously in session sessID: the request the
// SDK's ExecuteSessionCommand(runAsync=false) sends, with the same headers,
// but reading the answer as it arrives: its stdout and stderr members are
// fed to out piece by piece (the output member, the same bytes again with
// their labels, is skipped), so that memory does not grow with the output.
// Error answers become the SDK's error types, so classification and
// errors.As work as for SDK calls; an answer that breaks off gives an
// error matching errAnswerCut, with what was read of it.
func postSync(ctx context.Context, r *remote, sessID, script string, out *output) (*syncAnswer, error) {
	body, err := json.Marshal(map[string]any{"command": script, "runAsync": false, "suppressInputEcho": true})
	if err != nil {
		return nil, err
	}
	resp, err := r.toolboxDo(ctx, http.MethodPost, "/process/session/"+url.PathEscape(sessID)+"/exec", nil, bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := &answerHandler{out: out, ans: &syncAnswer{}}
	if err := jsonstream.DecodeObject(resp.Body, h); err != nil {
		if h.werr != nil {
			return h.ans, h.werr
		}
		return h.ans, fmt.Errorf("%w: %w", errAnswerCut, err)
	}
	return h.ans, nil
}

// answerHandler feeds the members of a synchronous answer to a command's
// output.
type answerHandler struct {
	out  *output
	ans  *syncAnswer
	werr error // the output's error, which is not the answer's fault

	carry  [2]byte // the end of the previous piece, for holdsReplacement
	ncarry int
}

func (h *answerHandler) String(key string) func([]byte) error {
	var st stream.Stream
	switch key {
	case "cmdId":
		return func(p []byte) error { h.ans.CmdID += string(p); return nil }
	case "stdout":
		st = stream.Stdout
	case "stderr":
		st = stream.Stderr
	default:
		return nil
	}
	return func(p []byte) error {
		if !h.ans.replaced && h.holdsReplacement(p) {
			h.ans.replaced = true
		}
		if err := h.out.feedStream(st, p); err != nil {
			h.werr = err
			return err
		}
		return nil
	}
}

// holdsReplacement reports a U+FFFD in p, or across the end of the
// previous piece and p.
func (h *answerHandler) holdsReplacement(p []byte) bool {
	joint := append(h.carry[:h.ncarry:h.ncarry], p[:min(len(p), len(replacement)-1)]...)
	found := bytes.Contains(joint, replacement) || bytes.Contains(p, replacement)
	if len(p) >= len(replacement)-1 {
		h.ncarry = copy(h.carry[:], p[len(p)-(len(replacement)-1):])
	} else {
		h.ncarry = copy(h.carry[:], joint[max(0, len(joint)-(len(replacement)-1)):])
	}
	return found
}

func (h *answerHandler) Other(key string, raw []byte) error {
	if key == "exitCode" && string(raw) != "null" {
		var code int
		if err := json.Unmarshal(raw, &code); err != nil {
			return err
		}
		h.ans.ExitCode = &code
	}
	return nil
}

// replacement is U+FFFD in UTF-8.
var replacement = []byte("\uFFFD")
