// Package sandboxtest is a conformance suite for implementations of
// [workspace.Sandbox]: the behaviour every provider (Daytona, E2B, Modal, a
// local shell, ...) must share so that an agent framework can swap one for
// another. It is to sandbox providers what testing/fstest is to file
// systems.
//
// A provider runs the suite from its own tests, giving a function that
// returns a new, unstarted sandbox:
//
//	func TestConformance(t *testing.T) {
//		sandboxtest.Run(t, sandboxtest.Config{
//			New: func(t *testing.T) workspace.Sandbox {
//				sb, err := e2b.New(e2b.WithTemplate("base"))
//				if err != nil {
//					t.Fatal(err)
//				}
//				return sb
//			},
//			Timeout: 2 * time.Minute, // per subtest; cloud starts are slow
//			Skip: map[string]string{
//				"Lifecycle/StopKeepsFiles": "paused sandboxes lose their files on our plan",
//			},
//		})
//	}
//
// Run runs each behaviour as a subtest (Lifecycle/..., Exec/..., Info/...,
// Processes/..., Filesystem/..., Ports/..., Mounts/...), so that one can
// be selected with go test -run, for example -run
// 'Conformance/Exec/Timeout'. Every subtest creates its own
// sandbox with Config.New and destroys it when the subtest ends, so
// subtests never see each other's state.
//
// Where to run it depends on the provider. One with an in-process fake of
// its service runs the suite against the fake in every go test, with
// Parallel set: the Daytona provider does so with its package daytonatest.
// A local provider (a shell, a container) runs it the same way; the tests
// of this package run the suite against such a provider, a reference
// implementation of a few hundred lines (local_test.go). A provider that
// talks only to its cloud, such as E2B or Modal, runs it when credentials
// are present and skips otherwise:
//
//	func TestLiveConformance(t *testing.T) {
//		if os.Getenv("MODAL_TOKEN_ID") == "" {
//			t.Skip("MODAL_TOKEN_ID is not set: skipping the live conformance suite")
//		}
//		sandboxtest.Run(t, sandboxtest.Config{New: newModalSandbox, Timeout: 3 * time.Minute})
//	}
//
// Cloud sandboxes take seconds to start, so such a provider gives a larger
// Timeout, and go test a larger -timeout; it leaves Parallel off unless its
// quota allows a sandbox per subtest at once.
//
// Each provider has its own sandbox type; New returns it as a
// workspace.Sandbox. A sandbox that also implements
// [workspace.ProcessSpawner] gets the Processes subtests as well, and one
// that implements [workspace.FilesystemProvider] the Filesystem subtests.
//
// # What is checked
//
// Lifecycle: a new sandbox is pending; Start, Stop, Start again and Destroy
// move it to running, stopped, running and destroyed; Start, Stop and
// Destroy are idempotent; ExecuteCommand starts a pending or stopped
// sandbox on first use, also when many goroutines call it at once; files
// survive Stop; after Destroy, operations fail with an error matching
// [workspace.ErrNotReady].
//
// Exec: exit codes are results, not errors; stdout and stderr are exact and
// separate; args reach the command verbatim; per-call Env and Cwd apply to
// that call only, and an invalid variable name fails before anything runs;
// stdin is at end of file; a timeout kills the command and reports exit
// code 124; cancelling the context kills it and returns the partial result
// (exit code 137) with an error matching context.Canceled; output streams
// to the writers while the command runs, in order, with os/exec semantics;
// a failing writer stops the command; MaxRetainedBytes keeps the tail of
// each stream and counts what it dropped.
//
// Info: GetInfo agrees with ID, Name, Provider and Status and encodes with
// Mastra's field names; GetInstructions describes the sandbox even before
// it has started, without starting it.
//
// Processes (only for sandboxes that implement [workspace.ProcessSpawner]):
// Spawn starts a pending sandbox; output streams while the process runs;
// SendStdin reaches it; Wait returns its exit code, 137 after Kill and 124
// after its timeout; List and Get track it, and an unknown id matches
// [workspace.ErrProcessNotFound]; stopping the sandbox ends its processes.
//
// Filesystem (only for sandboxes that implement
// [workspace.FilesystemProvider]): a write starts a pending sandbox;
// binary and empty files round-trip exactly through WriteFile, Create,
// ReadFile and Open, missing parents are created, and commands see the
// files at the same relative names (and the other way round); directories
// are created, listed sorted by name and described; missing names are
// fs.ErrNotExist in an *fs.PathError; a directory where a file is
// expected (and the other way round) is an error that changes nothing;
// empty names and NUL bytes are fs.ErrInvalid; Remove, RemoveAll and
// Rename (replacing a file) behave as in package os; testing/fstest.TestFS
// passes on the [workspace.FS] view of a tree with nested directories, an
// empty file and a binary file; concurrent calls are safe.
//
// Ports (only for sandboxes that implement [workspace.PortExposer]): ports
// outside 1-65535 are refused without starting the sandbox; an HTTP server
// spawned in the sandbox is reached through PortURL once WaitForPort
// returns, and a request without the URL's headers (when it has any) is
// refused; WaitForPort ends promptly with its context. With
// [workspace.SignedPortExposer], a signed URL works without headers until
// ExpirePortURL revokes it.
//
// Mounts (only for sandboxes that implement [workspace.Mounter]): a
// relative path, an unknown storage type and missing credentials are
// refused without starting the sandbox; with storage from
// Config.MountSpec, a mount is listed in Info.Mounts, a file written
// through it reads back, Unmount removes it (twice is fine), and a
// directory that is not empty is not mounted over.
//
// # Requirements on the sandbox
//
// The suite runs POSIX shell commands (sh syntax; echo, printf, cat, sleep,
// pwd, mkdir, touch, rm and test), uses /tmp as a working directory, and
// writes small files there and in the default working directory. Each
// subtest takes a few seconds at most beyond the time to start and destroy
// its sandbox; the slowest commands are a sleep 30 that the suite expects
// the sandbox to kill within ten seconds. The Ports subtests need python3
// in the sandbox (to serve HTTP and find a free port), unless
// Config.ServeCommand and Config.Port say otherwise, and a ProcessSpawner
// to run the server.
package sandboxtest
