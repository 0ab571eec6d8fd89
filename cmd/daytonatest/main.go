//go:build unix

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/agentworkspace/daytona/daytonatest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "daytonatest:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, help, err := options(args, stderr)
	if err != nil {
		return err
	}
	if help != nil {
		writeHelp(stdout, help)
		return nil
	}
	srv, err := daytonatest.Run(opts...)
	if err != nil {
		return err
	}
	return serve(ctx, srv, stdout, stderr)
}

// serve prints where srv listens and serves until ctx ends or the process
// is interrupted, then closes srv (giving up after 30 s).
func serve(ctx context.Context, srv *daytonatest.Server, stdout, stderr io.Writer) error {
	defer srv.Close()
	fmt.Fprintf(stdout, "DAYTONA_API_URL=%s\nDAYTONA_API_KEY=%s\n", srv.APIURL(), srv.APIKey())
	fmt.Fprintf(stderr, "daytonatest: serving on %s as Daytona's %s service (sandbox files under %s); commands run on this machine as the current user; Ctrl-C to stop\n", srv.URL(), srv.ServiceVersion(), srv.Root())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(stderr, "daytonatest: shutting down")
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("shutdown took longer than 30s")
	}
	return nil
}

// options parses the command line into the server's options; when the
// command line asks for help it returns the flag set to describe instead.
func options(args []string, stderr io.Writer) ([]daytonatest.Option, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("daytonatest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { writeHelp(fs.Output(), fs) }
	help := fs.Bool("help", false, "print this help")
	fs.BoolVar(help, "h", false, "print this help")
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	key := fs.String("api-key", "", "API key clients must send (default: random)")
	root := fs.String("root", "", "directory for sandbox files (default: a fresh temporary directory)")
	latency := fs.Duration("latency", 0, "delay added to every request and WebSocket handshake, e.g. 20ms")
	closeDelay := fs.Duration("close-delay", daytonatest.DefaultCloseDelay, "how long after a command's exit its follow stream closes")
	autoStopUnit := fs.Duration("autostop-unit", time.Minute, "how long one minute of a sandbox's autoStopInterval lasts, e.g. 1s")
	mountStubs := fs.Bool("mount-stubs", false, "put stub s3fs, gcsfuse and blobfuse2 tools in the sandboxes' PATH (no FUSE here)")
	outputRate := fs.Int("output-rate", 0, fmt.Sprintf("bytes a second each output stream of a session command moves into its log (the real daemon: about %d); 0: no limit", daytonatest.DaemonOutputRate))
	shell := fs.String("session-shell", "", "the sessions' shell, bash or zsh, as the daemon picks it (default: bash)")
	service := fs.String("service-version", "", "the Daytona service to reproduce: 0.173, 0.190 or current (default: current, or $"+daytonatest.ServiceVersionEnv+")")
	without := fs.String("without", "", "programs to hide from the sandboxes' PATH, comma-separated, as in an image without them (e.g. perl)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if *help {
		return nil, fs, nil
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	opts := []daytonatest.Option{
		daytonatest.WithAddr(*addr),
		daytonatest.WithLatency(*latency),
		daytonatest.WithCloseDelay(*closeDelay),
		daytonatest.WithLogOutput(stderr),
		daytonatest.WithAutoStopUnit(*autoStopUnit),
		daytonatest.WithOutputRate(*outputRate),
	}
	if *mountStubs {
		opts = append(opts, daytonatest.WithMountStubs())
	}
	if *without != "" {
		opts = append(opts, daytonatest.WithoutPrograms(strings.Split(*without, ",")...))
	}
	serviceVersion := func(v string) daytonatest.Option {
		return daytonatest.WithServiceVersion(daytonatest.ServiceVersion(v))
	}
	for _, o := range []struct {
		value string
		opt   func(string) daytonatest.Option
	}{{*shell, daytonatest.WithSessionShell}, {*service, serviceVersion}, {*key, daytonatest.WithAPIKey}, {*root, daytonatest.WithRoot}} {
		if o.value != "" {
			opts = append(opts, o.opt(o.value))
		}
	}
	return opts, nil, nil
}
