package controlplane

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/joho/godotenv"
)

// Connection settings are resolved on first use, in this order: the
// option, the process environment, .env.local, .env (both read from the
// working directory, DAYTONA_* keys only, never loaded into the process
// environment), then the default. Settings.NoEnv keeps only options and
// defaults.

// Secret holds a credential inside a closure: fmt prints a func as an
// address whatever the verb and however deep, so printing any value that
// holds one (even a copied Sandbox with %s or %#v) never shows the
// credential; printed itself, a Secret shows "[redacted]".
type Secret func() string

// NewSecret returns a Secret holding v, or nil for "".
func NewSecret(v string) Secret {
	if v == "" {
		return nil
	}
	return func() string { return v }
}

// Reveal returns the credential ("" for nil).
func (s Secret) Reveal() string {
	if s == nil {
		return ""
	}
	return s()
}

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Settings are what the options say about the connection.
type Settings struct {
	APIKey     Secret // nil unless an option set it
	KeyOption  string // the option that set APIKey (WithAPIKey, WithEndpoint)
	APIURL     string
	Target     string
	NoEnv      bool                        // look nothing up in the environment or .env files
	LookupEnv  func(string) (string, bool) // the process environment (os.LookupEnv if nil)
	DotenvDir  string                      // where .env files are read; "" = working directory
	DefaultURL string                      // the API URL when nothing sets one
}

// Connection is the resolved connection configuration. It never leaves
// the Client it is stored in, and is never printed.
type Connection struct {
	KeySource string // where the key or token came from, for error messages
	APIKey    Secret
	JWTToken  Secret
	OrgID     string
	APIURL    string
	Target    string
}

// ErrNoCredentials is Resolve's error when no API key (nor JWT token) was
// found anywhere.
var ErrNoCredentials = errors.New("no credentials")

// envSource looks up DAYTONA_* settings: process environment first, then
// .env.local, then .env.
type envSource struct {
	lookup func(string) (string, bool)
	files  []map[string]string // .env.local, then .env
	names  []string            // the files' names
}

func (st *Settings) envSource() (envSource, error) {
	if st.NoEnv {
		return envSource{lookup: func(string) (string, bool) { return "", false }}, nil
	}
	src := envSource{lookup: st.LookupEnv}
	if src.lookup == nil {
		src.lookup = os.LookupEnv
	}
	for _, name := range []string{".env.local", ".env"} {
		m, err := godotenv.Read(filepath.Join(st.DotenvDir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return envSource{}, fmt.Errorf("read %s: %v", name, err)
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

func (src envSource) get(key string) string {
	v, _ := src.find(key)
	return v
}

// find returns the value of key and where it was found.
func (src envSource) find(key string) (value, source string) {
	if v, ok := src.lookup(key); ok && v != "" {
		return v, key + " in the environment"
	}
	for i, f := range src.files {
		if v := f[key]; v != "" {
			return v, key + " in " + src.names[i]
		}
	}
	return "", ""
}

// Resolve applies the documented precedence. It reads files but makes no
// network request. Errors name the setting to fix and never contain a
// credential; no credential at all is ErrNoCredentials.
func Resolve(st Settings) (Connection, error) {
	src, err := st.envSource()
	if err != nil {
		return Connection{}, err
	}
	conn := Connection{APIKey: st.APIKey, APIURL: st.APIURL, Target: st.Target, KeySource: st.KeyOption}
	if err := conn.resolveCredential(src); err != nil {
		return Connection{}, err
	}
	if conn.APIURL == "" {
		if conn.APIURL, err = resolveURL(src, st.DefaultURL); err != nil {
			return Connection{}, err
		}
	}
	if conn.Target == "" {
		conn.Target = src.get("DAYTONA_TARGET")
	}
	// The SDK itself reads DAYTONA_JWT_TOKEN from the process environment
	// even when given an API key, and then fails unless an organization id
	// is set too. Say so plainly instead of passing its error on.
	if conn.APIKey != nil {
		if jwt, _ := os.LookupEnv("DAYTONA_JWT_TOKEN"); jwt != "" {
			if org, _ := os.LookupEnv("DAYTONA_ORGANIZATION_ID"); org == "" && conn.OrgID == "" {
				return Connection{}, errors.New("DAYTONA_JWT_TOKEN is set in the environment beside an API key, and the Daytona SDK then requires DAYTONA_ORGANIZATION_ID: unset DAYTONA_JWT_TOKEN, or set DAYTONA_ORGANIZATION_ID")
			}
		}
	}
	return conn, nil
}

// resolveCredential finds the API key, else the JWT token and the
// organization id.
func (conn *Connection) resolveCredential(src envSource) error {
	if conn.APIKey == nil {
		var key string
		key, conn.KeySource = src.find("DAYTONA_API_KEY")
		conn.APIKey = NewSecret(key)
	}
	if conn.APIKey != nil {
		return nil
	}
	var token string
	token, conn.KeySource = src.find("DAYTONA_JWT_TOKEN")
	conn.JWTToken = NewSecret(token)
	conn.OrgID = src.get("DAYTONA_ORGANIZATION_ID")
	switch {
	case conn.JWTToken == nil:
		return ErrNoCredentials
	case conn.OrgID == "":
		return errors.New("DAYTONA_JWT_TOKEN is set but DAYTONA_ORGANIZATION_ID is not: set both, or set DAYTONA_API_KEY instead")
	}
	return nil
}

// resolveURL finds the API URL in the environment, else returns def.
func resolveURL(src envSource, def string) (string, error) {
	u := src.get("DAYTONA_API_URL")
	if u == "" {
		u = src.get("DAYTONA_SERVER_URL") // the SDK's legacy name
	}
	if u == "" {
		return def, nil
	}
	if err := CheckURL(u); err != nil {
		return "", fmt.Errorf("DAYTONA_API_URL: %v", err)
	}
	return strings.TrimRight(u, "/"), nil
}

// CheckURL checks an API URL: http or https, with a host, and no
// credentials, query or fragment. Its errors never hold the URL.
func CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Opaque != "" {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return errors.New("missing host")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return errors.New("must not contain credentials, a query or a fragment")
	}
	return nil
}

// RedactURL returns rawURL as an error message may show it: its user
// information, query and fragment, which may hold secrets (a password, a
// ?token=), become "[redacted]". A URL that does not parse shows its
// scheme at most, since where its secrets are cannot be told.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Opaque != "" || strings.ContainsAny(rawURL, "\x00\r\n") {
		scheme, _, found := strings.Cut(rawURL, "://")
		if !found || strings.ContainsAny(scheme, "@:/?#\x00\r\n") {
			return "[redacted]"
		}
		return scheme + "://[redacted]"
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if u.User != nil {
		shown = strings.Replace(shown, "//", "//[redacted]@", 1)
	}
	if u.RawQuery != "" || u.ForceQuery {
		shown += "?[redacted]"
	}
	if u.Fragment != "" {
		shown += "#[redacted]"
	}
	return shown
}
