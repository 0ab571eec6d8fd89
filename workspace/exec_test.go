package workspace

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommandResultJSON(t *testing.T) {
	r := CommandResult{
		Command: "echo", Args: []string{"a && b <c>"}, ExitCode: 124,
		Stdout: "x && y\n", Stderr: "Command timed out after 1s", Duration: 1500 * time.Millisecond,
		TimedOut: true, Killed: true, StdoutTruncated: true, StdoutDroppedBytes: 7,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	b := bytes.TrimSpace(buf.Bytes())
	want := `{"success":false,"exitCode":124,"stdout":"x && y\n","stderr":"Command timed out after 1s",` +
		`"executionTimeMs":1500,"timedOut":true,"killed":true,"stdoutTruncated":true,"stderrTruncated":false,` +
		`"stdoutDroppedBytes":7,"stderrDroppedBytes":0,"command":"echo","args":["a && b <c>"]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back CommandResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ExitCode != 124 || back.Duration != 1500*time.Millisecond || back.Stdout != r.Stdout || !back.TimedOut || back.Args[0] != r.Args[0] {
		t.Fatalf("round trip lost data: %+v", back)
	}
}

func TestSuccess(t *testing.T) {
	var nilResult *CommandResult
	cases := []struct {
		r    *CommandResult
		want bool
	}{
		{nilResult, false},
		{&CommandResult{}, true},
		{&CommandResult{ExitCode: 1}, false},
		{&CommandResult{TimedOut: true}, false},
		{&CommandResult{Killed: true}, false},
	}
	for _, tc := range cases {
		if got := tc.r.Success(); got != tc.want {
			t.Errorf("%+v.Success() = %v; want %v", tc.r, got, tc.want)
		}
	}
}

// TestJSONKeysMatchTags checks, for each result type, that the keys
// json.Marshal writes for a fully populated value are exactly the names in
// the struct tags, so that a schema inferred from the tags by reflection
// (no additional properties, non-omitempty fields required) agrees with the
// encoding. mcpserver's tests check the same with the MCP SDK's own schema
// package and results from a real sandbox.
func TestJSONKeysMatchTags(t *testing.T) {
	code := 3
	for _, v := range []any{
		CommandResult{
			ExitCode: 1, Stdout: "o", Stderr: "e", Duration: time.Second, TimedOut: true, Killed: true,
			StdoutTruncated: true, StderrTruncated: true, StdoutDroppedBytes: 1, StderrDroppedBytes: 2,
			Command: "c", Args: []string{"a"},
		},
		Info{
			ID: "i", Name: "n", Provider: "p", Status: StatusRunning, CreatedAt: time.Now(),
			LastUsedAt: time.Now(), TimeoutAt: time.Now(),
			Mounts: []MountInfo{{Path: "/m", Filesystem: "s3"}}, Resources: &Resources{CPUCores: 1, MemoryMB: 2, DiskMB: 3},
			Metadata: map[string]any{"k": "v"},
		},
		MountInfo{Path: "/m", Filesystem: "s3"},
		Resources{CPUCores: 1, MemoryMB: 2, DiskMB: 3, CPUPercent: 4, MemoryUsedMB: 5, DiskUsedMB: 6},
		PortURL{Port: 1, URL: "u", Token: "t", Headers: map[string]string{"h": "v"}, ExpiresAt: time.Now()},
		ProcessInfo{PID: "p", Command: "c", Running: true, ExitCode: &code},
	} {
		typ := reflect.TypeOf(v)
		t.Run(typ.Name(), func(t *testing.T) {
			var tags []string
			for i := range typ.NumField() {
				f := typ.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" {
					t.Errorf("field %s has no JSON name in its tag", f.Name)
					continue
				}
				tags = append(tags, name)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			keys := slices.Sorted(maps.Keys(m))
			slices.Sort(tags)
			if !slices.Equal(keys, tags) {
				t.Errorf("json.Marshal wrote keys %q; the struct tags name %q", keys, tags)
			}
		})
	}
}

func TestCommandResultJSONRoundTrip(t *testing.T) {
	in := CommandResult{ExitCode: 0, Stdout: "hi\n", Duration: 2500 * time.Millisecond, Command: "echo"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out CommandResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	in.Succeeded = true // MarshalJSON writes Success(); UnmarshalJSON reads it back
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: got %+v; want %+v", out, in)
	}
}
