package daytona

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/agentworkspace/daytona/internal/fault"
)

// Connection settings are resolved on first use, in this order: the
// option, the process environment, .env.local, .env (both read from the
// working directory, DAYTONA_* keys only, never loaded into the process
// environment), then the default. WithoutEnvironment keeps only options and
// defaults.

func lookupProcessEnv(k string) (string, bool) { return os.LookupEnv(k) }

// config is a Sandbox's configuration: what the options set, immutable
// after New.
type config struct {
	id              string
	apiKey          secret // nil unless an option set it
	apiURL          string
	target          string
	timeout         time.Duration // workspace.NoTimeout disables
	language        Language
	resources       *Resources
	env             map[string]string
	labels          map[string]string
	snapshot        string
	image           string
	ephemeral       bool
	autoStop        time.Duration
	autoArchive     *time.Duration
	autoDelete      *time.Duration
	volumes         []VolumeMount
	name            string
	user            string
	public          *bool
	blockAll        *bool
	allowList       *string
	logger          *slog.Logger
	existingID      string
	idFromLabel     bool // no WithID with WithExistingSandbox: the id is the remote's label
	createIfMissing bool
	httpClient      *http.Client // WithHTTPClient; nil: the shared client
	rawOutput       bool         // output not encoded, as without perl (tests)
	keyOption       string       // the option that set apiKey (WithAPIKey, WithEndpoint)
	noEnv           bool
	lookupEnv       func(string) (string, bool) // the process environment; replaced in tests
	dotenvDir       string                      // where .env files are read; "" = working directory
	svc             serviceConfig               // hooks, mounts, keep-alive (services.go)
}

func defaultConfig() config {
	return config{
		timeout:   DefaultTimeout,
		language:  TypeScript,
		autoStop:  DefaultAutoStopInterval,
		logger:    slog.New(slog.DiscardHandler),
		lookupEnv: lookupProcessEnv,
	}
}

// secret holds a credential inside a closure: fmt prints a func as an
// address whatever the verb and however deep, so printing any value that
// holds one (even a copied Sandbox with %s or %#v) never shows the
// credential; printed itself, a secret shows "[redacted]".
type secret func() string

// newSecret returns a secret holding v, or nil for "".
func newSecret(v string) secret {
	if v == "" {
		return nil
	}
	return func() string { return v }
}

// reveal returns the credential ("" for nil).
func (s secret) reveal() string {
	if s == nil {
		return ""
	}
	return s()
}

func (secret) String() string   { return "[redacted]" }
func (secret) GoString() string { return "[redacted]" }

// connection is the resolved connection configuration. It never leaves
// the client it is stored in (behind a pointer), and is never printed.
type connection struct {
	keySource string // where the key or token came from, for error messages
	apiKey    secret
	jwtToken  secret
	orgID     string
	apiURL    string
	target    string
}

// envSource looks up DAYTONA_* settings: process environment first, then
// .env.local, then .env.
type envSource struct {
	lookup func(string) (string, bool)
	files  []map[string]string // .env.local, then .env
	names  []string            // the files' names
}

func (c *config) envSource() (envSource, error) {
	if c.noEnv {
		return envSource{lookup: func(string) (string, bool) { return "", false }}, nil
	}
	src := envSource{lookup: c.lookupEnv}
	dir := c.dotenvDir
	for _, name := range []string{".env.local", ".env"} {
		path := filepath.Join(dir, name)
		m, err := godotenv.Read(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return envSource{}, fault.Errorf("read %s: %v", name, err)
		}
		only := make(map[string]string)
		for k, v := range m {
			if strings.HasPrefix(k, "DAYTONA_") {
				only[k] = v
			}
		}
		src.files = append(src.files, only)
		src.names = append(src.names, name)
	}
	return src, nil
}

func (e envSource) get(key string) string {
	v, _ := e.find(key)
	return v
}

// find returns the value of key and where it was found.
func (e envSource) find(key string) (value, source string) {
	if v, ok := e.lookup(key); ok && v != "" {
		return v, key + " in the environment"
	}
	for i, f := range e.files {
		if v := f[key]; v != "" {
			return v, key + " in " + e.names[i]
		}
	}
	return "", ""
}

// resolveConnection applies the documented precedence. It reads files but
// makes no network request. Errors name the setting to fix and never
// contain a credential.
func (c *config) resolveConnection() (connection, error) {
	src, err := c.envSource()
	if err != nil {
		return connection{}, err
	}
	conn := connection{apiKey: c.apiKey, apiURL: c.apiURL, target: c.target, keySource: c.keyOption}
	if conn.apiKey == nil {
		var key string
		key, conn.keySource = src.find("DAYTONA_API_KEY")
		conn.apiKey = newSecret(key)
	}
	if conn.apiKey == nil {
		var token string
		token, conn.keySource = src.find("DAYTONA_JWT_TOKEN")
		conn.jwtToken = newSecret(token)
		conn.orgID = src.get("DAYTONA_ORGANIZATION_ID")
		if conn.jwtToken == nil {
			return connection{}, fault.Errorf("%w", ErrNoCredentials)
		}
		if conn.orgID == "" {
			return connection{}, fault.New("DAYTONA_JWT_TOKEN is set but DAYTONA_ORGANIZATION_ID is not: set both, or set DAYTONA_API_KEY instead")
		}
	}
	if conn.apiURL == "" {
		conn.apiURL = src.get("DAYTONA_API_URL")
		if conn.apiURL == "" {
			conn.apiURL = src.get("DAYTONA_SERVER_URL") // the SDK's legacy name
		}
		if conn.apiURL != "" {
			if err := checkAPIURL(conn.apiURL); err != nil {
				return connection{}, fault.Errorf("DAYTONA_API_URL: %v", err)
			}
			conn.apiURL = strings.TrimRight(conn.apiURL, "/")
		} else {
			conn.apiURL = DefaultAPIURL
		}
	}
	if conn.target == "" {
		conn.target = src.get("DAYTONA_TARGET")
	}
	// The SDK itself reads DAYTONA_JWT_TOKEN from the process environment
	// even when given an API key, and then fails unless an organization id
	// is set too. Say so plainly instead of passing its error on.
	if conn.apiKey != nil {
		if jwt, _ := os.LookupEnv("DAYTONA_JWT_TOKEN"); jwt != "" {
			if org, _ := os.LookupEnv("DAYTONA_ORGANIZATION_ID"); org == "" && conn.orgID == "" {
				return connection{}, fault.New("DAYTONA_JWT_TOKEN is set in the environment beside an API key, and the Daytona SDK then requires DAYTONA_ORGANIZATION_ID: unset DAYTONA_JWT_TOKEN, or set DAYTONA_ORGANIZATION_ID")
			}
		}
	}
	return conn, nil
}
