package daytona_test

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	a := newSandbox(t, srv)
	b := newSandbox(t, srv)

	idRE := regexp.MustCompile(`^daytona-sandbox-[0-9a-z]+-[0-9a-z]{6}$`)
	assert.Regexp(t, idRE, a.ID())
	assert.NotEqual(t, a.ID(), b.ID(), "generated ids must differ")
	assert.Equal(t, "DaytonaSandbox", a.Name())
	assert.Equal(t, "daytona", a.Provider())
	assert.Equal(t, workspace.StatusPending, a.Status())
	assert.Equal(t, a.ID(), a.RemoteName(), "the remote name defaults to the id")
	assert.Empty(t, a.DaytonaID())

	// Construction, status, instructions and info make no request.
	_ = a.GetInstructions()
	_, err := a.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Zero(t, srv.TotalCount(), "New/Status/GetInstructions/GetInfo sent requests")
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  daytona.Option
		want string
	}{
		{"empty id", daytona.WithID(""), "WithID"},
		{"control char id", daytona.WithID("a\nb"), "WithID"},
		{"empty key", daytona.WithAPIKey(" "), "WithAPIKey"},
		{"bad url scheme", daytona.WithAPIURL("ftp://x"), "WithAPIURL"},
		{"url without host", daytona.WithAPIURL("http://"), "WithAPIURL"},
		{"url with credentials", daytona.WithAPIURL("https://u:p@x/api"), "WithAPIURL"},
		{"empty target", daytona.WithTarget(""), "WithTarget"},
		{"zero timeout", daytona.WithTimeout(0), "WithTimeout"},
		{"negative timeout", daytona.WithTimeout(-5 * time.Second), "WithTimeout"},
		{"unknown language", daytona.WithLanguage("ruby"), "WithLanguage"},
		{"negative resources", daytona.WithResources(daytona.Resources{CPU: -1}), "WithResources"},
		{"zero resources", daytona.WithResources(daytona.Resources{}), "WithResources"},
		{"bad env name", daytona.WithEnv(map[string]string{"INVALID-NAME": "x"}), "WithEnv"},
		{"env name with injection", daytona.WithEnv(map[string]string{"sandbox not found; printf x": "x"}), "WithEnv"},
		{"env value with NUL", daytona.WithEnv(map[string]string{"A": "x\x00y"}), "WithEnv"},
		{"empty label key", daytona.WithLabels(map[string]string{"": "x"}), "WithLabels"},
		{"empty snapshot", daytona.WithSnapshot(""), "WithSnapshot"},
		{"empty image", daytona.WithImage(" "), "WithImage"},
		{"negative auto-stop", daytona.WithAutoStopInterval(-time.Minute), "WithAutoStopInterval"},
		{"fractional auto-stop", daytona.WithAutoStopInterval(90 * time.Second), "whole number of minutes"},
		{"negative auto-archive", daytona.WithAutoArchiveInterval(-time.Minute), "WithAutoArchiveInterval"},
		{"fractional auto-delete", daytona.WithAutoDeleteInterval(time.Second), "WithAutoDeleteInterval"},
		{"volume without id", daytona.WithVolumes(daytona.VolumeMount{MountPath: "/data"}), "VolumeID"},
		{"relative mount path", daytona.WithVolumes(daytona.VolumeMount{VolumeID: "v", MountPath: "data"}), "MountPath"},
		{"duplicate mount path", daytona.WithVolumes(
			daytona.VolumeMount{VolumeID: "v1", MountPath: "/data"},
			daytona.VolumeMount{VolumeID: "v2", MountPath: "/data"}), "two volumes"},
		{"empty name", daytona.WithName(""), "WithName"},
		{"empty user", daytona.WithUser(""), "WithUser"},
		{"empty allow list", daytona.WithNetworkAllowList(""), "WithNetworkAllowList"},
		{"malformed CIDR", daytona.WithNetworkAllowList("10.0.0.0/8,not-a-cidr"), `"not-a-cidr" is not a CIDR`},
		{"CIDR without mask", daytona.WithNetworkAllowList("10.0.0.1"), "not a CIDR"},
		{"nil logger", daytona.WithLogger(nil), "WithLogger"},
		{"empty existing id", daytona.WithExistingSandbox(""), "WithExistingSandbox"},
		{"endpoint without key", daytona.WithEndpoint("http://127.0.0.1:1/api", " "), "WithEndpoint: empty key"},
		{"endpoint bad URL", daytona.WithEndpoint("ftp://h", "k"), "WithEndpoint: WithAPIURL"},
		{"nil option", nil, "option 0 is nil"},
	}
	srv := newServer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := daytona.New(tc.opt, daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
			require.Error(t, err)
			assert.Nil(t, sb)
			assert.ErrorIs(t, err, daytona.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "daytona: "), "error %q lacks the daytona: prefix", err)
		})
	}
	assert.Zero(t, srv.TotalCount(), "invalid options must not send requests")
}

func TestCreateRequestDefaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)

	body := lastCreateBody(t, srv)
	assert.Equal(t, map[string]any{
		"name":             sb.ID(),
		"labels":           map[string]any{"mastra-sandbox-id": sb.ID(), "code-toolbox-language": "typescript"},
		"autoStopInterval": float64(15),
		"public":           false,
		"networkBlockAll":  false,
	}, body)
	// Default mode: no snapshot, no image, no resources, no env.
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	assert.Equal(t, daytonatest.DefaultSnapshot, rec.Snapshot)
	assert.Empty(t, rec.Dockerfile)
}

func TestCreateRequestAllOptions(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	labels := map[string]string{"team": "ai", "mastra-sandbox-id": "overridden"}
	env := map[string]string{"E": "1"}
	sb := startedSandbox(t, srv,
		daytona.WithID("full"),
		daytona.WithName("disp"),
		daytona.WithLanguage(daytona.Python),
		daytona.WithImage("debian:12.9"),
		daytona.WithResources(daytona.Resources{CPU: 2, Memory: 4, Disk: 6}),
		daytona.WithEphemeral(true),
		daytona.WithAutoStopInterval(30*time.Minute),
		daytona.WithAutoArchiveInterval(time.Hour),
		daytona.WithAutoDeleteInterval(5*time.Minute),
		daytona.WithVolumes(daytona.VolumeMount{VolumeID: "v1", MountPath: "/vol", Subpath: "sub/dir"}),
		daytona.WithUser("ubuntu"),
		daytona.WithPublic(true),
		daytona.WithNetworkBlockAll(true),
		daytona.WithNetworkAllowList("10.0.0.0/8"),
		daytona.WithLabels(labels),
		daytona.WithEnv(env),
		daytona.WithTarget("eu"),
	)
	body := lastCreateBody(t, srv)
	assert.Equal(t, map[string]any{
		"name":                "disp",
		"buildInfo":           map[string]any{"dockerfileContent": "FROM debian:12.9"},
		"user":                "ubuntu",
		"labels":              map[string]any{"team": "ai", "mastra-sandbox-id": "full", "code-toolbox-language": "python"},
		"public":              true,
		"target":              "eu",
		"cpu":                 float64(2),
		"memory":              float64(4),
		"disk":                float64(6),
		"autoStopInterval":    float64(30),
		"autoArchiveInterval": float64(60),
		"autoDeleteInterval":  float64(0), // ephemeral wins
		"volumes":             []any{map[string]any{"volumeId": "v1", "mountPath": "/vol", "subpath": "sub/dir"}},
		"networkBlockAll":     true,
		"networkAllowList":    "10.0.0.0/8",
	}, body)
	// The caller's maps are untouched.
	assert.Equal(t, map[string]string{"team": "ai", "mastra-sandbox-id": "overridden"}, labels)
	assert.Equal(t, map[string]string{"E": "1"}, env)
	assert.Equal(t, "disp", sb.RemoteName())
	assert.Equal(t, "DaytonaSandbox", sb.Name(), "WithName must not change Name()")
}

func TestCreationModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		opts       []daytona.Option
		snapshot   any // expected "snapshot" key, nil if absent
		dockerfile any // expected buildInfo.dockerfileContent, nil if absent
		resources  bool
		warns      bool
	}{
		{"snapshot", []daytona.Option{daytona.WithSnapshot("my-snap")}, "my-snap", nil, false, false},
		{"image", []daytona.Option{daytona.WithImage("node:20-slim")}, nil, "FROM node:20-slim", false, false},
		{"image with resources", []daytona.Option{daytona.WithImage("node:20-slim"),
			daytona.WithResources(daytona.Resources{CPU: 4, Memory: 8})}, nil, "FROM node:20-slim", true, false},
		{"snapshot wins over image and resources", []daytona.Option{daytona.WithSnapshot("my-snap"),
			daytona.WithImage("node:20-slim"), daytona.WithResources(daytona.Resources{CPU: 4})}, "my-snap", nil, false, false},
		{"resources without image are ignored", []daytona.Option{
			daytona.WithResources(daytona.Resources{CPU: 4})}, nil, nil, false, true},
		{"default", nil, nil, nil, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "my-snap"}))
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			startedSandbox(t, srv, append(tc.opts, daytona.WithLogger(logger))...)
			body := lastCreateBody(t, srv)
			assert.Equal(t, tc.snapshot, body["snapshot"])
			if tc.dockerfile == nil {
				assert.NotContains(t, body, "buildInfo")
			} else {
				assert.Equal(t, map[string]any{"dockerfileContent": tc.dockerfile}, body["buildInfo"])
			}
			if tc.resources {
				assert.Equal(t, float64(4), body["cpu"])
				assert.Equal(t, float64(8), body["memory"])
				assert.NotContains(t, body, "disk", "zero resources are not sent")
			} else {
				for _, k := range []string{"cpu", "memory", "disk", "gpu"} {
					assert.NotContains(t, body, k)
				}
			}
			hasWarning := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "WithResources has no effect without WithImage")
			assert.Equal(t, tc.warns, hasWarning, "logs: %s", logs.String())
		})
	}
}

func TestLoggerIsSilentByDefaultAndNeverLogsTheKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sb := startedSandbox(t, srv, daytona.WithLogger(logger))
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Destroy(t.Context()))
	assert.Contains(t, logs.String(), "creating remote sandbox")
	assert.NotContains(t, logs.String(), srv.APIKey())
}

func TestMissingCredentials(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb, err := daytona.New(daytona.WithAPIURL(srv.APIURL()), daytona.WithoutEnvironment())
	require.NoError(t, err, "missing credentials surface on first use, not in New")
	err = sb.Start(t.Context())
	require.Error(t, err)
	assert.True(t, errors.Is(err, daytona.ErrNoCredentials), "got %v", err)
	assert.Contains(t, err.Error(), "DAYTONA_API_KEY")
	assert.Equal(t, workspace.StatusError, sb.Status())
	assert.Zero(t, srv.TotalCount())
	require.NoError(t, sb.Destroy(t.Context()), "nothing can exist remotely without credentials")
}

func TestWrongKeyNeverAppearsInErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const secret = "sk-this-is-secret-123"
	sb, err := daytona.New(daytona.WithAPIURL(srv.APIURL()), daytona.WithAPIKey(secret), daytona.WithoutEnvironment())
	require.NoError(t, err)
	err = sb.Start(t.Context())
	require.Error(t, err)
	assert.Equal(t, 401, daytona.StatusCode(err))
	assert.NotContains(t, err.Error(), secret)
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, info.ID+info.Name+sb.GetInstructions(), secret)
}
