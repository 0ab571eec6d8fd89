package controlplane

import (
	"encoding/json"
	"io"
	"net/http"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
)

// A sandbox's states, as the library reads them. The API's enum grew
// pausing, paused and resuming in v0.190.0 (@daytona/api-client 0.190.1
// and @daytonaio/api-client 0.220.0, models/sandbox-state.d.ts): the
// generated client of SDK v0.173.0 decodes them, and the desired state
// paused, as its enum's unknown value "11184809"
// (model_sandbox_state.go:69-85, model_sandbox_desired_state.go). The
// client keeps the answer's body in the response
// (api_sandbox.go, io.NopCloser(bytes.NewBuffer(localVarBody))), so
// realState reads the real names back from it.
const (
	statePausing  apiclient.SandboxState = "pausing"
	statePaused   apiclient.SandboxState = "paused"
	stateResuming apiclient.SandboxState = "resuming"
)

// realState puts back in rec the state and desired state the generated
// client could not decode, read from the answer resp (whose body the
// client left readable). It does nothing when both were decoded.
func realState(rec *apiclient.Sandbox, resp *http.Response) {
	if rec == nil || resp == nil || resp.Body == nil ||
		(rec.GetState() != apiclient.SANDBOXSTATE_UNKNOWN_DEFAULT_OPEN_API &&
			rec.GetDesiredState() != apiclient.SANDBOXDESIREDSTATE_UNKNOWN_DEFAULT_OPEN_API) {
		return
	}
	var raw struct {
		State        string `json:"state"`
		DesiredState string `json:"desiredState"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxControlAnswer))
	if json.Unmarshal(data, &raw) != nil {
		return
	}
	if raw.State != "" {
		rec.SetState(apiclient.SandboxState(raw.State))
	}
	if raw.DesiredState != "" {
		rec.SetDesiredState(apiclient.SandboxDesiredState(raw.DesiredState))
	}
}

// deadState reports the states in which a sandbox cannot be used again
// as it is: destroyed, being destroyed, or failed (an errored one may be
// recovered, see revive).
func deadState(st apiclient.SandboxState) bool {
	return destroyedState(st) || failedState(st)
}

// destroyedState reports destroyed and destroying: for a delete (or the
// stop of an ephemeral sandbox), done.
func destroyedState(st apiclient.SandboxState) bool {
	return st == apiclient.SANDBOXSTATE_DESTROYED || st == apiclient.SANDBOXSTATE_DESTROYING
}

// failedState reports error and build_failed.
func failedState(st apiclient.SandboxState) bool {
	return st == apiclient.SANDBOXSTATE_ERROR || st == apiclient.SANDBOXSTATE_BUILD_FAILED
}

// transitionalState reports the states that pass by themselves.
func transitionalState(st apiclient.SandboxState) bool {
	switch st {
	case apiclient.SANDBOXSTATE_STARTING, apiclient.SANDBOXSTATE_STOPPING,
		apiclient.SANDBOXSTATE_CREATING, apiclient.SANDBOXSTATE_RESTORING,
		apiclient.SANDBOXSTATE_ARCHIVING, apiclient.SANDBOXSTATE_RESIZING,
		apiclient.SANDBOXSTATE_PULLING_SNAPSHOT, apiclient.SANDBOXSTATE_BUILDING_SNAPSHOT,
		apiclient.SANDBOXSTATE_PENDING_BUILD, apiclient.SANDBOXSTATE_SNAPSHOTTING,
		apiclient.SANDBOXSTATE_FORKING, statePausing, stateResuming:
		return true
	}
	return false
}

// settling reports a sandbox on its way to another state: in a
// transitional state, or (not failed nor destroyed) in a state other than
// the one it is headed for, as the API tests String(state) !==
// String(desiredState) before it refuses a change with 409
// (sandbox.service.ts:2042-2149 @v0.190.0). An archived sandbox being
// started reads archived, desired started, until its restore begins
// (sandbox.controller.ts:515-520): it is settling, not stopped. As in the
// API's pending flag, a sandbox headed for archived is not
// (sandbox.entity.ts:429-444): it can be started meanwhile.
func settling(rec *apiclient.Sandbox) bool {
	st := rec.GetState()
	if transitionalState(st) {
		return true
	}
	desired, ok := rec.GetDesiredStateOk()
	if !ok || deadState(st) || st == apiclient.SANDBOXSTATE_UNKNOWN_DEFAULT_OPEN_API {
		return false
	}
	switch *desired {
	case "", apiclient.SANDBOXDESIREDSTATE_UNKNOWN_DEFAULT_OPEN_API, apiclient.SANDBOXDESIREDSTATE_ARCHIVED:
		return false
	}
	return string(*desired) != string(st)
}

// parkedState reports the states a stop ends in: stopped, archived (and
// an ephemeral sandbox's destroyed, see Stop).
func parkedState(st apiclient.SandboxState) bool {
	return st == apiclient.SANDBOXSTATE_STOPPED || st == apiclient.SANDBOXSTATE_ARCHIVED
}
