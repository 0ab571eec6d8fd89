package daytona

// Remote sandboxes as records: a Client reads, lists and creates remote
// sandboxes without a started Sandbox, for code that manages many of them
// (such as package pool). Sandbox.Refresh, SetLabels, Touch and Archive
// (remoteops.go) act on the remote sandbox of one Sandbox.

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/fault"
)

// RemoteSandbox is Daytona's record of a remote sandbox: what a Client's
// Lookup, List and Create, and Sandbox.Refresh, report. It is a copy; nothing in it changes
// afterwards.
type RemoteSandbox struct {
	ID     string // the Daytona id
	Name   string // the name, unique in the organization
	State  string // Daytona's state, such as "started", "stopped", "archived", "error"
	Labels map[string]string
	// ErrorReason is Daytona's explanation of an error state, if any.
	ErrorReason string
	// CreatedAt, UpdatedAt and LastActivityAt are zero when Daytona did not
	// report them. LastActivityAt is what Daytona's auto-stop counts from:
	// the last request through the sandbox's proxy, or its last change of
	// state.
	CreatedAt, UpdatedAt, LastActivityAt time.Time
}

// Running reports whether the sandbox is started.
func (r *RemoteSandbox) Running() bool { return r != nil && controlplane.Running(r.State) }

// Parked reports whether the sandbox is stopped or archived: its files are
// kept, and a start brings it back.
func (r *RemoteSandbox) Parked() bool { return r != nil && controlplane.Parked(r.State) }

// Dead reports whether the sandbox cannot be used again: destroyed, being
// destroyed, or in an error state.
func (r *RemoteSandbox) Dead() bool { return r != nil && controlplane.Dead(r.State) }

// remoteOf copies a record of the control plane (the same fields).
func remoteOf(rec *controlplane.Record) *RemoteSandbox {
	r := RemoteSandbox(*rec)
	return &r
}

// Client reads, lists and creates remote sandboxes without a started
// Sandbox, for code that manages many of them (such as package pool). It
// holds one connection, resolved on first use as New resolves a Sandbox's
// (WithEndpoint, WithAPIKey, the environment, ...). A Client is safe for
// concurrent use by multiple goroutines.
type Client struct {
	s *Sandbox // carries the options; never started
}

// NewClient returns a Client configured by opts (the connection options;
// the creation options, such as WithImage, become the defaults of Create).
// Like New, it only validates the options and makes no request.
func NewClient(opts ...Option) (*Client, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	if s.cfg.existingID != "" {
		return nil, invalid("NewClient: WithExistingSandbox has no meaning here")
	}
	return &Client{s: s}, nil
}

// conn returns the connection, checking the receiver and ctx first.
func (cl *Client) conn(ctx context.Context, op string) (*controlplane.Client, error) {
	if ctx == nil {
		fault.Panic("Client.%s called with a nil Context", op)
	}
	if cl == nil || cl.s == nil {
		return nil, invalid("Client.%s on a Client that was not made by daytona.NewClient", op)
	}
	return cl.s.client()
}

// remoteErr wraps err, a failure of op on a remote sandbox, adds which
// credential was refused (a 401), and makes a sandbox that does not exist
// (404, or gone while waited on) an error matching ErrSandboxNotFound.
func (s *Sandbox) remoteErr(ctx context.Context, op string, err error) error {
	err = s.explainRefusedKey(fault.WrapCtx(ctx, op, err))
	if StatusCode(err) == http.StatusNotFound || controlplane.Gone(err) {
		return apierr.WithCause(err, ErrSandboxNotFound)
	}
	return err
}

// Lookup returns Daytona's record of the sandbox with this id or name (one
// request, repeated only on transient failures), without starting it. A
// sandbox that does not exist is an error matching ErrSandboxNotFound.
func (cl *Client) Lookup(ctx context.Context, idOrName string) (*RemoteSandbox, error) {
	c, err := cl.conn(ctx, "Lookup")
	if err != nil {
		return nil, err
	}
	if err := checkText("Lookup", "id or name", idOrName, true); err != nil {
		return nil, invalidErr(err)
	}
	rec, err := c.Lookup(ctx, idOrName)
	if err != nil {
		return nil, cl.s.remoteErr(ctx, "look up sandbox "+idOrName, err)
	}
	return remoteOf(rec), nil
}

// Create creates a remote sandbox from the Client's options and opts (the
// creation options of New: WithName, WithLabels, WithImage,
// WithAutoStopInterval, ...; opts win) and waits until it runs, then
// returns its record. Each sandbox gets a fresh id and name unless opts
// give them (WithID, WithName). Attach to it with New(WithExistingSandbox(r.ID)).
// Create sends the create request once (again after a 429 only): a name
// that another sandbox holds is an error with StatusCode 409 (the sandbox
// of that name may be the one a concurrent caller created).
func (cl *Client) Create(ctx context.Context, opts ...Option) (*RemoteSandbox, error) {
	c, err := cl.conn(ctx, "Create")
	if err != nil {
		return nil, err
	}
	cfg, err := cl.s.cfg.with(opts)
	if err != nil {
		return nil, err
	}
	cs := cfg.createSpec()
	rec, err := c.Create(ctx, &cs)
	if err != nil {
		return nil, cl.s.explainRefusedKey(fault.WrapCtx(ctx, "create sandbox "+cfg.name, err))
	}
	return remoteOf(rec), nil
}

// with returns the configuration cfg and then opts, for a create request;
// it shares no map with cfg.
func (base *config) with(opts []Option) (*config, error) {
	cfg := *base
	cfg.env, cfg.labels = maps.Clone(cfg.env), maps.Clone(cfg.labels)
	for i, o := range opts {
		if o == nil {
			return nil, invalid("option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, invalidErr(err)
		}
	}
	if cfg.existingID != "" {
		return nil, invalid("Create: WithExistingSandbox has no meaning here")
	}
	if cfg.id == base.id {
		cfg.id = generateID() // each sandbox its own id, unless WithID gave one
	}
	if cfg.name == base.name {
		cfg.name = cfg.id // named after it, unless WithName gave a name
	}
	return &cfg, nil
}

// List returns the records of the sandboxes that carry all of labels (all
// sandboxes if labels is empty), following the pages of the answer.
//
// Daytona's list is eventually consistent (the API says so: it is served
// from a search index, apps/api/src/sandbox/controllers/sandbox.controller.ts:130-146
// at v0.190.0): a sandbox created or relabelled a moment ago may be
// missing. Lookup by name or id is not. List reads both shapes of the
// answer: an array (the API of SDK v0.173) and {items, nextCursor} (since
// v0.190).
func (cl *Client) List(ctx context.Context, labels map[string]string) ([]RemoteSandbox, error) {
	c, err := cl.conn(ctx, "List")
	if err != nil {
		return nil, err
	}
	list, err := c.List(ctx, labels)
	if err != nil {
		return nil, cl.s.explainRefusedKey(err)
	}
	var out []RemoteSandbox // nil when there are none
	for _, rec := range list {
		out = append(out, RemoteSandbox(rec))
	}
	return out, nil
}
