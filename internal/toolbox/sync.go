package toolbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/agentworkspace/daytona/internal/jsonstream"
	"github.com/agentworkspace/daytona/internal/stream"
)

// SyncAnswer is what the daemon's answer to a synchronous session command
// said besides the output, which was fed to a Sink as it was read.
type SyncAnswer struct {
	CmdID    string
	ExitCode *int
	// Replaced reports a U+FFFD in the output: the daemon's JSON stands it
	// in for invalid UTF-8, so unless the output was framed (and so valid
	// UTF-8), bytes may have been lost.
	Replaced bool
}

// ErrAnswerCut reports a synchronous answer that broke off while it was
// read: the command has finished, but its output arrived only in part.
var ErrAnswerCut = errors.New("the answer to the command broke off")

// Sink receives a command's output as a synchronous answer carries it:
// the bytes the daemon labelled st, piece by piece.
type Sink interface {
	Feed(st stream.Stream, p []byte) error
}

// ExecSync runs script synchronously in session sessID: the request the
// SDK's ExecuteSessionCommand(runAsync=false) sends, with the same headers,
// but reading the answer as it arrives: its stdout and stderr members are
// fed to out piece by piece (the output member, the same bytes again with
// their labels, is skipped), so that memory does not grow with the output.
// Error answers become the SDK's error types, so classification and
// errors.As work as for SDK calls; an answer that breaks off gives an
// error matching ErrAnswerCut, with what was read of it.
func (c *Client) ExecSync(ctx context.Context, sessID, script string, out Sink) (*SyncAnswer, error) {
	body, err := json.Marshal(map[string]any{"command": script, "runAsync": false, "suppressInputEcho": true})
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, http.MethodPost, "/process/session/"+url.PathEscape(sessID)+"/exec", nil, bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := &answerHandler{out: out, ans: &SyncAnswer{}}
	if err := jsonstream.DecodeObject(resp.Body, h); err != nil {
		if h.werr != nil {
			return h.ans, h.werr
		}
		return h.ans, fmt.Errorf("%w: %w", ErrAnswerCut, err)
	}
	return h.ans, nil
}

// answerHandler feeds the members of a synchronous answer to a command's
// output.
type answerHandler struct {
	out  Sink
	ans  *SyncAnswer
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
		if !h.ans.Replaced && h.holdsReplacement(p) {
			h.ans.Replaced = true
		}
		if err := h.out.Feed(st, p); err != nil {
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
