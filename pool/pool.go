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

// leaseWaiter is an Acquire waiting for the leases held on its key.
type leaseWaiter struct {
	excl    bool
	ready   chan struct{}
	granted bool
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

// Lease is the right to use a key's sandbox until Release. Several
// leases of one key share its sandbox, unless one is exclusive.
type Lease struct {
	p    *Pool
	e    *entry
	sb   *daytona.Sandbox
	key  string
	excl bool
	once sync.Once
}

// Format prints the lease as pool.Lease(<hash of the key> <sandbox
// name>), whatever the verb: the key itself (a user's identity) never
// shows.
func (l *Lease) Format(f fmt.State, _ rune) {
	if l == nil || l.e == nil {
		fmt.Fprint(f, "pool.Lease(nil)")
		return
	}
	fmt.Fprintf(f, "pool.Lease(%s %s)", l.e.hash, l.sb.RemoteName())
}

// Format prints the Pool as pool.Pool(<name>), whatever the verb.
func (p *Pool) Format(f fmt.State, _ rune) {
	if p == nil {
		fmt.Fprint(f, "pool.Pool(nil)")
		return
	}
	fmt.Fprintf(f, "pool.Pool(%s)", p.cfg.name)
}

// Sandbox returns the key's sandbox, started when Acquire returned.
func (l *Lease) Sandbox() *daytona.Sandbox { return l.sb }

// Key returns the key the lease was acquired for.
func (l *Lease) Key() string { return l.key }

// Exclusive reports whether the lease is the only one on its key.
func (l *Lease) Exclusive() bool { return l.excl }

// Release gives the lease back; the sandbox is idle once its last lease
// is released (the idle policy counts from then). It is idempotent.
func (l *Lease) Release() {
	if l == nil || l.p == nil {
		return
	}
	l.once.Do(func() {
		p := l.p
		p.mu.Lock()
		p.releaseLocked(l.e, l.excl)
		p.mu.Unlock()
	})
}

// releaseLocked ends one lease of e, then hands e to those waiting.
func (p *Pool) releaseLocked(e *entry, excl bool) {
	e.leases--
	p.doneUsingLocked()
	if excl {
		e.excl = false
	}
	if e.leases == 0 {
		e.lastUsed = p.cfg.clock.Now()
		e.releasedWall = time.Now()
		if len(e.waiters) == 0 {
			p.makeRoomLater() // an Acquire may wait for what this one can give
		}
	}
	p.handoffLocked(e)
}

// doneUsingLocked counts a lease or activation less, and tells a Close
// waiting for them all when the last ends.
func (p *Pool) doneUsingLocked() {
	p.inUse--
	if p.inUse == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// handoffLocked grants leases to the waiters at the head of e's line: one
// exclusive waiter once nobody holds e, or every shared waiter up to the
// next exclusive one unless an exclusive lease is held.
func (p *Pool) handoffLocked(e *entry) {
	for len(e.waiters) > 0 {
		w := e.waiters[0]
		switch {
		case w.excl && e.leases == 0:
			e.leases, e.excl = 1, true
		case !w.excl && !e.excl:
			e.leases++
		default:
			return
		}
		e.waiters = e.waiters[1:]
		w.granted = true
		p.inUse++
		close(w.ready)
		if w.excl {
			return
		}
	}
}

// Acquire returns a lease on the sandbox of key, started. The first
// Acquire of a key finds its sandbox in Daytona (by name, then by labels)
// or, if it has none, takes a spare or creates one; later ones check that
// it still runs (one request), waking it if it was parked and replacing it
// if it died. An Acquire while another lease on the key is held in this
// Pool makes no request. It waits (in line, until ctx ends) while an
// exclusive lease is held, and while the Pool is at its caps.
func (p *Pool) Acquire(ctx context.Context, key string) (*Lease, error) {
	return p.acquire(ctx, key, false)
}

// AcquireExclusive is Acquire for a lease that no other lease of this
// Pool shares: it waits until every lease on key is released, and holds
// off later ones until it is released itself. Exclusivity holds within
// one Pool (one replica): Daytona offers nothing to hold a lock across
// replicas.
func (p *Pool) AcquireExclusive(ctx context.Context, key string) (*Lease, error) {
	return p.acquire(ctx, key, true)
}

func (p *Pool) acquire(ctx context.Context, key string, excl bool) (*Lease, error) {
	if ctx == nil {
		panic("pool: Acquire called with a nil Context")
	}
	if p == nil || p.entries == nil {
		return nil, errors.New("pool: Acquire on a Pool that was not made by pool.Open")
	}
	if key == "" {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	h := p.hashKey(key)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		e := p.entries[h]
		if e == nil {
			e = &entry{hash: h}
			p.entries[h] = e
		}
		if f := e.busy; f != nil {
			p.mu.Unlock()
			if err := f.wait(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if e.leases > 0 {
			return p.joinLocked(ctx, e, key, excl)
		}
		f := newFlight()
		e.busy = f
		p.inUse++
		p.mu.Unlock()
		l, err := p.activateAndLease(ctx, e, key, excl, f)
		if errors.Is(err, errAgain) {
			continue
		}
		return l, err
	}
}

// errAgain asks acquire to look at the entry again.
var errAgain = errors.New("pool: again")

// joinLocked is called with p.mu held and e leased: it shares the lease,
// or waits in e's line for one. It unlocks p.mu.
func (p *Pool) joinLocked(ctx context.Context, e *entry, key string, excl bool) (*Lease, error) {
	if !excl && !e.excl && len(e.waiters) == 0 {
		e.leases++
		p.inUse++
		sb := e.sb
		p.mu.Unlock()
		p.stats.localHits.Add(1)
		return &Lease{p: p, e: e, sb: sb, key: key}, nil
	}
	w := &leaseWaiter{excl: excl, ready: make(chan struct{})}
	e.waiters = append(e.waiters, w)
	p.mu.Unlock()
	p.stats.waits.Add(1)
	p.log.Debug("pool.wait: for the leases on the key", "key", e.hash, "exclusive", excl)
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.granted {
		if ctx.Err() != nil {
			p.releaseLocked(e, excl)
			return nil, ctx.Err()
		}
		return &Lease{p: p, e: e, sb: e.sb, key: key, excl: excl}, nil
	}
	e.waiters = slices.DeleteFunc(e.waiters, func(x *leaseWaiter) bool { return x == w })
	if p.closed {
		return nil, ErrClosed
	}
	return nil, ctx.Err()
}

// activateAndLease runs the activation flight f of e, then leases e.
func (p *Pool) activateAndLease(ctx context.Context, e *entry, key string, excl bool, f *flight) (*Lease, error) {
	started := time.Now()
	err := p.activate(ctx, e)
	p.mu.Lock()
	defer p.mu.Unlock()
	e.busy = nil
	close(f.done)
	if err != nil || p.closed {
		p.doneUsingLocked()
	}
	if err != nil {
		if e.sb == nil && e.id == "" && e.state != stateDead {
			// Nothing came of it: forget the entry and what it counted.
			if p.entries[e.hash] == e && e.leases == 0 && len(e.waiters) == 0 {
				delete(p.entries, e.hash)
			}
			s, t := e.heldStarted, e.heldTotal
			e.heldStarted, e.heldTotal = false, false
			if s || t {
				p.cap.release(b2i(s), b2i(t))
			}
		}
		p.stats.failures.Add(1)
		p.log.Warn("pool.acquire failed", "key", e.hash, "err", err)
		return nil, err
	}
	if p.closed {
		return nil, ErrClosed
	}
	e.leases, e.excl = 1, excl
	e.releasedWall = time.Now() // used now: Daytona's activity from here on is ours
	p.log.Debug("pool.acquire", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return &Lease{p: p, e: e, sb: e.sb, key: key, excl: excl}, nil
}

// activate makes e's sandbox run, as what is known of it requires, trying
// again after a pause when Daytona is busy or does not answer.
func (p *Pool) activate(ctx context.Context, e *entry) error {
	pause := backoff{next: retryMin, max: retryMax}
	for {
		err := p.activateOnce(ctx, e)
		if err == nil || !p.transient(err) {
			return err
		}
		p.stats.failures.Add(1)
		p.log.Warn("pool.acquire: trying again", "key", e.hash, "err", err)
		if pause.wait(ctx) != nil {
			return err
		}
	}
}

// activateOnce is one attempt of activate.
func (p *Pool) activateOnce(ctx context.Context, e *entry) error {
	switch {
	case e.sb != nil && e.state == stateStarted:
		return p.check(ctx, e)
	case e.sb != nil && (e.state == stateParked || e.state == stateArchived):
		return p.wakeUp(ctx, e)
	case e.state == stateDead:
		return p.replace(ctx, e)
	case e.id != "":
		return p.attachKnown(ctx, e)
	}
	return p.resolve(ctx, e, "")
}

// check asks Daytona whether e's sandbox, idle and believed running, still
// runs (one request), and wakes or replaces it if not.
func (p *Pool) check(ctx context.Context, e *entry) error {
	rec, err := e.sb.Refresh(ctx)
	switch {
	case errors.Is(err, daytona.ErrSandboxNotFound):
		return p.replace(ctx, e)
	case err != nil:
		return err
	case rec.Running():
		p.stats.warmHits.Add(1)
		return nil
	case rec.Dead():
		return p.replace(ctx, e)
	}
	p.setState(e, stateParked) // stopped behind the Pool's back, or on its way
	return p.wakeUp(ctx, e)
}

// wakeUp starts e's parked sandbox.
func (p *Pool) wakeUp(ctx context.Context, e *entry) error {
	if err := p.need(ctx, e, true, true); err != nil {
		return err
	}
	started := time.Now()
	if err := e.sb.Start(ctx); err != nil {
		if errors.Is(err, daytona.ErrSandboxNotFound) {
			return p.replace(ctx, e)
		}
		p.drop(e, true, false)
		return err
	}
	p.setState(e, stateStarted)
	p.stats.wakes.Add(1)
	p.log.Info("pool.wake", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return nil
}

// attachKnown attaches e to the sandbox adopted at Open, by id.
func (p *Pool) attachKnown(ctx context.Context, e *entry) error {
	rec := daytona.RemoteSandbox{ID: e.id, Name: e.name, State: "stopped"}
	if e.state == stateStarted {
		rec.State = "started"
	}
	err := p.attach(ctx, e, rec)
	if errors.Is(err, daytona.ErrSandboxNotFound) {
		p.setState(e, stateDead)
		return p.replace(ctx, e)
	}
	return err
}

// replace gives e a new sandbox in place of one that died, under the same
// name where Daytona lets it be reused.
func (p *Pool) replace(ctx context.Context, e *entry) error {
	name := e.name
	if e.sb != nil {
		// Delete what is left of it (an error state), so the name frees.
		if err := e.sb.Destroy(ctx); err != nil {
			p.log.Warn("pool.replace: could not delete the dead sandbox", "key", e.hash, "sandbox", name, "err", err)
		}
	}
	p.mu.Lock()
	e.sb, e.id = nil, ""
	p.mu.Unlock()
	p.setState(e, stateDead)
	p.stats.replaced.Add(1)
	p.log.Info("pool.replace", "key", e.hash, "sandbox", name)
	return p.resolve(ctx, e, name)
}

// setState records e's state, counting it in p.cap: a started sandbox
// holds a started slot, any other none (a dead one keeps its total slot,
// for its replacement).
func (p *Pool) setState(e *entry, st entryState) {
	p.mu.Lock()
	e.state = st
	releaseStarted := e.heldStarted && st != stateStarted
	forceStarted := !e.heldStarted && st == stateStarted
	forceTotal := !e.heldTotal && st != stateNone && st != stateDead
	e.heldStarted = st == stateStarted
	e.heldTotal = e.heldTotal || forceTotal
	p.mu.Unlock()
	if releaseStarted {
		p.cap.release(1, 0)
	}
	if forceStarted || forceTotal {
		p.cap.force(b2i(forceStarted), b2i(forceTotal))
	}
}

// need takes, waiting in line if it must, the capacity e lacks to run
// (started) and to exist (total).
func (p *Pool) need(ctx context.Context, e *entry, started, total bool) error {
	p.mu.Lock()
	s := started && !e.heldStarted
	t := total && !e.heldTotal
	p.mu.Unlock()
	if !s && !t {
		return nil
	}
	waited, err := p.cap.acquire(ctx, b2i(s), b2i(t), func() {
		p.log.Debug("pool.wait: for capacity", "key", e.hash, "started", s, "total", t)
		p.makeRoomLater()
	})
	if waited {
		p.stats.waits.Add(1)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	e.heldStarted = e.heldStarted || s
	e.heldTotal = e.heldTotal || t
	p.mu.Unlock()
	return nil
}

// drop gives back e's capacity: started, and total if asked.
func (p *Pool) drop(e *entry, started, total bool) {
	p.mu.Lock()
	s := started && e.heldStarted
	t := total && e.heldTotal
	if s {
		e.heldStarted = false
	}
	if t {
		e.heldTotal = false
	}
	p.mu.Unlock()
	if s || t {
		p.cap.release(b2i(s), b2i(t))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
