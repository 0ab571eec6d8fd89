//go:build unix

package daytonatest_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/options"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

const (
	notStartedMsg = "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?"
	tokenInvalid  = "unauthorized: authentication failed: Bearer token is invalid"
)

func TestCreateSnapshotModeEchoesEveryField(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "daytonaio/sandbox:0.4.3"}))
	c := newClientWithConfig(t, &types.DaytonaConfig{APIKey: srv.APIKey(), APIUrl: srv.APIURL(), Target: "eu"})

	sb := createSandbox(t, c, types.SnapshotParams{
		SandboxBaseParams: types.SandboxBaseParams{
			Name:                "my-sbx",
			User:                "root",
			EnvVars:             map[string]string{"FOO": "bar", "EMPTY": ""},
			Labels:              map[string]string{"team": "x"},
			Public:              true,
			AutoStopInterval:    ptr(30),
			AutoArchiveInterval: ptr(60),
			AutoDeleteInterval:  ptr(120),
			Volumes: []types.VolumeMount{
				{VolumeID: "vol-1", MountPath: "/data", Subpath: ptr("sub/dir")},
				{VolumeID: "vol-2", MountPath: "/cache"},
			},
			NetworkBlockAll:  true,
			NetworkAllowList: ptr("10.0.0.0/8,192.168.0.0/16"),
		},
		Snapshot: "daytonaio/sandbox:0.4.3",
	})

	// What the SDK sent, as recorded by the request log.
	req := lastRequest(t, srv, daytonatest.OpCreate)
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/api/sandbox", req.Path)
	require.Equal(t, http.StatusOK, req.Status)
	require.JSONEq(t, `{
		"autoArchiveInterval":60,"autoDeleteInterval":120,"autoStopInterval":30,
		"env":{"FOO":"bar","EMPTY":""},
		"labels":{"code-toolbox-language":"python","team":"x"},
		"name":"my-sbx","networkAllowList":"10.0.0.0/8,192.168.0.0/16",
		"networkBlockAll":true,"public":true,"snapshot":"daytonaio/sandbox:0.4.3",
		"target":"eu","user":"root",
		"volumes":[{"mountPath":"/data","subpath":"sub/dir","volumeId":"vol-1"},
		           {"mountPath":"/cache","volumeId":"vol-2"}]}`, string(req.Body))

	// What the SDK made of the answer.
	require.Equal(t, "my-sbx", sb.Name)
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)
	require.Equal(t, "eu", sb.Target)
	require.Equal(t, 60, sb.AutoArchiveInterval)
	require.Equal(t, 120, sb.AutoDeleteInterval)
	require.True(t, sb.NetworkBlockAll)
	require.NotNil(t, sb.NetworkAllowList)
	require.Equal(t, "10.0.0.0/8,192.168.0.0/16", *sb.NetworkAllowList)

	// The server-side record.
	rec, ok := srv.Sandbox(sb.ID)
	require.True(t, ok)
	require.Equal(t, sb.ID, rec.ID)
	require.Equal(t, "my-sbx", rec.Name)
	require.Equal(t, daytonatest.StateStarted, rec.State)
	require.Equal(t, "daytonaio/sandbox:0.4.3", rec.Snapshot)
	require.Empty(t, rec.Dockerfile)
	require.Equal(t, "root", rec.User)
	require.Equal(t, map[string]string{"FOO": "bar", "EMPTY": ""}, rec.Env)
	require.Equal(t, map[string]string{"code-toolbox-language": "python", "team": "x"}, rec.Labels)
	require.True(t, rec.Public)
	require.True(t, rec.NetworkBlockAll)
	require.Equal(t, "10.0.0.0/8,192.168.0.0/16", rec.NetworkAllowList)
	require.Equal(t, "eu", rec.Target)
	require.Equal(t, 30, rec.AutoStopInterval)
	require.Equal(t, 60, rec.AutoArchiveInterval)
	require.Equal(t, 120, rec.AutoDeleteInterval)
	require.Equal(t, []daytonatest.Volume{
		{VolumeID: "vol-1", MountPath: "/data", Subpath: "sub/dir"},
		{VolumeID: "vol-2", MountPath: "/cache"},
	}, rec.Volumes)
	require.Equal(t, daytonatest.DefaultCPU, rec.CPU)
	require.Equal(t, daytonatest.DefaultMemory, rec.Memory)
	require.Equal(t, daytonatest.DefaultDisk, rec.Disk)
	require.WithinDuration(t, time.Now(), rec.CreatedAt, time.Minute)
	require.DirExists(t, rec.Dir)
	require.Equal(t, srv.Root(), filepath.Dir(filepath.Dir(rec.Dir)))

	// The DTO over the wire, by name.
	dto := authed(t, srv, "GET", "/api/sandbox/my-sbx", nil).JSON(t)
	require.Equal(t, sb.ID, dto["id"])
	require.Equal(t, "started", dto["state"])
	require.Equal(t, "daytonaio/sandbox:0.4.3", dto["snapshot"])
	require.Equal(t, "root", dto["user"])
	require.Equal(t, map[string]any{"FOO": "bar", "EMPTY": ""}, dto["env"])
	require.Equal(t, map[string]any{"code-toolbox-language": "python", "team": "x"}, dto["labels"])
	require.Equal(t, true, dto["public"])
	require.Equal(t, true, dto["networkBlockAll"])
	require.Equal(t, "10.0.0.0/8,192.168.0.0/16", dto["networkAllowList"])
	require.Equal(t, "eu", dto["target"])
	require.EqualValues(t, 30, dto["autoStopInterval"])
	require.EqualValues(t, 60, dto["autoArchiveInterval"])
	require.EqualValues(t, 120, dto["autoDeleteInterval"])
	require.Equal(t, []any{
		map[string]any{"volumeId": "vol-1", "mountPath": "/data", "subpath": "sub/dir"},
		map[string]any{"volumeId": "vol-2", "mountPath": "/cache"},
	}, dto["volumes"])
	require.Equal(t, srv.ToolboxURL(), dto["toolboxProxyUrl"])
	require.NotContains(t, dto, "buildInfo")
	for _, k := range []string{"organizationId", "cpu", "gpu", "memory", "disk", "createdAt", "updatedAt"} {
		require.Contains(t, dto, k)
	}
}

func TestCreateImageMode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)

	for _, tc := range []struct {
		res                    types.Resources
		cpu, gpu, memory, disk int
		body                   string
	}{
		{types.Resources{CPU: 2, Memory: 4, Disk: 8}, 2, 0, 4, 8, `"cpu":2,"memory":4,"disk":8`},
		// A GPU sandbox must be ephemeral (sandbox.service.ts:866-868 @v0.190.0).
		{types.Resources{CPU: 3, GPU: 1, Memory: 6, Disk: 9}, 3, 1, 6, 9, `"cpu":3,"gpu":1,"memory":6,"disk":9,"autoDeleteInterval":0`},
	} {
		base := types.SandboxBaseParams{Labels: map[string]string{"team": "y"}}
		if tc.gpu > 0 {
			base.AutoDeleteInterval = ptr(0)
		}
		sb := createSandbox(t, c, types.ImageParams{SandboxBaseParams: base, Image: "python:3.12-slim", Resources: &tc.res})
		require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)

		req := lastRequest(t, srv, daytonatest.OpCreate)
		require.JSONEq(t, `{"buildInfo":{"dockerfileContent":"FROM python:3.12-slim"},`+tc.body+`,
			"labels":{"code-toolbox-language":"python","team":"y"},"networkBlockAll":false,"public":false}`,
			string(req.Body))

		rec, ok := srv.Sandbox(sb.ID)
		require.True(t, ok)
		require.Equal(t, "FROM python:3.12-slim", rec.Dockerfile)
		require.Empty(t, rec.Snapshot)
		require.Equal(t, tc.cpu, rec.CPU)
		require.Equal(t, tc.gpu, rec.GPU)
		require.Equal(t, tc.memory, rec.Memory)
		require.Equal(t, tc.disk, rec.Disk)

		dto := authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)
		bi, ok := dto["buildInfo"].(map[string]any)
		require.True(t, ok, "no buildInfo in %v", dto)
		require.Equal(t, "FROM python:3.12-slim", bi["dockerfileContent"])
		require.NotContains(t, dto, "snapshot")
		require.EqualValues(t, tc.cpu, dto["cpu"])
		require.EqualValues(t, tc.gpu, dto["gpu"])
		require.EqualValues(t, tc.memory, dto["memory"])
		require.EqualValues(t, tc.disk, dto["disk"])
	}
}

func TestCreateDefaultMode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)

	sb := createSandbox(t, c, nil)
	req := lastRequest(t, srv, daytonatest.OpCreate)
	require.JSONEq(t, `{"labels":{"code-toolbox-language":"python"},"networkBlockAll":false,"public":false}`, string(req.Body))

	require.Equal(t, sb.ID, sb.Name, "the name defaults to the id")
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)
	require.Equal(t, daytonatest.DefaultTarget, sb.Target)
	require.Equal(t, daytonatest.DefaultAutoArchive, sb.AutoArchiveInterval)
	require.Equal(t, -1, sb.AutoDeleteInterval)

	rec, ok := srv.Sandbox(sb.ID)
	require.True(t, ok)
	require.Equal(t, daytonatest.DefaultSnapshot, rec.Snapshot)
	require.Equal(t, 2, rec.CPU)
	require.Equal(t, 4, rec.Memory)
	require.Equal(t, 10, rec.Disk)
	require.Equal(t, 0, rec.GPU)
	require.Equal(t, "daytona", rec.User)
	require.Equal(t, "us", rec.Target)
	require.Equal(t, 15, rec.AutoStopInterval)
	require.Equal(t, 7*24*60, rec.AutoArchiveInterval)
	require.Equal(t, -1, rec.AutoDeleteInterval)
	require.Empty(t, rec.Env)
	require.Empty(t, rec.Volumes)
	require.False(t, rec.Public)
	require.Empty(t, rec.Sessions)

	// The SDK treats SnapshotParams without a snapshot the same way.
	sb2 := createSandbox(t, c, types.SnapshotParams{})
	rec2, _ := srv.Sandbox(sb2.ID)
	require.Equal(t, daytonatest.DefaultSnapshot, rec2.Snapshot)
	require.NotEqual(t, sb.ID, sb2.ID)
}

func TestCreateDuplicateName(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	params := types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "dup"}}
	createSandbox(t, c, params)

	_, err := c.Create(t.Context(), params)
	requireDaytonaError(t, err, http.StatusConflict, "Sandbox with name dup already exists")
	require.Len(t, srv.Sandboxes(), 1)

	r := authed(t, srv, "POST", "/api/sandbox", `{"name":"dup"}`)
	requireAPIError(t, r, http.StatusConflict, "Sandbox with name dup already exists", "/api/sandbox")
}

// TestCreateRejectsResourcesWithSnapshot: without a build, a sandbox takes
// its resources from its snapshot, the default one included, and any
// resource in the request is a 400 (sandbox.controller.ts:295-297
// @v0.190.0, 304-306 @v0.173.0); 0 is no resource.
func TestCreateRejectsResourcesWithSnapshot(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "mine"}))
	// The SDK never sends this combination; a raw client can.
	for _, body := range []string{
		`{"snapshot":"mine","cpu":4}`,
		`{"snapshot":"mine","memory":8}`,
		`{"snapshot":"mine","disk":20,"gpu":1}`,
		`{"cpu":4,"memory":8,"disk":20}`,
	} {
		r := authed(t, srv, "POST", "/api/sandbox", body)
		requireAPIError(t, r, http.StatusBadRequest, "Cannot specify Sandbox resources when using a snapshot", "/api/sandbox")
	}
	require.Empty(t, srv.Sandboxes())

	r := authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"mine","cpu":0,"memory":0}`)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.EqualValues(t, daytonatest.DefaultCPU, r.JSON(t)["cpu"])

	// With a build, they are the sandbox's.
	r = authed(t, srv, "POST", "/api/sandbox", `{"buildInfo":{"dockerfileContent":"FROM x"},"cpu":4,"memory":8,"disk":10}`)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	m := r.JSON(t)
	require.EqualValues(t, 4, m["cpu"])
	require.EqualValues(t, 8, m["memory"])
	require.EqualValues(t, 10, m["disk"])
}

func TestGetByIDAndName(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	created := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "named"}})

	byID, err := c.Get(t.Context(), created.ID)
	require.NoError(t, err)
	require.Equal(t, "named", byID.Name)
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, byID.State)

	byName, err := c.Get(t.Context(), "named")
	require.NoError(t, err)
	require.Equal(t, created.ID, byName.ID)

	// The sandbox from Get has a working toolbox client.
	res, err := byName.Process.ExecuteCommand(t.Context(), "echo via-get")
	require.NoError(t, err)
	require.Equal(t, "via-get\n", res.Result)

	_, err = c.Get(t.Context(), "does-not-exist")
	requireNotFound(t, err, "Sandbox with ID or name does-not-exist not found")
	r := authed(t, srv, "GET", "/api/sandbox/does-not-exist", nil)
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID or name does-not-exist not found", "/api/sandbox/does-not-exist")
}

// TestListWithLabelFilterAndPages: SDK v0.173.0's List calls GET
// /sandbox/paginated, which the API has until 0.218 (see
// TestPaginatedIsGoneToday).
func TestListWithLabelFilterAndPages(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.Service0190))
	c := newClient(t, srv)
	for _, p := range []struct{ name, team string }{{"a", "red"}, {"b", "blue"}, {"c", "red"}} {
		createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{
			Name: p.name, Labels: map[string]string{"team": p.team},
		}})
	}

	page, err := c.List(t.Context(), map[string]string{"team": "red"}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 2, page.Total)
	require.Equal(t, 1, page.Page)
	require.Equal(t, 1, page.TotalPages)
	var names []string
	for _, sb := range page.Items {
		names = append(names, sb.Name)
	}
	require.Equal(t, []string{"c", "a"}, names, "newest first")
	q, err := url.ParseQuery(lastRequest(t, srv, daytonatest.OpListPaginated).Query)
	require.NoError(t, err)
	require.JSONEq(t, `{"team":"red"}`, q.Get("labels"))

	page, err = c.List(t.Context(), map[string]string{"team": "green"}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 0, page.Total)
	require.Empty(t, page.Items)

	page, err = c.List(t.Context(), nil, ptr(1), ptr(2))
	require.NoError(t, err)
	require.Equal(t, 3, page.Total)
	require.Equal(t, 2, page.TotalPages)
	require.Len(t, page.Items, 2)
	require.Equal(t, "c", page.Items[0].Name)

	page, err = c.List(t.Context(), nil, ptr(2), ptr(2))
	require.NoError(t, err)
	require.Equal(t, 2, page.Page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "a", page.Items[0].Name)

	// The plain list endpoint filters the same way.
	r := authed(t, srv, "GET", "/api/sandbox?labels="+url.QueryEscape(`{"team":"blue"}`), nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), `"name":"b"`)
	require.NotContains(t, string(r.Body), `"name":"a"`)
	require.Contains(t, r.JSON(t), "items")
}

func TestStopStartKeepsFiles(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)

	res, err := sb.Process.ExecuteCommand(t.Context(), "echo persisted > note.txt")
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "before-stop"))

	require.NoError(t, sb.Stop(t.Context()))
	require.Equal(t, apiclient.SANDBOXSTATE_STOPPED, sb.State)
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, daytonatest.StateStopped, rec.State)
	require.Empty(t, rec.Sessions, "a stop ends the sessions")

	err = sb.Stop(t.Context())
	requireDaytonaError(t, err, http.StatusBadRequest, "Sandbox is not in a stoppable state")

	_, err = sb.Process.ExecuteCommand(t.Context(), "echo hi")
	de := requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)
	require.True(t, strings.HasSuffix(de.Message, "Is the Sandbox started?"))
	r := authed(t, srv, "POST", "/toolbox/"+sb.ID+"/process/execute", `{"command":"echo hi"}`)
	requireToolboxError(t, r, http.StatusBadRequest, notStartedMsg, "/toolbox/"+sb.ID+"/process/execute", "POST")

	require.FileExists(t, filepath.Join(home, "note.txt"))
	require.NoError(t, sb.Start(t.Context()))
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)

	res, err = sb.Process.ExecuteCommand(t.Context(), "cat note.txt")
	require.NoError(t, err)
	require.Equal(t, "persisted\n", res.Result)
	sessions, err := sb.Process.ListSessions(t.Context())
	require.NoError(t, err)
	require.Empty(t, sessions, "sessions do not survive a stop")

	// Starting a started sandbox is not an error.
	require.NoError(t, sb.Start(t.Context()))
}

func TestStopKillsSessionProcesses(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	execAsync(t, sb, "s", "sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(homeDir(t, srv, sb.ID), "sleep.pid"))
	require.True(t, processAlive(pid))

	require.NoError(t, sb.Stop(t.Context()))
	waitFor(t, 10*time.Second, "sleep to be killed by the stop", func() bool { return !processAlive(pid) })
}

// TestToolboxProxyURL: the URL is looked up by id alone; the access guard
// finds a name, the service does not (sandbox.controller.ts:1458-1477,
// sandbox.service.ts:2705-2708, 1789-1808 @v0.190.0; the same at v0.173.0).
func TestToolboxProxyURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "named"}})
	r := authed(t, srv, "GET", "/api/sandbox/"+sb.ID+"/toolbox-proxy-url", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, map[string]any{"url": srv.ToolboxURL()}, r.JSON(t))
	require.Equal(t, srv.URL()+"/toolbox", srv.ToolboxURL())
	r = authed(t, srv, "GET", "/api/sandbox/named/toolbox-proxy-url", nil)
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID named not found", "/api/sandbox/named/toolbox-proxy-url")
	require.Equal(t, 2, srv.Count(daytonatest.OpToolboxProxyURL))

	r = authed(t, srv, "GET", "/api/sandbox/nope/toolbox-proxy-url", nil)
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID or name nope not found", "/api/sandbox/nope/toolbox-proxy-url")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	res, err := sb.Process.ExecuteCommand(t.Context(), "echo data > file.txt")
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	execAsync(t, sb, "s", "sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	require.NoError(t, sb.Delete(t.Context()))

	_, err = c.Get(t.Context(), sb.ID)
	requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
	_, ok := srv.Sandbox(sb.ID)
	require.False(t, ok)

	_, err = sb.Process.ExecuteCommand(t.Context(), "echo hi")
	requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)
	r := authed(t, srv, "GET", "/toolbox/"+sb.ID+"/process/session", nil)
	requireToolboxError(t, r, http.StatusUnauthorized, tokenInvalid, "/toolbox/"+sb.ID+"/process/session", "GET")

	waitFor(t, 10*time.Second, "the sandbox directory to be removed", func() bool {
		_, err := os.Stat(filepath.Dir(home))
		return errors.Is(err, os.ErrNotExist)
	})
	waitFor(t, 10*time.Second, "sleep to be killed", func() bool { return !processAlive(pid) })

	err = sb.Delete(t.Context())
	requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
	_, err = sb.Process.ExecuteCommand(t.Context(), "echo hi")
	requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)

	// The name is free again.
	createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: sb.Name}})
}

func TestDeletePassesThroughDestroying(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(300*time.Millisecond))
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)

	require.NoError(t, sb.Delete(t.Context()))
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State, "the SDK does not update the state on Delete")
	got, err := c.Get(t.Context(), sb.ID)
	if err == nil {
		require.Equal(t, apiclient.SANDBOXSTATE_DESTROYING, got.State)
		_, err = sb.Process.ExecuteCommand(t.Context(), "echo hi")
		requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)
	} else {
		// Only under heavy load can the transition already be over.
		requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
	}
	waitFor(t, 10*time.Second, "the sandbox to be gone", func() bool {
		_, err := c.Get(t.Context(), sb.ID)
		var nf *sdkerrors.DaytonaNotFoundError
		return errors.As(err, &nf)
	})
}

func TestEphemeralStopDeletes(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]types.SandboxBaseParams{
		"autoDeleteInterval 0": {AutoDeleteInterval: ptr(0)},
		"Ephemeral":            {Ephemeral: true, AutoDeleteInterval: ptr(60)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, delay := range []time.Duration{0, 30 * time.Millisecond} {
				srv := newServer(t, daytonatest.WithTransitionDelay(delay))
				c := newClient(t, srv)
				sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: base})
				require.Equal(t, 0, sb.AutoDeleteInterval)
				require.JSONEq(t, "0", string(mustField(t, lastRequest(t, srv, daytonatest.OpCreate).Body, "autoDeleteInterval")))
				home := homeDir(t, srv, sb.ID)

				err := sb.Stop(t.Context())
				requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
				_, ok := srv.Sandbox(sb.ID)
				require.False(t, ok, "the ephemeral sandbox is gone")
				_, err = c.Get(t.Context(), sb.ID)
				requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
				waitFor(t, 10*time.Second, "the directory to be removed", func() bool {
					_, err := os.Stat(home)
					return errors.Is(err, os.ErrNotExist)
				})
			}
		})
	}
}

// TestStateChangeInProgress: while a sandbox changes state, start, stop
// and delete are a 409 (sandbox.service.ts:2016-2018, 2064-2072,
// 2155-2166 @v0.190.0; 1696-1698, 1739-1747, 1812-1822 @v0.173.0).
func TestStateChangeInProgress(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(time.Hour))
	c := newClient(t, srv)
	const conflict = "Sandbox state change in progress"
	// A build is answered at once; a sandbox from a snapshot only once it
	// started (see TestCreateWaitsForTheStart).
	sb, err := c.Create(t.Context(), types.ImageParams{SandboxBaseParams: types.SandboxBaseParams{Name: "slow"}, Image: "alpine"},
		options.WithWaitForStart(false))
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_CREATING, sb.State)
	requireState(t, srv, sb.ID, daytonatest.StateCreating, "started")
	requireConflicts := func() {
		t.Helper()
		requireDaytonaError(t, sb.Start(t.Context()), http.StatusConflict, conflict)
		requireDaytonaError(t, sb.Stop(t.Context()), http.StatusConflict, conflict)
		requireDaytonaError(t, sb.Delete(t.Context()), http.StatusConflict, conflict)
	}
	requireConflicts()
	_, err = sb.Process.ExecuteCommand(t.Context(), "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)
	r := authed(t, srv, "POST", "/api/sandbox/slow/start", nil)
	requireAPIError(t, r, http.StatusConflict, conflict, "/api/sandbox/slow/start")

	// Finish the creation by hand, then stop: stopping takes an hour. The
	// stop is answered at once.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateStarted, ""))
	r = authed(t, srv, "POST", "/api/sandbox/slow/stop", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "stopping", r.JSON(t)["state"])
	requireState(t, srv, sb.ID, daytonatest.StateStopping, "stopped")
	requireConflicts()

	// Starting takes an hour too: the API holds the start until the
	// sandbox runs, and the client gives up first.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateStopped, ""))
	require.Error(t, sb.StartWithTimeout(t.Context(), 300*time.Millisecond))
	requireState(t, srv, sb.ID, daytonatest.StateStarting, "started")
	requireConflicts()

	// Once it runs, it can be deleted.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateStarted, ""))
	require.NoError(t, sb.Delete(t.Context()))
	requireState(t, srv, sb.ID, daytonatest.StateDestroying, "destroyed")
}

// requireState checks the state in the server's record and on the wire.
func requireState(t *testing.T, srv *daytonatest.Server, id string, st daytonatest.State, desired string) {
	t.Helper()
	rec, ok := srv.Sandbox(id)
	require.True(t, ok)
	require.Equal(t, st, rec.State)
	dto := authed(t, srv, "GET", "/api/sandbox/"+id, nil).JSON(t)
	require.Equal(t, string(st), dto["state"])
	require.Equal(t, desired, dto["desiredState"])
}

func TestTransitionsWithDelay(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(150*time.Millisecond))
	c := newClient(t, srv)

	sb, err := c.Create(t.Context(), types.SnapshotParams{}, options.WithWaitForStart(false))
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_CREATING, sb.State)
	waitFor(t, 10*time.Second, "started", func() bool {
		rec, _ := srv.Sandbox(sb.ID)
		return rec.State == daytonatest.StateStarted
	})

	// Create with waiting polls until started.
	gets := srv.Count(daytonatest.OpGet)
	sb2 := createSandbox(t, c, types.SnapshotParams{})
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb2.State)
	require.Greater(t, srv.Count(daytonatest.OpGet), gets, "Create polled while creating")

	gets = srv.Count(daytonatest.OpGet)
	require.NoError(t, sb2.Stop(t.Context()))
	require.Equal(t, apiclient.SANDBOXSTATE_STOPPED, sb2.State)
	require.Greater(t, srv.Count(daytonatest.OpGet), gets)

	// The API answers a start once the sandbox runs (sandbox.controller.ts:
	// 515-520 @v0.190.0).
	began := time.Now()
	r := authed(t, srv, "POST", "/api/sandbox/"+sb2.ID+"/start", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "started", r.JSON(t)["state"])
	require.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond)
	rec, _ := srv.Sandbox(sb2.ID)
	require.Equal(t, daytonatest.StateStarted, rec.State)
}

func TestArchiveAndRestore(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	ctx := t.Context()
	_, err := sb.Process.ExecuteCommand(ctx, "echo archived > a.txt")
	require.NoError(t, err)

	requireDaytonaError(t, sb.Archive(ctx), http.StatusBadRequest, "Sandbox is not stopped")
	require.NoError(t, sb.Stop(ctx))
	require.NoError(t, sb.Archive(ctx))
	require.Equal(t, apiclient.SANDBOXSTATE_ARCHIVED, sb.State)
	requireDaytonaError(t, sb.Stop(ctx), http.StatusBadRequest, "Sandbox is not in a stoppable state")
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)

	require.NoError(t, sb.Start(ctx))
	res, err := sb.Process.ExecuteCommand(ctx, "cat a.txt")
	require.NoError(t, err)
	require.Equal(t, "archived\n", res.Result)

	// A dead record cannot be started.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateDestroyed, ""))
	requireDaytonaError(t, sb.Start(ctx), http.StatusBadRequest, "Sandbox is not in valid state")
}

func TestListedSandboxesWork(t *testing.T) {
	t.Parallel()
	_, c, sb := newSandbox(t, daytonatest.WithServiceVersion(daytonatest.Service0190)) // SDK v0.173.0's List: /paginated
	page, err := c.List(t.Context(), nil, nil, nil)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	got := page.Items[0]
	require.Equal(t, sb.ID, got.ID)
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, got.State)
	res, err := got.Process.ExecuteCommand(t.Context(), "echo listed")
	require.NoError(t, err)
	require.Equal(t, "listed\n", res.Result)
}
