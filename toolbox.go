package daytona

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
)

// The toolbox requests this package sends itself, where the SDK's wrapper
// does not fit.

// syncBodyLimit bounds how much of a synchronous answer is read. The answer
// holds the command's whole output (three times: raw, stdout, stderr); a
// larger one is abandoned and the output read again through the log
// stream, so that memory does not grow with the output.
const syncBodyLimit = 8 << 20

// syncAnswer is the daemon's answer to a synchronous session command.
type syncAnswer struct {
	CmdID    string `json:"cmdId"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode *int   `json:"exitCode"`
}

// syncClient sends synchronous session commands. Unlike the SDK's client
// it has no fixed 60 s timeout (the caller's context bounds each request),
// and it lets us stop reading an answer that is too large.
var syncClient = &http.Client{Transport: syncTransport()}

// syncTransport is http.DefaultTransport keeping more idle connections per
// host (the default keeps 2), so that bursts of concurrent commands reuse
// connections instead of opening new ones.
func syncTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// postSync runs script synchronously in session sessID: the request the
// SDK's ExecuteSessionCommand(runAsync=false) sends, with the same headers,
// but reading at most syncBodyLimit bytes of the answer. tooBig reports an
// answer that was larger (the command has finished). Error answers become
// the SDK's error types, so classification and errors.As work as for SDK
// calls.
func postSync(ctx context.Context, r *remote, sessID, script string) (ans *syncAnswer, tooBig bool, err error) {
	cfg := r.sb.ToolboxClient.GetConfig()
	u := strings.TrimRight(cfg.Servers[0].URL, "/") + "/process/session/" + url.PathEscape(sessID) + "/exec"
	body, err := json.Marshal(map[string]any{"command": script, "runAsync": false, "suppressInputEcho": false})
	if err != nil {
		return nil, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	for k, v := range cfg.DefaultHeader {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if cfg.UserAgent != "" {
		req.Header.Set("User-Agent", cfg.UserAgent)
	}
	resp, err := syncClient.Do(req)
	if err != nil {
		return nil, false, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, syncBodyLimit+1))
	if err != nil {
		return nil, false, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	if resp.StatusCode >= 300 {
		return nil, false, sdkerrors.NewDaytonaErrorFromBody(data, resp.StatusCode, resp.Header)
	}
	if len(data) > syncBodyLimit {
		return nil, true, nil
	}
	ans = &syncAnswer{}
	if err := json.Unmarshal(data, ans); err != nil {
		return nil, false, sdkerrors.NewDaytonaError("decode the answer to a session command: "+err.Error(), resp.StatusCode, resp.Header)
	}
	return ans, false, nil
}
