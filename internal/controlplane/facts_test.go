package controlplane

import (
	"encoding/json"
	"testing"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
)

// TestFactsOf decodes records as the generated client does: Daytona's
// (no "execution" field: isolated, as the record's user), daytonatest's,
// and malformed extensions, which change nothing.
func TestFactsOf(t *testing.T) {
	const base = `"id":"i","organizationId":"o","name":"n","env":{},"labels":{},"public":false,` +
		`"networkBlockAll":false,"target":"us","cpu":1,"gpu":0,"memory":1,"disk":1,"toolboxProxyUrl":"http://t"`
	for _, tc := range []struct {
		record string
		want   Facts
	}{
		{`{` + base + `,"user":"daytona"}`, Facts{User: "daytona", Isolated: true}},
		{`{` + base + `,"user":"root"}`, Facts{User: "root", Isolated: true}},
		{`{` + base + `,"user":"daytona","execution":{"isolated":false,"user":"alice"}}`, Facts{User: "alice", Isolated: false}},
		{`{` + base + `,"user":"daytona","execution":{"isolated":true}}`, Facts{User: "daytona", Isolated: true}},
		{`{` + base + `,"user":"daytona","execution":"none"}`, Facts{User: "daytona", Isolated: true}},
		{`{` + base + `,"user":"daytona","execution":{"isolated":"no","user":7}}`, Facts{User: "daytona", Isolated: true}},
		{`{` + base + `,"user":"daytona","execution":{"isolated":false,"user":""}}`, Facts{User: "daytona", Isolated: false}},
		{`{` + base + `,"user":"","execution":null}`, Facts{User: "", Isolated: true}},
	} {
		var rec apiclient.Sandbox
		if err := json.Unmarshal([]byte(tc.record), &rec); err != nil {
			t.Fatalf("%s: %v", tc.record, err)
		}
		if got := factsOf(&rec); got != tc.want {
			t.Errorf("factsOf(%s) = %+v; want %+v", tc.record, got, tc.want)
		}
	}
}
