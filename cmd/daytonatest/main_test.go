//go:build unix

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunPrintsTwoLinesAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-api-key", "test-key", "-latency", "1ms", "-close-delay", "0s", "-autostop-unit", "1s", "-mount-stubs", "-output-rate", "2300000", "-session-shell", "bash", "-service-version", "0.190"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "DAYTONA_API_URL=http://127.0.0.1:") ||
		!strings.HasSuffix(lines[0], "/api") || lines[1] != "DAYTONA_API_KEY=test-key" {
		t.Fatalf("printed %q", lines)
	}
	apiURL := strings.TrimPrefix(lines[0], "DAYTONA_API_URL=")
	req, _ := http.NewRequest(http.MethodGet, apiURL+"/sandbox", nil)
	req.Header.Set("Authorization", "Bearer test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/sandbox = %d", resp.StatusCode)
	}
	if string(body) != `{"items":[],"nextCursor":null}` { // the list of 0.190
		t.Fatalf("GET /api/sandbox = %s", body)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel() // as an interrupt would
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("run returned %v", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-latency", "-1s"},
		{"-close-delay", "soon"},
		{"-autostop-unit", "0s"},
		{"-output-rate", "-1"},
		{"-output-rate", "fast"},
		{"-session-shell", "fish"},
		{"-service-version", "0.18"},
		{"extra-arg"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
