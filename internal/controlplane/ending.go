package controlplane

// The end of a sandbox: stopping and deleting it, each waiting out the
// changes of state already under way (409 "Sandbox state change in
// progress") rather than failing on them.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/retry"
)

// Stop stops the remote sandbox and waits until it has stopped. An
// ephemeral sandbox (its record's auto-delete interval is 0), which
// Daytona deletes on stop, is deleted: through DELETE, which frees its
// name at once in every version, where v0.173.0's stop kept the name,
// held by the destroyed record for a day (sandbox.service.ts:1825-1828,
// 2355-2379 @v0.173.0). Not found, "not started", and destroying or
// destroyed (an ephemeral sandbox) count as success. While another change
// of state runs (409: the service's own auto-stop, a start), Stop waits
// for it to settle, then stops the sandbox if it still runs.
func (c *Client) Stop(ctx context.Context, id string, ephemeral bool) error {
	if ephemeral {
		c.log.Debug("stopping an ephemeral sandbox: deleting it", "daytonaID", id)
		if err := c.deleteSettled(ctx, id); err != nil {
			return fault.WrapCtx(ctx, "stop sandbox "+id, err)
		}
		return nil
	}
	c.log.Debug("stopping remote sandbox", "daytonaID", id)
	b := retry.Backoff{Next: startBackoffMin, Max: startBackoffMax}
	for {
		err := c.throttled(ctx, "stop", id, func() error {
			_, resp, err := c.api.SandboxAPI.StopSandbox(c.auth(ctx), id).Execute()
			return convert(err, resp)
		})
		switch {
		case apierr.NotFound(err), err != nil && notStartedByStop(err):
			return nil
		case err != nil && !stateChangeInProgress(err):
			return fault.WrapCtx(ctx, "stop sandbox "+id, err)
		case err != nil:
			c.log.Debug("state change in progress; waiting to stop", "daytonaID", id)
			if b.Wait(ctx) != nil {
				return fault.WrapCtx(ctx, "stop sandbox "+id, err)
			}
		}
		done, err := c.settledStop(ctx, id)
		if err != nil {
			return fault.WrapCtx(ctx, "stop sandbox "+id, err)
		}
		if done {
			return nil
		}
	}
}

// settledStop waits until the sandbox id has settled after a stop (or a
// refused one), and reports whether it is stopped: stopped, archived,
// destroying or destroyed (an ephemeral sandbox), or gone. One that runs
// (or is paused: the API stops those too) is not stopped yet; another
// state is an error.
func (c *Client) settledStop(ctx context.Context, id string) (bool, error) {
	rec, err := c.waitState(ctx, id)
	switch {
	case errors.Is(err, errGone):
		return true, nil
	case err != nil:
		return false, err
	}
	switch st := rec.GetState(); {
	case parkedState(st), destroyedState(st):
		return true, nil
	case st == apiclient.SANDBOXSTATE_STARTED, st == statePaused:
		return false, nil
	default:
		return false, fmt.Errorf("the sandbox is %s, not stopped", st)
	}
}

// Delete deletes the remote sandbox with this Daytona id, and returns once
// Daytona has accepted the deletion. Not found, and a sandbox being
// destroyed already, count as success; while another change of state runs
// (409: the sandbox is still being created, started or stopped), Delete
// waits for it to settle and tries again.
func (c *Client) Delete(ctx context.Context, id string) error {
	c.log.Debug("deleting remote sandbox", "daytonaID", id)
	if err := c.deleteSettled(ctx, id); err != nil {
		return fault.WrapCtx(ctx, "delete sandbox "+id, err)
	}
	return nil
}

// deleteSettled is Delete without the wrapping.
func (c *Client) deleteSettled(ctx context.Context, id string) error {
	b := retry.Backoff{Next: startBackoffMin, Max: startBackoffMax}
	for {
		err := c.throttled(ctx, "delete", id, func() error {
			_, resp, err := c.api.SandboxAPI.DeleteSandbox(c.auth(ctx), id).Execute()
			return convert(err, resp)
		})
		switch {
		case err == nil, apierr.NotFound(err):
			return nil
		case !stateChangeInProgress(err):
			return err
		}
		c.log.Debug("state change in progress; waiting to delete", "daytonaID", id)
		if b.Wait(ctx) != nil {
			return err
		}
		rec, werr := c.waitState(ctx, id)
		switch {
		case errors.Is(werr, errGone):
			return nil
		case werr != nil:
			return werr
		case destroyedState(rec.GetState()):
			return nil
		}
	}
}

// DeleteByKey deletes the remote sandbox known by this Daytona id or name,
// if there is one (what a failed start may have left behind); one being
// destroyed already is left to it.
func (c *Client) DeleteByKey(ctx context.Context, key string) error {
	c.log.Debug("looking for a remote sandbox to delete", "key", key)
	rec, err := c.record(ctx, key)
	switch {
	case apierr.NotFound(err):
		return nil
	case err != nil:
		return fault.WrapCtx(ctx, "look up sandbox "+key+" to delete", err)
	case destroyedState(rec.GetState()):
		return nil
	}
	return c.Delete(ctx, rec.GetId())
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
