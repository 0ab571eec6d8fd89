package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/toolbox"
)

// LabelSandboxID is the label Mastra puts on its sandboxes, holding their
// logical id; we set it too, so that Go and TypeScript services can find
// each other's sandboxes.
const LabelSandboxID = "mastra-sandbox-id"

// Waits of the control plane.
const (
	// stateWaitMin and stateWaitMax pace the polling of a sandbox in a
	// transitional state (creating, starting, stopping, ...).
	stateWaitMin = 50 * time.Millisecond
	stateWaitMax = time.Second
	// startBackoffMin and startBackoffMax pace the retries of a start that
	// Daytona refused because a state change was in progress.
	startBackoffMin = 100 * time.Millisecond
	startBackoffMax = 2 * time.Second
	// nameReleaseWait bounds how long create retries while a dead sandbox
	// we just deleted still holds the name (409); nameReleasePoll paces it.
	nameReleaseWait = 30 * time.Second
	nameReleasePoll = 200 * time.Millisecond
	// workDirTimeout bounds asking the toolbox for the working directory.
	workDirTimeout = 30 * time.Second
)

// Target says which remote sandbox a start is for, and how to create one.
type Target struct {
	DaytonaID       string // the Daytona id an earlier start found ("" if none)
	ExistingID      string // the id given to WithExistingSandbox ("" if none)
	CreateIfMissing bool   // create a sandbox when ExistingID's is missing or dead
	Create          CreateSpec
}

// Acquired is what Acquire found or made.
type Acquired struct {
	Toolbox   *toolbox.Client
	CreatedAt time.Time
	WorkDir   string // "" if it could not be asked
	LogicalID string // the remote's LabelSandboxID label, if known
	Created   bool   // the sandbox was created by this start
	Facts     Facts  // how its commands run, from its record
}

// MissingError is Acquire's error when the sandbox given to
// WithExistingSandbox (Target.ExistingID) does not exist, or is dead, and
// CreateIfMissing is false.
type MissingError struct {
	ID    string
	State string // "" when it does not exist
}

func (e *MissingError) Error() string {
	if e.State == "" {
		return "sandbox " + e.ID + " does not exist"
	}
	return "sandbox " + e.ID + " is " + e.State
}

// Acquire finds or creates the remote sandbox, as Mastra's start does:
// look up by the known Daytona id, else by name; not found → create
// (unless it was given to WithExistingSandbox); an errored sandbox whose
// record says it is recoverable → recover it in place; another dead one →
// delete it and create a fresh one; stopped, archived or paused → start
// it, waiting through transitional states; any other lookup error → fail,
// never risking a duplicate.
func (c *Client) Acquire(ctx context.Context, t Target) (Acquired, error) {
	rec, replacedDead, err := c.reconnect(ctx, t)
	if err != nil {
		return Acquired{}, err
	}
	a := Acquired{CreatedAt: time.Now()}
	if rec == nil {
		if rec, err = c.create(ctx, &t.Create, replacedDead, true); err != nil {
			return Acquired{}, fault.WrapCtx(ctx, "create sandbox", err)
		}
		a.Created = true
	}
	if at, perr := time.Parse(time.RFC3339Nano, rec.GetCreatedAt()); perr == nil {
		a.CreatedAt = at
	}
	a.LogicalID = rec.GetLabels()[LabelSandboxID]
	a.Facts = factsOf(rec)
	a.Toolbox = c.toolbox(rec)
	wctx, cancel := context.WithTimeout(ctx, workDirTimeout)
	defer cancel()
	if a.WorkDir, err = a.Toolbox.WorkDir(wctx); err != nil {
		c.log.Debug("could not detect the working directory", "err", err)
	}
	return a, nil
}

// reconnect looks up the remote sandbox by its Daytona id (known, or given
// to WithExistingSandbox), else by name, and makes it run. It returns nil
// when there is none to use (replacedDead: a dead one was deleted).
func (c *Client) reconnect(ctx context.Context, t Target) (rec *apiclient.Sandbox, replacedDead bool, err error) {
	key, byID := t.DaytonaID, true
	if key == "" {
		key = t.ExistingID
	}
	if key == "" {
		key, byID = t.Create.Name, false
	}
	strict := t.ExistingID != "" && key == t.ExistingID && !t.CreateIfMissing
	c.log.Debug("looking up remote sandbox", "key", key, "byID", byID)
	rec, err = c.record(ctx, key)
	switch {
	case err == nil && deadState(rec.GetState()):
		return c.revive(ctx, rec, key, strict)
	case err == nil && rec.GetState() != apiclient.SANDBOXSTATE_STARTED:
		return c.restart(ctx, rec, key, strict)
	case err == nil:
		c.log.Debug("reconnected to running sandbox", "daytonaID", rec.GetId())
		return rec, false, nil
	case apierr.NotFound(err) && strict:
		return nil, false, &MissingError{ID: key}
	case apierr.NotFound(err):
		if t.ExistingID == key {
			c.log.Debug("sandbox given to WithExistingSandbox no longer exists; creating a new one (WithCreateIfMissing)", "daytonaID", key)
		}
		return nil, false, nil
	}
	return nil, false, fault.WrapCtx(ctx, "look up sandbox "+key, err)
}

// revive deals with the sandbox rec describes, found dead (or dead after a
// start): an errored one whose record says it is recoverable is recovered
// in place, keeping its files, and returned running (if that fails, the
// error: its files are not thrown away); any other is deleted, so that a
// new one can be created under its name (replaced). Where the caller asked for this sandbox and no other
// (strict), that is a *MissingError for key instead.
func (c *Client) revive(ctx context.Context, rec *apiclient.Sandbox, key string, strict bool) (*apiclient.Sandbox, bool, error) {
	id, st := rec.GetId(), rec.GetState()
	if st == apiclient.SANDBOXSTATE_ERROR && rec.GetRecoverable() {
		c.log.Debug("remote sandbox is in error but recoverable; recovering it", "daytonaID", id, "reason", rec.GetErrorReason())
		started, err := c.recoverInPlace(ctx, id)
		if err != nil {
			return nil, false, fault.WrapCtx(ctx, "recover sandbox "+id, err)
		}
		return started, false, nil
	}
	if strict {
		return nil, false, &MissingError{ID: key, State: string(st)}
	}
	// Even a destroyed record is deleted: it may hold the name (a stopped
	// ephemeral sandbox in v0.173.0, one destroyed by a spot eviction or a
	// queue timeout today), which DELETE frees by renaming it
	// (sandbox.entity.ts:310-324 @v0.190.0).
	c.log.Debug("remote sandbox is dead; deleting it and creating a new one", "daytonaID", id, "state", st)
	if err := c.Delete(ctx, id); err != nil {
		c.log.Warn("could not delete dead sandbox", "daytonaID", id, "err", err)
	}
	return nil, true, nil
}

// recoverInPlace brings the errored sandbox id back (POST
// /sandbox/{id}/recover, which also starts it: sandbox.service.ts:
// 2242-2265, 2345-2450 @v0.190.0) and waits until it runs.
func (c *Client) recoverInPlace(ctx context.Context, id string) (*apiclient.Sandbox, error) {
	var rec *apiclient.Sandbox
	err := c.throttled(ctx, "recover", id, func() error {
		var resp *http.Response
		var err error
		rec, resp, err = c.api.SandboxAPI.RecoverSandbox(c.auth(ctx), id).Execute()
		realState(rec, resp)
		return convert(err, resp)
	})
	if err == nil && settling(rec) {
		rec, err = c.waitState(ctx, id)
	}
	switch {
	case err != nil:
		return nil, err
	case rec.GetState() != apiclient.SANDBOXSTATE_STARTED:
		return nil, fmt.Errorf("the sandbox is %s after its recovery", rec.GetState())
	}
	return rec, nil
}

// restart starts the sandbox rec describes, which is not running; nil if
// it disappears meanwhile, and revive's outcome if it ends in error.
func (c *Client) restart(ctx context.Context, rec *apiclient.Sandbox, key string, strict bool) (*apiclient.Sandbox, bool, error) {
	c.log.Debug("remote sandbox is not running; starting it", "daytonaID", rec.GetId(), "state", rec.GetState())
	started, err := c.waitAndStart(ctx, rec)
	switch {
	case errors.Is(err, errGone):
		return nil, true, nil
	case errors.Is(err, errFailed):
		return c.revive(ctx, started, key, strict)
	case err != nil:
		return nil, false, fault.WrapCtx(ctx, "start sandbox "+rec.GetId(), err)
	}
	return started, false, nil
}

// waitAndStart waits while rec's sandbox is settling (in a transitional
// state, or on its way to another: an archived one being restored), then
// starts it unless it is running (a paused one resumes), retrying while
// Daytona reports a state change in progress, and returns its record once
// it runs. It returns errGone if the sandbox disappears or is destroyed,
// and errFailed with the record if it is (or ends) in error.
func (c *Client) waitAndStart(ctx context.Context, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
	id := rec.GetId()
	b := retry.Backoff{Next: startBackoffMin, Max: startBackoffMax}
	for {
		var err error
		if settling(rec) {
			if rec, err = c.waitState(ctx, id); err != nil {
				return nil, err
			}
		}
		switch st := rec.GetState(); {
		case st == apiclient.SANDBOXSTATE_STARTED:
			return rec, nil
		case destroyedState(st):
			return nil, errGone
		case failedState(st):
			return rec, errFailed
		}
		err = c.throttled(ctx, "start", id, func() error {
			_, resp, err := c.api.SandboxAPI.StartSandbox(c.auth(ctx), id).Execute()
			return convert(err, resp)
		})
		switch {
		case apierr.NotFound(err):
			return nil, errGone
		case err != nil && stateChangeInProgress(err):
			c.log.Debug("state change in progress; waiting", "daytonaID", id)
			if werr := b.Wait(ctx); werr != nil {
				return nil, werr
			}
		case err != nil:
			// A start that failed (400 "Sandbox failed to start: ...")
			// leaves the sandbox in error: revive deals with that.
			if now, rerr := c.record(ctx, id); rerr == nil && failedState(now.GetState()) {
				return now, errFailed
			}
			return nil, err
		}
		if rec, err = c.waitState(ctx, id); err != nil {
			return nil, err
		}
	}
}

// create creates the remote sandbox cs describes and waits until it runs.
// A 429 is sent again after the wait it asks for (throttled). A create
// whose answer was lost (no answer, or a gateway's 502 or 504) may
// have been made: with findLost, the sandbox is looked up by name before
// the request is sent again, so that there are never two; without, the
// error is returned. afterDelete says a dead sandbox of the same name was
// just deleted: while Daytona still holds its name, creation is retried.
func (c *Client) create(ctx context.Context, cs *CreateSpec, afterDelete, findLost bool) (*apiclient.Sandbox, error) {
	body := cs.request(c.conn.Target)
	waitUntil := time.Now().Add(nameReleaseWait)
	for lost := 0; ; {
		c.log.Debug("creating remote sandbox", "name", cs.Name, "mode", cs.Mode())
		var rec *apiclient.Sandbox
		err := c.throttled(ctx, "create", cs.Name, func() error {
			var resp *http.Response
			var err error
			rec, resp, err = c.api.SandboxAPI.CreateSandbox(c.auth(ctx)).CreateSandbox(body).Execute()
			realState(rec, resp)
			return convert(err, resp)
		})
		if err == nil {
			return c.awaitCreated(ctx, rec)
		}
		if findLost && answerLost(err) && ctx.Err() == nil {
			if lost++; lost > apierr.TransientTries || cs.Name == "" {
				return nil, err
			}
			found, ferr := c.findCreated(ctx, cs.Name, err)
			if found != nil || ferr != nil {
				return found, ferr
			}
			continue // it was not made: send it again
		}
		if !afterDelete || apierr.StatusCode(err) != http.StatusConflict || time.Now().After(waitUntil) {
			return nil, err
		}
		// The dead sandbox we deleted still holds the name; wait for it.
		if retry.Sleep(ctx, nameReleasePoll) != nil {
			return nil, err
		}
	}
}

// answerLost reports a request whose answer did not arrive (no answer at
// all, or a gateway's 502 or 504, whose upstream may have had it): it may
// have been carried out. A 503 is a refusal.
func answerLost(err error) bool {
	switch apierr.StatusCode(err) {
	case 0, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// findCreated looks up, by name, the sandbox a create whose answer was
// lost (with lostErr) may have made, and waits until it runs. It returns
// nil and no error if there is none; lostErr if the lookup fails, as then
// nobody can tell.
func (c *Client) findCreated(ctx context.Context, name string, lostErr error) (*apiclient.Sandbox, error) {
	c.log.Debug("the create's answer was lost; looking the sandbox up by name", "name", name, "err", lostErr)
	rec, err := c.record(ctx, name)
	switch {
	case apierr.NotFound(err):
		return nil, nil
	case err != nil:
		return nil, lostErr
	}
	return c.awaitCreated(ctx, rec)
}

// awaitCreated waits until a sandbox just created runs.
func (c *Client) awaitCreated(ctx context.Context, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
	var err error
	if settling(rec) {
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

// waitState polls the sandbox until it is no longer settling, and returns
// its record; errGone if it disappears.
func (c *Client) waitState(ctx context.Context, id string) (*apiclient.Sandbox, error) {
	b := retry.Backoff{Next: stateWaitMin, Max: stateWaitMax}
	for {
		if err := b.Wait(ctx); err != nil {
			return nil, err
		}
		rec, err := c.record(ctx, id)
		switch {
		case apierr.NotFound(err):
			return nil, errGone
		case err != nil:
			return nil, err
		case !settling(rec):
			return rec, nil
		}
	}
}

// errGone means the sandbox disappeared (or was destroyed) while we
// waited on it; errFailed that it is in error.
var (
	errGone   = errors.New("sandbox disappeared")
	errFailed = errors.New("sandbox failed")
)

// stateChangeInProgress reports the control plane's refusal to start,
// stop or delete a sandbox while another state change runs (409, or its
// message "Sandbox state change in progress", StateChangeInProgressError
// in sandbox.service.ts @v0.190.0): worth waiting for and trying again.
func stateChangeInProgress(err error) bool {
	if apierr.StatusCode(err) == http.StatusConflict {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "state change in progress")
}
