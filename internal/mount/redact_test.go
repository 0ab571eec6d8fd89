package mount

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
)

// A PEM key as a service account's JSON key file holds it.
const pemKey = "-----BEGIN PRIVATE KEY-----\n" +
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n" +
	"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n" +
	"NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ\n" +
	"-----END PRIVATE KEY-----\n"

func redactFixture(t *testing.T) (Entry, []string) {
	t.Helper()
	key, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": "a1b2c3d4e5f6a7b8c9d0",
		"private_key": pemKey, "client_email": "bot@p.iam.gserviceaccount.com"})
	gcs, err := New("Mount", "/g", workspace.MountSpec{Type: workspace.MountGCS, Bucket: "bkt", ServiceAccountKey: string(key)})
	if err != nil {
		t.Fatal(err)
	}
	return gcs, []string{pemKey, "a1b2c3d4e5f6a7b8c9d0"}
}

// leaks returns the first piece of minPiece bytes of a form of a secret
// found in text, or "".
func leaks(text string, secrets []string) string {
	for _, secret := range secrets {
		for _, f := range forms(secret) {
			for i := 0; i+minPiece <= len(f); i++ {
				if p := f[i : i+minPiece]; strings.Contains(text, p) && strings.TrimSpace(p) == p {
					return p
				}
			}
		}
	}
	return ""
}

// Issue #19 item 8: whatever a FUSE tool prints of a credential, none of
// it is left: whole, without its trailing newline, line by line, JSON- or
// URL-escaped, re-wrapped, or split across its output and its errors.
func TestRedactEveryForm(t *testing.T) {
	e, secrets := redactFixture(t)
	escaped, _ := json.Marshal(pemKey)
	lines := strings.Split(strings.TrimSpace(pemKey), "\n")
	half := len(pemKey) / 2
	printed := map[string]string{
		"whole":              "gcsfuse: bad key " + pemKey + " (end)",
		"no trailing line":   "key: " + strings.TrimSuffix(pemKey, "\n") + "!",
		"line by line":       "gcsfuse: " + strings.Join(lines, "\ngcsfuse: ") + "\n",
		"crlf":               strings.ReplaceAll(pemKey, "\n", "\r\n"),
		"indented":           "  " + strings.Join(lines, "\n    "),
		"json":               `{"error":"invalid","key":` + string(escaped) + `}`,
		"json in json":       strings.Trim(mustJSON(`{"k":`+string(escaped)+`}`), `"`),
		"rewrapped":          strings.Join(chunks(strings.Join(lines[1:len(lines)-1], ""), 76), "\n"),
		"split out and err":  pemKey[:half] + "\n" + "E: failed\n" + pemKey[half:],
		"split in three":     pemKey[:40] + "|" + pemKey[40:100] + "|" + pemKey[100:],
		"url-escaped":        "https://x/?key=" + strings.ReplaceAll(strings.ReplaceAll(pemKey, "\n", "%0A"), "+", "%2B"),
		"key id":             "key a1b2c3d4e5f6a7b8c9d0 unknown",
		"key id split":       "key a1b2c3d4e5 f6a7b8c9d0 unknown",
		"the whole json key": string(mustKey(t, e)),
	}
	for name, text := range printed {
		got := e.Redact(text)
		if p := leaks(got, secrets); p != "" {
			t.Errorf("%s: %q is left in %q", name, p, got)
		}
	}
	// What is no secret is left alone.
	if got := e.Redact("gcsfuse: bucket bkt: bot@p.iam.gserviceaccount.com has no access"); !strings.Contains(got, "bot@p.iam.gserviceaccount.com has no access") {
		t.Errorf("Redact hid what is no secret: %q", got)
	}
}

func TestRedactShortAndPlainSecrets(t *testing.T) {
	s3, err := New("Mount", "/s", workspace.MountSpec{Type: workspace.MountS3, Bucket: "bkt", AccessKeyID: "AKIA", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
	if err != nil {
		t.Fatal(err)
	}
	got := s3.Redact("s3fs: AKIA:wJalrXUtnFEMI/K7MDENG (then) +bPxRfiCYEXAMPLEKEY\nwJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY")
	if strings.Contains(got, "AKIA") || leaks(got, []string{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}) != "" {
		t.Errorf("Redact left a credential: %q", got)
	}
	if got := s3.Redact(""); got != "" {
		t.Errorf("Redact(\"\") = %q", got)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func mustKey(t *testing.T, e Entry) string { return e.Resolved().ServiceAccountKey }

// chunks cuts s into pieces of n bytes.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
