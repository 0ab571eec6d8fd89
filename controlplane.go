package daytona

// The Sandbox's side of the control plane (internal/controlplane): its
// connection, made on first use, and what a start acquires and an end
// releases.

import (
	"context"
	"errors"
	"maps"
	"net/http"

	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/fault"
)

// client returns the connection, creating it on first use. It makes no
// network request.
func (s *Sandbox) client() (*controlplane.Client, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	conn, err := s.cfg.connection()
	if err != nil {
		return nil, err
	}
	if c, err = controlplane.New(conn, s.cfg.httpClient, s.log); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.conn == nil {
		s.conn = c
	}
	c = s.conn
	s.mu.Unlock()
	return c, nil
}

// connection resolves the connection settings (see
// controlplane.Resolve). It reads files but makes no network request.
func (cfg *config) connection() (controlplane.Connection, error) {
	conn, err := controlplane.Resolve(cfg.settings())
	switch {
	case errors.Is(err, controlplane.ErrNoCredentials):
		return conn, fault.Errorf("%w", ErrNoCredentials)
	case err != nil:
		return conn, fault.Errorf("%w", err)
	}
	return conn, nil
}

// acquire finds or creates the remote sandbox (see
// controlplane.Client.Acquire).
func (s *Sandbox) acquire(ctx context.Context) (controlplane.Acquired, error) {
	c, err := s.client()
	if err != nil {
		return controlplane.Acquired{}, err
	}
	s.mu.Lock()
	t := controlplane.Target{DaytonaID: s.daytonaID, ExistingID: s.cfg.existingID,
		CreateIfMissing: s.cfg.createIfMissing, Create: s.cfg.createSpec()}
	s.mu.Unlock()
	a, err := c.Acquire(ctx, t)
	var missing *controlplane.MissingError
	switch {
	case !errors.As(err, &missing):
		return a, err
	case missing.State != "":
		return a, fault.Errorf("sandbox %s given to WithExistingSandbox is %s: %w (use WithCreateIfMissing to replace it)", missing.ID, missing.State, ErrSandboxNotFound)
	}
	return a, fault.Errorf("sandbox %s given to WithExistingSandbox does not exist: %w (use WithCreateIfMissing to create one instead)", missing.ID, ErrSandboxNotFound)
}

// createSpec describes the sandbox to create, in the mode the options
// select: labelled with its logical id (so that Go and TypeScript services
// find each other's sandboxes).
func (cfg *config) createSpec() controlplane.CreateSpec {
	labels := maps.Clone(cfg.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[controlplane.LabelSandboxID] = cfg.id
	if cfg.idFromLabel {
		labels[controlplane.LabelSandboxID] = cfg.name
	}
	cs := controlplane.CreateSpec{
		Name: cfg.name, User: cfg.user, Labels: labels, Language: string(cfg.language),
		Public: cfg.public != nil && *cfg.public, BlockAll: cfg.blockAll != nil && *cfg.blockAll, AllowList: cfg.allowList,
		AutoStop: cfg.autoStop, AutoArchive: cfg.autoArchive, AutoDelete: cfg.autoDelete, Ephemeral: cfg.ephemeral,
		Snapshot: cfg.snapshot, Image: cfg.image,
	}
	for _, v := range cfg.volumes {
		cs.Volumes = append(cs.Volumes, controlplane.Volume{ID: v.VolumeID, MountPath: v.MountPath, Subpath: v.Subpath})
	}
	if r := cfg.resources; r != nil {
		cs.Resources = &controlplane.Resources{CPU: r.CPU, Memory: r.Memory, Disk: r.Disk}
	}
	return cs
}

// stopRemote stops the remote sandbox r (deletes it, if its record said
// it is ephemeral: see controlplane.Client.Stop).
func (s *Sandbox) stopRemote(ctx context.Context, r *remote) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.Stop(ctx, r.TB.ID(), r.TB.SDK().AutoDeleteInterval == 0)
}

// deleteRemote deletes the remote sandbox: r if we hold it, else the one
// known by id or, failing that, by name (what a failed start may have left
// behind). Not found counts as success.
func (s *Sandbox) deleteRemote(ctx context.Context, r *remote, id string) error {
	c, err := s.client()
	switch {
	case errors.Is(err, ErrNoCredentials):
		return nil // nothing can have been created
	case err != nil:
		return err
	case r != nil:
		return c.Delete(ctx, r.TB.ID())
	case id != "":
		return c.DeleteByKey(ctx, id)
	}
	return c.DeleteByKey(ctx, s.cfg.name)
}

// settings are what the options say about the connection, resolved on
// first use by controlplane.Resolve: the option, the process environment,
// .env.local, .env, then the default (see the package documentation).
func (cfg *config) settings() controlplane.Settings {
	return controlplane.Settings{
		APIKey: cfg.apiKey, KeyOption: cfg.keyOption, APIURL: cfg.apiURL, Target: cfg.target,
		NoEnv: cfg.noEnv, LookupEnv: cfg.lookupEnv, DotenvDir: cfg.dotenvDir, DefaultURL: DefaultAPIURL,
	}
}

// explainRefusedKey adds to an error the control plane answered with 401
// which credential was refused and where it came from (never the
// credential).
func (s *Sandbox) explainRefusedKey(err error) error {
	var e *Error
	if err == nil || StatusCode(err) != http.StatusUnauthorized || !errors.As(err, &e) {
		return err
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	what, from := "API key", "the options"
	if c != nil {
		what, from = c.Credential()
	}
	fault.SetHint(e, "the "+what+" from "+from+" was refused")
	return err
}
