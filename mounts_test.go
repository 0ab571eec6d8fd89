package daytona_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Secrets of the test specs: none may leave the credentials channel.
const (
	s3Secret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	gcsSecret   = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
	azureSecret = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq=="
)

// storage is an endpoint the mount scripts' reachability probe can
// reach, as an S3, GCS or Azure endpoint answers an anonymous request.
func storage(t *testing.T) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<Error><Code>AccessDenied</Code></Error>"))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func s3Spec(endpoint string) workspace.MountSpec {
	return workspace.MountSpec{
		Type: workspace.MountS3, Bucket: "my-bucket", Region: "auto", Endpoint: endpoint + "/",
		AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: s3Secret, Prefix: "/ws/data/", ReadOnly: true,
	}
}

func gcsSpec(endpoint string) workspace.MountSpec {
	return workspace.MountSpec{
		Type: workspace.MountGCS, Bucket: "my-gcs-bucket", Prefix: "team/a/", Endpoint: endpoint,
		ServiceAccountKey: `{"type":"service_account","private_key_id":"k1","private_key":"` + strings.ReplaceAll(gcsSecret, "\n", `\n`) + `","client_email":"bot@p.iam.gserviceaccount.com"}`,
	}
}

func azureSpec(endpoint string) workspace.MountSpec {
	return workspace.MountSpec{
		Type: workspace.MountAzureBlob, Container: "ctr", AccountName: "acct", AccountKey: azureSecret,
		Prefix: "p/q", Endpoint: endpoint, ReadOnly: true,
	}
}

// mountFixture is a server with stub FUSE tools, a started sandbox whose
// debug log is kept, and a place for mount points.
type mountFixture struct {
	srv  *daytonatest.Server
	sb   *daytona.Sandbox
	logs *bytes.Buffer
	dir  string // mount points go here
	home string // the sandbox's home
}

func newMountFixture(t *testing.T, opts ...daytona.Option) *mountFixture {
	t.Helper()
	f := &mountFixture{srv: newServer(t, daytonatest.WithMountStubs()), logs: &bytes.Buffer{}, dir: t.TempDir()}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.sb = newSandbox(t, f.srv, append([]daytona.Option{daytona.WithLogger(logger)}, opts...)...)
	t.Cleanup(func() { removeMarkers(f.dir + "/") })
	return f
}

// start starts the fixture's sandbox and learns its home.
func (f *mountFixture) start(t *testing.T) {
	t.Helper()
	require.NoError(t, f.sb.Start(t.Context()))
	rec, ok := f.srv.Sandbox(f.sb.DaytonaID())
	require.True(t, ok)
	f.home = rec.Dir
}

// removeMarkers removes the markers that mounts at paths starting with
// prefix left in this machine's /tmp/.mastra-mounts (the fake's sandboxes
// share it).
func removeMarkers(prefix string) {
	entries, _ := os.ReadDir("/tmp/.mastra-mounts")
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join("/tmp/.mastra-mounts", e.Name()))
		if strings.HasPrefix(string(b), prefix) {
			_ = os.Remove(filepath.Join("/tmp/.mastra-mounts", e.Name()))
		}
	}
}

// calls returns the stub tools' calls in the fixture's sandbox.
func (f *mountFixture) calls(t *testing.T) []daytonatest.MountCall {
	t.Helper()
	calls, err := f.srv.MountCalls(f.sb.DaytonaID())
	require.NoError(t, err)
	return calls
}

// credentialFile is where the mount at path keeps its credentials.
func (f *mountFixture) credentialFile(path, ext string) string {
	return f.home + "/.agentws-mounts/" + daytona.MarkerName(path) + "." + ext
}

// noSecretLeaked checks that no secret of spec reached a request other
// than the input request that carries it once per mount made, nor the
// logs.
func (f *mountFixture) noSecretLeaked(t *testing.T, spec workspace.MountSpec, mounts int) {
	t.Helper()
	for _, secret := range append(spec.Secrets(), s3Secret, azureSecret) {
		carriers := 0
		for _, r := range f.srv.Requests() {
			if strings.Contains(r.Path+"?"+r.Query, secret) {
				t.Errorf("a secret is in the URL of %s %s", r.Method, r.Path)
			}
			if bytes.Contains(r.Body, jsonText(secret)) {
				if r.Op != daytonatest.OpSendInput {
					t.Errorf("a secret is in the body of a %s request: %s", r.Op, r.Body)
				}
				// Input the daemon refused before the command could read
				// it (its pipe not open yet) is sent again; count what
				// it took.
				if r.Status > 0 && r.Status < 300 {
					carriers++
				}
			}
		}
		if carriers > mounts {
			t.Errorf("a secret was sent %d times, for %d mounts", carriers, mounts)
		}
		assert.NotContains(t, f.logs.String(), secret, "the debug log")
	}
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}

// mountOnce mounts spec at dir/name in a started fixture and returns the
// mount path, the one stub call it made, and its credentials file (of
// extension ext).
func mountOnce(t *testing.T, spec func(endpoint string) workspace.MountSpec, name, ext string) (*mountFixture, workspace.MountSpec, string, daytonatest.MountCall, string) {
	t.Helper()
	f := newMountFixture(t)
	f.start(t)
	path, s := f.dir+"/"+name, spec(storage(t))
	require.NoError(t, f.sb.Mount(t.Context(), path, s))
	calls := f.calls(t)
	require.Len(t, calls, 1)
	return f, s, path, calls[0], f.credentialFile(path, ext)
}

func TestMountS3PassesArgumentsAndCredentials(t *testing.T) {
	t.Parallel()
	f, spec, path, call, cred := mountOnce(t, s3Spec, "s3", "passwd")
	assert.Equal(t, "s3fs", call.Tool)
	assert.Equal(t, []string{"my-bucket:/ws/data", path, "-o", "passwd_file=" + cred, "-o", "url=" + strings.TrimSuffix(spec.Endpoint, "/"),
		"-o", "use_path_request_style", "-o", "endpoint=auto", "-o", "ro"}, call.Args)
	assert.Equal(t, []daytonatest.StubFile{{Path: cred, Content: "AKIAIOSFODNN7EXAMPLE:" + s3Secret, Mode: 0o600}}, call.Files)
	marker, err := os.ReadFile("/tmp/.mastra-mounts/" + daytona.MarkerName(path))
	require.NoError(t, err)
	assert.Equal(t, path+"|"+daytona.ConfigHash(spec), string(marker))
	mounted, _ := f.srv.Mounted(f.sb.DaytonaID())
	assert.Equal(t, []string{path}, mounted)
	f.noSecretLeaked(t, spec, 1)

	require.NoError(t, f.sb.Mount(t.Context(), path, spec), "the same mount again")
	assert.Len(t, f.calls(t), 1, "mounting what is mounted does nothing")
}

func TestMountGCSUsesOnlyDirForThePrefix(t *testing.T) {
	t.Parallel()
	f, spec, path, call, cred := mountOnce(t, gcsSpec, "gcs", "json")
	assert.Equal(t, "gcsfuse", call.Tool)
	assert.Equal(t, []string{"--key-file=" + cred, "--only-dir=team/a", "--custom-endpoint=" + spec.Endpoint, "my-gcs-bucket", path}, call.Args)
	assert.Equal(t, []daytonatest.StubFile{{Path: cred, Content: spec.ServiceAccountKey, Mode: 0o600}}, call.Files)
	f.noSecretLeaked(t, spec, 1)
}

func TestMountAzureWritesSubdirectoryConfig(t *testing.T) {
	t.Parallel()
	f, spec, path, call, cfg := mountOnce(t, azureSpec, "blob", "yaml")
	assert.Equal(t, "blobfuse2", call.Tool)
	assert.Equal(t, []string{"mount", path, "--config-file=" + cfg}, call.Args)
	require.Len(t, call.Files, 1)
	assert.Equal(t, os.FileMode(0o600), call.Files[0].Mode)
	yaml := call.Files[0].Content
	for _, line := range []string{
		"read-only: true", "  mode: key", `  account-name: "acct"`, `  container: "ctr"`, `  account-key: "` + azureSecret + `"`,
		`  endpoint: "` + spec.Endpoint + `"`, "  virtual-directory: true", `  subdirectory: "p/q"`,
		`  path: "` + f.home + "/.agentws-mounts/" + daytona.MarkerName(path) + `.cache"`,
	} {
		assert.Contains(t, yaml, line+"\n")
	}
	f.noSecretLeaked(t, spec, 1)
}

func TestMountsAreRestoredAfterARestart(t *testing.T) {
	t.Parallel()
	f, spec, path, _, _ := mountOnce(t, s3Spec, "data", "passwd")
	require.NoError(t, f.srv.StopSandbox(f.sb.DaytonaID())) // Daytona's auto-stop, say: FUSE mounts end
	mounted, _ := f.srv.Mounted(f.sb.DaytonaID())
	require.Empty(t, mounted)

	res, err := f.sb.ExecuteCommand(t.Context(), "echo after", nil, nil) // restarts the sandbox
	require.NoError(t, err)
	assert.Equal(t, "after\n", res.Stdout)
	assert.Len(t, f.calls(t), 2, "the mount was made again at the restart")
	mounted, _ = f.srv.Mounted(f.sb.DaytonaID())
	assert.Equal(t, []string{path}, mounted)
	f.noSecretLeaked(t, spec, 2)
}

func TestWithMountMountsAtStartAndOnReconnect(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	endpoint := storage(t)
	path := f.dir + "/declared"
	f.sb = newSandbox(t, f.srv, daytona.WithName("mounted"), daytona.WithMount(path, s3Spec(endpoint)))
	f.start(t)
	assert.Len(t, f.calls(t), 1)
	info, err := f.sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []workspace.MountInfo{{Path: path, Filesystem: "s3"}}, info.Mounts)
	assert.Contains(t, f.sb.GetInstructions(), "Cloud storage mounted at "+path+" (s3).")

	// Another Sandbox reconnecting finds the mount in place (its marker
	// matches) and leaves it; after a stop it makes it again.
	other := startedSandbox(t, f.srv, daytona.WithName("mounted"), daytona.WithMount(path, s3Spec(endpoint)))
	assert.Len(t, f.calls(t), 1)
	require.NoError(t, other.Stop(t.Context()))
	require.NoError(t, other.Start(t.Context()))
	assert.Len(t, f.calls(t), 2)
}

func TestFailedMountLeavesNoCredentials(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	f.start(t)
	path := f.dir + "/bad"
	spec := s3Spec(storage(t))
	require.NoError(t, f.srv.FailNextMount(f.sb.DaytonaID(), "s3fs: invalid credentials "+s3Secret))
	err := f.sb.Mount(t.Context(), path, spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s3fs: invalid credentials [redacted]")
	assert.NotContains(t, err.Error(), s3Secret)
	calls := f.calls(t)
	require.Len(t, calls, 1)
	require.Len(t, calls[0].Files, 1, "the credentials file existed while s3fs ran")
	_, statErr := os.Stat(f.credentialFile(path, "passwd"))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "and is gone")
	info, _ := f.sb.GetInfo(t.Context())
	assert.Empty(t, info.Mounts)
	f.noSecretLeaked(t, spec, 1)

	// The credentials never arrive: the waiting command is killed, and a
	// cleanup command removes what it had begun to write.
	require.NoError(t, f.srv.FailNext(daytonatest.OpSendInput, 1, http.StatusBadRequest, "bad request: input refused"))
	err = f.sb.Mount(t.Context(), f.dir+"/never", spec)
	assert.ErrorContains(t, err, "send the credentials")
	entries, _ := os.ReadDir(f.home + "/.agentws-mounts")
	assert.Empty(t, entries, "no credentials file, not even a partial one")
	list, _ := f.sb.Processes().List(t.Context())
	assert.Empty(t, list, "the credentials process was released")
}

func TestMountRefusesWhatItCannotMount(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	f.start(t)
	full := f.dir + "/full"
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(full+"/keep.txt", []byte("x"), 0o644))
	err := f.sb.Mount(t.Context(), full, s3Spec(storage(t)))
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.ErrorContains(t, err, "is not empty")

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	err = f.sb.Mount(t.Context(), f.dir+"/far", s3Spec(closed.URL))
	assert.ErrorIs(t, err, daytona.ErrStorageUnreachable)
	assert.ErrorContains(t, err, "cannot reach "+closed.URL)
	assert.Empty(t, f.calls(t))
	entries, _ := os.ReadDir(f.home + "/.agentws-mounts")
	assert.Empty(t, entries, "no credentials were written")
}

func TestMountBadInputBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	good := s3Spec("https://r2.example.com")
	for _, tc := range []struct {
		path string
		spec workspace.MountSpec
		want string
	}{
		{"data", good, "must be an absolute path"},
		{"/", good, "must be an absolute path"},
		{"/a/../b", good, `".."`},
		{"/a b", good, "must be an absolute path"},
		{"/data", workspace.MountSpec{Type: "dropbox", Bucket: "b"}, `unknown mount type "dropbox"`},
		{"/data", workspace.MountSpec{Type: workspace.MountS3, Bucket: "bkt", Endpoint: "https://r2.example.com"}, "missing credentials"},
		{"/data", workspace.MountSpec{Type: workspace.MountGCS, Bucket: "bkt"}, "missing credentials"},
		{"/data", workspace.MountSpec{Type: workspace.MountAzureBlob, Container: "ctr", AccountName: "acct"}, "missing credentials"},
	} {
		err := f.sb.Mount(t.Context(), tc.path, tc.spec)
		assert.ErrorIs(t, err, daytona.ErrInvalidInput, "%s %s", tc.path, tc.spec)
		assert.ErrorContains(t, err, tc.want)
	}
	assert.ErrorIs(t, f.sb.Unmount(t.Context(), "relative"), daytona.ErrInvalidInput)
	_, err := daytona.New(daytona.WithMount("/a", good), daytona.WithMount("/a/b", good))
	assert.ErrorContains(t, err, "nested")
	_, err = daytona.New(daytona.WithMount("/a", good), daytona.WithMount("/a", good))
	assert.ErrorContains(t, err, "two mounts at /a")
	assert.Zero(t, f.srv.TotalCount())
	assert.Equal(t, workspace.StatusPending, f.sb.Status())
}

func TestUnmountRemovesEverything(t *testing.T) {
	t.Parallel()
	f, _, path, _, cred := mountOnce(t, gcsSpec, "gone", "json")
	require.NoError(t, f.sb.Unmount(t.Context(), path+"/"))
	mounted, _ := f.srv.Mounted(f.sb.DaytonaID())
	assert.Empty(t, mounted)
	for _, p := range []string{cred, "/tmp/.mastra-mounts/" + daytona.MarkerName(path), path} {
		_, err := os.Stat(p)
		assert.ErrorIs(t, err, os.ErrNotExist, p)
	}
	info, _ := f.sb.GetInfo(t.Context())
	assert.Empty(t, info.Mounts)
	require.NoError(t, f.sb.Unmount(t.Context(), path), "unmounting what is not mounted succeeds")
	require.NoError(t, f.srv.StopSandbox(f.sb.DaytonaID()))
	_, err := f.sb.ExecuteCommand(t.Context(), "true", nil, nil)
	require.NoError(t, err)
	assert.Len(t, f.calls(t), 1, "an unmounted path is not restored")
}

func TestMountRestoreFailureFailsStart(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	path := f.dir + "/unreachable"
	f.sb = newSandbox(t, f.srv, daytona.WithMount(path, s3Spec(closed.URL)))
	err := f.sb.Start(t.Context())
	var he *daytona.StartHookError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, path, he.Mount)
	assert.True(t, he.Created)
	assert.ErrorIs(t, err, daytona.ErrStorageUnreachable)
}

func TestMarkerNamesMatchMastra(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{"/data": "mount-ro9cp", "/data/s3-test": "mount-j35w15", "/mnt/a-b_c.d": "mount-s5rp5x"} {
		assert.Equal(t, want, daytona.MarkerName(path))
	}
	spec := workspace.MountSpec{Type: "s3", Bucket: "my-bucket", Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "SK"}
	assert.Equal(t, "89b4a744b3cd2880", daytona.ConfigHash(spec))
}

func TestMountCredentialsNeverPrinted(t *testing.T) {
	t.Parallel()
	// Declared mounts live in the options; runtime ones behind a func,
	// which fmt prints as an address. A Sandbox never started has no
	// background work, so fmt may read all its fields here.
	sb := newSandbox(t, newServer(t), daytona.WithMount("/declared", azureSpec("https://acct.blob.core.windows.net")),
		daytona.WithMount("/other", s3Spec("https://r2.example.com")))
	var logs bytes.Buffer
	logBoth(&logs, "sandbox", sb)
	for _, v := range []any{sb, valueOf(sb)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := sprintf(verb, v) + logs.String()
			for _, secret := range []string{s3Secret, azureSecret} {
				assert.NotContains(t, out, secret, "%s of %T", verb, v)
			}
		}
	}
}
