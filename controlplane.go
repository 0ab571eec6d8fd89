package daytona

// The control-plane client: finding, creating, starting, stopping and
// deleting the remote sandbox.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"
	"github.com/gorilla/websocket"
)

// labelSandboxID is the label Mastra puts on its sandboxes; we set it too,
// so that Go and TypeScript services can find each other's sandboxes.
const labelSandboxID = "mastra-sandbox-id"

// remote is a running remote sandbox as seen by this Sandbox.
type remote struct {
	sb     *sdk.Sandbox // the SDK's view, for its toolbox calls and Instance
	pool   *sessionPool
	hc     *http.Client      // for the requests sent without the SDK
	dialer *websocket.Dialer // for log streams
	facts  sandboxFacts      // how its commands run, from its record
}

// client is the connection to Daytona: the generated control-plane client
// that every lifecycle call goes through, and the SDK's client, used only
// to make the SDK's Sandbox (see Instance). Both send their requests with
// hc.
type client struct {
	api  *apiclient.APIClient
	sdk  *sdk.Client
	hc   *http.Client
	conn connection
}

// client returns the connection, creating it on first use. It makes no
// network request.
func (s *Sandbox) client() (*client, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	conn, err := s.cfg.resolveConnection()
	if err != nil {
		return nil, err
	}
	sdkc, err := sdk.NewClientWithConfig(&types.DaytonaConfig{
		APIKey:         conn.apiKey.reveal(),
		JWTToken:       conn.jwtToken.reveal(),
		OrganizationID: conn.orgID,
		APIUrl:         conn.apiURL,
		Target:         conn.target,
	})
	if err != nil {
		return nil, wrapErr("connect", err)
	}
	hc := s.cfg.httpClient
	if hc == nil {
		hc = sharedHTTP
	}
	c = &client{sdk: sdkc, api: newAPIClient(conn, hc), hc: hc, conn: conn}
	s.mu.Lock()
	if s.conn == nil {
		s.conn = c
	}
	c = s.conn
	s.mu.Unlock()
	return c, nil
}

// newAPIClient builds the generated control-plane client, with the
// headers the SDK sends (the API and the daemon look at the SDK version).
func newAPIClient(conn connection, hc *http.Client) *apiclient.APIClient {
	cfg := apiclient.NewConfiguration()
	u, _ := url.Parse(conn.apiURL) // validated when resolved
	cfg.Host = u.Host
	cfg.Scheme = u.Scheme
	cfg.Servers = apiclient.ServerConfigurations{{URL: u.Scheme + "://" + u.Host + u.Path}}
	cfg.HTTPClient = hc
	for k, v := range sdkHeaders(conn) {
		cfg.AddDefaultHeader(k, v)
	}
	cfg.UserAgent = "sdk-go/" + sdk.Version
	return apiclient.NewAPIClient(cfg)
}

// sdkHeaders returns the headers the SDK sends with every request besides
// the credential.
func sdkHeaders(conn connection) map[string]string {
	h := map[string]string{
		"X-Daytona-Source":      "sdk-go",
		"X-Daytona-SDK-Version": sdk.Version,
	}
	if conn.jwtToken != nil && conn.apiKey == nil {
		h["X-Daytona-Organization-ID"] = conn.orgID
	}
	return h
}

// auth returns ctx carrying the credential for a request of the generated
// control-plane client (c.api).
func (c *client) auth(ctx context.Context) context.Context {
	return context.WithValue(ctx, apiclient.ContextAccessToken, c.token())
}

// token returns the bearer credential.
func (c *client) token() string {
	if k := c.conn.apiKey.reveal(); k != "" {
		return k
	}
	return c.conn.jwtToken.reveal()
}

// record fetches the sandbox record from the control plane.
func (c *client) record(ctx context.Context, idOrName string) (*apiclient.Sandbox, error) {
	var rec *apiclient.Sandbox
	err := retrySafe(ctx, func() error {
		var resp *http.Response
		var err error
		rec, resp, err = c.api.SandboxAPI.GetSandbox(c.auth(ctx), idOrName).Execute()
		return convertAPIError(err, resp)
	})
	return rec, err
}

// startSandbox, stopSandbox and deleteSandbox send the lifecycle requests,
// without waiting for the state they lead to.
func (c *client) startSandbox(ctx context.Context, id string) error {
	_, resp, err := c.api.SandboxAPI.StartSandbox(c.auth(ctx), id).Execute()
	return convertAPIError(err, resp)
}

func (c *client) stopSandbox(ctx context.Context, id string) error {
	_, resp, err := c.api.SandboxAPI.StopSandbox(c.auth(ctx), id).Execute()
	return convertAPIError(err, resp)
}

func (c *client) deleteSandbox(ctx context.Context, id string) error {
	_, resp, err := c.api.SandboxAPI.DeleteSandbox(c.auth(ctx), id).Execute()
	return convertAPIError(err, resp)
}

// convertAPIError turns an error of the generated client into the SDK's
// error types, as the SDK does.
func convertAPIError(err error, resp *http.Response) error {
	if err == nil {
		return nil
	}
	return sdkerrors.ConvertAPIError(err, resp)
}

// waitState polls the sandbox until its state is not transitional, and
// returns its record; errGone if it disappears.
func (c *client) waitState(ctx context.Context, id string) (*apiclient.Sandbox, error) {
	b := backoff{next: stateWaitMin, max: stateWaitMax}
	for {
		if err := b.wait(ctx); err != nil {
			return nil, err
		}
		rec, err := c.record(ctx, id)
		switch {
		case isNotFound(err):
			return nil, errGone
		case err != nil:
			return nil, err
		case !transitionalState(rec.GetState()):
			return rec, nil
		}
	}
}

// remote makes the view of the sandbox rec describes: the SDK's Sandbox on
// a toolbox client of our own, which sends the SDK's headers through c.hc.
func (c *client) remote(rec *apiclient.Sandbox) *remote {
	base := strings.TrimRight(rec.GetToolboxProxyUrl(), "/") + "/" + rec.GetId()
	cfg := toolbox.NewConfiguration()
	if u, err := url.Parse(base); err == nil {
		cfg.Host, cfg.Scheme = u.Host, u.Scheme
	}
	cfg.Servers = toolbox.ServerConfigurations{{URL: base}}
	cfg.HTTPClient = c.hc
	cfg.AddDefaultHeader("Authorization", "Bearer "+c.token())
	for k, v := range sdkHeaders(c.conn) {
		cfg.AddDefaultHeader(k, v)
	}
	cfg.UserAgent = "sdk-go/" + sdk.Version
	var archive, del int
	if rec.AutoArchiveInterval != nil {
		archive = int(*rec.AutoArchiveInterval)
	}
	if rec.AutoDeleteInterval != nil {
		del = int(*rec.AutoDeleteInterval)
	}
	lang := types.CodeLanguage(rec.GetLabels()[types.CodeToolboxLanguageLabel])
	sb := sdk.NewSandbox(c.sdk, toolbox.NewAPIClient(cfg), rec.GetId(), rec.GetName(), rec.GetState(), rec.GetTarget(),
		archive, del, rec.GetNetworkBlockAll(), rec.NetworkAllowList, lang)
	return &remote{sb: sb, hc: c.hc, dialer: wsDialer(c.hc), facts: factsOf(rec)}
}

// Sandbox states in which a sandbox cannot be used again, and states that
// pass by themselves.
func deadState(st apiclient.SandboxState) bool {
	switch st {
	case apiclient.SANDBOXSTATE_DESTROYED, apiclient.SANDBOXSTATE_DESTROYING,
		apiclient.SANDBOXSTATE_ERROR, apiclient.SANDBOXSTATE_BUILD_FAILED:
		return true
	}
	return false
}

func transitionalState(st apiclient.SandboxState) bool {
	switch st {
	case apiclient.SANDBOXSTATE_STARTING, apiclient.SANDBOXSTATE_STOPPING,
		apiclient.SANDBOXSTATE_CREATING, apiclient.SANDBOXSTATE_RESTORING,
		apiclient.SANDBOXSTATE_ARCHIVING, apiclient.SANDBOXSTATE_RESIZING,
		apiclient.SANDBOXSTATE_PULLING_SNAPSHOT, apiclient.SANDBOXSTATE_BUILDING_SNAPSHOT,
		apiclient.SANDBOXSTATE_PENDING_BUILD, apiclient.SANDBOXSTATE_SNAPSHOTTING,
		apiclient.SANDBOXSTATE_FORKING:
		return true
	}
	return false
}

// errGone means the sandbox disappeared while we waited on it.
var errGone = errors.New("sandbox disappeared")

// acquired is what a start found or made.
type acquired struct {
	r         *remote
	createdAt time.Time
	workDir   string
	logicalID string // the remote's mastra-sandbox-id label, if known
	created   bool   // the sandbox was created by this start
}

// acquire finds or creates the remote sandbox, as Mastra's start does:
// look up by the stored Daytona id, else by name; not found → create
// (unless it was given to WithExistingSandbox); a dead sandbox → delete it
// and create a fresh one; stopped or archived → start it, waiting through
// transitional states; any other lookup error → fail, never risking a
// duplicate.
func (s *Sandbox) acquire(ctx context.Context) (acquired, error) {
	c, err := s.client()
	if err != nil {
		return acquired{}, err
	}
	rec, replacedDead, err := s.reconnect(ctx, c)
	if err != nil {
		return acquired{}, err
	}
	a := acquired{createdAt: time.Now()}
	if rec == nil {
		if rec, err = s.create(ctx, c, replacedDead); err != nil {
			return acquired{}, wrapCtx(ctx, "create sandbox", err)
		}
		a.created = true
	}
	if t, perr := time.Parse(time.RFC3339Nano, rec.GetCreatedAt()); perr == nil {
		a.createdAt = t
	}
	a.logicalID = rec.GetLabels()[labelSandboxID]
	a.r = c.remote(rec)
	a.workDir = s.detectWorkDir(ctx, a.r.sb)
	return a, nil
}

// createLabelID returns the logical id a created sandbox is labelled with.
func (s *Sandbox) createLabelID() string {
	if s.cfg.idFromLabel {
		return s.cfg.name
	}
	return s.cfg.id
}

// reconnect looks up the remote sandbox by its Daytona id (known, or given
// to WithExistingSandbox), else by name, and makes it run. It returns nil
// when there is none to use (replacedDead: a dead one was deleted).
func (s *Sandbox) reconnect(ctx context.Context, c *client) (rec *apiclient.Sandbox, replacedDead bool, err error) {
	s.mu.Lock()
	key := s.daytonaID
	s.mu.Unlock()
	if key == "" {
		key = s.cfg.existingID
	}
	byID := key != ""
	if !byID {
		key = s.cfg.name
	}
	s.log.Debug("looking up remote sandbox", "key", key, "byID", byID)
	rec, err = c.record(ctx, key)
	switch {
	case err == nil && deadState(rec.GetState()) && s.strictAbout(key):
		return nil, false, fmt.Errorf("daytona: sandbox %s given to WithExistingSandbox is %s: %w (use WithCreateIfMissing to replace it)", key, rec.GetState(), ErrSandboxNotFound)
	case err == nil && deadState(rec.GetState()):
		s.log.Debug("remote sandbox is dead; deleting it and creating a new one", "daytonaID", rec.GetId(), "state", rec.GetState())
		if derr := c.deleteSandbox(ctx, rec.GetId()); derr != nil && !isNotFound(derr) {
			s.log.Warn("could not delete dead sandbox", "daytonaID", rec.GetId(), "err", derr)
		}
		return nil, true, nil
	case err == nil && rec.GetState() != apiclient.SANDBOXSTATE_STARTED:
		s.log.Debug("remote sandbox is not running; starting it", "daytonaID", rec.GetId(), "state", rec.GetState())
		started, werr := s.waitAndStart(ctx, c, rec)
		if errors.Is(werr, errGone) {
			return nil, false, nil
		}
		if werr != nil {
			return nil, false, wrapCtx(ctx, "start sandbox "+rec.GetId(), werr)
		}
		return started, false, nil
	case err == nil:
		s.log.Debug("reconnected to running sandbox", "daytonaID", rec.GetId())
		return rec, false, nil
	case isNotFound(err) && s.strictAbout(key):
		return nil, false, fmt.Errorf("daytona: sandbox %s given to WithExistingSandbox does not exist: %w (use WithCreateIfMissing to create one instead)", key, ErrSandboxNotFound)
	case isNotFound(err):
		if s.cfg.existingID == key {
			s.log.Debug("sandbox given to WithExistingSandbox no longer exists; creating a new one (WithCreateIfMissing)", "daytonaID", key)
		}
		return nil, false, nil
	}
	return nil, false, wrapCtx(ctx, "look up sandbox "+key, err)
}

// strictAbout reports whether the sandbox looked up by key must exist: it
// is the one given to WithExistingSandbox, without WithCreateIfMissing.
func (s *Sandbox) strictAbout(key string) bool {
	return s.cfg.existingID != "" && key == s.cfg.existingID && !s.cfg.createIfMissing
}

// waitAndStart waits while rec's sandbox is in a transitional state, then
// starts it unless it is running, retrying while Daytona reports a state
// change in progress, and returns its record once it runs. It returns
// errGone if the sandbox disappears or dies.
func (s *Sandbox) waitAndStart(ctx context.Context, c *client, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
	id := rec.GetId()
	b := backoff{next: startBackoffMin, max: startBackoffMax}
	for {
		var err error
		if transitionalState(rec.GetState()) {
			if rec, err = c.waitState(ctx, id); err != nil {
				return nil, err
			}
		}
		switch st := rec.GetState(); {
		case st == apiclient.SANDBOXSTATE_STARTED:
			return rec, nil
		case deadState(st):
			return nil, errGone
		}
		err = c.startSandbox(ctx, id)
		switch {
		case isNotFound(err):
			return nil, errGone
		case err != nil && !stateChangeInProgress(err):
			return nil, err
		case err != nil:
			s.log.Debug("state change in progress; waiting", "daytonaID", id)
			if werr := b.wait(ctx); werr != nil {
				return nil, werr
			}
		}
		if rec, err = c.waitState(ctx, id); err != nil {
			return nil, err
		}
	}
}

// create creates the remote sandbox in the mode the options select, and
// waits until it runs. afterDelete says a dead sandbox of the same name
// was just deleted: while Daytona still holds its name, creation is
// retried.
func (s *Sandbox) create(ctx context.Context, c *client, afterDelete bool) (*apiclient.Sandbox, error) {
	body := s.createRequest(c.conn.target)
	waitUntil := time.Now().Add(nameReleaseWait)
	for {
		s.log.Debug("creating remote sandbox", "name", s.cfg.name, "mode", s.creationMode())
		rec, resp, err := c.api.SandboxAPI.CreateSandbox(c.auth(ctx)).CreateSandbox(body).Execute()
		if err == nil {
			return s.awaitCreated(ctx, c, rec)
		}
		err = sdkerrors.ConvertAPIError(err, resp)
		if !afterDelete || StatusCode(err) != http.StatusConflict || time.Now().After(waitUntil) {
			return nil, err
		}
		// The dead sandbox we deleted still holds the name; wait for it.
		if sleep(ctx, nameReleasePoll) != nil {
			return nil, err
		}
	}
}

// awaitCreated waits until a sandbox just created runs.
func (s *Sandbox) awaitCreated(ctx context.Context, c *client, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
	var err error
	if transitionalState(rec.GetState()) {
		if rec, err = c.waitState(ctx, rec.GetId()); err != nil {
			if errors.Is(err, errGone) {
				return nil, errors.New("the sandbox disappeared while it was being created")
			}
			return nil, err
		}
	}
	if st := rec.GetState(); st != apiclient.SANDBOXSTATE_STARTED {
		reason := rec.GetErrorReason()
		if reason == "" {
			reason = "its state is " + string(st)
		}
		return nil, fmt.Errorf("the sandbox failed to start: %s", reason)
	}
	return rec, nil
}

// detectWorkDir asks the toolbox for the default working directory; on
// failure the previous (or default) value stays.
func (s *Sandbox) detectWorkDir(ctx context.Context, sb *sdk.Sandbox) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dir, err := sb.GetWorkingDir(ctx)
	if err != nil {
		s.log.Debug("could not detect the working directory", "err", err)
		return ""
	}
	return strings.TrimSpace(dir)
}

// stopRemote stops the remote sandbox and waits until it has stopped. Not
// found (ephemeral sandboxes are deleted on stop) and "not started" count
// as success.
func (s *Sandbox) stopRemote(ctx context.Context, r *remote) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	id := r.sb.ID
	s.log.Debug("stopping remote sandbox", "daytonaID", id)
	err = c.stopSandbox(ctx, id)
	if err == nil {
		var rec *apiclient.Sandbox
		rec, err = c.waitState(ctx, id)
		if err == nil && rec.GetState() != apiclient.SANDBOXSTATE_STOPPED && rec.GetState() != apiclient.SANDBOXSTATE_ARCHIVED {
			err = fmt.Errorf("the sandbox is %s, not stopped", rec.GetState())
		}
	}
	switch {
	case err == nil, isNotFound(err), errors.Is(err, errGone), notStartedByStop(err):
		return nil
	}
	return wrapCtx(ctx, "stop sandbox "+id, err)
}

// deleteRemote deletes the remote sandbox: r if we hold it, else the one
// known by id or, failing that, by name (what a failed start may have left
// behind). Not found counts as success.
func (s *Sandbox) deleteRemote(ctx context.Context, r *remote, id string) error {
	c, err := s.client()
	if err != nil {
		if errors.Is(err, ErrNoCredentials) {
			return nil // nothing can have been created
		}
		return err
	}
	if r != nil {
		id = r.sb.ID
	} else {
		key := id
		if key == "" {
			key = s.cfg.name
		}
		s.log.Debug("looking for a remote sandbox to delete", "key", key)
		rec, err := c.record(ctx, key)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return wrapCtx(ctx, "look up sandbox "+key+" to delete", err)
		}
		id = rec.GetId()
	}
	s.log.Debug("deleting remote sandbox", "daytonaID", id)
	if err := c.deleteSandbox(ctx, id); err != nil && !isNotFound(err) {
		return wrapCtx(ctx, "delete sandbox "+id, err)
	}
	return nil
}
