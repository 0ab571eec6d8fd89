package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
)

// Errors. Test for them with errors.Is.
var (
	// ErrClosed is returned by Acquire on a Pool that is closed or
	// closing.
	ErrClosed = errors.New("pool: closed")
	// ErrInvalidKey is returned by Acquire for an empty key.
	ErrInvalidKey = errors.New("pool: invalid key")
)

// errClosed is ErrClosed inside the package.
var errClosed = ErrClosed

// errNotOpened is the error of op on a Pool not made by Open.
func errNotOpened(op string) error {
	return fmt.Errorf("pool: %s on a Pool that was not made by pool.Open: %w", op, daytona.ErrInvalidInput)
}

// Pool hands out one Daytona sandbox per key (a user, a tenant, a
// conversation): see the package documentation. A Pool is safe for
// concurrent use by multiple goroutines.
type Pool struct {
	cfg  config
	log  *slog.Logger
	cap  capacity
	opts []daytona.Option // cfg.sandboxOpts, then the intervals that agree with cfg.idle
	// client reads, lists and creates the pool's sandboxes, with opts.
	client *daytona.Client

	mu      sync.Mutex // guards the fields below
	entries map[string]*entry
	spares  []*spare // ready: started, labelled as this replica's spares
	making  int      // spares being created or attached
	// pendingSpares and garbage are found at Open, for settleAdopted.
	pendingSpares []daytona.RemoteSandbox
	garbage       []daytona.RemoteSandbox
	closed        bool

	inUse   int           // leases held and activations running
	drained chan struct{} // closed by Close once inUse is 0
	sweepMu sync.Mutex    // one sweep at a time

	stats   counters
	room    chan struct{} // asks the sweep loop to make room
	wake    chan struct{} // nudges the refill loop
	done    chan struct{} // closed by Close
	bg      sync.WaitGroup
	bgCtx   context.Context
	bgStop  context.CancelFunc
	release func() // frees the name and replica in the process registry
}

// entryState is what the Pool knows of a key's sandbox.
type entryState int

const (
	stateNone     entryState = iota // nothing known (yet)
	stateStarted                    // running
	stateParked                     // stopped
	stateArchived                   // archived
	stateDead                       // gone or in an error state: replaced on the next Acquire
)

func (s entryState) String() string {
	return [...]string{"none", "started", "parked", "archived", "dead"}[s]
}

// entry is the Pool's knowledge of one key's sandbox; p.mu guards it.
type entry struct {
	hash     string
	sb       *daytona.Sandbox // attached in this process; nil before
	id, name string
	state    entryState
	leases   int
	excl     bool // the lease held is exclusive
	waiters  []*leaseWaiter
	busy     *flight   // an activation, park, archive or destroy in progress
	lastUsed time.Time // the Pool's clock, when the last lease was released (or adopted)
	// releasedWall is the system time of that release: what Daytona's last
	// activity of the sandbox is compared with (see guardActivity).
	releasedWall time.Time
	// heldStarted and heldTotal say what the entry counts in p.cap.
	heldStarted, heldTotal bool
}

// spare is a started sandbox of this replica that belongs to no key.
type spare struct {
	sb        *daytona.Sandbox
	id, name  string
	touchedAt time.Time // the Pool's clock
}

// flight is an operation on an entry that others wait for.
type flight struct{ done chan struct{} }

func newFlight() *flight { return &flight{done: make(chan struct{})} }

func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// registry holds the names and replicas of the Pools open in this
// process: two Pools that shared them would hand out the same spares.
var registry = struct {
	sync.Mutex
	open map[string]bool
}{open: map[string]bool{}}

func register(name, replica string) (release func(), err error) {
	k := name + "\x00" + replica
	registry.Lock()
	defer registry.Unlock()
	if registry.open[k] {
		return nil, fmt.Errorf("pool: a Pool %q of replica %q is already open in this process (use WithReplica)", name, replica)
	}
	registry.open[k] = true
	return func() {
		registry.Lock()
		delete(registry.open, k)
		registry.Unlock()
	}, nil
}

// Open opens the pool called name (1-24 lower-case letters, digits and
// '-'; every replica of a service uses the same one): it lists the
// sandboxes that carry the pool's labels and adopts them (keyed sandboxes
// of every replica, and this replica's spares; it destroys spares that no
// longer run and claims that were never completed), then starts filling
// the spares in the background. Close it when done.
func Open(ctx context.Context, name string, opts ...Option) (*Pool, error) {
	if ctx == nil {
		panic("pool: Open called with a nil Context")
	}
	cfg, err := newConfig(name, opts)
	if err != nil {
		return nil, err
	}
	release, err := register(cfg.name, cfg.replica)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:     cfg,
		log:     cfg.logger.With("pool", cfg.name, "replica", cfg.replica),
		cap:     capacity{maxStarted: cfg.maxStarted, maxTotal: cfg.maxTotal},
		entries: map[string]*entry{},
		wake:    make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		release: release,
	}
	p.opts = append(slices.Clone(cfg.sandboxOpts), intervalOptions(cfg.idle)...)
	if p.client, err = daytona.NewClient(p.opts...); err != nil {
		release()
		return nil, fmt.Errorf("pool: WithSandboxOptions: %w", err)
	}
	if err := p.adopt(ctx); err != nil {
		release()
		return nil, err
	}
	p.bgCtx, p.bgStop = context.WithCancel(context.Background())
	p.bg.Add(3)
	go p.settleAdopted()
	go p.refillLoop()
	go p.sweepLoop()
	return p, nil
}

// intervalOptions are the Daytona intervals that agree with idle: auto-stop
// at Park, auto-archive (counted by Daytona from the stop) at Archive, and
// auto-delete (likewise) at Destroy, in whole minutes rounded up.
func intervalOptions(idle Idle) []daytona.Option {
	minutes := func(d time.Duration) time.Duration {
		return (d + time.Minute - 1) / time.Minute * time.Minute
	}
	opts := []daytona.Option{daytona.WithAutoStopInterval(minutes(idle.Park))}
	if idle.Archive > 0 {
		opts = append(opts, daytona.WithAutoArchiveInterval(minutes(idle.Archive-idle.Park)))
	}
	if idle.Destroy > 0 && idle.Park > 0 {
		opts = append(opts, daytona.WithAutoDeleteInterval(minutes(idle.Destroy-idle.Park)))
	}
	return opts
}

// newSandbox returns a Sandbox attached to the remote sandbox id, which
// never creates another: if that one disappears, its operations fail with
// an error matching daytona.ErrSandboxNotFound, and the next Acquire
// replaces it.
func (p *Pool) newSandbox(id, name string) (*daytona.Sandbox, error) {
	return daytona.New(append(slices.Clone(p.opts), daytona.WithExistingSandbox(id), daytona.WithName(name))...)
}

// Format prints the Pool as pool.Pool(<name>), whatever the verb.
func (p *Pool) Format(f fmt.State, _ rune) {
	if p == nil {
		fmt.Fprint(f, "pool.Pool(nil)")
		return
	}
	fmt.Fprintf(f, "pool.Pool(%s)", p.cfg.name)
}
