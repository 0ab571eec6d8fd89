package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/joho/godotenv"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
)

// startTimeout bounds creating and starting the sandbox, and destroying it.
const startTimeout = 3 * time.Minute

// localNotice is printed on stderr with -local.
const localNotice = "daytona-mcp: -local: using an in-process Daytona (daytonatest); commands run on this machine, as the current user, with no isolation"

// backend is the sandbox served, and what to clean up.
type backend struct {
	sb      *daytona.Sandbox
	local   *daytonatest.Server // nil unless -local
	destroy bool                // destroy the sandbox on exit
	secrets []string            // never shown in tool output
}

// openBackend creates or attaches to the sandbox and starts it, so that
// missing credentials and other failures show at once.
func openBackend(ctx context.Context, cfg *config, stderr io.Writer, getenv func(string) string) (*backend, error) {
	b := &backend{destroy: !cfg.keep && cfg.id == "" && cfg.name == "", secrets: knownSecrets(getenv)}
	opts, err := cfg.sandboxOptions()
	if err != nil {
		return nil, err
	}
	if cfg.local {
		if b.local, err = daytonatest.Run(); err != nil {
			return nil, fmt.Errorf("start the in-process Daytona: %w", err)
		}
		fmt.Fprintln(stderr, localNotice)
		b.secrets = append(b.secrets, b.local.APIKey())
		opts = append([]daytona.Option{daytona.WithEndpoint(b.local.APIURL(), b.local.APIKey())}, opts...)
	}
	if b.sb, err = daytona.New(opts...); err != nil {
		b.local.Close() // nil-safe
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := b.sb.Start(sctx); err != nil {
		return nil, b.abandon(err)
	}
	fmt.Fprintf(stderr, "daytona-mcp: sandbox %s (Daytona id %s) is running\n", b.sb.ID(), b.sb.DaytonaID())
	return b, nil
}

// sandboxOptions turns the flags into daytona options.
func (cfg *config) sandboxOptions() ([]daytona.Option, error) {
	var opts []daytona.Option
	add := func(set bool, o daytona.Option) {
		if set {
			opts = append(opts, o)
		}
	}
	add(cfg.id != "", daytona.WithExistingSandbox(cfg.id))
	add(cfg.name != "", daytona.WithName(cfg.name))
	add(cfg.language != "", daytona.WithLanguage(daytona.Language(cfg.language)))
	add(cfg.snapshot != "", daytona.WithSnapshot(cfg.snapshot))
	add(cfg.img != "", daytona.WithImage(cfg.img))
	add(cfg.timeout != 0, daytona.WithTimeout(cfg.timeout))
	if _, err := daytona.New(append([]daytona.Option{daytona.WithoutEnvironment()}, opts...)...); err != nil {
		return nil, err // a bad flag, named by the option at fault
	}
	return opts, nil
}

// knownSecrets are the credentials this process may see, from the
// environment and the .env files daytona reads.
func knownSecrets(getenv func(string) string) []string {
	keys := []string{"DAYTONA_API_KEY", "DAYTONA_JWT_TOKEN", tokenEnv}
	var out []string
	for _, k := range keys {
		out = append(out, getenv(k))
	}
	for _, name := range []string{".env.local", ".env"} {
		if m, err := godotenv.Read(name); err == nil {
			for _, k := range keys {
				out = append(out, m[k])
			}
		}
	}
	return out
}

// abandon cleans up after the failed start of b's sandbox and returns
// the error to report: what failed, and what became of a sandbox known to
// exist. It claims nothing about a sandbox that was never created: without
// credentials no request was sent; a sandbox attached with -id or -name,
// or kept with -keep, is left alone; and a sandbox this start may have
// created before failing is removed quietly, mentioned only if that
// fails.
func (b *backend) abandon(startErr error) error {
	defer b.local.Close() // nil-safe
	if errors.Is(startErr, daytona.ErrNoCredentials) {
		return fmt.Errorf("%w\n(or run with -local to try it on this machine, without Daytona)", startErr)
	}
	err := fmt.Errorf("start the sandbox: %w", startErr)
	if !b.destroy || b.local != nil {
		return err // not ours to remove, or gone with the in-process Daytona
	}
	id := b.sb.DaytonaID() // known once the sandbox exists
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	switch derr := b.sb.Destroy(ctx); {
	case derr == nil && id != "":
		return fmt.Errorf("%w\n(sandbox %s, Daytona id %s, was created and has been destroyed)", err, b.sb.ID(), id)
	case derr != nil && id != "":
		return fmt.Errorf("%w\n(sandbox %s, Daytona id %s, was created and could not be destroyed: %v)", err, b.sb.ID(), id, derr)
	case derr != nil && cause(derr).Error() == cause(startErr).Error():
		return fmt.Errorf("%w\n(could not check whether sandbox %s was left behind, for the same reason)", err, b.sb.ID())
	case derr != nil:
		return fmt.Errorf("%w\n(could not check whether sandbox %s was left behind: %v)", err, b.sb.ID(), derr)
	}
	return err
}

// cause returns the innermost error err wraps.
func cause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// close destroys the sandbox if this process created it, and stops the
// in-process Daytona.
func (b *backend) close(stderr io.Writer) {
	if b.sb != nil && (b.destroy || b.local != nil) {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		if err := b.sb.Destroy(ctx); err != nil {
			fmt.Fprintf(stderr, "daytona-mcp: could not destroy sandbox %s: %v\n", b.sb.ID(), err)
		} else if b.local == nil {
			fmt.Fprintf(stderr, "daytona-mcp: destroyed sandbox %s\n", b.sb.ID())
		}
		cancel()
	} else if b.sb != nil {
		fmt.Fprintf(stderr, "daytona-mcp: kept sandbox %s (Daytona id %s)\n", b.sb.ID(), b.sb.DaytonaID())
	}
	b.local.Close() // nil-safe
}
