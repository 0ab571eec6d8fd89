package daytona

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/workspace"
)

// Option configures a [Sandbox]. Options are applied in order by [New]; an
// invalid value makes New return an error that names the option. For scalar
// settings the last option wins; WithEnv and WithLabels merge, later keys
// winning; WithVolumes and WithMount accumulate.
//
// The options, by what they set (each group below, in this file):
//
//   - Connection: WithAPIKey, WithAPIURL, WithEndpoint, WithTarget,
//     WithHTTPClient, WithoutEnvironment.
//   - Identity and reconnecting: WithID, WithName, WithExistingSandbox,
//     WithCreateIfMissing, WithLabels.
//   - The sandbox created: WithLanguage, WithSnapshot, WithImage,
//     WithResources, WithUser, WithVolumes, WithEphemeral, WithPublic,
//     WithNetworkBlockAll, WithNetworkAllowList, WithAutoStopInterval,
//     WithAutoArchiveInterval, WithAutoDeleteInterval.
//   - Commands: WithTimeout, WithEnv.
//   - Services: WithOnStart, WithOnStop, WithOnDestroy, WithMount,
//     WithKeepAlive, WithKeepAliveInterval.
//   - Diagnostics: WithLogger.
type Option func(*config) error

// LogValue makes slog print an Option as its type alone: what it holds
// (such as an API key) stays out of logs, as fmt shows only its address.
func (Option) LogValue() slog.Value { return slog.StringValue("daytona.Option") }

// New returns a Sandbox configured by opts. It makes no network request:
// it only validates the options, returning an error that wraps
// ErrInvalidInput and names the option at fault. Connection settings are
// resolved, and missing credentials reported, on first use.
func New(opts ...Option) (*Sandbox, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, invalid("option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, invalidErr(err)
		}
	}
	switch {
	case cfg.id == "" && cfg.existingID != "":
		// The logical id is the remote's label, read at start.
		cfg.id, cfg.idFromLabel = cfg.existingID, true
	case cfg.id == "":
		cfg.id = generateID()
	}
	if cfg.name == "" {
		cfg.name = cfg.id
		if cfg.idFromLabel {
			cfg.name = generateID() // for a sandbox WithCreateIfMissing creates
		}
	}
	s := &Sandbox{core: newCore(cfg)}
	if cfg.resources != nil && cfg.image == "" {
		s.log.Warn("WithResources has no effect without WithImage; the sandbox is created from a snapshot with default resources")
	}
	if cfg.snapshot != "" && cfg.image != "" {
		s.log.Debug("WithSnapshot takes precedence over WithImage", "snapshot", cfg.snapshot, "image", cfg.image)
	}
	return s, nil
}

// Connection.

// WithAPIKey sets the Daytona API key. Without it the key comes from
// DAYTONA_API_KEY (see the package documentation for the order).
func WithAPIKey(key string) Option {
	return textOption("WithAPIKey", "key", key, false, func(cfg *config) { cfg.apiKey, cfg.keyOption = controlplane.NewSecret(key), "WithAPIKey" })
}

// WithAPIURL sets the Daytona API URL, such as "https://app.daytona.io/api".
// Without it the URL comes from DAYTONA_API_URL, else DefaultAPIURL.
func WithAPIURL(rawURL string) Option {
	return func(cfg *config) error {
		if err := controlplane.CheckURL(rawURL); err != nil {
			return fmt.Errorf("WithAPIURL(%q): %w", controlplane.RedactURL(rawURL), err)
		}
		cfg.apiURL = strings.TrimRight(rawURL, "/")
		return nil
	}
}

// WithEndpoint points the Sandbox at one Daytona API and key and turns off
// environment lookup (as WithoutEnvironment does), in one call: the form to
// use against an in-process server such as daytonatest, or any deployment
// whose settings must not come from a developer's shell:
//
//	srv := daytonatest.NewServer(t)
//	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
func WithEndpoint(apiURL, apiKey string) Option {
	return func(cfg *config) error {
		if err := WithAPIURL(apiURL)(cfg); err != nil {
			return fmt.Errorf("WithEndpoint: %w", err)
		}
		if err := checkText("WithEndpoint", "key", apiKey, false); err != nil {
			return err
		}
		cfg.apiKey, cfg.keyOption = controlplane.NewSecret(apiKey), "WithEndpoint"
		cfg.noEnv = true
		return nil
	}
}

// WithTarget sets the Daytona target region, such as "us" or "eu". Without
// it the target comes from DAYTONA_TARGET, else Daytona's default.
func WithTarget(target string) Option {
	return textOption("WithTarget", "target", target, false, func(cfg *config) { cfg.target = target })
}

// WithHTTPClient sends every request of the Sandbox (control plane,
// toolbox, commands) with hc, and dials its log streams as hc's transport
// dials (its proxy, dialer and TLS configuration, when it is an
// *http.Transport): for a proxy, custom TLS, or instrumentation such as an
// OpenTelemetry transport. The credential is added to each request, never
// stored in hc. hc should have no Timeout (contexts bound every request,
// and some last as long as a command). The default is a client shared by
// all Sandboxes of the process, whose transport keeps up to 256 idle
// connections per host.
func WithHTTPClient(hc *http.Client) Option {
	return nonNilOption("WithHTTPClient", "client", hc, func(cfg *config) { cfg.httpClient = hc })
}

// WithoutEnvironment turns off this package's reading of DAYTONA_*
// settings from the process environment and from .env files, so that only
// options configure the connection: useful in tests, where a developer's
// shell must not change the result. The Daytona SDK itself still reads
// DAYTONA_JWT_TOKEN, DAYTONA_ORGANIZATION_ID and (without WithTarget)
// DAYTONA_TARGET from the process environment; a stray DAYTONA_JWT_TOKEN is
// reported as a clear error on first use.
func WithoutEnvironment() Option {
	return setOption(func(cfg *config) { cfg.noEnv = true })
}

// Identity and reconnecting.

// WithID sets the sandbox's logical id (the value of ID, the
// mastra-sandbox-id label and the default remote name). The default is
// "daytona-sandbox-<base36 ms>-<6 random base36 chars>". Like WithName, it
// refuses what Daytona refuses in a name.
func WithID(id string) Option {
	return nameOption("WithID", "id", id, func(cfg *config) { cfg.id = id })
}

// WithName sets the name of the remote sandbox (default: the ID). A new
// Sandbox value with the same name reconnects to it. It does not change
// Name(), which names the implementation, as in Mastra. A name Daytona
// refuses (one with an HTML tag, a URL scheme or "www.", or a control
// character) is an error, before any request, with Daytona's reason.
func WithName(name string) Option {
	return nameOption("WithName", "name", name, func(cfg *config) { cfg.name = name })
}

// nameOption returns an option that checks v as Daytona checks a name
// and with checkText, then sets it.
func nameOption(opt, label, v string, set func(*config)) Option {
	return func(cfg *config) error {
		if err := controlplane.CheckName(v); err != nil {
			return fmt.Errorf("%s(%q): Daytona refuses it: %w", opt, v, err)
		}
		if err := checkText(opt, label, v, true); err != nil {
			return err
		}
		set(cfg)
		return nil
	}
}

// WithExistingSandbox attaches to the remote sandbox with this Daytona id
// (as returned by Sandbox.DaytonaID), for example one created by an earlier
// run of the program. Start then reconnects to it, restarting it if it is
// stopped or archived. If it does not exist (or is dead), Start fails with
// an error matching ErrSandboxNotFound, unless WithCreateIfMissing asks for
// a new one instead. Without WithID, ID() is the remote sandbox's logical
// id (its mastra-sandbox-id label) once started.
func WithExistingSandbox(daytonaID string) Option {
	return textOption("WithExistingSandbox", "id", daytonaID, false, func(cfg *config) { cfg.existingID = daytonaID })
}

// WithCreateIfMissing makes a Sandbox given WithExistingSandbox create a
// new remote sandbox when that one does not exist or is dead, as Mastra
// does, instead of failing.
func WithCreateIfMissing() Option {
	return setOption(func(cfg *config) { cfg.createIfMissing = true })
}

// WithLabels adds labels to the remote sandbox. The label mastra-sandbox-id
// is always set to the sandbox's ID, so that Go and TypeScript services can
// find each other's sandboxes. The map is copied.
func WithLabels(labels map[string]string) Option {
	return func(cfg *config) error {
		for k := range labels {
			if strings.TrimSpace(k) == "" {
				return errors.New("WithLabels: empty label key")
			}
		}
		if cfg.labels == nil {
			cfg.labels = make(map[string]string, len(labels))
		}
		maps.Copy(cfg.labels, labels)
		return nil
	}
}

// The sandbox created.

// WithLanguage sets the code runtime: TypeScript (the default), JavaScript
// or Python.
func WithLanguage(lang Language) Option {
	return func(cfg *config) error {
		switch lang {
		case TypeScript, JavaScript, Python:
			cfg.language = lang
			return nil
		}
		return fmt.Errorf("WithLanguage(%q): must be typescript, javascript or python", string(lang))
	}
}

// WithSnapshot creates the sandbox from a Daytona snapshot. A snapshot takes
// precedence over WithImage and WithResources.
func WithSnapshot(snapshot string) Option {
	return textOption("WithSnapshot", "snapshot", snapshot, false, func(cfg *config) { cfg.snapshot = snapshot })
}

// WithImage creates the sandbox from a container image, such as
// "node:20-slim", optionally with WithResources.
func WithImage(image string) Option {
	return textOption("WithImage", "image", image, true, func(cfg *config) { cfg.image = image })
}

// WithResources sets CPU cores and GiB of memory and disk. Daytona applies
// resources only to sandboxes created from an image (WithImage); without an
// image they are ignored and a warning is logged.
func WithResources(r Resources) Option {
	return func(cfg *config) error {
		if r.CPU < 0 || r.Memory < 0 || r.Disk < 0 {
			return fmt.Errorf("WithResources(%+v): values must not be negative", r)
		}
		if r == (Resources{}) {
			return errors.New("WithResources: all values are zero")
		}
		cfg.resources = &r
		return nil
	}
}

// WithUser sets the OS user that runs commands (Daytona's default is
// "daytona").
func WithUser(user string) Option {
	return func(cfg *config) error {
		if strings.TrimSpace(user) == "" || !noControl(user) {
			return fmt.Errorf("WithUser(%q): empty or invalid user", user)
		}
		cfg.user = user
		return nil
	}
}

// WithVolumes mounts Daytona volumes into the sandbox. Calls accumulate.
func WithVolumes(volumes ...VolumeMount) Option {
	return func(cfg *config) error {
		for i, v := range volumes {
			if strings.TrimSpace(v.VolumeID) == "" {
				return fmt.Errorf("WithVolumes: volume %d: empty VolumeID", i)
			}
			if !strings.HasPrefix(v.MountPath, "/") || !noControl(v.MountPath) {
				return fmt.Errorf("WithVolumes: volume %d: MountPath %q must be an absolute path", i, v.MountPath)
			}
			for _, prev := range cfg.volumes {
				if prev.MountPath == v.MountPath {
					return fmt.Errorf("WithVolumes: two volumes mounted at %s", v.MountPath)
				}
			}
			cfg.volumes = append(cfg.volumes, v)
		}
		return nil
	}
}

// WithEphemeral(true) makes Daytona delete the sandbox as soon as it stops.
func WithEphemeral(ephemeral bool) Option {
	return setOption(func(cfg *config) { cfg.ephemeral = ephemeral })
}

// WithPublic(true) makes the sandbox's preview URLs public.
func WithPublic(public bool) Option {
	return setOption(func(cfg *config) { cfg.public = &public })
}

// WithNetworkBlockAll(true) blocks all outbound network access, except what
// WithNetworkAllowList allows.
func WithNetworkBlockAll(block bool) Option {
	return setOption(func(cfg *config) { cfg.blockAll = &block })
}

// WithNetworkAllowList allows outbound traffic to a comma-separated list of
// CIDR blocks, such as "10.0.0.0/8,192.168.0.0/16".
func WithNetworkAllowList(cidrs string) Option {
	return func(cfg *config) error {
		if strings.TrimSpace(cidrs) == "" {
			return errors.New("WithNetworkAllowList: empty list")
		}
		for _, part := range strings.Split(cidrs, ",") {
			p := strings.TrimSpace(part)
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("WithNetworkAllowList(%q): %q is not a CIDR block such as 10.0.0.0/8", cidrs, p)
			}
		}
		cfg.allowList = &cidrs
		return nil
	}
}

// WithAutoStopInterval sets how long the sandbox may idle before Daytona
// stops it (default 15 minutes; 0 disables auto-stop). Whole minutes only.
func WithAutoStopInterval(d time.Duration) Option {
	return minutesOption("WithAutoStopInterval", d, func(cfg *config) { cfg.autoStop = d })
}

// WithAutoArchiveInterval sets how long a stopped sandbox waits before
// Daytona archives it (0 means Daytona's maximum). Whole minutes only.
func WithAutoArchiveInterval(d time.Duration) Option {
	return minutesOption("WithAutoArchiveInterval", d, func(cfg *config) { cfg.autoArchive = &d })
}

// WithAutoDeleteInterval sets how long a stopped sandbox waits before
// Daytona deletes it (0 means delete on stop, like WithEphemeral). Whole
// minutes only. Without it Daytona never auto-deletes.
func WithAutoDeleteInterval(d time.Duration) Option {
	return minutesOption("WithAutoDeleteInterval", d, func(cfg *config) { cfg.autoDelete = &d })
}

// Commands.

// WithTimeout sets the default command timeout (default 5 minutes); an
// ExecOptions.Timeout overrides it per call. workspace.NoTimeout disables
// it.
func WithTimeout(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 && d != workspace.NoTimeout {
			return fmt.Errorf("WithTimeout(%v): must be positive, or workspace.NoTimeout", d)
		}
		cfg.timeout = d
		return nil
	}
}

// WithEnv adds environment variables that every command sees. Per-call
// ExecOptions.Env and Sandbox.SetEnv win over them. Names must match
// [A-Za-z_][A-Za-z0-9_]*. The map is copied.
func WithEnv(env map[string]string) Option {
	return func(cfg *config) error {
		for k, v := range env {
			if !validEnvName(k) {
				return fmt.Errorf("WithEnv: invalid environment variable name %q", k)
			}
			if strings.ContainsRune(v, 0) {
				return fmt.Errorf("WithEnv: value of %s contains a NUL byte", k)
			}
		}
		if cfg.env == nil {
			cfg.env = make(map[string]string, len(env))
		}
		maps.Copy(cfg.env, env)
		return nil
	}
}

// Services.

// WithOnStart sets the hook called after each start (see StartHook): its
// error fails the start, with a *StartHookError.
func WithOnStart(hook StartHook) Option {
	return hookOption("WithOnStart", hook == nil, func(cfg *config) { cfg.onStart = hook })
}

// WithOnStop sets the hook Stop calls before stopping a running sandbox
// (see StopHook).
func WithOnStop(hook StopHook) Option {
	return hookOption("WithOnStop", hook == nil, func(cfg *config) { cfg.onStop = hook })
}

// WithOnDestroy sets the hook Destroy calls before deleting a running
// sandbox (see StopHook).
func WithOnDestroy(hook StopHook) Option {
	return hookOption("WithOnDestroy", hook == nil, func(cfg *config) { cfg.onDestroy = hook })
}

// WithMount declares a mount made at every start, before the start hook
// (see Mount): at the first start, and again after every restart, as the
// mounts made with Mount are. A failure fails the start with a
// *StartHookError. Calls accumulate; the same path twice, or nested mount
// paths, are errors.
func WithMount(path string, spec workspace.MountSpec) Option {
	return func(cfg *config) error {
		e, err := mount.New("WithMount", path, spec)
		if err != nil {
			return err
		}
		if err := mount.Overlap(cfg.mounts, e.Path, false); err != nil {
			return err
		}
		cfg.mounts = append(cfg.mounts, e)
		return nil
	}
}

// WithKeepAlive(false) turns the keep-alive off: Daytona may then stop the
// sandbox while a long command or a background process runs in it, once
// nothing else has touched it for its auto-stop interval. It is on by
// default. It cannot extend a hard end: a TTL (autoDestroyAt in GetInfo)
// ends the sandbox however active it is.
func WithKeepAlive(on bool) Option {
	return setOption(func(cfg *config) {
		switch {
		case !on:
			cfg.keepAlive = -1
		case cfg.keepAlive < 0:
			cfg.keepAlive = 0
		}
	})
}

// WithKeepAliveInterval sets how often the keep-alive refreshes the
// activity of a sandbox that runs a command or process (default
// DefaultKeepAliveInterval), and turns it on. It must be positive; keep it
// well under the sandbox's auto-stop interval.
func WithKeepAliveInterval(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 {
			return fmt.Errorf("WithKeepAliveInterval(%v): must be positive (use WithKeepAlive(false) to turn it off)", d)
		}
		cfg.keepAlive = d
		return nil
	}
}

// Diagnostics.

// WithLogger logs each step (lookup, create, start, stop, retries) at debug
// level, and problems at warn level, to l. The default is silent. The API
// key is never logged.
func WithLogger(l *slog.Logger) Option {
	return nonNilOption("WithLogger", "logger", l, func(cfg *config) { cfg.logger = l })
}

// How options check and set their values.

// checkText reports an empty value, or (if label is not "") one holding
// control characters, as an error of option opt: "<opt>: empty <label>" or
// "<opt>(<value>): contains control characters".
func checkText(opt, label, v string, control bool) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s: empty %s", opt, label)
	}
	if control && !noControl(v) {
		return fmt.Errorf("%s(%q): contains control characters", opt, v)
	}
	return nil
}

// textOption returns an option that checks v with checkText, then sets it.
func textOption(opt, label, v string, control bool, set func(*config)) Option {
	return func(cfg *config) error {
		if err := checkText(opt, label, v, control); err != nil {
			return err
		}
		set(cfg)
		return nil
	}
}

// nonNilOption returns an option that refuses a nil v ("<opt>: nil
// <label>"), then sets it.
func nonNilOption[T any](opt, label string, v *T, set func(*config)) Option {
	return func(cfg *config) error {
		if v == nil {
			return fmt.Errorf("%s: nil %s", opt, label)
		}
		set(cfg)
		return nil
	}
}

// setOption returns an option that cannot fail.
func setOption(set func(*config)) Option {
	return func(cfg *config) error {
		set(cfg)
		return nil
	}
}

// minutesOption returns an option that checks d is a non-negative whole
// number of minutes, then sets it.
func minutesOption(opt string, d time.Duration, set func(*config)) Option {
	return func(cfg *config) error {
		if err := checkMinutes(opt, d); err != nil {
			return err
		}
		set(cfg)
		return nil
	}
}

// hookOption returns an option that refuses a nil hook, else sets it.
func hookOption(name string, isNil bool, set func(*config)) Option {
	return func(cfg *config) error {
		if isNil {
			return errors.New(name + ": nil hook")
		}
		set(cfg)
		return nil
	}
}

func noControl(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
