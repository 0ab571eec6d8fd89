package daytona

// Remote sandboxes as records: a Client reads, lists and creates remote
// sandboxes without a started Sandbox, for code that manages many of them
// (such as package pool). Sandbox.Refresh, SetLabels, Touch and Archive
// (remoteops.go) act on the remote sandbox of one Sandbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
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
func (r *RemoteSandbox) Running() bool { return r.State == string(apiclient.SANDBOXSTATE_STARTED) }

// Parked reports whether the sandbox is stopped or archived: its files are
// kept, and a start brings it back.
func (r *RemoteSandbox) Parked() bool {
	return r.State == string(apiclient.SANDBOXSTATE_STOPPED) || r.State == string(apiclient.SANDBOXSTATE_ARCHIVED)
}

// Dead reports whether the sandbox cannot be used again: destroyed, being
// destroyed, or in an error state.
func (r *RemoteSandbox) Dead() bool { return deadState(apiclient.SandboxState(r.State)) }

// remoteJSON is a sandbox as the control plane sends it, in the list and
// in single records; only the fields RemoteSandbox keeps.
type remoteJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	State          string            `json:"state"`
	Labels         map[string]string `json:"labels"`
	ErrorReason    *string           `json:"errorReason"`
	CreatedAt      string            `json:"createdAt"`
	UpdatedAt      string            `json:"updatedAt"`
	LastActivityAt string            `json:"lastActivityAt"`
}

func (j *remoteJSON) remote() RemoteSandbox {
	r := RemoteSandbox{ID: j.ID, Name: j.Name, State: j.State, Labels: j.Labels}
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	if j.ErrorReason != nil {
		r.ErrorReason = *j.ErrorReason
	}
	r.CreatedAt, r.UpdatedAt, r.LastActivityAt = parseTime(j.CreatedAt), parseTime(j.UpdatedAt), parseTime(j.LastActivityAt)
	return r
}

// remoteFromRecord copies a record of the generated client.
func remoteFromRecord(rec *apiclient.Sandbox) *RemoteSandbox {
	j := remoteJSON{
		ID: rec.GetId(), Name: rec.GetName(), State: string(rec.GetState()), Labels: rec.GetLabels(),
		ErrorReason: rec.ErrorReason, CreatedAt: rec.GetCreatedAt(), UpdatedAt: rec.GetUpdatedAt(),
		LastActivityAt: rec.GetLastActivityAt(),
	}
	r := j.remote()
	return &r
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
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
func (cl *Client) conn(ctx context.Context, op string) (*client, error) {
	if ctx == nil {
		panic("daytona: Client." + op + " called with a nil Context")
	}
	if cl == nil || cl.s == nil {
		return nil, invalid("Client.%s on a Client that was not made by daytona.NewClient", op)
	}
	return cl.s.client()
}

// notFound is err, also matching ErrSandboxNotFound.
func notFound(err error) error { return &withCause{err: err, cause: ErrSandboxNotFound} }

// Lookup returns Daytona's record of the sandbox with this id or name (one
// request, repeated only on transient failures), without starting it. A
// sandbox that does not exist is an error matching ErrSandboxNotFound.
func (cl *Client) Lookup(ctx context.Context, idOrName string) (*RemoteSandbox, error) {
	c, err := cl.conn(ctx, "Lookup")
	if err != nil {
		return nil, err
	}
	if err := checkText("Lookup", "id or name", idOrName, true); err != nil {
		return nil, fmt.Errorf("daytona: %w: %w", ErrInvalidInput, err)
	}
	rec, err := c.record(ctx, idOrName)
	if err != nil {
		err = cl.s.explainRefusedKey(wrapCtx(ctx, "look up sandbox "+idOrName, err))
		if StatusCode(err) == http.StatusNotFound {
			return nil, notFound(err)
		}
		return nil, err
	}
	return remoteFromRecord(rec), nil
}

// Create creates a remote sandbox from the Client's options and opts (the
// creation options of New: WithName, WithLabels, WithImage,
// WithAutoStopInterval, ...; opts win) and waits until it runs, then
// returns its record. Each sandbox gets a fresh id and name unless opts
// give them (WithID, WithName). Attach to it with New(WithExistingSandbox(r.ID)).
// Create sends the create request once: a name that another sandbox holds
// is an error with StatusCode 409 (the sandbox of that name may be the one
// a concurrent caller created).
func (cl *Client) Create(ctx context.Context, opts ...Option) (*RemoteSandbox, error) {
	c, err := cl.conn(ctx, "Create")
	if err != nil {
		return nil, err
	}
	s, err := cl.s.with(opts)
	if err != nil {
		return nil, err
	}
	rec, err := s.create(ctx, c, false)
	if err != nil {
		return nil, cl.s.explainRefusedKey(wrapCtx(ctx, "create sandbox "+s.cfg.name, err))
	}
	return remoteFromRecord(rec), nil
}

// with returns a Sandbox with s's options and then opts, for a create
// request; it shares nothing with s but the configuration.
func (s *Sandbox) with(opts []Option) (*Sandbox, error) {
	cfg := s.cfg
	cfg.env, cfg.labels = maps.Clone(cfg.env), maps.Clone(cfg.labels)
	for i, o := range opts {
		if o == nil {
			return nil, invalid("option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("daytona: %w: %w", ErrInvalidInput, err)
		}
	}
	if cfg.existingID != "" {
		return nil, invalid("Create: WithExistingSandbox has no meaning here")
	}
	if cfg.id == s.cfg.id {
		cfg.id = generateID() // each sandbox its own id, unless WithID gave one
	}
	if cfg.name == s.cfg.name {
		cfg.name = cfg.id // named after it, unless WithName gave a name
	}
	return &Sandbox{cfg: cfg, log: s.log}, nil
}

// listPageLimit bounds how many pages List follows (100 sandboxes each in
// the current API), so that a cursor that never ends cannot loop forever.
const listPageLimit = 1000

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
	q := url.Values{}
	if len(labels) > 0 {
		b, err := json.Marshal(labels)
		if err != nil {
			return nil, invalid("List: labels: %v", err)
		}
		q.Set("labels", string(b))
	}
	var out []RemoteSandbox
	for range listPageLimit {
		page, next, err := c.listPage(ctx, q)
		if err != nil {
			return nil, cl.s.explainRefusedKey(wrapCtx(ctx, "list sandboxes", err))
		}
		out = append(out, page...)
		if next == "" || next == q.Get("cursor") {
			return out, nil
		}
		q.Set("cursor", next)
	}
	return nil, wrapErr("list sandboxes", fmt.Errorf("more than %d pages", listPageLimit))
}

// listPage fetches one page of GET /sandbox with query q and returns its
// sandboxes and the cursor of the next page ("" if none).
func (c *client) listPage(ctx context.Context, q url.Values) (page []RemoteSandbox, next string, err error) {
	var body []byte
	err = retrySafe(ctx, func() error {
		var rerr error
		body, rerr = c.getJSON(ctx, "/sandbox", q)
		return rerr
	})
	if err != nil {
		return nil, "", err
	}
	var items []remoteJSON
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = json.Unmarshal(trimmed, &items)
	default:
		var paged struct {
			Items      []remoteJSON `json:"items"`
			NextCursor *string      `json:"nextCursor"`
		}
		err = json.Unmarshal(trimmed, &paged)
		items = paged.Items
		if paged.NextCursor != nil {
			next = *paged.NextCursor
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("decode the list of sandboxes: %w", err)
	}
	page = make([]RemoteSandbox, len(items))
	for i := range items {
		page[i] = items[i].remote()
	}
	return page, next, nil
}

// maxControlAnswer bounds the answer getJSON reads (a page of 100 sandbox
// records is some 200 KiB).
const maxControlAnswer = 64 << 20

// getJSON sends GET {apiURL}{path}?{q} with the SDK's headers and returns
// the body of a successful answer; an error answer becomes the SDK's error
// types, as the generated client's do.
func (c *client) getJSON(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := c.conn.apiURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sdk-go/"+sdk.Version)
	for k, v := range sdkHeaders(c.conn) {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxControlAnswer))
	if resp.StatusCode >= 300 {
		if len(bytes.TrimSpace(data)) == 0 {
			data = []byte(resp.Status)
		}
		return nil, sdkerrors.NewDaytonaErrorFromBody(data, resp.StatusCode, resp.Header)
	}
	if err != nil {
		return nil, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	return data, nil
}
