package sandboxtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

var infoTests = []testCase{
	{"GetInfo", testGetInfo},
	{"Instructions", testInstructions},
}

// testGetInfo checks that GetInfo agrees with the sandbox's accessors,
// before and after start, and encodes with Mastra's field names.
func testGetInfo(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.sandbox(t)
	id := sb.ID()
	if id == "" {
		t.Error("ID() is empty")
	}
	if sb.Name() == "" {
		t.Error("Name() is empty")
	}
	if sb.Provider() == "" {
		t.Error("Provider() is empty")
	}
	for _, phase := range []string{"before Start", "after Start"} {
		if phase == "after Start" {
			if err := sb.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
		}
		info, err := sb.GetInfo(ctx)
		if err != nil {
			t.Fatalf("GetInfo %s: %v", phase, err)
		}
		if info == nil {
			t.Fatalf("GetInfo %s returned nil and no error", phase)
		}
		what := func(s string) string { return "GetInfo()." + s + " " + phase }
		equal(t, what("ID"), info.ID, id)
		equal(t, what("Name"), info.Name, sb.Name())
		equal(t, what("Provider"), info.Provider, sb.Provider())
		equal(t, what("Status"), info.Status, sb.Status())
		equal(t, "ID() "+phase, sb.ID(), id)
		if phase == "after Start" {
			equal(t, what("Status"), info.Status, workspace.StatusRunning)
			if info.CreatedAt.IsZero() {
				t.Errorf("%s is zero", what("CreatedAt"))
			} else if d := time.Since(info.CreatedAt); d < -time.Hour {
				t.Errorf("%s = %v, in the future", what("CreatedAt"), info.CreatedAt)
			}
		}

		b, err := json.Marshal(info)
		if err != nil {
			t.Fatalf("json.Marshal(GetInfo()) %s: %v", phase, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		for _, key := range []string{"id", "name", "provider", "status", "createdAt", "mounts"} {
			if _, ok := m[key]; !ok {
				t.Errorf("the JSON of GetInfo() %s has no %q field: %s", phase, key, b)
			}
		}
		equal(t, "JSON id "+phase, m["id"], any(id))
		equal(t, "JSON status "+phase, m["status"], any(string(info.Status)))
	}
}

// testInstructions checks that GetInstructions describes the sandbox
// before it has started, without starting it, and after.
func testInstructions(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.sandbox(t)
	if sb.GetInstructions() == "" {
		t.Error("GetInstructions() before Start is empty")
	}
	wantStatus(t, sb, workspace.StatusPending, "after GetInstructions on a new sandbox (it must not start it)")
	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if sb.GetInstructions() == "" {
		t.Error("GetInstructions() after Start is empty")
	}
}
