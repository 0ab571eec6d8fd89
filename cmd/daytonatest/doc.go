// Command daytonatest runs an in-process Daytona (see package daytonatest)
// as a standalone server, for clients in any language and for local
// development:
//
//	go run github.com/agentworkspace/daytona/cmd/daytonatest
//
// As soon as it listens it prints exactly two lines on stdout, ready for
// `export` or a .env file:
//
//	DAYTONA_API_URL=http://127.0.0.1:PORT/api
//	DAYTONA_API_KEY=<key>
//
// It logs one line per request to stderr and serves until interrupted, then
// kills every process it started and removes its temporary directory.
// Commands run on this machine as the current user; the server listens on
// loopback only.
//
// Flags:
//
//	-addr         listen address (default 127.0.0.1:0, a free port)
//	-api-key      the key clients must send (default: a random key)
//	-root         directory for the sandboxes' files (default: a fresh temporary directory)
//	-latency      delay added to every request and WebSocket handshake, e.g. 20ms
//	-close-delay  how long after a command's exit its follow stream closes (default 1s, like the daemon)
//	-autostop-unit  how long one minute of a sandbox's autoStopInterval lasts (default 1m, as in Daytona)
//	-mount-stubs  put stub s3fs, gcsfuse and blobfuse2 tools first in the sandboxes' PATH
//	-output-rate  bytes a second each output stream of a session command moves into its log
//	              (default 0, no limit; the real daemon moves about 2300000: daytonatest.DaemonOutputRate)
//	-session-shell  the sessions' shell, bash or zsh (default bash; Daytona's default image runs zsh)
//	-without      programs to hide from the sandboxes' PATH, comma-separated (e.g. perl, as on Alpine)
//	-service-version  the Daytona service to reproduce: 0.173, 0.190 or current (default: current,
//	              or DAYTONATEST_SERVICE_VERSION)
//	-help         print the flags and the environment variables read, and exit
//
// It reads no DAYTONA_* setting. Without -root its files go under $TMPDIR;
// the sandboxes' shells get PATH, LANG, USER, LOGNAME and TZ from its
// environment, and nothing else of it.
//
// The organization's snapshots beyond the default one can be listed, comma-separated, in
// DAYTONATEST_SNAPSHOTS, and its per-sandbox maximums set in DAYTONATEST_SANDBOX_LIMITS
// ("CPU,MEMORY,DISK", such as "4,8,10", the default).
//
// The test controls are served under /_daytonatest/ (see the package
// documentation of daytonatest).
//
// Like package daytonatest, it needs a Unix system (FIFOs, process groups);
// elsewhere it only prints an error and exits with status 2.
package main
