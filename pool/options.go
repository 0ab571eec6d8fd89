package pool

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/agentworkspace/daytona"
)

// Option configures a Pool. Options are applied in order; for each setting
// the last one wins, except WithSandboxOptions and WithLabels, which add up.
type Option func(*config) error

// LogValue makes slog print an Option as its type alone: what it holds
// (such as the Sandboxes' options, with an API key) stays out of logs.
func (Option) LogValue() slog.Value { return slog.StringValue("pool.Option") }

// Idle says what happens to a keyed sandbox nobody holds a lease on. Each
// period counts from the release of its last lease. Zero turns a step off.
type Idle struct {
	// Park stops the sandbox (its files stay; the next Acquire starts it
	// again) after this long. The default is 15 minutes, Daytona's default
	// auto-stop interval.
	Park time.Duration
	// Archive archives a parked sandbox (cheaper to keep, slower to wake)
	// after this long; it must be longer than Park.
	Archive time.Duration
	// Destroy deletes the sandbox and its files after this long; it must
	// be longer than Park and Archive.
	Destroy time.Duration
}

// OnClose says what Close does with the keyed sandboxes.
type OnClose int

// What Close does with keyed sandboxes. Spares are always destroyed.
const (
	// ClosePark stops the keyed sandboxes that run (the default): they
	// cost nothing but storage, and the next Pool wakes them.
	ClosePark OnClose = iota
	// CloseDestroy deletes every sandbox of the pool, those of other
	// replicas included: the teardown of the last replica, or of a test.
	CloseDestroy
	// CloseLeave leaves keyed sandboxes as they are, for Daytona's
	// auto-stop (which the Pool set to agree with Idle.Park).
	CloseLeave
)

// Defaults.
const (
	// DefaultPark is the default Idle.Park: Daytona's default auto-stop
	// interval.
	DefaultPark = daytona.DefaultAutoStopInterval
	// DefaultSpareCoolDown is how long the refill of spares rests after
	// spareFailLimit failures in a row.
	DefaultSpareCoolDown = time.Minute
)

type config struct {
	name        string
	sandboxOpts []daytona.Option
	labels      map[string]string
	spares      int
	maxStarted  int
	maxTotal    int
	idle        Idle
	onClose     OnClose
	replica     string
	clock       Clock
	logger      *slog.Logger
	coolDown    time.Duration
	// manualSweeps: the sweep runs only when called (tests that drive a
	// manual clock; export_test.go).
	manualSweeps bool
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,23}$`)
	replicaRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
)

// newConfig applies opts to the defaults and checks the result.
func newConfig(name string, opts []Option) (config, error) {
	if !nameRE.MatchString(name) {
		return config{}, fmt.Errorf("pool: name %q: must be 1-24 characters, lower-case letters, digits and '-', starting with a letter", name)
	}
	cfg := config{
		name:     name,
		idle:     Idle{Park: DefaultPark},
		clock:    realClock{},
		logger:   slog.New(slog.DiscardHandler),
		coolDown: DefaultSpareCoolDown,
		replica:  defaultReplica(),
	}
	for i, o := range opts {
		if o == nil {
			return config{}, fmt.Errorf("pool: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return config{}, fmt.Errorf("pool: %w", err)
		}
	}
	return cfg, nil
}

// defaultReplica is the host name (the pod name under Kubernetes), made
// fit for a label value, or "replica" without one.
func defaultReplica() string {
	h, err := os.Hostname()
	if err != nil {
		return "replica"
	}
	h = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, h)
	if len(h) > 63 {
		h = h[:63]
	}
	if !replicaRE.MatchString(h) {
		return "replica"
	}
	return h
}

// WithSandboxOptions sets the options every sandbox of the pool is created
// and attached with: the connection (daytona.WithEndpoint, WithAPIKey),
// the image or snapshot, resources, environment, logger, and so on. The
// Pool sets the name, labels and auto-stop, auto-archive and auto-delete
// intervals itself (from Idle), after these; use WithLabels for labels
// (daytona.WithLabels would be lost when the Pool relabels a sandbox), and
// do not make sandboxes ephemeral (a parked one would be deleted). Calls
// add up.
func WithSandboxOptions(opts ...daytona.Option) Option {
	return func(c *config) error {
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("WithSandboxOptions: option %d is nil", i)
			}
		}
		c.sandboxOpts = append(c.sandboxOpts, opts...)
		return nil
	}
}

// WithLabels adds labels to every sandbox of the pool, besides the Pool's
// own (daytona-pool*), which win. Calls add up.
func WithLabels(labels map[string]string) Option {
	return func(c *config) error {
		for k := range labels {
			if strings.TrimSpace(k) == "" {
				return errors.New("WithLabels: empty label key")
			}
		}
		if c.labels == nil {
			c.labels = map[string]string{}
		}
		maps.Copy(c.labels, labels)
		return nil
	}
}

// WithSpares keeps n started sandboxes that belong to no key, so that a
// new key gets one at once (default 0, at most 1000).
func WithSpares(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 1000 {
			return fmt.Errorf("WithSpares(%d): must be between 0 and 1000", n)
		}
		c.spares = n
		return nil
	}
}

// WithMaxStarted caps how many sandboxes of this Pool run at once, spares
// included (default 0: no cap). An Acquire that needs one more waits, in
// the order the waits began, while the Pool parks the least recently used
// idle sandbox (or destroys a spare) to make room.
func WithMaxStarted(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithMaxStarted(%d): must not be negative", n)
		}
		c.maxStarted = n
		return nil
	}
}

// WithMaxTotal caps how many sandboxes this Pool holds, running or parked,
// spares included (default 0: no cap). An Acquire of a new key waits at
// the cap until a sandbox is destroyed (Idle.Destroy) or a spare makes
// room.
func WithMaxTotal(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithMaxTotal(%d): must not be negative", n)
		}
		c.maxTotal = n
		return nil
	}
}

// WithIdle sets the idle policy (default: park after 15 minutes, never
// archive or destroy). The sandboxes get Daytona auto-stop, auto-archive
// and auto-delete intervals that agree with it (rounded up to whole
// minutes), so that Daytona applies it even while no Pool runs.
func WithIdle(idle Idle) Option {
	return func(c *config) error {
		if idle.Park < 0 || idle.Archive < 0 || idle.Destroy < 0 {
			return fmt.Errorf("WithIdle(%+v): periods must not be negative", idle)
		}
		if idle.Archive > 0 && (idle.Park == 0 || idle.Archive <= idle.Park) {
			return fmt.Errorf("WithIdle(%+v): Archive needs Park, and must be longer", idle)
		}
		if idle.Destroy > 0 && (idle.Destroy <= idle.Park || idle.Destroy <= idle.Archive) {
			return fmt.Errorf("WithIdle(%+v): Destroy must be longer than Park and Archive", idle)
		}
		c.idle = idle
		return nil
	}
}

// WithOnClose sets what Close does with keyed sandboxes (default
// ClosePark).
func WithOnClose(action OnClose) Option {
	return func(c *config) error {
		if action < ClosePark || action > CloseLeave {
			return fmt.Errorf("WithOnClose(%d): unknown action", action)
		}
		c.onClose = action
		return nil
	}
}

// WithReplica names this replica of the service: its spares carry the
// name, only this replica hands them out, and a Pool opened later with the
// same name adopts them. Give each running replica its own, stable name
// (the default is the host name, which Kubernetes sets to the pod name).
// Two Pools of one name and replica cannot be open at once in a process.
func WithReplica(id string) Option {
	return func(c *config) error {
		if !replicaRE.MatchString(id) {
			return fmt.Errorf("WithReplica(%q): must be 1-63 letters, digits, '.', '_' or '-'", id)
		}
		c.replica = id
		return nil
	}
}

// WithClock sets the clock the idle policy, the refill's cool-down and the
// statistics read (default: the system clock), for simulations and tests.
func WithClock(clock Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return errors.New("WithClock: nil clock")
		}
		c.clock = clock
		return nil
	}
}

// WithLogger logs the Pool's events to l: acquire, create, claim of a
// spare, park, wake, archive, destroy, failures (keys appear only as
// their hash). The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithSpareCoolDown sets how long the refill of spares rests after three
// failed creations in a row (default DefaultSpareCoolDown).
func WithSpareCoolDown(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithSpareCoolDown(%v): must be positive", d)
		}
		c.coolDown = d
		return nil
	}
}
