// Package controlplane is the wire to Daytona's control plane: resolving
// the connection (connection.go), the HTTP transport and WebSocket
// dialers every request shares (transport.go), the generated API client
// and the requests about one sandbox (this file), its lifecycle (finding,
// creating, recovering and starting it: lifecycle.go; stopping and
// deleting it: ending.go; reading and waiting through its states:
// states.go; waiting out rate limits: ratelimit.go), the body of the
// request that creates it (create.go) and the names Daytona refuses
// (names.go). Errors are the SDK's types (decoded by package apierr),
// wrapped with the operation (package fault) where a step of the
// lifecycle fails.
package controlplane

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	apitoolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/toolbox"
)

// Client is the connection to Daytona: the generated control-plane client
// that every lifecycle call goes through, and the SDK's client, used only
// to make the SDK's Sandbox (see toolbox.Client.SDK). Both send their
// requests with one HTTP client. It is safe for concurrent use.
type Client struct {
	api  *apiclient.APIClient
	sdk  *sdk.Client
	hc   *http.Client
	conn Connection
	log  *slog.Logger
}

// New returns the client of conn, sending with hc (SharedHTTP if nil) and
// logging to log. It makes no network request.
func New(conn Connection, hc *http.Client, log *slog.Logger) (*Client, error) {
	sdkc, err := sdk.NewClientWithConfig(&types.DaytonaConfig{
		APIKey:         conn.APIKey.Reveal(),
		JWTToken:       conn.JWTToken.Reveal(),
		OrganizationID: conn.OrgID,
		APIUrl:         conn.APIURL,
		Target:         conn.Target,
	})
	if err != nil {
		return nil, fault.Wrap("connect", err)
	}
	if hc == nil {
		hc = SharedHTTP
	}
	return &Client{sdk: sdkc, api: newAPIClient(conn, hc), hc: hc, conn: conn, log: log}, nil
}

// newAPIClient builds the generated control-plane client, with the
// headers the SDK sends (the API and the daemon look at the SDK version).
func newAPIClient(conn Connection, hc *http.Client) *apiclient.APIClient {
	cfg := apiclient.NewConfiguration()
	u, _ := url.Parse(conn.APIURL) // validated when resolved
	cfg.Host = u.Host
	cfg.Scheme = u.Scheme
	cfg.Servers = apiclient.ServerConfigurations{{URL: u.Scheme + "://" + u.Host + u.Path}}
	cfg.HTTPClient = hc
	for k, v := range sdkHeaders(conn) {
		cfg.AddDefaultHeader(k, v)
	}
	cfg.UserAgent = "sdk-go/" + sdk.Version
	return apiclient.NewAPIClient(cfg)
}

// sdkHeaders returns the headers the SDK sends with every request besides
// the credential.
func sdkHeaders(conn Connection) map[string]string {
	h := map[string]string{
		"X-Daytona-Source":      "sdk-go",
		"X-Daytona-SDK-Version": sdk.Version,
	}
	if conn.JWTToken != nil && conn.APIKey == nil {
		h["X-Daytona-Organization-ID"] = conn.OrgID
	}
	return h
}

// Credential says which credential the client sends ("API key" or "JWT
// token") and where it came from (never the credential itself).
func (c *Client) Credential() (what, from string) {
	what, from = "API key", "the options"
	if c.conn.APIKey == nil {
		what = "JWT token"
	}
	if c.conn.KeySource != "" {
		from = c.conn.KeySource
	}
	return what, from
}

// Target returns the target region the client creates sandboxes in (""
// for Daytona's default).
func (c *Client) Target() string { return c.conn.Target }

// auth returns ctx carrying the credential for a request of the generated
// control-plane client.
func (c *Client) auth(ctx context.Context) context.Context {
	return context.WithValue(ctx, apiclient.ContextAccessToken, c.token())
}

// token returns the bearer credential.
func (c *Client) token() string {
	if k := c.conn.APIKey.Reveal(); k != "" {
		return k
	}
	return c.conn.JWTToken.Reveal()
}

// convert turns an error of the generated client into the SDK's error
// types, as the SDK does, keeping today's code and source.
func convert(err error, resp *http.Response) error {
	return apierr.FromAPI(err, resp)
}

// record fetches the sandbox record from the control plane, with the
// states the generated client cannot decode read back (realState).
func (c *Client) record(ctx context.Context, idOrName string) (*apiclient.Sandbox, error) {
	var rec *apiclient.Sandbox
	err := apierr.Safe(ctx, func() error {
		var resp *http.Response
		var err error
		rec, resp, err = c.api.SandboxAPI.GetSandbox(c.auth(ctx), idOrName).Execute()
		realState(rec, resp)
		return convert(err, resp)
	})
	return rec, err
}

// State returns the state the control plane reports for the sandbox.
func (c *Client) State(ctx context.Context, id string) (string, error) {
	rec, err := c.record(ctx, id)
	if err != nil {
		return "", err
	}
	return string(rec.GetState()), nil
}

// toolbox makes the toolbox client of the sandbox rec describes: the SDK's
// Sandbox on a toolbox client of our own, which sends the SDK's headers
// through c's HTTP client.
func (c *Client) toolbox(rec *apiclient.Sandbox) *toolbox.Client {
	base := strings.TrimRight(rec.GetToolboxProxyUrl(), "/") + "/" + rec.GetId()
	cfg := apitoolbox.NewConfiguration()
	if u, err := url.Parse(base); err == nil {
		cfg.Host, cfg.Scheme = u.Host, u.Scheme
	}
	cfg.Servers = apitoolbox.ServerConfigurations{{URL: base}}
	cfg.HTTPClient = c.hc
	cfg.AddDefaultHeader("Authorization", "Bearer "+c.token())
	for k, v := range sdkHeaders(c.conn) {
		cfg.AddDefaultHeader(k, v)
	}
	cfg.UserAgent = "sdk-go/" + sdk.Version
	archive, del := 0, -1 // auto-delete unknown: not ephemeral
	if rec.AutoArchiveInterval != nil {
		archive = int(*rec.AutoArchiveInterval)
	}
	if rec.AutoDeleteInterval != nil {
		del = int(*rec.AutoDeleteInterval)
	}
	lang := types.CodeLanguage(rec.GetLabels()[types.CodeToolboxLanguageLabel])
	sb := sdk.NewSandbox(c.sdk, apitoolbox.NewAPIClient(cfg), rec.GetId(), rec.GetName(), rec.GetState(), rec.GetTarget(),
		archive, del, rec.GetNetworkBlockAll(), rec.NetworkAllowList, lang)
	return toolbox.New(sb, c.hc, Dialer(c.hc))
}

// Touch refreshes the activity of the sandbox, so that Daytona's
// auto-stop counts its idle time from now.
func (c *Client) Touch(ctx context.Context, id string) error {
	resp, err := c.api.SandboxAPI.UpdateLastActivity(c.auth(ctx), id).Execute()
	return convert(err, resp)
}

// SetAutoStop sets the sandbox's auto-stop interval, in minutes (0: off).
func (c *Client) SetAutoStop(ctx context.Context, id string, minutes int) error {
	_, resp, err := c.api.SandboxAPI.SetAutostopInterval(c.auth(ctx), id, float32(minutes)).Execute()
	return convert(err, resp)
}

// PreviewURL returns the preview URL of a port of the sandbox, and the
// token its requests carry.
func (c *Client) PreviewURL(ctx context.Context, id string, port int) (link, token string, err error) {
	l, resp, err := c.api.SandboxAPI.GetPortPreviewUrl(c.auth(ctx), id, float32(port)).Execute()
	if err != nil {
		return "", "", convert(err, resp)
	}
	return l.GetUrl(), l.GetToken(), nil
}

// SignedPreviewURL returns a preview URL of a port that carries its own
// token, valid for seconds.
func (c *Client) SignedPreviewURL(ctx context.Context, id string, port, seconds int) (link, token string, err error) {
	l, resp, err := c.api.SandboxAPI.GetSignedPortPreviewUrl(c.auth(ctx), id, int32(port)).
		ExpiresInSeconds(int32(seconds)).Execute()
	if err != nil {
		return "", "", convert(err, resp)
	}
	return l.GetUrl(), l.GetToken(), nil
}

// ExpirePreviewURL revokes a signed preview URL of a port.
func (c *Client) ExpirePreviewURL(ctx context.Context, id string, port int, token string) error {
	resp, err := c.api.SandboxAPI.ExpireSignedPortPreviewUrl(c.auth(ctx), id, int32(port), token).Execute()
	return convert(err, resp)
}

// Live figures of a running sandbox: the record (one request) has its
// resources, the last activity and the auto-stop interval; the usage
// comes from the telemetry endpoint (one more request, sent at the same
// time), whose gauges the daemon exports
// (libs/common-go/pkg/telemetry/metrics.go:236-420 at v0.173.0) and the
// API averages per minute
// (apps/api/src/sandbox-telemetry/services/sandbox-telemetry.service.ts:248-298).
const (
	metricCPU    = "daytona.sandbox.cpu.utilization"  // percent of the CPU limit
	metricMemory = "daytona.sandbox.memory.usage"     // bytes
	metricDisk   = "daytona.sandbox.filesystem.usage" // bytes
	// metricsWindow is how far back Live looks for the latest data
	// points: the API keeps one per minute.
	metricsWindow = 5 * time.Minute
)

// Figures are what Live reports of a running sandbox.
type Figures struct {
	CPUCores         float64
	MemoryMB, DiskMB int64
	Target           string
	LastUsedAt       time.Time // zero if unknown
	TimeoutAt        time.Time // when auto-stop (or auto-pause) fires if it stays idle; zero if off or unknown
	// Today's records also carry the auto-pause interval and, with a TTL,
	// the sandbox's hard end, which no activity moves (@daytonaio/api-client
	// 0.220.0, models/sandbox.d.ts: autoPauseInterval, autoDestroyAt).
	AutoPauseMinutes int       // 0 if off or not reported
	DestroyAt        time.Time // zero if no TTL
	// Usage, when the telemetry endpoint answered.
	HasUsage                 bool
	CPUPercent               float64
	MemoryUsedMB, DiskUsedMB int64
}

// Live fetches the sandbox's record and, at the same time, its latest
// usage figures. Failing to get the usage (the telemetry endpoint is an
// experimental feature of Daytona's, which an organization may not have)
// is not an error: it is left out.
func (c *Client) Live(ctx context.Context, id string) (Figures, error) {
	type answer struct {
		m   *apiclient.MetricsResponse
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		now := time.Now().UTC()
		m, resp, err := c.api.SandboxAPI.GetSandboxMetrics(c.auth(ctx), id).
			From(now.Add(-metricsWindow)).To(now).MetricNames([]string{metricCPU, metricMemory, metricDisk}).Execute()
		ch <- answer{m, convert(err, resp)}
	}()
	rec, err := c.record(ctx, id)
	a := <-ch
	if err != nil {
		return Figures{}, err
	}
	if a.err != nil {
		c.log.Debug("no usage figures", "daytonaID", id, "err", a.err)
	}
	return figures(rec, a.m), nil
}

// figures reads the record and the metrics (nil: none).
func figures(rec *apiclient.Sandbox, m *apiclient.MetricsResponse) Figures {
	f := Figures{CPUCores: float64(rec.Cpu), MemoryMB: int64(rec.Memory * 1024), DiskMB: int64(rec.Disk * 1024), Target: rec.Target}
	if pause, ok := rec.AdditionalProperties["autoPauseInterval"].(float64); ok && pause > 0 {
		f.AutoPauseMinutes = int(pause)
	}
	if at, ok := rec.AdditionalProperties["autoDestroyAt"].(string); ok {
		f.DestroyAt = parseTime(at)
	}
	if last, err := time.Parse(time.RFC3339Nano, rec.GetLastActivityAt()); err == nil {
		f.LastUsedAt = last
		// At most one of the two intervals is non-zero today
		// (models/create-sandbox.d.ts).
		if minutes := max(int(rec.GetAutoStopInterval()), 0); minutes > 0 || f.AutoPauseMinutes > 0 {
			f.TimeoutAt = last.Add(time.Duration(max(minutes, f.AutoPauseMinutes)) * time.Minute)
		}
	}
	if m == nil {
		return f
	}
	f.HasUsage = true
	for _, series := range m.Series {
		points := series.DataPoints
		if len(points) == 0 {
			continue
		}
		v := float64(points[len(points)-1].Value)
		switch series.MetricName {
		case metricCPU:
			f.CPUPercent = v
		case metricMemory:
			f.MemoryUsedMB = int64(v / (1 << 20))
		case metricDisk:
			f.DiskUsedMB = int64(v / (1 << 20))
		}
	}
	return f
}
