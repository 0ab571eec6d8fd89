package controlplane

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
)

// decoded returns a record as the generated client decodes body, and the
// response it leaves (its body readable again).
func decoded(t *testing.T, body string) (*apiclient.Sandbox, *http.Response) {
	t.Helper()
	var rec apiclient.Sandbox
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatal(err)
	}
	return &rec, &http.Response{Body: io.NopCloser(bytes.NewBufferString(body))}
}

const recordFields = `"id":"x","organizationId":"o","name":"n","user":"u","env":{},"labels":{},"public":false,"networkBlockAll":false,"target":"us","cpu":1,"gpu":0,"memory":1,"disk":1,"toolboxProxyUrl":"http://t"`

// TestRealState: the states the v0.173 client decodes as "11184809" are
// read back from the answer; others are left alone.
func TestRealState(t *testing.T) {
	rec, resp := decoded(t, `{`+recordFields+`,"state":"pausing","desiredState":"paused"}`)
	if rec.GetState() != apiclient.SANDBOXSTATE_UNKNOWN_DEFAULT_OPEN_API {
		t.Fatalf("the generated client read %q", rec.GetState())
	}
	realState(rec, resp)
	if rec.GetState() != statePausing || rec.GetDesiredState() != "paused" {
		t.Errorf("state %q, desired %q", rec.GetState(), rec.GetDesiredState())
	}
	if !settling(rec) || deadState(rec.GetState()) {
		t.Error("pausing is settling")
	}

	rec, resp = decoded(t, `{`+recordFields+`,"state":"started","desiredState":"paused"}`)
	realState(rec, resp) // the desired state only
	if rec.GetState() != apiclient.SANDBOXSTATE_STARTED || rec.GetDesiredState() != "paused" || !settling(rec) {
		t.Errorf("state %q, desired %q", rec.GetState(), rec.GetDesiredState())
	}
	realState(nil, nil) // no answer: nothing to do
}

// TestSettling: transitional states, and a state other than the desired
// one, are settling; failed, destroyed and archive-bound ones are not.
func TestSettling(t *testing.T) {
	cases := []struct {
		state, desired string
		want           bool
	}{
		{"started", "started", false},
		{"stopping", "stopped", true},
		{"resuming", "started", true},
		{"archived", "started", true},  // a restore about to begin
		{"stopped", "archived", false}, // may be started meanwhile
		{"paused", "paused", false},
		{"stopped", "started", true},
		{"error", "started", false},
		{"destroying", "destroyed", false},
		{"started", "", false},
	}
	for _, tc := range cases {
		body := `{` + recordFields + `,"state":"` + tc.state + `"`
		if tc.desired != "" {
			body += `,"desiredState":"` + tc.desired + `"`
		}
		rec, resp := decoded(t, body+`}`)
		realState(rec, resp)
		if got := settling(rec); got != tc.want {
			t.Errorf("settling(%s, desired %q) = %v", tc.state, tc.desired, got)
		}
	}
}
