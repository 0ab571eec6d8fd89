package examplesupport_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOpenFindsAPIKey checks where Open looks for DAYTONA_API_KEY: the
// environment, then .env.local, then .env, never loading them.
func TestOpenFindsAPIKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   string
		files map[string]string
		want  bool
	}{
		{"nothing", "", nil, false},
		{"environment", "k", nil, true},
		{".env", "", map[string]string{".env": "DAYTONA_API_KEY=k\n"}, true},
		{".env.local", "", map[string]string{".env.local": "DAYTONA_API_KEY=k\n"}, true},
		{"empty in .env", "", map[string]string{".env": "DAYTONA_API_KEY=\nOTHER=x\n"}, false},
		{"other keys only", "", map[string]string{".env": "DAYTONA_API_URL=http://localhost:3000/api\n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			examplesupport.UseEmbedded(t)
			t.Setenv("DAYTONA_API_KEY", tc.env)
			for name, content := range tc.files {
				if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			b, err := examplesupport.Open(t.Context(), &out)
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if got := !b.Embedded(); got != tc.want {
				t.Errorf("Open chose the real Daytona = %v, want %v; it printed %q", got, tc.want, out.String())
			}
			if _, ok := os.LookupEnv("OTHER"); ok {
				t.Error(".env was loaded into the process environment")
			}
		})
	}
}

func TestConnectEmbedded(t *testing.T) {
	examplesupport.UseEmbedded(t)
	var out bytes.Buffer
	sb, cleanup, err := examplesupport.Connect(t.Context(), &out, daytona.WithLanguage(daytona.Python))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), examplesupport.EmbeddedNotice+"\n"; got != want {
		t.Errorf("printed %q, want exactly %q", got, want)
	}
	res, err := sb.ExecuteCommand(t.Context(), "echo", []string{"hi"}, nil)
	if err != nil || res.Stdout != "hi\n" {
		t.Fatalf("ExecuteCommand = %+v, %v", res, err)
	}
	cleanup()
	if got := sb.Status(); got != workspace.StatusDestroyed {
		t.Errorf("after cleanup, status = %s, want destroyed", got)
	}
}

func TestCloseAfterCancel(t *testing.T) {
	examplesupport.UseEmbedded(t)
	ctx, cancel := context.WithCancel(t.Context())
	b, err := examplesupport.Open(ctx, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Embedded() || b.Server() == nil {
		t.Fatal("not embedded")
	}
	sb, err := b.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel() // as Ctrl-C would
	srv := b.Server()
	b.Close()
	if n := srv.Count(daytonatest.OpDelete); n != 1 {
		t.Errorf("Close sent %d delete requests after the context was cancelled, want 1", n)
	}
	if got := sb.Status(); got != workspace.StatusDestroyed {
		t.Errorf("after Close, status = %s, want destroyed", got)
	}
}

func TestNewInvalid(t *testing.T) {
	examplesupport.UseEmbedded(t)
	b, err := examplesupport.Open(t.Context(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.New(daytona.WithTimeout(-2)); err == nil {
		t.Error("New accepted an invalid option")
	}
}

func TestOpenReal(t *testing.T) {
	examplesupport.UseEmbedded(t)
	t.Setenv("DAYTONA_API_KEY", "not-a-real-key")
	t.Setenv("DAYTONA_API_URL", "")
	var out bytes.Buffer
	b, err := examplesupport.Open(t.Context(), &out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close() // destroys a never-started sandbox: no request
	if b.Embedded() || b.Server() != nil {
		t.Error("an API key was found, yet the backend is embedded")
	}
	if got, want := out.String(), "DAYTONA_API_KEY found: using the Daytona API at https://app.daytona.io/api;"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("printed %q, want one line starting %q", got, want)
	}
	if _, err := b.New(); err != nil { // makes no request
		t.Fatal(err)
	}
}
