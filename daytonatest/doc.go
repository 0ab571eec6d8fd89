// Package daytonatest runs an in-process Daytona for tests, examples and
// local development: the control-plane API, the per-sandbox toolbox and the
// WebSocket log stream, served over real HTTP on loopback, so that the
// official Daytona Go SDK (and any other client) talks to it unchanged.
// Think of it as net/http/httptest, or miniredis, for Daytona.
//
// Start one in a test with NewServer, which closes it in t.Cleanup, and
// point a daytona.Sandbox at it with daytona.WithEndpoint:
//
//	srv := daytonatest.NewServer(t)
//	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
//
// The Daytona SDK works against it unchanged:
//
//	client, err := sdk.NewClientWithConfig(&types.DaytonaConfig{
//		APIKey: srv.APIKey(),
//		APIUrl: srv.APIURL(),
//	})
//
// or, outside tests, with Run and Close:
//
//	srv, err := daytonatest.Run()
//	if err != nil { ... }
//	defer srv.Close()
//
// From other languages, run the standalone server (go run
// github.com/agentworkspace/daytona/cmd/daytonatest), which prints the
// DAYTONA_API_URL and DAYTONA_API_KEY to use.
//
// # What it does like Daytona
//
// Sandboxes are created in snapshot, image (buildInfo) or default mode, pass
// through creating, starting, stopping and destroying on their way to
// started, stopped or gone, and answer with the DTOs, status codes and error
// messages of the real API, including its traps: stopping a sandbox with
// autoDeleteInterval 0 deletes it; a toolbox call to a stopped sandbox is a
// 400 "... Is the Sandbox started?", to a deleted one a 401.
//
// # The control plane, by service version
//
// The control plane follows the API's source (apps/api/src in
// daytonaio/daytona at v0.173.0 and v0.190.0, the last open-source
// release) and, for what changed since, the clients Daytona publishes
// (control plane @daytonaio/api-client 0.220.0, toolbox client and
// TypeScript SDK 0.218.0). WithServiceVersion chooses which: Service0173,
// Service0190 or ServiceCurrent, the default; the environment variable
// DAYTONATEST_SERVICE_VERSION sets it for every server a process starts
// without the option (DAYTONATEST_SERVICE_VERSION=0.173 go test ./...).
// Each behaviour cites its source in the code and its test. In every
// version:
//
//   - a create request is validated as the API validates it, in its words
//     and order: the request's types and names (HTML, URLs and control
//     characters are refused), then a snapshot with a build, resources
//     without a build, then what the organization has: its snapshots
//     (DefaultSnapshot, WithSnapshot, Server.AddSnapshot,
//     DAYTONATEST_SNAPSHOTS; any other is a 400 "Snapshot NAME not found.
//     Did you add it through the Daytona Dashboard?"), its regions
//     (DefaultRegions, WithRegion; any other is a 404 "Region not
//     found") and its per-sandbox maximums (DefaultSandboxLimits,
//     WithSandboxLimits, DAYTONATEST_SANDBOX_LIMITS), then the network allow
//     list and the intervals; a number that fits no integer column is a
//     500. A build without resources gets 1 CPU, 1 GiB and 3 GiB; an
//     auto-archive interval of 0 is MaxAutoArchiveInterval, and larger
//     ones are cut to it;
//   - a create from a snapshot, a start and a recover are answered once
//     the sandbox has started (StartWait at most), or with a 400 "Sandbox
//     failed to start: REASON"; the start of an archived sandbox at once,
//     archived with desiredState started;
//   - DELETE renames the sandbox DESTROYED_{name}_{milliseconds}, so its
//     name is free at once; a delete or stop while the sandbox changes
//     state is a 409 "Sandbox state change in progress"; an errored
//     sandbox can be recovered (POST /sandbox/{id}/recover, FailSandbox);
//   - the auto-stop, auto-archive and auto-delete routes answer 201 with
//     the record; PUT /sandbox/{id}/labels replaces the labels; the
//     toolbox-proxy URL is looked up by id only;
//   - WithLifecycleRateLimit limits the lifecycle routes as the API's
//     sandbox-lifecycle throttler does: 429 "ThrottlerException: Too Many
//     Requests" with Retry-After-sandbox-lifecycle.
//
// What differs:
//
//   - 0.173: GET /sandbox answers a bare array; stopping an ephemeral
//     sandbox keeps its name, which its destroyed record then holds for a
//     day (a create with it is a 409); the stop refusal is "Sandbox is
//     not started"; any errored sandbox can be recovered; a sandbox's
//     class is "class" (small, medium, large); resources may be negative;
//   - 0.190: GET /sandbox answers {items, nextCursor}, by cursor; an
//     ephemeral sandbox's stop renames it; "Sandbox is not in a stoppable
//     state"; only a recoverable sandbox can be recovered; "sandboxClass"
//     is the snapshot's class, and sandboxes of the VM classes (ClassLinuxVM,
//     ClassWindows) pause (POST /sandbox/{id}/pause) and resume (start);
//   - current: /sandbox/paginated, which SDK v0.173.0's List calls, is
//     gone; a sandbox that can pause gets an auto-pause interval (60
//     minutes unless the request sets an interval; POST
//     /sandbox/{id}/autopause/{minutes}); every toolbox refusal carries a
//     source (DAYTONA_DAEMON or DAYTONA_PROXY), a file refusal a JSON body
//     with a code (FILE_NOT_FOUND, FILE_ACCESS_DENIED, INVALID_FILE_PATH)
//     instead of an empty one, and POST /files/upload-v2 takes a raw or
//     multipart body; a create's ttlMinutes (and POST
//     /sandbox/{id}/ttl/{minutes}) sets the record's autoDestroyAt, when
//     the sandbox is destroyed whatever its state.
//
// The file endpoints (/files, /files/info, /files/folder, /files/move,
// /files/permissions, /files/upload, /files/download, /files/bulk-download,
// /files/find, /files/search, /files/replace) follow the daemon's handlers:
// relative paths resolve against the sandbox's home (the daemon's working
// directory, as /work-dir reports), absolute paths are paths of this
// machine, as the commands see them; errors are a status code with an
// empty body (404 missing, 403 not permitted, 400 for the rest, 409 for a
// move onto an existing path; today a JSON body with a code, see above),
// file info has exactly the eight keys of v0.173.0, and uploads are
// streamed, with no size limit, and touch the destination only once the
// whole body has arrived.
//
// The daemon's traps that reach a command's output and input are there too,
// each from the daemon's source (apps/daemon in daytonaio/daytona, at the
// tags of SDK v0.173.0 and v0.190.0):
//
//   - the session shell is bash here by default; Daytona's default image
//     runs zsh (the daemon takes the first of zsh and bash in /etc/shells),
//     where echo expands escapes, $X is not split, an unmatched glob is an
//     error and arrays start at 1: WithSessionShell("zsh");
//   - output is labelled by a shell read loop per stream, both appending to
//     one log: bash drops NUL bytes (zsh keeps them); a line longer than
//     printf's stdio buffer (4096 bytes under bash, 8192 under zsh;
//     WithLineChunk) is written in pieces, and while the other stream
//     writes too its lines go in between, so labels land inside long lines;
//     a last line without a newline gets one; the loop moves about
//     DaemonOutputRate bytes a second (off by default; WithOutputRate);
//   - the sync answer and the logs split stdout from stderr at any
//     label-like bytes, not only at line starts;
//   - a request without X-Daytona-SDK-Version gets its output combined:
//     labels stripped (from the follow stream too, with the daemon's edge
//     cases), stdout and stderr null; one before 0.167.0 gets the labelled
//     log and no stdout or stderr (and the logs as text);
//   - send-input answers 204, appends a newline to data without one,
//     echoes the input into stdout unless the command was submitted with
//     suppressInputEcho, refuses empty data (400), answers 500 "failed to
//     open input pipe" before the command runs (queued behind another, or
//     while its wrapper sets up: WithStartDelay) and after it exited, and
//     410 once its exit code was read;
//   - stopping a sandbox that is not started is a 400 "Sandbox is not
//     started", or "Sandbox is not in a stoppable state" from API 0.190.0
//     (WithServiceVersion).
//
// A request is logged on arrival, then delayed by the latency, then
// authenticated; an unknown route is then a 404 in the error shape of the
// service, a known path with another method included (as NestJS and gin
// answer; not a 405), and a body over 1 MiB (API) or 64 MiB (toolbox, but
// for uploads) a 413.
//
// # What it is not
//
// Commands run on this machine, as the current user, with a real shell
// (bash, else sh, or zsh by option), in a per-sandbox directory under a temporary root that is
// also their $HOME and default working directory. That keeps tests from
// seeing each other's files; it is not isolation: a command can read and
// change anything the current user can. The server listens on loopback only
// and requires the API key on every request. Options are checked when the
// server starts: an invalid value, or a nil Option, makes Run fail with an
// error that names it. Resources, volumes, images,
// network settings, labels and users are stored and reported, not enforced.
// Of the control plane, volumes are not looked up (Daytona refuses one the
// organization does not have), warm pools, quotas beyond the per-sandbox
// maximums, forks, snapshots of sandboxes, resizing, TTLs and secrets are
// not modelled, a paused sandbox's processes keep running, and of today's
// daemon only the structured errors and upload-v2 are (not, for example,
// a file's modifiedAt, which daemons since v0.184.0 send).
//
// It needs a Unix system: sessions are built on FIFOs and process groups.
// Every file but this one carries the build constraint "unix" (//go:build
// unix), so elsewhere (Windows, Plan 9, js/wasm) the package is empty: it
// builds, but provides nothing; the standalone server there only prints an
// error.
//
// # Test controls
//
// From Go (each method of Server):
//
//   - the request log: Requests, RequestsFor, Count, Counts, TotalCount and
//     ResetRequests. Every request to the API and the toolbox is logged when
//     it arrives, with the operation (Op) of the route it matched, or
//     OpUnknown;
//   - SetLatency (added to every API and toolbox request, WebSocket
//     handshakes included), SetCloseDelay and SetTransitionDelay;
//   - FailNext: the next N requests of an operation fail with a status and
//     message, after authentication and latency, before they have any
//     effect. It returns an error listing the valid operations for a name
//     that is none of them, so that a typo such as Op("crate") cannot pass
//     unnoticed. FailNextEmpty fails them with no body at all, as the proxy
//     answers 502 during runner trouble (its 400 "failed to get runner
//     info" is a FailNext); FailNextWith gives the answer a code, makes it
//     the toolbox proxy's (source DAYTONA_PROXY today) or plain text (a
//     route the daemon no longer serves); ClearFaults drops what is queued;
//   - RaceExitCodeNext and SetExitCodeRaceRate: the daemon's exit-code race.
//     The next N reads (or each read, with a probability) of a finished
//     command's exit code by a sync exec or a command lookup answer 500
//     "...failed to convert exit code to int...", the command having run;
//     ClearFaults drops them too;
//   - CutNextStreams, CutStreamsAt: follow streams drop their TCP connection after N bytes,
//     with no close frame;
//   - StopSandbox, DeleteSandbox, SetSandboxState and FailSandbox: changes
//     behind the client's back, like auto-stop or a failure the runner
//     reports; for an unknown sandbox their error matches
//     ErrSandboxNotFound;
//   - FinishTransition: ends a transition in progress now, so that a test
//     can hold a sandbox in a transitional state (with a long transition
//     delay) for as long as it needs;
//   - Sandbox and Sandboxes: the server-side records;
//   - SetMetrics (the telemetry figures of a sandbox), and with
//     WithMountStubs MountCalls, Mounted and FailNextMount (see Long-running
//     services below).
//
// The same controls are served over HTTP under {URL}/_daytonatest/, with the
// same bearer key. They are not logged, delayed or subject to faults; any
// other path or method there is a 404 "unknown control".
//
//	GET    /_daytonatest/requests              {"requests":[...],"counts":{"create":1,...}}
//	DELETE /_daytonatest/requests              reset the log and counts
//	GET    /_daytonatest/counts                {"create":1,...}
//	GET    /_daytonatest/latency               {"latency":"20ms"}
//	PUT    /_daytonatest/latency               {"latency":"20ms"} (POST too)
//	GET    /_daytonatest/close-delay           {"closeDelay":"1s"}
//	PUT    /_daytonatest/close-delay           {"closeDelay":"0s"} (POST too)
//	POST   /_daytonatest/faults                {"op":"create","count":1,"status":500,"message":"boom"}; 400 for an unknown op;
//	                                           "emptyBody":true for no body
//	DELETE /_daytonatest/faults                clear faults, stream cuts and exit-code races
//	GET    /_daytonatest/exit-code-race        {"rate":0.05,"pending":{"get-command":1}}
//	POST   /_daytonatest/exit-code-race        {"op":"session-exec","count":1} (or "get-command")
//	PUT    /_daytonatest/exit-code-race        {"rate":0.05}
//	POST   /_daytonatest/stream-cuts           {"count":1,"afterBytes":100}
//	GET    /_daytonatest/sandboxes             server-side records
//	GET    /_daytonatest/sandboxes/{idOrName}  one record
//	POST   /_daytonatest/sandboxes/{id}/stop   stop behind the client's back
//	POST   /_daytonatest/sandboxes/{id}/delete delete behind the client's back
//	POST   /_daytonatest/sandboxes/{id}/state  {"state":"error","reason":"disk failure"} ("recoverable":true: FailSandbox)
//	POST   /_daytonatest/sandboxes/{id}/finish-transition  end its transition in progress now (FinishTransition)
//	POST   /_daytonatest/sandboxes/{id}/metrics {"cpuPercent":12.5,"memoryBytes":1048576,"diskBytes":0}
//	GET    /_daytonatest/sandboxes/{id}/mount-calls {"calls":[{"tool","args","files"}],"mounted":[...]}
//
// Operation names (the Op constants) are used in the log, the counts and the
// faults: create, get, list, list-paginated, start, stop, archive, delete,
// toolbox-proxy-url, execute, create-session, list-sessions, get-session,
// delete-session, session-exec, get-command, command-logs, follow-logs,
// send-input, work-dir, home-dir, list-files, file-info, create-folder,
// delete-file, move-file, set-permissions, upload-file, download-file,
// bulk-download, find-in-files, search-files, replace-in-files,
// preview-url, signed-preview-url, expire-preview-url, last-activity,
// set-autostop, metrics, port-in-use, recover, pause, set-autoarchive,
// set-autodelete, set-autopause, replace-labels, upload-file-v2.
//
// # Long-running services
//
// Preview links: GET /sandbox/{id}/ports/{port}/preview-url answers a URL
// and the sandbox's token (new at every start); signed-preview-url answers
// a URL that carries an expiring token of its own, which
// .../signed-preview-url/{token}/expire revokes. Each URL is a real
// reverse proxy to localhost:{port} on this machine, where the sandbox's
// processes run, so a test can start an HTTP server in a sandbox and GET
// it through its URL. Daytona tells ports apart by host name
// ({port}-{id}.{domain}), which does not resolve here; so each port (and
// each signed token) gets a loopback listener of its own, and its URL is
// http://127.0.0.1:{listener port}. A private sandbox's requests need the
// token (X-Daytona-Preview-Token header or DAYTONA_SANDBOX_AUTH_KEY query
// parameter) or the API key; without one the proxy answers 307 to a login
// page (401), as Daytona's does. The toolbox's GET /port/{port}/in-use
// (3000-9999) dials the port.
//
// Activity and auto-stop: toolbox and preview requests, POST
// /sandbox/{id}/last-activity and changes of state count as activity; a
// started sandbox idle for its autoStopInterval is stopped (deleted if
// ephemeral), checked six times per minute as Daytona does. WithAutoStopUnit
// shortens the minute, so that a test sees it happen in milliseconds. POST
// /sandbox/{id}/autostop/{minutes} changes the interval. Only a request's
// arrival counts: Daytona's proxy also refreshes activity every 50 s while a
// request stays open, which is not modelled.
//
// Metrics: GET /sandbox/{id}/telemetry/metrics reports the daemon's gauges
// (daytona.sandbox.cpu.utilization, memory.usage, filesystem.usage, ...):
// the size of the sandbox's directory as disk usage, or what SetMetrics set.
//
// Bucket mounts: real FUSE is not available here, so WithMountStubs puts
// stub s3fs, gcsfuse and blobfuse2 executables (and mountpoint, umount,
// fusermount) first in every sandbox's PATH. They record their arguments
// and the credential files those name (MountCalls), and mark mount points
// as mounted without mounting anything (Mounted); FailNextMount makes the
// next one fail.
package daytonatest
