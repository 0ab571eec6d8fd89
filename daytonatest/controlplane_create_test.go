//go:build unix

package daytonatest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// answer is the status and message of an API answer; a message "" is not
// checked.
type answer struct {
	status int
	msg    string
}

func refused(msg string) answer { return answer{http.StatusBadRequest, msg} }

var created = answer{http.StatusOK, ""}

const build = `"buildInfo":{"dockerfileContent":"FROM alpine"}`

const perSandbox = "\nNeed higher resource limits per-sandbox? Contact us at support@daytona.io and let us know about your use case."

// TestCreateValidation: the answers of POST /sandbox to bad requests, in
// each version, in the API's words and order: the validation pipe's
// messages (create-sandbox.dto.ts, joined by all-exceptions.filter.ts:
// 64-72), then the controller's checks of the mode
// (sandbox.controller.ts:284-302 @v0.190.0), then the service's checks
// of the organization's snapshots, regions and per-sandbox maximums, the
// network allow list and the intervals (sandbox.service.ts:460-731,
// 850-1067, 170-236, 3290-3319 @v0.190.0), then the insert.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	networks := strings.Repeat("10.0.0.0/8,", 10) + "10.0.0.0/8"
	cases := []struct {
		body string
		want byVersion[answer]
	}{
		// IsSafeDisplayString (is-safe-string.validator.ts:14-53).
		{`{"name":"<b>x</b>"}`, same(refused("name must not contain HTML tags, URLs, or control characters"))},
		{`{"name":"see https://example.com"}`, same(refused("name must not contain HTML tags, URLs, or control characters"))},
		{`{"name":"www.example"}`, same(refused("name must not contain HTML tags, URLs, or control characters"))},
		{`{"name":"a\u0001b"}`, same(refused("name must not contain HTML tags, URLs, or control characters"))},
		{`{"name":"tab\tand a/slash"}`, same(created)},
		{`{"name":1}`, same(refused("name must not contain HTML tags, URLs, or control characters, name must be a string"))},
		// Types, and the minimums v0.190.0 added (@Min(0), gpu @Max(1)).
		{`{"cpu":"two"}`, until(daytonatest.Service0173, refused("cpu must be a number conforming to the specified constraints"),
			refused("cpu must not be less than 0, cpu must be a number conforming to the specified constraints"))},
		{`{"memory":-4}`, until(daytonatest.Service0173, refused("Cannot specify Sandbox resources when using a snapshot"),
			refused("memory must not be less than 0"))},
		{`{"gpu":2,` + build + `}`, until(daytonatest.Service0173, created, refused("gpu must not be greater than 1"))},
		{`{"labels":[],"public":"yes","env":"x"}`, same(refused("env must be an object, labels must be an object, public must be a boolean value"))},
		{`{"class":"huge"}`, until(daytonatest.Service0173, refused("class must be one of the following values: small, medium, large"), created)},
		{`{"gpuType":"A100"}`, until(daytonatest.Service0173, created, refused("each value in gpuType must be one of the following values: H100, RTX-PRO-6000"))},
		{`{"gpuType":"H100"}`, until(daytonatest.Service0173, created, refused("Cannot specify GPU type when creating sandbox from snapshot. GPU type is inherited from snapshot."))},
		{`{"gpuType":[]}`, same(created)},
		{`{"volumes":[{"volumeId":""}]}`, until(daytonatest.Service0173, created,
			refused("volumes.0.volumeId should not be empty, volumes.0.mountPath must be a string"))},
		{`{"volumes":{}}`, same(refused("volumes must be an array"))},
		{`{"autoPauseInterval":"x"}`, until(daytonatest.Service0190, created,
			refused("autoPauseInterval must be a number conforming to the specified constraints"))},
		// The mode.
		{`{"snapshot":"s",` + build + `}`, same(refused("Cannot specify a snapshot when using a build info entry"))},
		{`{"snapshot":"",` + build + `}`, same(created)},
		{`{"disk":20}`, same(refused("Cannot specify Sandbox resources when using a snapshot"))},
		// What the organization has.
		{`{"snapshot":"nope"}`, same(refused("Snapshot nope not found. Did you add it through the Daytona Dashboard?"))},
		{`{"snapshot":"  "}`, same(created)},
		{`{"target":"mars","snapshot":"nope"}`, same(answer{http.StatusNotFound, "Region not found"})},
		{`{"target":" eu "}`, same(created)},
		{`{` + build + `,"cpu":5}`, same(refused("CPU request 5 exceeds maximum allowed per sandbox (4)." + perSandbox))},
		{`{` + build + `,"memory":9}`, same(refused("Memory request 9GB exceeds maximum allowed per sandbox (8GB)." + perSandbox))},
		{`{` + build + `,"disk":10.5}`, same(refused("Disk request 10.5GB exceeds maximum allowed per sandbox (10GB)." + perSandbox))},
		{`{` + build + `,"gpu":1}`, until(daytonatest.Service0173, created, refused("GPU sandboxes must be ephemeral - set autoDeleteInterval to 0"))},
		// The network allow list (network-validation.util.ts:12-38).
		{`{"networkAllowList":"nope"}`, same(refused(`Invalid IP address: "nope" in network "nope". Must be a valid IPv4 address`))},
		{`{"networkAllowList":"10.0.0.0"}`, same(refused(`Invalid network format: "10.0.0.0". Missing CIDR prefix length (e.g., /24)`))},
		{`{"networkAllowList":"10.0.0.0/33"}`, same(refused("Invalid CIDR prefix length: 10.0.0.0/33. Prefix must be between 0 and 32"))},
		{`{"networkAllowList":" 10.0.0.0/8 , ,192.168.0.0/x"}`, same(created)},
		{`{"networkAllowList":"` + networks + `"}`, same(refused("Network allow list cannot contain more than 10 networks"))},
		// The intervals.
		{`{"autoStopInterval":-1}`, same(refused("Auto-stop interval must be non-negative"))},
		{`{"autoArchiveInterval":-1}`, same(refused("Auto-archive interval must be non-negative"))},
		// The insert: a number that fits no integer column is a 500.
		{`{"autoArchiveInterval":0.5}`, same(answer{http.StatusInternalServerError, "An unexpected error occurred."})},
		{`{"autoDeleteInterval":3000000000}`, same(answer{http.StatusInternalServerError, "An unexpected error occurred."})},
		{`{` + build + `,"cpu":1.5}`, same(answer{http.StatusInternalServerError, "An unexpected error occurred."})},
	}
	for _, v := range versions {
		srv := newServerAt(t, v)
		for _, tc := range cases {
			r := authed(t, srv, "POST", "/api/sandbox", tc.body)
			want := tc.want[v]
			require.Equal(t, want.status, r.Status, "%s %s: %s", v, tc.body, r.Body)
			if want.msg != "" {
				requireAPIError(t, r, want.status, want.msg, "/api/sandbox")
			}
		}
	}
}

// TestCreateInvalidJSON: a body that is not a JSON object is refused by
// the body parser with the exception's own body, without the filter's
// path and timestamp (body-parser-error.module.ts:15-22 @v0.190.0 and
// @v0.173.0); an array by class-validator.
func TestCreateInvalidJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, body := range []string{`{"name":`, `nope`, `"a string"`, `12`} {
		r := authed(t, srv, "POST", "/api/sandbox", body)
		require.Equal(t, http.StatusBadRequest, r.Status)
		require.Equal(t, map[string]any{"message": "Invalid JSON in request body", "error": "Bad Request", "statusCode": 400.0}, r.JSON(t))
	}
	r := authed(t, srv, "POST", "/api/sandbox", `[1,2]`)
	requireAPIError(t, r, http.StatusBadRequest, "an unknown value was passed to the validate function", "/api/sandbox")
	require.Empty(t, srv.Sandboxes())
}

// TestCreateDefaults: a build without resources (or with 0) gets 1 CPU,
// 1 GiB and 3 GiB (sandbox.service.ts:121-124, 860-863 @v0.190.0;
// 112-114 @v0.173.0); a sandbox from a snapshot gets the snapshot's; an
// auto-archive interval of 0 is the maximum, 43200 minutes, and larger
// ones are cut to it (configuration.ts:97, sandbox.service.ts:3298-3310).
func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v, daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "big", CPU: 4, Memory: 8, Disk: 10}))
		c := newClient(t, srv)
		img := createSandbox(t, c, types.ImageParams{Image: "alpine", Resources: &types.Resources{CPU: 0}})
		rec, _ := srv.Sandbox(img.ID)
		require.Equal(t, []int{1, 0, 1, 3}, []int{rec.CPU, rec.GPU, rec.Memory, rec.Disk}, v)
		require.Equal(t, []int{daytonatest.DefaultImageCPU, daytonatest.DefaultImageMemory, daytonatest.DefaultImageDisk}, []int{1, 1, 3})

		snap := createSandbox(t, c, types.SnapshotParams{Snapshot: "big", SandboxBaseParams: types.SandboxBaseParams{AutoArchiveInterval: ptr(0)}})
		rec, _ = srv.Sandbox(snap.ID)
		require.Equal(t, []int{4, 8, 10}, []int{rec.CPU, rec.Memory, rec.Disk}, v)
		require.Equal(t, daytonatest.MaxAutoArchiveInterval, rec.AutoArchiveInterval)
		require.Equal(t, 43200, snap.AutoArchiveInterval)

		capped := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{AutoArchiveInterval: ptr(99999)}})
		require.Equal(t, 43200, capped.AutoArchiveInterval)
	}
}

// TestCreateOrganizationOptions: the organization's snapshots, regions and
// per-sandbox maximums can be set; a snapshot gives its class.
func TestCreateOrganizationOptions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithRegion("mars"),
		daytonatest.WithSandboxLimits(daytonatest.SandboxLimits{CPU: 2, Memory: 2, Disk: 2}),
		daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "vm", Class: daytonatest.ClassLinuxVM, CPU: 1, Memory: 1, Disk: 1}))
	r := authed(t, srv, "POST", "/api/sandbox", `{"target":"mars","snapshot":"vm"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "mars", m["target"])
	require.Equal(t, "linux-vm", m["sandboxClass"])
	require.NotContains(t, m, "class")
	// The default snapshot (4 GiB) is too large for this organization.
	r = authed(t, srv, "POST", "/api/sandbox", `{}`)
	requireAPIError(t, r, http.StatusBadRequest, "Memory request 4GB exceeds maximum allowed per sandbox (2GB)."+perSandbox, "/api/sandbox")
	r = authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"vm","name":"x"}`)
	require.Equal(t, http.StatusOK, r.Status)

	// A snapshot added while the server runs, as in the dashboard.
	require.Equal(t, http.StatusBadRequest, authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"later"}`).Status)
	require.NoError(t, srv.AddSnapshot(daytonatest.Snapshot{Name: "later", CPU: 1, Memory: 1, Disk: 1}))
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"later"}`).Status)
	require.ErrorContains(t, srv.AddSnapshot(daytonatest.Snapshot{Name: "bad", Disk: -1}), `AddSnapshot("bad"): negative resources`)

	for _, opt := range []daytonatest.Option{
		daytonatest.WithSnapshot(daytonatest.Snapshot{}),
		daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "x", CPU: -1}),
		daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "x", Class: "gpu"}),
		daytonatest.WithRegion(" "),
		daytonatest.WithSandboxLimits(daytonatest.SandboxLimits{CPU: 1}),
	} {
		_, err := daytonatest.Run(opt)
		require.Error(t, err)
	}
}

// TestSnapshotsFromTheEnvironment: DAYTONATEST_SNAPSHOTS adds snapshots
// to the organization of every server, and DAYTONATEST_SANDBOX_LIMITS sets
// its per-sandbox maximums.
func TestSnapshotsFromTheEnvironment(t *testing.T) {
	t.Setenv(daytonatest.SnapshotsEnv, "from-env, other")
	srv := newServer(t)
	for _, name := range []string{"from-env", "other"} {
		r := authed(t, srv, "POST", "/api/sandbox", fmt.Sprintf(`{"snapshot":%q}`, name))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	r := authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"third"}`)
	require.Equal(t, http.StatusBadRequest, r.Status)

	// DAYTONATEST_SANDBOX_LIMITS sets the per-sandbox maximums.
	t.Setenv(daytonatest.SandboxLimitsEnv, "8,16,50")
	r = authed(t, newServer(t), "POST", "/api/sandbox", `{`+build+`,"cpu":8,"memory":16,"disk":50}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	t.Setenv(daytonatest.SandboxLimitsEnv, "8,16")
	_, err := daytonatest.Run()
	require.ErrorContains(t, err, `DAYTONATEST_SANDBOX_LIMITS="8,16": want CPU,MEMORY,DISK`)
}

// TestCreateClassByVersion: the class is "class" and small by default in
// v0.173.0 (sandbox.dto.ts:314, sandbox.service.ts:2328-2330 @v0.173.0),
// "sandboxClass" and the snapshot's since (sandbox.dto.ts:349,
// sandbox.service.ts:636 @v0.190.0); kvm and autoPauseInterval are
// today's (@daytonaio/api-client 0.220.0, models/sandbox.d.ts).
func TestCreateClassByVersion(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v)
		m := authed(t, srv, "POST", "/api/sandbox", `{"class":"medium"}`).JSON(t)
		switch v {
		case daytonatest.Service0173:
			require.Equal(t, "medium", m["class"])
			require.NotContains(t, m, "sandboxClass")
		default:
			require.Equal(t, "container", m["sandboxClass"])
			require.NotContains(t, m, "class")
		}
		_, hasKVM := m["kvm"]
		_, hasPause := m["autoPauseInterval"]
		require.Equal(t, v == daytonatest.ServiceCurrent, hasKVM && hasPause, v)
	}
}

// TestCreateWaitsForTheStart: from a snapshot, the API answers once the
// sandbox has started, with the record as it was created, or a 400 if it
// fails (sandbox.controller.ts:303-308, 1532-1568 @v0.190.0; 307-312
// @v0.173.0); a build is answered at once.
func TestCreateWaitsForTheStart(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(200*time.Millisecond))
	began := time.Now()
	r := authed(t, srv, "POST", "/api/sandbox", `{"name":"waited"}`)
	require.Equal(t, http.StatusOK, r.Status)
	require.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond)
	require.Equal(t, "creating", r.JSON(t)["state"])
	rec, _ := srv.Sandbox("waited")
	require.Equal(t, daytonatest.StateStarted, rec.State, "answered before the sandbox started")

	r = authed(t, srv, "POST", "/api/sandbox", `{"name":"built",`+build+`}`)
	require.Equal(t, http.StatusOK, r.Status)
	rec, _ = srv.Sandbox("built")
	require.Equal(t, daytonatest.StateCreating, rec.State)

	// A sandbox that fails to start is a 400, and stays.
	srv = newServer(t, daytonatest.WithTransitionDelay(time.Hour))
	c := newClient(t, srv)
	done := make(chan error, 1)
	go func() {
		_, err := c.Create(t.Context(), types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "fails"}})
		done <- err
	}()
	waitFor(t, 10*time.Second, "the sandbox to exist", func() bool { _, ok := srv.Sandbox("fails"); return ok })
	require.NoError(t, srv.FailSandbox("fails", "no space left", false))
	requireDaytonaError(t, <-done, http.StatusBadRequest, "Sandbox failed to start: no space left")
	got, err := c.Get(t.Context(), "fails")
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_ERROR, got.State)
}
