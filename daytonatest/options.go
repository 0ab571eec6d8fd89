//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// Option configures a [Server]. Options are applied in order; for each
// setting the last one wins. An invalid value makes [Run] fail (and
// [NewServer] call Fatalf) with an error that names the option; so does a
// nil Option.
type Option func(*config) error

type config struct {
	apiKey          string
	addr            string
	root            string
	shell           string
	latency         time.Duration
	closeDelay      time.Duration
	transitionDelay time.Duration
	killGrace       time.Duration
	frameSize       int
	maxLog          int
	logw            io.Writer
	svc             serviceConfig // services.go
	daemon          daemonConfig  // fidelity.go
	hidden          []string      // programs.go
	cpu             *atomic.Int64 // cpu.go
	downloadCuts    *downloadCuts // downloadcuts.go
	service         ServiceVersion
	level           serviceLevel // versions.go
	org             organization // organization.go
	rateLimit       rateLimit    // ratelimit.go
}

func defaultConfig() config {
	return config{
		addr:            "127.0.0.1:0",
		closeDelay:      DefaultCloseDelay,
		transitionDelay: DefaultTransitionDelay,
		killGrace:       DefaultKillGrace,
		frameSize:       DefaultFrameSize,
		maxLog:          10000,
		cpu:             new(atomic.Int64),
		downloadCuts:    new(downloadCuts),
		org:             defaultOrganization(),
	}
}

// newConfig applies opts to the defaults, then picks a random API key and
// a shell where no option chose them.
func newConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	if err := cfg.org.fromEnv(); err != nil {
		return config{}, err
	}
	for i, o := range opts {
		if o == nil {
			return config{}, fmt.Errorf("daytonatest: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return config{}, err
		}
	}
	if cfg.service == "" {
		v, l, err := defaultServiceVersion()
		if err != nil {
			return config{}, err
		}
		cfg.service, cfg.level = v, l
	}
	if cfg.apiKey == "" {
		cfg.apiKey = randomKey()
	}
	if cfg.shell == "" {
		shell, err := findShell()
		if err != nil {
			return config{}, err
		}
		cfg.shell = shell
	}
	if err := cfg.daemon.resolve(cfg.shell); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// WithAPIKey sets the key that clients must send as a bearer token. The
// default is a random key; read it with [Server.APIKey].
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if strings.TrimSpace(key) == "" {
			return errors.New("daytonatest: WithAPIKey: empty key")
		}
		if strings.ContainsAny(key, " \t\r\n") {
			return errors.New("daytonatest: WithAPIKey: key contains whitespace")
		}
		c.apiKey = key
		return nil
	}
}

// WithAddr sets the address to listen on. The default is "127.0.0.1:0" (a
// free port). The host must be a loopback address or "localhost": the server
// runs arbitrary commands as the current user, so it never listens on a
// network others can reach.
func WithAddr(addr string) Option {
	return func(c *config) error {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("daytonatest: WithAddr(%q): %w", addr, err)
		}
		if port == "" {
			return fmt.Errorf("daytonatest: WithAddr(%q): missing port (use :0 for a free one)", addr)
		}
		if host != "localhost" {
			ip := net.ParseIP(host)
			if ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("daytonatest: WithAddr(%q): host must be a loopback address such as 127.0.0.1", addr)
			}
		}
		c.addr = addr
		return nil
	}
}

// WithRoot sets the directory under which each sandbox gets its own
// directory (its $HOME and default working directory). The default is a
// fresh temporary directory that Close removes; a directory given here is
// kept, but the sandbox directories created in it are removed by Close.
func WithRoot(dir string) Option {
	return checked(dir != "", func(c *config) { c.root = dir }, "daytonatest: WithRoot: empty directory")
}

// WithShell sets the shell that runs session and execute commands, by
// path. The default is bash from PATH, else sh. A shell named zsh gets the
// daemon's zsh traits, any other bash's (see [WithSessionShell]).
func WithShell(path string) Option {
	return checked(path != "", func(c *config) { c.shell = path }, "daytonatest: WithShell: empty path")
}

// WithLatency adds d to every request to the API and the toolbox,
// including the WebSocket handshake of a follow stream, to model a real
// network (the test controls answer at once). It can be changed later with
// [Server.SetLatency].
func WithLatency(d time.Duration) Option {
	return duration("WithLatency", d, func(c *config) { c.latency = d })
}

// WithCloseDelay sets how long a follow log stream stays open after its
// command has exited and all output was sent. The default,
// [DefaultCloseDelay], matches the real daemon; 0 closes at once. It can be
// changed later with [Server.SetCloseDelay].
func WithCloseDelay(d time.Duration) Option {
	return duration("WithCloseDelay", d, func(c *config) { c.closeDelay = d })
}

// WithTransitionDelay sets how long a sandbox stays in each transitional
// state (creating, starting, restoring, stopping, archiving, destroying).
// The default is [DefaultTransitionDelay]; 0 makes transitions immediate.
func WithTransitionDelay(d time.Duration) Option {
	return duration("WithTransitionDelay", d, func(c *config) { c.transitionDelay = d })
}

// WithKillGrace sets how long processes get between SIGTERM and SIGKILL when
// their session is deleted or their sandbox stopped. The default is
// [DefaultKillGrace], as in the daemon; processes that exit on SIGTERM do not
// make anyone wait.
func WithKillGrace(d time.Duration) Option {
	return duration("WithKillGrace", d, func(c *config) { c.killGrace = d })
}

// WithFrameSize sets the largest payload of one follow-stream frame. The
// default, [DefaultFrameSize], is the daemon's read size; small values make
// stream markers split across frames more often.
func WithFrameSize(n int) Option {
	return positive("WithFrameSize", n, func(c *config) { c.frameSize = n })
}

// WithRequestLogLimit sets how many requests the request log keeps (the
// oldest are dropped first; counts are kept for all). The default is 10000.
func WithRequestLogLimit(n int) Option {
	return positive("WithRequestLogLimit", n, func(c *config) { c.maxLog = n })
}

// duration is an Option that applies set unless d is negative.
func duration(name string, d time.Duration, set func(*config)) Option {
	return checked(d >= 0, set, "daytonatest: %s(%v): negative duration", name, d)
}

// positive is an Option that applies set unless n is below 1.
func positive(name string, n int, set func(*config)) Option {
	return checked(n >= 1, set, "daytonatest: %s(%d): must be at least 1", name, n)
}

// checked is an Option that applies set if ok, and otherwise fails with the
// error that format and args describe.
func checked(ok bool, set func(*config), format string, args ...any) Option {
	return func(c *config) error {
		if !ok {
			return fmt.Errorf(format, args...)
		}
		set(c)
		return nil
	}
}

// WithLogOutput writes one line per finished request (method, path, status,
// duration) to w. Request bodies and headers, and so the API key, are never
// written.
func WithLogOutput(w io.Writer) Option {
	return func(c *config) error {
		c.logw = w
		return nil
	}
}
