//go:build unix

package daytonatest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestToolboxErrorSources: today's toolbox errors carry a source,
// DAYTONA_DAEMON for the daemon's and DAYTONA_PROXY for the proxy's
// (@daytona/toolbox-api-client 0.218.0, models/error-response.d.ts;
// @daytonaio/sdk 0.218.0, cjs/errors/DaytonaError.js:13-15); up to
// v0.190.0 none (libs/common-go/pkg/errors/http.go:17-24 @v0.190.0).
func TestToolboxErrorSources(t *testing.T) {
	t.Parallel()
	for _, v := range []daytonatest.ServiceVersion{daytonatest.Service0190, daytonatest.ServiceCurrent} {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		source := func(r response) any { return r.JSON(t)["source"] }
		want := func(s string) any {
			if v == daytonatest.ServiceCurrent {
				return s
			}
			return nil
		}
		r := authed(t, srv, "GET", "/toolbox/"+sb.ID+"/process/session/nope", nil)
		requireToolboxError(t, r, http.StatusNotFound, "not found: session not found", "/toolbox/"+sb.ID+"/process/session/nope", "GET")
		require.Equal(t, want("DAYTONA_DAEMON"), source(r), v)

		r = do(t, srv, "GET", "/toolbox/"+sb.ID+"/process/session", "wrong-key", nil)
		require.Equal(t, want("DAYTONA_PROXY"), source(r), v)
		require.NoError(t, srv.StopSandbox(sb.ID))
		r = authed(t, srv, "GET", "/toolbox/"+sb.ID+"/process/session", nil)
		requireToolboxError(t, r, http.StatusBadRequest, notStartedMsg, "/toolbox/"+sb.ID+"/process/session", "GET")
		require.Equal(t, want("DAYTONA_PROXY"), source(r), v)
	}
}

// TestFileErrorsToday: up to v0.190.0 a file refusal is a status with an
// empty body (see files_test.go); today it is a structured error with the
// codes of the daemon's file errors (FILE_NOT_FOUND, FILE_ACCESS_DENIED,
// INVALID_FILE_PATH; apps/daemon/pkg/toolbox/fs/download_files.go:204-219
// @v0.190.0, DaytonaError.js CODE_TO_ERROR_CLASS in @daytonaio/sdk
// 0.218.0), which SDK v0.173.0 shows as the message.
func TestFileErrorsToday(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent))
	info := func(q url.Values) response { return authed(t, srv, "GET", filesPath(sb, "/files/info", q), nil) }
	path := "/toolbox/" + sb.ID + "/files/info"
	requireStructured := func(r response, status int, code, msg string) {
		t.Helper()
		requireToolboxErrorCode(t, r, status, code, msg, path, "GET")
		require.Equal(t, "DAYTONA_DAEMON", r.JSON(t)["source"])
	}
	requireStructured(info(url.Values{"path": {"/nope/x"}}), http.StatusNotFound, "FILE_NOT_FOUND", "file not found: /nope/x")
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, os.WriteFile(filepath.Join(home, "f"), nil, 0o644))
	requireStructured(info(url.Values{"path": {"f/x"}}), http.StatusBadRequest, "INVALID_FILE_PATH", "invalid file path: f/x")
	requireStructured(info(nil), http.StatusBadRequest, "BAD_REQUEST", "bad request")
	if os.Geteuid() != 0 { // root reads anything
		require.NoError(t, os.Mkdir(filepath.Join(home, "locked"), 0o000))
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(home, "locked"), 0o755) })
		requireStructured(info(url.Values{"path": {"locked/x"}}), http.StatusForbidden, "FILE_ACCESS_DENIED", "permission denied: locked/x")
	}

	_, err := sb.FileSystem.GetFileInfo(t.Context(), "/nope/x")
	requireNotFound(t, err, "file not found: /nope/x")

	// A move names its source.
	r := authed(t, srv, "POST", filesPath(sb, "/files/move", url.Values{"source": {"gone"}, "destination": {"g2"}}), nil)
	require.Equal(t, "file not found: gone", r.JSON(t)["message"])
}

// TestUploadV2 (current): POST /files/upload-v2 takes a multipart part
// "file" or a raw body, creates the parents and overwrites
// (@daytona/toolbox-api-client 0.218.0, api/file-system-api.js:421-459);
// up to v0.190.0 the daemon has no such route.
func TestUploadV2(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent))
	home := homeDir(t, srv, sb.ID)
	upload := func(p, ctype string, body []byte) response {
		req, err := http.NewRequest("POST", srv.URL()+filesPath(sb, "/files/upload-v2", url.Values{"path": {p}}), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		return send(t, req)
	}
	r := upload("deep/new/raw.bin", "application/octet-stream", binaryData())
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[string]any{"name": "raw.bin", "path": "deep/new/raw.bin", "type": "application/octet-stream"}, r.JSON(t))
	got, err := os.ReadFile(filepath.Join(home, "deep/new/raw.bin"))
	require.NoError(t, err)
	require.Equal(t, binaryData(), got)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file", "x")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("replaced"))
	require.NoError(t, mw.Close())
	r = upload("deep/new/raw.bin", mw.FormDataContentType(), mp.Bytes())
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	got, _ = os.ReadFile(filepath.Join(home, "deep/new/raw.bin"))
	require.Equal(t, "replaced", string(got))

	r = upload("empty.txt", "", nil)
	require.Equal(t, http.StatusOK, r.Status, "an empty file is a file")
	require.FileExists(t, filepath.Join(home, "empty.txt"))
	require.Equal(t, http.StatusBadRequest, upload("", "text/plain", []byte("x")).Status)
	require.Equal(t, http.StatusBadRequest, upload("deep", "text/plain", []byte("x")).Status, "a directory")
	require.Equal(t, 5, srv.Count(daytonatest.OpUploadFileV2))

	old, _, oldSb := newSandbox(t, daytonatest.WithServiceVersion(daytonatest.Service0190))
	r = authed(t, old, "POST", filesPath(oldSb, "/files/upload-v2", url.Values{"path": {"a"}}), "x")
	requireToolboxError(t, r, http.StatusNotFound, "not found: route not found", "/toolbox/"+oldSb.ID+"/files/upload-v2", "POST")
}

// TestFailNextWith: a fault can carry a code, be the proxy's answer, or be
// plain text; on the control plane, code and proxy change nothing.
func TestFailNextWith(t *testing.T) {
	t.Parallel()
	for _, v := range []daytonatest.ServiceVersion{daytonatest.Service0190, daytonatest.ServiceCurrent} {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		path := "/toolbox/" + sb.ID + "/process/session"
		source := func(s string) any {
			if v == daytonatest.ServiceCurrent {
				return s
			}
			return nil
		}
		require.NoError(t, srv.FailNextWith(daytonatest.OpListSessions, 1, daytonatest.Fault{Status: 404, Message: "process not found", Code: "PROCESS_NOT_FOUND"}))
		r := authed(t, srv, "GET", path, nil)
		requireToolboxErrorCode(t, r, http.StatusNotFound, "PROCESS_NOT_FOUND", "process not found", path, "GET")
		require.Equal(t, source("DAYTONA_DAEMON"), r.JSON(t)["source"], v)

		require.NoError(t, srv.FailNextWith(daytonatest.OpListSessions, 1, daytonatest.Fault{Status: 400, Message: notStartedMsg, Proxy: true}))
		r = authed(t, srv, "GET", path, nil)
		requireToolboxError(t, r, http.StatusBadRequest, notStartedMsg, path, "GET")
		require.Equal(t, source("DAYTONA_PROXY"), r.JSON(t)["source"], v)

		require.NoError(t, srv.FailNextWith(daytonatest.OpListSessions, 1, daytonatest.Fault{Status: 404, Message: "404 page not found", Text: true}))
		r = authed(t, srv, "GET", path, nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		require.Equal(t, "404 page not found", string(r.Body))
		require.Contains(t, r.Header.Get("Content-Type"), "text/plain")

		require.NoError(t, srv.FailNextWith(daytonatest.OpGet, 1, daytonatest.Fault{Status: 503, Message: "busy", Code: "X", Proxy: true}))
		r = authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil)
		requireAPIError(t, r, http.StatusServiceUnavailable, "busy", "/api/sandbox/"+sb.ID)
		require.Equal(t, 3, srv.Count(daytonatest.OpListSessions))
	}
}
