// Package daytona runs an AI agent's shell commands in Daytona cloud
// sandboxes. Its Sandbox implements the provider-neutral workspace.Sandbox
// interface (package github.com/agentworkspace/daytona/workspace) on top of
// the official Daytona Go SDK; it is a Go port of Mastra's DaytonaSandbox.
//
//	sb, err := daytona.New(daytona.WithLanguage(daytona.Python))
//	if err != nil { ... }
//	defer sb.Destroy(context.WithoutCancel(ctx))
//	res, err := sb.ExecuteCommand(ctx, "echo", []string{"Hello, world!"}, nil)
//	if err != nil { ... }
//	fmt.Print(res.Stdout) // Hello, world!
//
// # Lifecycle
//
// New only validates its options and makes no request. The remote sandbox
// is found or created on first use (ExecuteCommand, Start, Processes().Spawn)
// and concurrent first calls share one start; a failed start is not
// remembered, so the next call tries again. Stop stops the remote sandbox
// and keeps its files; the next command starts it again. Destroy deletes it.
// To reconnect from another process, keep DaytonaID and pass it to
// WithExistingSandbox (a sandbox that no longer exists is then an error
// matching ErrSandboxNotFound, unless WithCreateIfMissing), or give both
// processes the same WithName. A command that finds its sandbox stopped or
// deleted behind its back (Daytona's auto-stop) restarts or recreates it
// and is submitted once more; a command that may have started is never run
// twice, and one whose submission failed after the daemon took it is
// followed to its end.
//
// The creation mode follows the options: WithSnapshot creates from a
// snapshot (and wins over WithImage and WithResources); WithImage creates
// from an image, with WithResources if given; with neither, Daytona's
// default snapshot is used, and WithResources is ignored with a warning.
//
// # Commands
//
// ExecuteCommand runs a shell snippet (args are quoted and appended, and
// may hold any bytes) under bash, in a subshell, and waits for it. Its output
// goes to files in the sandbox; small clean output comes back through the
// session's log, the rest with ranged downloads at the network's speed, so it
// arrives exact (NUL bytes, long lines, invalid UTF-8). Output streams to the io.Writers in
// workspace.ExecOptions as it arrives, with os/exec semantics, and the
// result keeps up to MaxRetainedBytes of each stream (1 MiB by default). A
// non-zero exit code is a result, not an error. So is a timeout: the
// command is killed and the result has ExitCode 124 (ExitCodeTimeout) and
// TimedOut. When ctx ends the command is killed too, and the partial result
// (ExitCode 137, ExitCodeKilled, and Killed) comes with an error matching
// ctx.Err(). A kill is reported only when it succeeded; otherwise the exit
// code is ExitCodeUnknown and the error says the command may still run. The
// default timeout is 5 minutes (WithTimeout; per call ExecOptions.Timeout;
// workspace.NoTimeout for none).
//
// Every request (control plane, toolbox, commands) of every Sandbox in the
// process goes through one HTTP client with a pool sized for bursts, unless
// WithHTTPClient gives another; concurrent commands run in sessions that are
// kept for the next burst.
//
// Sandbox also implements the optional workspace.ProcessSpawner: Processes
// starts background processes (dev servers, REPLs) that can be sent input,
// listed, waited for and killed.
//
// # Files
//
// Sandbox implements the optional workspace.FilesystemProvider: Filesystem
// reads and writes the sandbox's files through Daytona's toolbox, streamed
// in constant memory (ReadFile, WriteFile, Open, Create, Stat, ReadDir,
// MkdirAll, Remove, RemoveAll, Rename), with names absolute or relative to
// the working directory, and errors that match io/fs (errors.Is(err,
// fs.ErrNotExist)). workspace.FS gives an io/fs view of a directory, for
// fs.WalkDir, fs.Glob and fs.ReadFile.
//
// # Long-running services
//
// Sandbox implements workspace.SignedPortExposer: PortURL returns the
// preview URL of a port and the headers (the preview token) a client
// sends; SignedPortURL a URL that needs none until it expires or
// ExpirePortURL revokes it; WaitForPort returns once something listens on
// the port. While a command or background process runs, the keep-alive
// refreshes the sandbox's activity so that Daytona's auto-stop does not
// stop it (WithKeepAlive, WithKeepAliveInterval; SetAutoStopInterval
// changes the idle limit). WithOnStart runs a hook after each start,
// telling it whether the sandbox was created or reconnected (WithOnStop
// and WithOnDestroy run before Stop and Destroy). Sandbox implements
// workspace.Mounter: Mount mounts an S3-compatible bucket, a GCS bucket
// or an Azure Blob container (or a prefix of one) with s3fs, gcsfuse or
// blobfuse2, and keeps it mounted across restarts (WithMount declares
// mounts made at every start); credentials never appear in a command line,
// a log or an error. GetInfo reports the last activity, when auto-stop
// would fire, and the CPU, memory and disk used.
//
// # Configuration
//
// Connection settings are resolved on first use: an option (WithAPIKey,
// WithAPIURL, WithTarget) wins; then the process environment
// (DAYTONA_API_KEY, or DAYTONA_JWT_TOKEN with DAYTONA_ORGANIZATION_ID;
// DAYTONA_API_URL; DAYTONA_TARGET); then .env.local and .env in the working
// directory (DAYTONA_* keys only; the process environment is never
// modified); then the default API URL, https://app.daytona.io/api.
// WithoutEnvironment turns this lookup off, for tests (but the SDK itself
// still reads DAYTONA_JWT_TOKEN from the process environment, and fails
// when it is set without DAYTONA_ORGANIZATION_ID; the error says so);
// WithEndpoint sets the URL and key and turns it off in one call. The API
// key never appears in an error, a log line, GetInfo, GetInstructions or
// the fmt output of any value; an error about a refused key names where the
// key came from.
//
// # Errors
//
// Test for the sentinels with errors.Is: ErrInvalidInput (a bad option or
// argument, reported before any request; also a Sandbox not made by New),
// ErrNoCredentials, ErrSandboxNotFound, and ErrNotReady
// (the same value as workspace.ErrNotReady: the sandbox was destroyed, or
// is not running where that is required, as by Instance). A failure of the
// Daytona service, or of the connection to it, carries an *Error (find it
// with errors.As) with the operation (Op) and the HTTP status (StatusCode,
// 0 without a response); StatusCode(err) reads the status from any error
// chain. *Error wraps the SDK's error, so errors.As finds its
// *errors.DaytonaError, *errors.DaytonaNotFoundError and so on (but the
// SDK's not-found, rate-limit and timeout types do not match a
// *errors.DaytonaError target), and errors.Is finds context.Canceled and
// context.DeadlineExceeded.
//
// # Testing
//
// Package daytonatest serves an in-process Daytona over real HTTP on
// loopback; its commands run on the local machine with a real shell. Point a
// Sandbox at it with WithEndpoint:
//
//	srv := daytonatest.NewServer(t)
//	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
package daytona
