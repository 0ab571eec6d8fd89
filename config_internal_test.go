package daytona

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/controlplane"
)

// resolve builds a config from opts with the given process environment and
// .env directory, and resolves its connection.
func resolve(t *testing.T, env map[string]string, dir string, opts ...Option) (controlplane.Connection, error) {
	t.Helper()
	cfg := defaultConfig()
	cfg.lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg.dotenvDir = dir
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			t.Fatal(err)
		}
	}
	return cfg.connection()
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ".env", "DAYTONA_API_KEY=from-dotenv\nDAYTONA_TARGET=dotenv-target\nDAYTONA_API_URL=http://dotenv/api\nOTHER=ignored\n")
	writeFile(t, dir, ".env.local", "DAYTONA_API_KEY=from-dotenv-local\n")

	cases := []struct {
		name    string
		env     map[string]string
		opts    []Option
		wantKey string
		wantURL string
		wantTgt string
	}{
		{"option wins", map[string]string{"DAYTONA_API_KEY": "from-env"},
			[]Option{WithAPIKey("from-option"), WithAPIURL("https://opt/api"), WithTarget("opt")},
			"from-option", "https://opt/api", "opt"},
		{"process env beats files", map[string]string{"DAYTONA_API_KEY": "from-env", "DAYTONA_API_URL": "http://env/api/"},
			nil, "from-env", "http://env/api", "dotenv-target"},
		{".env.local beats .env", nil, nil, "from-dotenv-local", "http://dotenv/api", "dotenv-target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := resolve(t, tc.env, dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if conn.APIKey.Reveal() != tc.wantKey || conn.APIURL != tc.wantURL || conn.Target != tc.wantTgt {
				t.Errorf("got key=%q url=%q target=%q; want %q %q %q", conn.APIKey.Reveal(), conn.APIURL, conn.Target, tc.wantKey, tc.wantURL, tc.wantTgt)
			}
		})
	}
}

func TestConnectionDefaultsAndWithoutEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ".env", "DAYTONA_API_KEY=from-dotenv\n")
	conn, err := resolve(t, map[string]string{"DAYTONA_API_KEY": "k"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if conn.APIURL != DefaultAPIURL {
		t.Errorf("apiURL = %q; want %q", conn.APIURL, DefaultAPIURL)
	}

	_, err = resolve(t, map[string]string{"DAYTONA_API_KEY": "k"}, dir, WithoutEnvironment())
	if !errors.Is(err, ErrNoCredentials) {
		t.Errorf("WithoutEnvironment: err = %v; want ErrNoCredentials", err)
	}
}

func TestConnectionJWT(t *testing.T) {
	conn, err := resolve(t, map[string]string{"DAYTONA_JWT_TOKEN": "jwt", "DAYTONA_ORGANIZATION_ID": "org"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if conn.JWTToken.Reveal() != "jwt" || conn.OrgID != "org" || conn.APIKey != nil {
		t.Errorf("got %+v", conn)
	}
	_, err = resolve(t, map[string]string{"DAYTONA_JWT_TOKEN": "jwt"}, t.TempDir())
	if err == nil || !contains(err.Error(), "DAYTONA_ORGANIZATION_ID") {
		t.Errorf("JWT without organization: err = %v", err)
	}
}

func TestConnectionStrayJWTBesideAPIKey(t *testing.T) {
	// The SDK reads DAYTONA_JWT_TOKEN from the real process environment.
	t.Setenv("DAYTONA_JWT_TOKEN", "stray")
	t.Setenv("DAYTONA_ORGANIZATION_ID", "")
	_, err := resolve(t, nil, t.TempDir(), WithAPIKey("k"))
	if err == nil || !contains(err.Error(), "unset DAYTONA_JWT_TOKEN") {
		t.Errorf("err = %v; want advice about DAYTONA_JWT_TOKEN", err)
	}
}

func TestConnectionBadEnvURL(t *testing.T) {
	_, err := resolve(t, map[string]string{"DAYTONA_API_KEY": "k", "DAYTONA_API_URL": "ftp://x"}, t.TempDir())
	if err == nil || !contains(err.Error(), "DAYTONA_API_URL") {
		t.Errorf("err = %v; want it to name DAYTONA_API_URL", err)
	}
}

func TestMissingCredentialsMessage(t *testing.T) {
	_, err := resolve(t, nil, t.TempDir())
	if !errors.Is(err, ErrNoCredentials) || !contains(err.Error(), "DAYTONA_API_KEY") {
		t.Errorf("err = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
