package daytona_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/zerotest"
	"github.com/agentworkspace/daytona/workspace"
)

// Issue #19, secrets: what a caller hands over as a secret never comes back
// in an error, a log line or a printed value.

// urlSecret is the secret the hostile API URLs carry.
const urlSecret = "s3cr3tT0ken"

// hostileURLs are API URLs with urlSecret in their user information,
// query or fragment, parsable and not.
var hostileURLs = []string{
	"https://user:" + urlSecret + "@app.daytona.io/api",
	"https://" + urlSecret + "@app.daytona.io/api",
	"https://app.daytona.io/api?token=" + urlSecret,
	"https://app.daytona.io/api?a=b&token=" + urlSecret + "&c=d",
	"https://app.daytona.io/api?email=a@b&token=" + urlSecret,
	"https://app.daytona.io/api#" + urlSecret,
	"https://app.daytona.io/api?",
	"https://app.daytona.io:99999/api?token=" + urlSecret,
	"https://user:pa?ss" + urlSecret + "@app.daytona.io/api",
	"https://user:pa#" + urlSecret + "@app.daytona.io/api",
	"https://user:" + urlSecret + "@app.daytona.io:bad/api",
	"https://us er:" + urlSecret + "@app.daytona.io/api",
	"https:user:" + urlSecret + "@app.daytona.io/api",
	"ftp://user:" + urlSecret + "@app.daytona.io/api",
	"://user:" + urlSecret + "@app.daytona.io",
	"https://app.daytona.io/api?token=" + urlSecret + "%zz",
	"https://[::1:" + urlSecret + "/api",
	"user:" + urlSecret + "@app.daytona.io/api",
	"https://app.daytona.io/api\n?token=" + urlSecret,
}

// Item 9: no error of WithAPIURL, WithEndpoint or the environment's URL
// holds the URL's user information or query.
func TestAPIURLSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range hostileURLs {
		_, err := daytona.New(daytona.WithAPIURL(raw), daytona.WithAPIKey("k"))
		require.Error(t, err, "WithAPIURL(%q)", raw)
		assert.NotContains(t, err.Error(), urlSecret, "WithAPIURL(%q)", raw)
		assert.Contains(t, err.Error(), "WithAPIURL")

		_, err = daytona.New(daytona.WithEndpoint(raw, "k"))
		require.Error(t, err, "WithEndpoint(%q)", raw)
		assert.NotContains(t, err.Error(), urlSecret, "WithEndpoint(%q)", raw)
	}
	// What is not secret still helps: the host, and that a query was there.
	_, err := daytona.New(daytona.WithAPIURL("https://app.daytona.io/api?token=" + urlSecret))
	assert.ErrorContains(t, err, "https://app.daytona.io/api?[redacted]")
	_, err = daytona.New(daytona.WithAPIURL("https://user:" + urlSecret + "@app.daytona.io/api"))
	assert.ErrorContains(t, err, "https://[redacted]@app.daytona.io/api")
}

func TestEnvironmentURLSecretsNeverInErrors(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env file
	for _, name := range []string{"DAYTONA_API_URL", "DAYTONA_SERVER_URL"} {
		for _, raw := range hostileURLs {
			if strings.ContainsAny(raw, "\n\x00") {
				continue // not a value an environment holds
			}
			t.Setenv("DAYTONA_API_URL", "")
			t.Setenv("DAYTONA_SERVER_URL", "")
			t.Setenv(name, raw)
			sb, err := daytona.New(daytona.WithAPIKey("k"))
			require.NoError(t, err)
			err = sb.Start(t.Context())
			require.Error(t, err, "%s=%q", name, raw)
			assert.NotContains(t, err.Error(), urlSecret, "%s=%q", name, raw)
		}
	}
}

// Item 10: every value that holds a secret prints redacted with every verb
// of fmt and through slog's JSON and text handlers.
func TestSecretHoldersPrintRedacted(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cretValue"
	signed := workspace.PortURL{Port: 3000, URL: "https://3000-" + secret + ".proxy.example.com", Token: secret}
	standard := workspace.PortURL{Port: 3000, URL: "https://3000-sandboxid.proxy.example.com", Token: secret,
		Headers: map[string]string{"X-Daytona-Preview-Token": secret}}
	values := map[string]any{
		"s3 MountSpec":    workspace.MountSpec{Type: "s3", Bucket: "b", AccessKeyID: secret, SecretAccessKey: secret},
		"gcs MountSpec":   &workspace.MountSpec{Type: "gcs", Bucket: "b", ServiceAccountKey: `{"private_key":"` + secret + `"}`},
		"azure MountSpec": workspace.MountSpec{Type: "azure-blob", Container: "c", ConnectionString: "AccountKey=" + secret},
		"signed PortURL":  signed,
		"PortURL":         &standard,
		"Option":          daytona.WithAPIKey(secret),
		"Endpoint":        daytona.WithEndpoint("https://app.daytona.io/api", secret),
		"Option in list":  []daytona.Option{daytona.WithAPIKey(secret)},
	}
	for name, v := range values {
		out := zerotest.Printed(v)
		assert.NotContains(t, out, secret, "%s printed:\n%s", name, out)
	}
	// What is not secret still shows.
	assert.Contains(t, zerotest.Printed(signed), "port 3000 at https://3000-[redacted].proxy.example.com")
	assert.Contains(t, zerotest.Printed(values["s3 MountSpec"]), "s3 bucket b")

	// Info holds no secret of its own, but a provider's Metadata may: slog
	// shows what identifies the sandbox, and not the metadata.
	info := workspace.Info{ID: "x", Mounts: []workspace.MountInfo{{Path: "/data", Filesystem: "s3"}},
		Metadata: map[string]any{"token": secret}}
	var logs bytes.Buffer
	logBoth(&logs, "info", info)
	logBoth(&logs, "info", &info)
	assert.NotContains(t, logs.String(), secret)
	assert.Contains(t, logs.String(), "/data (s3)")
}

// Item 8: whatever a FUSE tool prints of a credential (the key whole,
// without its trailing newline, line by line, JSON-escaped, or split
// across its writes), the mount's error shows none of it.
func TestMountErrorsHoldNoPieceOfACredential(t *testing.T) {
	t.Parallel()
	f := newMountFixture(t)
	f.start(t)
	end := storage(t)
	key := strings.TrimSuffix(gcsSecret, "\n")
	lines := strings.Split(key, "\n")
	escaped, _ := json.Marshal(gcsSecret)
	half := len(s3Secret) / 2
	for i, c := range []struct {
		spec    workspace.MountSpec
		printed string
	}{
		{gcsSpec(end), "gcsfuse: bad key " + gcsSecret},
		{gcsSpec(end), "gcsfuse: bad key " + key + "."},
		{gcsSpec(end), "gcsfuse: " + strings.Join(lines, "\ngcsfuse: ")},
		{gcsSpec(end), `{"severity":"ERROR","key":` + string(escaped) + `}`},
		{s3Spec(end), "s3fs: " + s3Secret[:half] + "\ns3fs: retrying\ns3fs: " + s3Secret[half:]},
		{azureSpec(end), "blobfuse2: key=" + azureSecret[:20] + " ... " + azureSecret[20:]},
	} {
		require.NoError(t, f.srv.FailNextMount(f.sb.DaytonaID(), c.printed))
		err := f.sb.Mount(t.Context(), f.dir+"/m"+strconv.Itoa(i), c.spec)
		require.Error(t, err)
		for _, secret := range []string{strings.Join(strings.Fields(gcsSecret), ""), s3Secret, azureSecret} {
			for k := 0; k+8 <= len(secret); k++ {
				if piece := secret[k : k+8]; strings.Contains(err.Error(), piece) {
					t.Errorf("case %d: the error holds %q of a credential: %v", i, piece, err)
					break
				}
			}
		}
	}
}
