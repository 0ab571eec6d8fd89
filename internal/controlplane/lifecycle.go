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
// (unless it was given to WithExistingSandbox); a dead sandbox → delete it
// and create a fresh one; stopped or archived → start it, waiting through
// transitional states; any other lookup error → fail, never risking a
// duplicate.
func (c *Client) Acquire(ctx context.Context, t Target) (Acquired, error) {
	rec, replacedDead, err := c.reconnect(ctx, t)
	if err != nil {
		return Acquired{}, err
	}
	a := Acquired{CreatedAt: time.Now()}
	if rec == nil {
		if rec, err = c.create(ctx, &t.Create, replacedDead); err != nil {
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
	case err == nil && deadState(rec.GetState()) && strict:
		return nil, false, &MissingError{ID: key, State: string(rec.GetState())}
	case err == nil && deadState(rec.GetState()):
		c.log.Debug("remote sandbox is dead; deleting it and creating a new one", "daytonaID", rec.GetId(), "state", rec.GetState())
		if derr := c.delete(ctx, rec.GetId()); derr != nil && !apierr.NotFound(derr) {
			c.log.Warn("could not delete dead sandbox", "daytonaID", rec.GetId(), "err", derr)
		}
		return nil, true, nil
	case err == nil && rec.GetState() != apiclient.SANDBOXSTATE_STARTED:
		return c.restart(ctx, rec)
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

// restart starts the sandbox rec describes, which is not running; nil if
// it disappears meanwhile.
func (c *Client) restart(ctx context.Context, rec *apiclient.Sandbox) (*apiclient.Sandbox, bool, error) {
	c.log.Debug("remote sandbox is not running; starting it", "daytonaID", rec.GetId(), "state", rec.GetState())
	started, err := c.waitAndStart(ctx, rec)
	switch {
	case errors.Is(err, errGone):
		return nil, false, nil
	case err != nil:
		return nil, false, fault.WrapCtx(ctx, "start sandbox "+rec.GetId(), err)
	}
	return started, false, nil
}

// waitAndStart waits while rec's sandbox is in a transitional state, then
// starts it unless it is running, retrying while Daytona reports a state
// change in progress, and returns its record once it runs. It returns
// errGone if the sandbox disappears or dies.
func (c *Client) waitAndStart(ctx context.Context, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
	id := rec.GetId()
	b := retry.Backoff{Next: startBackoffMin, Max: startBackoffMax}
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
		_, resp, err := c.api.SandboxAPI.StartSandbox(c.auth(ctx), id).Execute()
		err = convert(err, resp)
		switch {
		case apierr.NotFound(err):
			return nil, errGone
		case err != nil && !stateChangeInProgress(err):
			return nil, err
		case err != nil:
			c.log.Debug("state change in progress; waiting", "daytonaID", id)
			if werr := b.Wait(ctx); werr != nil {
				return nil, werr
			}
		}
		if rec, err = c.waitState(ctx, id); err != nil {
			return nil, err
		}
	}
}

// create creates the remote sandbox cs describes and waits until it runs.
// afterDelete says a dead sandbox of the same name was just deleted: while
// Daytona still holds its name, creation is retried.
func (c *Client) create(ctx context.Context, cs *CreateSpec, afterDelete bool) (*apiclient.Sandbox, error) {
	body := cs.request(c.conn.Target)
	waitUntil := time.Now().Add(nameReleaseWait)
	for {
		c.log.Debug("creating remote sandbox", "name", cs.Name, "mode", cs.Mode())
		rec, resp, err := c.api.SandboxAPI.CreateSandbox(c.auth(ctx)).CreateSandbox(body).Execute()
		if err == nil {
			return c.awaitCreated(ctx, rec)
		}
		err = convert(err, resp)
		if !afterDelete || apierr.StatusCode(err) != http.StatusConflict || time.Now().After(waitUntil) {
			return nil, err
		}
		// The dead sandbox we deleted still holds the name; wait for it.
		if retry.Sleep(ctx, nameReleasePoll) != nil {
			return nil, err
		}
	}
}

// awaitCreated waits until a sandbox just created runs.
func (c *Client) awaitCreated(ctx context.Context, rec *apiclient.Sandbox) (*apiclient.Sandbox, error) {
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

// Stop stops the remote sandbox and waits until it has stopped. Not found
// (ephemeral sandboxes are deleted on stop) and "not started" count as
// success.
func (c *Client) Stop(ctx context.Context, id string) error {
	c.log.Debug("stopping remote sandbox", "daytonaID", id)
	_, resp, err := c.api.SandboxAPI.StopSandbox(c.auth(ctx), id).Execute()
	err = convert(err, resp)
	if err == nil {
		var rec *apiclient.Sandbox
		rec, err = c.waitState(ctx, id)
		if err == nil && rec.GetState() != apiclient.SANDBOXSTATE_STOPPED && rec.GetState() != apiclient.SANDBOXSTATE_ARCHIVED {
			err = fmt.Errorf("the sandbox is %s, not stopped", rec.GetState())
		}
	}
	switch {
	case err == nil, apierr.NotFound(err), errors.Is(err, errGone), notStartedByStop(err):
		return nil
	}
	return fault.WrapCtx(ctx, "stop sandbox "+id, err)
}

// Delete deletes the remote sandbox with this Daytona id; not found counts
// as success.
func (c *Client) Delete(ctx context.Context, id string) error {
	c.log.Debug("deleting remote sandbox", "daytonaID", id)
	if err := c.delete(ctx, id); err != nil && !apierr.NotFound(err) {
		return fault.WrapCtx(ctx, "delete sandbox "+id, err)
	}
	return nil
}

// DeleteByKey deletes the remote sandbox known by this Daytona id or name,
// if there is one (what a failed start may have left behind).
func (c *Client) DeleteByKey(ctx context.Context, key string) error {
	c.log.Debug("looking for a remote sandbox to delete", "key", key)
	rec, err := c.record(ctx, key)
	if apierr.NotFound(err) {
		return nil
	}
	if err != nil {
		return fault.WrapCtx(ctx, "look up sandbox "+key+" to delete", err)
	}
	return c.Delete(ctx, rec.GetId())
}

func (c *Client) delete(ctx context.Context, id string) error {
	_, resp, err := c.api.SandboxAPI.DeleteSandbox(c.auth(ctx), id).Execute()
	return convert(err, resp)
}

// waitState polls the sandbox until its state is not transitional, and
// returns its record; errGone if it disappears.
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
		case !transitionalState(rec.GetState()):
			return rec, nil
		}
	}
}

// errGone means the sandbox disappeared while we waited on it.
var errGone = errors.New("sandbox disappeared")

// deadState reports the states in which a sandbox cannot be used again.
func deadState(st apiclient.SandboxState) bool {
	switch st {
	case apiclient.SANDBOXSTATE_DESTROYED, apiclient.SANDBOXSTATE_DESTROYING,
		apiclient.SANDBOXSTATE_ERROR, apiclient.SANDBOXSTATE_BUILD_FAILED:
		return true
	}
	return false
}

// transitionalState reports the states that pass by themselves.
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

// stateChangeInProgress reports the control plane's refusal to start or
// stop a sandbox while another state change runs (409, or its message):
// worth waiting for and trying again.
func stateChangeInProgress(err error) bool {
	if apierr.StatusCode(err) == http.StatusConflict {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "state change in progress")
}

// notStartedByStop reports the control plane's answer to stopping a sandbox
// that is not running: success, for an idempotent Stop. The API answers 400
// "Sandbox is not started" (v0.173) or "Sandbox is not in a stoppable
// state" (v0.190, apps/api/src/sandbox/services/sandbox.service.ts:2161).
func notStartedByStop(err error) bool {
	msg := strings.ToLower(err.Error())
	return apierr.StatusCode(err) == http.StatusBadRequest &&
		(strings.Contains(msg, "not started") || strings.Contains(msg, "not in a stoppable state"))
}
