package workspace

import (
	"bytes"
	"encoding/json"
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
