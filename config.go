package daytona

import (
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/mount"
)

// config is a Sandbox's configuration: what the options set, immutable
// after New.
type config struct {
	id              string
	apiKey          controlplane.Secret // nil unless an option set it
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

	// The services' options: hooks, mounts, keep-alive.
	onStart   StartHook
	onStop    StopHook
	onDestroy StopHook
	keepAlive time.Duration // 0: DefaultKeepAliveInterval; negative: off
	mounts    []mount.Entry // WithMount, in order
}

func defaultConfig() config {
	return config{
		timeout:   DefaultTimeout,
		language:  TypeScript,
		autoStop:  DefaultAutoStopInterval,
		logger:    slog.New(slog.DiscardHandler),
		lookupEnv: os.LookupEnv,
	}
}

// settings are what the options say about the connection, resolved on
// first use by controlplane.Resolve: the option, the process environment,
// .env.local, .env, then the default (see the package documentation).
func (cfg *config) settings() controlplane.Settings {
	return controlplane.Settings{
		APIKey: cfg.apiKey, KeyOption: cfg.keyOption, APIURL: cfg.apiURL, Target: cfg.target,
		NoEnv: cfg.noEnv, LookupEnv: cfg.lookupEnv, DotenvDir: cfg.dotenvDir, DefaultURL: DefaultAPIURL,
	}
}
