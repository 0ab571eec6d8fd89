//go:build unix

package daytonatest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// The output mode of a request follows its SDK version
// (apps/daemon/pkg/session/common.go:17-33, v0.173.0 and v0.190.0): the
// daemon gives stdout and stderr apart, and labels the follow stream,
// only to SDK 0.167.0 and later; a request with no version gets its output
// combined, without labels.

// rawRequest sends an authenticated request with extra headers and returns
// the response, read in full.
func rawRequest(t *testing.T, srv *daytonatest.Server, method, path, body string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func TestSyncExecOutputFollowsTheSDKVersion(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	path := "/toolbox/" + sb.ID + "/process/session/s/exec"
	const labelled = "\x01\x01\x01out\n"
	for _, tc := range []struct {
		name           string
		header         map[string]string
		output, stdout any
	}{
		{"no version: combined", nil, "out\n", nil},
		{"split output asked, no version", map[string]string{"X-Daytona-Split-Output": "true"}, labelled, nil},
		{"before 0.27.0: combined", map[string]string{"X-Daytona-SDK-Version": "0.26.0"}, "out\n", nil},
		{"before 0.167.0: labelled", map[string]string{"X-Daytona-SDK-Version": "0.160.0"}, labelled, nil},
		{"0.167.0 on: apart", map[string]string{"X-Daytona-SDK-Version": "0.173.0"}, labelled, "out\n"},
	} {
		r := rawRequest(t, srv, "POST", path, `{"command":"printf 'out\\n'"}`, tc.header)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", tc.name, r.Body)
		m := r.JSON(t)
		require.Equal(t, tc.output, m["output"], tc.name)
		require.Equal(t, tc.stdout, m["stdout"], tc.name)
		if tc.stdout == nil {
			require.Contains(t, m, "stderr", tc.name)
			require.Nil(t, m["stderr"], tc.name)
		}
		require.EqualValues(t, 0, m["exitCode"], tc.name)
	}
}

func TestFollowStreamFollowsTheSDKVersion(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", `printf 'out\n'`, false, false)
	require.NoError(t, err)
	url := "ws" + strings.TrimPrefix(srv.ToolboxURL(), "http") + "/" + sb.ID + "/process/session/s/command/" + m["id"].(string) + "/logs?follow=true"
	for _, tc := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"no version: labels stripped", http.Header{}, "out\n"},
		{"version header", http.Header{"X-Daytona-Sdk-Version": {"0.173.0"}}, "\x01\x01\x01out\n"},
		{"version subprotocol", http.Header{"Sec-Websocket-Protocol": {"X-Daytona-SDK-Version~0.173.0"}}, "\x01\x01\x01out\n"},
	} {
		tc.header.Set("Authorization", "Bearer "+srv.APIKey())
		conn, resp, err := websocket.DefaultDialer.DialContext(t.Context(), url, tc.header)
		require.NoError(t, err, tc.name)
		resp.Body.Close()
		var got bytes.Buffer
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				require.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "%s: %v", tc.name, err)
				break
			}
			got.Write(data)
		}
		conn.Close()
		require.Equal(t, tc.want, got.String(), tc.name)
	}
}

// TestCommandLogsFollowTheSDKVersion: the logs, as JSON for 0.167.0 on and
// as text otherwise, combined for no version (log.go:28-66).
func TestCommandLogsFollowTheSDKVersion(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", `printf 'out\n'`, false, false)
	require.NoError(t, err)
	path := "/toolbox/" + sb.ID + "/process/session/s/command/" + m["id"].(string) + "/logs"
	r := rawRequest(t, srv, "GET", path, "", nil)
	require.Equal(t, "out\n", string(r.Body))
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"))
	r = rawRequest(t, srv, "GET", path, "", map[string]string{"X-Daytona-SDK-Version": "0.173.0"})
	var logs map[string]string
	require.NoError(t, json.Unmarshal(r.Body, &logs))
	require.Equal(t, map[string]string{"output": "\x01\x01\x01out\n", "stdout": "out\n", "stderr": ""}, logs)
}
