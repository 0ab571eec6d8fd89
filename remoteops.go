package daytona

// Operations on the remote sandbox of one Sandbox that neither need nor
// cause a start: reading its record, replacing its labels, refreshing its
// activity, archiving it.

import (
	"context"
	"errors"
	"strings"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// remoteKey returns what identifies the remote sandbox: its Daytona id
// once known (or the one given to WithExistingSandbox), else its name; and
// whether it is an id.
func (s *Sandbox) remoteKey() (key string, byID bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.daytonaID != "":
		return s.daytonaID, true
	case s.cfg.existingID != "":
		return s.cfg.existingID, true
	}
	return s.cfg.name, false
}

// Refresh reads Daytona's record of the remote sandbox (one request,
// repeated only on transient failures) without starting it, and returns
// it. The sandbox is the one this Sandbox holds (by Daytona id), or before
// its first start the one it would reconnect to. If the record says the
// sandbox no longer runs (stopped or archived behind this Sandbox's back,
// by Daytona's auto-stop or another process), the Sandbox lets go of it,
// so that the next Start or command starts it again. A sandbox that no
// longer exists is an error matching ErrSandboxNotFound, and is let go of
// too. After Destroy, Refresh returns an error matching ErrNotReady.
func (s *Sandbox) Refresh(ctx context.Context) (*RemoteSandbox, error) {
	if err := s.check(ctx, "Refresh"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.destroyed {
		err := s.notReadyLocked()
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	key, _ := s.remoteKey()
	rec, err := c.Lookup(ctx, key)
	if err != nil {
		err = s.remoteErr(ctx, "look up sandbox "+key, err)
		if errors.Is(err, ErrSandboxNotFound) {
			s.letGo(key)
		}
		return nil, err
	}
	if !controlplane.Running(rec.State) {
		s.letGo(rec.ID)
	}
	return remoteOf(rec), nil
}

// letGo forgets the running remote sandbox with this id (or name), as
// recoverDead does when a command finds it gone: the next start looks it
// up again. A start in progress is left alone.
func (s *Sandbox) letGo(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.remote
	if r == nil || s.starting != nil || (r.TB.ID() != key && r.TB.SDK().Name != key) {
		return
	}
	s.remote = nil
	s.status = workspace.StatusStopped
	r.Pool.Close()
	s.log.Debug("the remote sandbox no longer runs; let go of it", "daytonaID", r.TB.ID())
}

// knownID returns the Daytona id of the remote sandbox, starting the
// sandbox first if none is known yet (never started, nor attached with
// WithExistingSandbox).
func (s *Sandbox) knownID(ctx context.Context) (string, error) {
	if key, byID := s.remoteKey(); byID {
		return key, nil
	}
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return "", err
	}
	return r.TB.ID(), nil
}

// SetLabels replaces the labels of the remote sandbox (one request) with
// labels, plus the labels this package keeps on every sandbox
// (mastra-sandbox-id, set to ID or, for a Sandbox attached with
// WithExistingSandbox that has not started, kept as the remote sandbox
// has it; and code-toolbox-language), which win.
// It does not start the sandbox, unless no remote sandbox is known yet
// (New without WithExistingSandbox, never started). Label keys must not be
// empty (an error matching ErrInvalidInput, before any request). The
// labels last for the remote sandbox's life; a sandbox this Sandbox creates
// later (after the first one was deleted) gets the labels of the options.
func (s *Sandbox) SetLabels(ctx context.Context, labels map[string]string) error {
	if err := s.check(ctx, "SetLabels"); err != nil {
		return err
	}
	for k := range labels {
		if strings.TrimSpace(k) == "" {
			return invalid("SetLabels: empty label key")
		}
	}
	id, err := s.knownID(ctx)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	logical, err := s.logicalID(ctx, c, id)
	if err != nil {
		return err
	}
	if err := c.ReplaceLabels(ctx, id, labels, logical, string(s.cfg.language)); err != nil {
		return s.remoteErr(ctx, "set the labels of sandbox "+id, err)
	}
	s.log.Debug("labels set", "daytonaID", id)
	return nil
}

// logicalID returns the value of the mastra-sandbox-id label: ID, or for
// a Sandbox attached with WithExistingSandbox (and no WithID) that has not
// read it yet, the remote sandbox's own (one request).
func (s *Sandbox) logicalID(ctx context.Context, c *controlplane.Client, id string) (string, error) {
	s.mu.Lock()
	unknown := s.cfg.idFromLabel && s.labelID == ""
	s.mu.Unlock()
	if !unknown {
		return s.ID(), nil
	}
	rec, err := c.Lookup(ctx, id)
	if err != nil {
		return "", s.remoteErr(ctx, "look up sandbox "+id, err)
	}
	if v := rec.Labels[controlplane.LabelSandboxID]; v != "" {
		return v, nil
	}
	return s.ID(), nil
}

// Touch refreshes the remote sandbox's last activity (one request), so
// that Daytona's auto-stop counts its idle time from now, without starting
// it: for a sandbox kept ready while nothing runs in it. It returns an
// error matching ErrNotReady if no remote sandbox is known yet (never
// started, nor attached with WithExistingSandbox), and one matching
// ErrSandboxNotFound if it no longer exists.
func (s *Sandbox) Touch(ctx context.Context) error {
	if err := s.check(ctx, "Touch"); err != nil {
		return err
	}
	id, byID := s.remoteKey()
	if !byID {
		return fault.Errorf("Touch: sandbox %s has not been started: %w", s.cfg.id, ErrNotReady)
	}
	if err := apierr.Safe(ctx, func() error { return s.touch(ctx, id) }); err != nil {
		return s.remoteErr(ctx, "refresh the activity of sandbox "+id, err)
	}
	return nil
}

// Archive stops the remote sandbox (as Stop does, if it runs) and then
// archives it: Daytona moves its files to cheaper storage, and a later
// start (slower than from stopped) restores them. It waits until the
// sandbox is archived. Archiving an archived sandbox succeeds; so does
// archiving one that was never started (there is nothing to archive). A
// sandbox that no longer exists is an error matching ErrSandboxNotFound.
// After Destroy it returns an error matching ErrNotReady.
func (s *Sandbox) Archive(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	id, byID := s.remoteKey()
	if !byID {
		return nil // never started: nothing exists to archive
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.Archive(ctx, id); err != nil {
		return s.remoteErr(ctx, "archive sandbox "+id, err)
	}
	s.log.Debug("archived", "daytonaID", id)
	return nil
}
