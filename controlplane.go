package daytona

// The control-plane client: finding, creating, starting, stopping and
// deleting the remote sandbox.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/options"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
)

// labelSandboxID is the label Mastra puts on its sandboxes; we set it too,
// so that Go and TypeScript services can find each other's sandboxes.
const labelSandboxID = "mastra-sandbox-id"

// userAgent identifies this package's own control-plane requests.
const userAgent = "agentworkspace-daytona-go"

// remote is a running remote sandbox as seen by this Sandbox.
type remote struct {
	sb   *sdk.Sandbox
	pool *sessionPool
}

// client is the SDK client and our API client for the same connection.
type client struct {
	sdk  *sdk.Client
	api  *apiclient.APIClient
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
	c = &client{sdk: sdkc, api: newAPIClient(conn), conn: conn}
	s.mu.Lock()
	if s.conn == nil {
		s.conn = c
	}
	c = s.conn
	s.mu.Unlock()
	return c, nil
}

// newAPIClient builds a generated control-plane client for what the SDK's
// Sandbox does not expose (resources, createdAt, labels).
func newAPIClient(conn connection) *apiclient.APIClient {
	cfg := apiclient.NewConfiguration()
	u, _ := url.Parse(conn.apiURL) // validated when resolved
	cfg.Host = u.Host
	cfg.Scheme = u.Scheme
	cfg.Servers = apiclient.ServerConfigurations{{URL: u.Scheme + "://" + u.Host + u.Path}}
	cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	cfg.UserAgent = userAgent
	if conn.jwtToken != nil && conn.apiKey == nil {
		cfg.AddDefaultHeader("X-Daytona-Organization-ID", conn.orgID)
	}
	return apiclient.NewAPIClient(cfg)
}

// auth returns ctx carrying the credential for a request of the generated
// control-plane client (c.api).
func (c *client) auth(ctx context.Context) context.Context {
	token := c.conn.apiKey.reveal()
	if token == "" {
		token = c.conn.jwtToken.reveal()
	}
	return context.WithValue(ctx, apiclient.ContextAccessToken, token)
}

// record fetches the full sandbox record from the control plane.
func (c *client) record(ctx context.Context, id string) (*apiclient.Sandbox, error) {
	rec, resp, err := c.api.SandboxAPI.GetSandbox(c.auth(ctx), id).Execute()
	if err != nil {
		return nil, sdkerrors.ConvertAPIError(err, resp)
	}
	return rec, nil
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
	created   bool   // this start created the remote sandbox
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
	sb, replacedDead, err := s.reconnect(ctx, c)
	if err != nil {
		return acquired{}, err
	}
	a := acquired{createdAt: time.Now()}
	if sb != nil {
		if rec, rerr := c.record(ctx, sb.ID); rerr == nil {
			if t, perr := time.Parse(time.RFC3339Nano, rec.GetCreatedAt()); perr == nil {
				a.createdAt = t
			}
			a.logicalID = rec.Labels[labelSandboxID]
		}
	} else {
		sb, err = s.create(ctx, c, replacedDead)
		if err != nil {
			return acquired{}, wrapCtx(ctx, "create sandbox", err)
		}
		a.logicalID, a.created = s.createLabelID(), true
	}
	a.r = &remote{sb: sb}
	a.workDir = s.detectWorkDir(ctx, sb)
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
func (s *Sandbox) reconnect(ctx context.Context, c *client) (sb *sdk.Sandbox, replacedDead bool, err error) {
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
	sb, err = c.sdk.Get(ctx, key)
	switch {
	case err == nil && deadState(sb.State) && s.strictAbout(key):
		return nil, false, fmt.Errorf("daytona: sandbox %s given to WithExistingSandbox is %s: %w (use WithCreateIfMissing to replace it)", key, sb.State, ErrSandboxNotFound)
	case err == nil && deadState(sb.State):
		s.log.Debug("remote sandbox is dead; deleting it and creating a new one", "daytonaID", sb.ID, "state", sb.State)
		if derr := sb.Delete(ctx); derr != nil && !isNotFound(derr) {
			s.log.Warn("could not delete dead sandbox", "daytonaID", sb.ID, "err", derr)
		}
		return nil, true, nil
	case err == nil && sb.State != apiclient.SANDBOXSTATE_STARTED:
		s.log.Debug("remote sandbox is not running; starting it", "daytonaID", sb.ID, "state", sb.State)
		if werr := s.waitAndStart(ctx, sb); werr != nil {
			if !errors.Is(werr, errGone) {
				return nil, false, wrapCtx(ctx, "start sandbox "+sb.ID, werr)
			}
			return nil, false, nil
		}
		return sb, false, nil
	case err == nil:
		s.log.Debug("reconnected to running sandbox", "daytonaID", sb.ID)
		return sb, false, nil
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

// waitAndStart waits while sb is in a transitional state, then starts it
// unless it is running, retrying while Daytona reports a state change in
// progress. It returns errGone if the sandbox disappears or dies.
func (s *Sandbox) waitAndStart(ctx context.Context, sb *sdk.Sandbox) error {
	b := backoff{next: startBackoffMin, max: startBackoffMax}
	pause := func() error { return b.wait(ctx) }
	refresh := func() error {
		if err := sb.RefreshData(ctx); err != nil {
			if isNotFound(err) {
				return errGone
			}
			return err
		}
		if deadState(sb.State) {
			return errGone
		}
		return nil
	}
	for transitionalState(sb.State) {
		if err := pause(); err != nil {
			return err
		}
		if err := refresh(); err != nil {
			return err
		}
	}
	for sb.State != apiclient.SANDBOXSTATE_STARTED {
		err := sb.StartWithTimeout(ctx, 0)
		if err == nil {
			return nil
		}
		if isNotFound(err) {
			return errGone
		}
		if !stateChangeInProgress(err) {
			return err
		}
		s.log.Debug("state change in progress; waiting", "daytonaID", sb.ID)
		if err := pause(); err != nil {
			return err
		}
		if err := refresh(); err != nil {
			return err
		}
	}
	return nil
}

// create creates the remote sandbox in the mode the options select.
// afterDelete says a dead sandbox of the same name was just deleted: while
// Daytona still holds its name, creation is retried.
func (s *Sandbox) create(ctx context.Context, c *client, afterDelete bool) (*sdk.Sandbox, error) {
	params := s.createParams()
	waitUntil := time.Now().Add(nameReleaseWait)
	for {
		timeout := startTimeout
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		if timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
		s.log.Debug("creating remote sandbox", "name", s.cfg.name, "mode", s.creationMode())
		sb, err := c.sdk.Create(ctx, params, options.WithTimeout(timeout))
		if err == nil {
			return sb, nil
		}
		if !afterDelete || StatusCode(err) != http.StatusConflict || time.Now().After(waitUntil) {
			return nil, err
		}
		// The dead sandbox we deleted still holds the name; wait for it.
		if sleep(ctx, nameReleasePoll) != nil {
			return nil, err
		}
	}
}

func (s *Sandbox) creationMode() string {
	switch {
	case s.cfg.snapshot != "":
		return "snapshot"
	case s.cfg.image != "":
		return "image"
	}
	return "default"
}

// createParams builds the SDK's creation parameters: by value (the SDK
// silently ignores pointers), with fresh maps (the SDK writes into them).
func (s *Sandbox) createParams() any {
	cfg := &s.cfg
	labels := maps.Clone(cfg.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelSandboxID] = s.createLabelID()
	base := types.SandboxBaseParams{
		Name:      cfg.name,
		User:      cfg.user,
		Language:  types.CodeLanguage(cfg.language),
		Labels:    labels,
		Ephemeral: cfg.ephemeral,
	}
	autoStop := int(cfg.autoStop / time.Minute)
	base.AutoStopInterval = &autoStop
	if cfg.autoArchive != nil {
		v := int(*cfg.autoArchive / time.Minute)
		base.AutoArchiveInterval = &v
	}
	if cfg.autoDelete != nil {
		v := int(*cfg.autoDelete / time.Minute)
		base.AutoDeleteInterval = &v
	}
	if cfg.public != nil {
		base.Public = *cfg.public
	}
	if cfg.blockAll != nil {
		base.NetworkBlockAll = *cfg.blockAll
	}
	if cfg.allowList != nil {
		v := *cfg.allowList
		base.NetworkAllowList = &v
	}
	for _, v := range cfg.volumes {
		vm := types.VolumeMount{VolumeID: v.VolumeID, MountPath: v.MountPath}
		if v.Subpath != "" {
			sp := v.Subpath
			vm.Subpath = &sp
		}
		base.Volumes = append(base.Volumes, vm)
	}
	switch {
	case cfg.snapshot != "":
		return types.SnapshotParams{SandboxBaseParams: base, Snapshot: cfg.snapshot}
	case cfg.image != "":
		p := types.ImageParams{SandboxBaseParams: base, Image: cfg.image}
		if cfg.resources != nil {
			p.Resources = &types.Resources{CPU: cfg.resources.CPU, Memory: cfg.resources.Memory, Disk: cfg.resources.Disk}
		}
		return p
	default:
		return types.SnapshotParams{SandboxBaseParams: base}
	}
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

// stopRemote stops the remote sandbox. Not found (ephemeral sandboxes are
// deleted on stop) and "not started" count as success.
func (s *Sandbox) stopRemote(ctx context.Context, r *remote) error {
	s.log.Debug("stopping remote sandbox", "daytonaID", r.sb.ID)
	err := r.sb.StopWithTimeout(ctx, 0, false)
	switch {
	case err == nil, isNotFound(err):
		return nil
	case notStartedByStop(err):
		return nil
	}
	return wrapCtx(ctx, "stop sandbox "+r.sb.ID, err)
}

// deleteRemote deletes the remote sandbox: r if we hold it, else the one
// known by id or, failing that, by name (what a failed start may have left
// behind). Not found counts as success.
func (s *Sandbox) deleteRemote(ctx context.Context, r *remote, id string) error {
	if r != nil {
		s.log.Debug("deleting remote sandbox", "daytonaID", r.sb.ID)
		if err := r.sb.DeleteWithTimeout(ctx, 0); err != nil && !isNotFound(err) {
			return wrapCtx(ctx, "delete sandbox "+r.sb.ID, err)
		}
		return nil
	}
	c, err := s.client()
	if err != nil {
		if errors.Is(err, ErrNoCredentials) {
			return nil // nothing can have been created
		}
		return err
	}
	key := id
	if key == "" {
		key = s.cfg.name
	}
	s.log.Debug("looking for a remote sandbox to delete", "key", key)
	sb, err := c.sdk.Get(ctx, key)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return wrapCtx(ctx, "look up sandbox "+key+" to delete", err)
	}
	if err := sb.DeleteWithTimeout(ctx, 0); err != nil && !isNotFound(err) {
		return wrapCtx(ctx, "delete sandbox "+sb.ID, err)
	}
	return nil
}
