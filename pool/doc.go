// Package pool gives each of many keys (users, tenants, conversations) a
// Daytona sandbox of its own, for a backend service that embeds package
// daytona: a sandbox that keeps its files between turns, starts fast, and
// costs nothing while idle. It coordinates only through Daytona: the
// replicas of a service share no memory, and the only truth they share is
// Daytona's names, labels and states.
//
//	p, err := pool.Open(ctx, "chat",
//		pool.WithSandboxOptions(daytona.WithLanguage(daytona.Python)),
//		pool.WithSpares(2),
//		pool.WithIdle(pool.Idle{Park: 10 * time.Minute, Destroy: 30 * 24 * time.Hour}))
//	if err != nil { ... }
//	defer p.Close(context.WithoutCancel(ctx))
//
//	lease, err := p.Acquire(ctx, userID)
//	if err != nil { ... }
//	defer lease.Release()
//	res, err := lease.Sandbox().ExecuteCommand(ctx, "python3 main.py", nil, nil)
//
// # Keys, names and labels
//
// A key is never written anywhere: it stands as a hash (SHA-256 of the
// pool's name and the key, 128 bits). The sandbox created for a key is
// named "<pool>-<hash>" and labelled daytona-pool=<pool>,
// daytona-pool-role=key, daytona-pool-key=<hash>, daytona-pool-claim=ok,
// so that any replica, and any later process, finds it: by name (GET
// /sandbox/{name}, strongly consistent) or by labels (the list).
//
// # Acquire
//
// Acquire returns a lease on the key's sandbox, started. It costs:
//   - nothing, while another lease on the key is held in this Pool;
//   - one request for a key this Pool has idle: is it still running?
//     (if Daytona stopped it, Acquire wakes it; if it died, replaces it);
//   - for a key this Pool does not know: a look (its name and its labels,
//     at once), then the attach (a start if it was parked);
//   - for a new key: a look, a claim (a spare relabelled, or a sandbox
//     created under the key's name), a second look, and the label that
//     completes the claim.
//
// Several leases of a key share its sandbox; AcquireExclusive waits until
// it is the only one, and holds off the others (within this Pool: Daytona
// has no lock across replicas). A lease does not keep the sandbox awake by
// itself; its commands do (package daytona's keep-alive). If Daytona stops
// a leased sandbox, its next command starts it again.
//
// # Two replicas, one key
//
// Two replicas that see a new key at once both look, find nothing, and
// claim. Creation under the key's name is exclusive (Daytona's names are
// unique: the second create gets 409, and that replica attaches to the
// first one's sandbox). A spare cannot be renamed (Daytona has no rename:
// apps/api/src/sandbox/controllers/sandbox.controller.ts at v0.190.0, and
// the 0.220 API client, have none), so a spare given to a key keeps its
// name and is the key's by its labels; and labels are written last-writer-
// wins. So every claim, of a spare or of a new sandbox, is completed only
// after a second look shows no other sandbox labelled for the key; if there
// is one, the claimer hands its candidate back (it becomes a spare again)
// and looks again after a random pause. Of two claims, the later one's
// second look sees the earlier one's label, so at most one completes, and
// everyone attaches to it. Nothing is created twice for one key, except in
// that race a sandbox that then serves as a spare.
//
// That argument needs the list to show what was written before it was
// read. daytonatest's list does, and so does a self-hosted Daytona that
// searches its database (sandbox-typeorm-search.adapter.ts at v0.190.0);
// Daytona's cloud serves the list from a search index (the API documents it
// as "eventually consistent"), so there two replicas that give spares to
// one new key within the index's refresh (about a second) could both
// complete their claims. The Pool notices on the key's next look, uses the
// earlier claim on every replica (Stats.Conflicts, and a warning), and
// leaves the other sandbox untouched for an operator. Keys created without
// spares are always exclusive; so is everything with WithSpares(0). With
// many replicas and no sticky routing of keys, prefer Daytona's own warm
// pools (organization warm pools, API 0.220) to spares: they make creation
// fast and keep it exclusive.
//
// # Spares
//
// WithSpares keeps n started sandboxes that belong to no key, made in the
// background one at a time from the same options; a new key takes one if
// one is ready, and creates its own otherwise. After three failed creations
// in a row the refill rests for a cool-down (WithSpareCoolDown), so that a
// broken image or an exhausted quota does not become a storm of creates.
// Spares belong to the replica that made them (WithReplica): only it hands
// them out, touches them so that Daytona's auto-stop leaves them running,
// and adopts them when it opens again. A spare that no longer runs is
// garbage any replica destroys.
//
// # Idle policy and caps
//
// A sandbox with no lease is idle from its last release. After Idle.Park
// the Pool stops it (its files stay), after Idle.Archive archives it, after
// Idle.Destroy deletes it; the next Acquire wakes a parked or archived one
// (an archived one more slowly). The sandboxes get Daytona auto-stop,
// auto-archive and auto-delete intervals that say the same, so that Daytona
// applies the policy when no Pool runs. Before parking, the Pool reads the
// sandbox's last activity: if another replica used it since, it is left
// running. WithMaxStarted and WithMaxTotal cap what this Pool runs and
// holds (spares included; the caps are per Pool, Daytona's quotas are the
// global ones): an Acquire that needs more waits in line (in the order of
// arrival, until its ctx ends) while the Pool parks the least recently used
// idle sandbox or destroys a spare.
//
// # Failures
//
// Transient failures (429, 502, 503, 504, no answer) are retried with
// growing pauses; a create is retried under the same name, so that a
// create that went through although its answer was lost is found, not
// repeated. An Acquire that fails or whose ctx ends half-way through a
// claim clears the claim (pool.abandon), so that no replica waits for it;
// one that cannot (Daytona unreachable) leaves it to be ignored after 30
// seconds and destroyed by the next Open. A sandbox that dies while idle is replaced on the next Acquire,
// under its name (where Daytona frees it: a deleted sandbox's name is
// released at once from v0.190). One that dies under a lease is not
// replaced behind the lease's back: its commands fail with an error
// matching daytona.ErrSandboxNotFound (its files are gone), and the next
// Acquire after the release replaces it.
//
// # Open, Close and restarts
//
// Open lists the pool's sandboxes and adopts them: keyed sandboxes of every
// replica (attached on their first Acquire), this replica's spares, and the
// garbage (spares that do not run, claims abandoned half-way), which it
// destroys. Close stops the background work, waits for the leases, destroys
// this replica's spares and parks its running keyed sandboxes (WithOnClose:
// or destroys every sandbox of the pool, or leaves them). A process that
// dies without Close leaves its sandboxes to Daytona's auto-stop and to the
// next Open.
//
// # Visibility
//
// Stats counts the sandboxes by state and what the Pool did (spare hits
// and misses, waits, creates, parks, wakes, failures). WithLogger logs each
// step as an event (pool.acquire, pool.create, pool.claim, pool.park,
// pool.wake, pool.archive, pool.destroy, pool.replace, pool.yield,
// pool.abandon, pool.conflict, pool.wait, pool.spare: ...), with keys as
// their hash. Each lease's
// Sandbox is a plain *daytona.Sandbox: GetInfo and everything else work as
// they do without a pool.
package pool
