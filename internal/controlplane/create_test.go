package controlplane

import (
	"net/http"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
)

// TestCreateRequest: the body is built field for field as the SDK builds
// it.
func TestCreateRequest(t *testing.T) {
	hour := time.Hour
	cs := CreateSpec{
		Name: "n", Labels: map[string]string{LabelSandboxID: "id"}, Language: "python",
		AutoStop: 15 * time.Minute, AutoArchive: &hour, Ephemeral: true,
		Volumes:   []Volume{{ID: "v", MountPath: "/data", Subpath: "sub"}},
		Image:     "node:20-slim",
		Resources: &Resources{CPU: 2, Disk: 10},
	}
	req := cs.request("eu")
	if req.GetName() != "n" || req.GetTarget() != "eu" || req.GetLabels()["code-toolbox-language"] != "python" || req.GetLabels()[LabelSandboxID] != "id" {
		t.Errorf("name, target or labels: %+v", req)
	}
	if req.GetAutoStopInterval() != 15 || req.GetAutoArchiveInterval() != 60 || req.GetAutoDeleteInterval() != 0 || !req.HasAutoDeleteInterval() {
		t.Errorf("intervals: stop %d archive %d delete %d", req.GetAutoStopInterval(), req.GetAutoArchiveInterval(), req.GetAutoDeleteInterval())
	}
	if !req.HasPublic() || !req.HasNetworkBlockAll() {
		t.Error("public and networkBlockAll are always sent")
	}
	if req.GetBuildInfo().DockerfileContent != "FROM node:20-slim" || req.GetCpu() != 2 || req.GetDisk() != 10 || req.HasMemory() {
		t.Errorf("image and resources: %+v", req)
	}
	if len(req.Volumes) != 1 || req.Volumes[0].GetSubpath() != "sub" {
		t.Errorf("volumes: %+v", req.Volumes)
	}
	cs.Snapshot = "snap"
	req = cs.request("")
	if req.GetSnapshot() != "snap" || req.HasBuildInfo() || req.HasCpu() || req.HasTarget() {
		t.Errorf("a snapshot wins over the image and its resources: %+v", req)
	}
	if cs.Mode() != "snapshot" {
		t.Errorf("Mode = %q", cs.Mode())
	}
}

func TestStopAndStartRefusals(t *testing.T) {
	answer := func(status int, msg string) error {
		return apierr.FromBody(status, http.Header{}, []byte(`{"message":"`+msg+`"}`))
	}
	if !notStartedByStop(answer(400, "Sandbox is not started")) || !notStartedByStop(answer(400, "Sandbox is not in a stoppable state")) {
		t.Error("the API's answers to stopping a stopped sandbox are not recognised")
	}
	if notStartedByStop(answer(500, "Sandbox is not started")) || notStartedByStop(answer(400, "bad request")) {
		t.Error("other answers are taken for a stopped sandbox")
	}
	if !stateChangeInProgress(answer(409, "conflict")) || !stateChangeInProgress(answer(400, "Sandbox state change in progress")) {
		t.Error("a state change in progress is not recognised")
	}
}
