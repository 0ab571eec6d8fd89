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

// httpClient returns the client for the requests this package sends to the
// toolbox itself (the Sandbox's client: see WithHTTPClient). It has no
// overall timeout: the caller's context bounds each request.
func (r *remote) httpClient() *http.Client { return r.hc }

// toolboxError turns an error answer of the toolbox into the SDK's error
// types (so that classification, StatusCode and errors.As work as for SDK
// calls), reading at most 64 KiB of its body.
func toolboxError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return sdkerrors.NewDaytonaErrorFromBody(data, resp.StatusCode, resp.Header)
}

// postSync runs script synchronously in session sessID: the request the
// SDK's ExecuteSessionCommand(runAsync=false) sends, with the same headers,
// but reading at most syncBodyLimit bytes of the answer. tooBig reports an
// answer that was larger (the command has finished). Error answers become
// the SDK's error types, so classification and errors.As work as for SDK
// calls.
func postSync(ctx context.Context, r *remote, sessID, script string) (ans *syncAnswer, tooBig bool, err error) {
	body, err := json.Marshal(map[string]any{"command": script, "runAsync": false, "suppressInputEcho": true})
	if err != nil {
		return nil, false, err
	}
	req, err := r.toolboxRequest(ctx, http.MethodPost, "/process/session/"+url.PathEscape(sessID)+"/exec", nil, bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, false, err
	}
	resp, err := r.httpClient().Do(req)
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
