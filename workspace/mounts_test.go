package workspace_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

const secret = "wJalrXUtnFEMI-K7MDENG-secret"

func TestMountSpecResolvedRejectsBadSpecs(t *testing.T) {
	s3 := func(f func(*workspace.MountSpec)) workspace.MountSpec {
		s := workspace.MountSpec{Type: workspace.MountS3, Bucket: "my-bucket", AccessKeyID: "AKIA", SecretAccessKey: secret}
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name string
		spec workspace.MountSpec
		want string
	}{
		{"unknown type", workspace.MountSpec{Type: "r2", Bucket: "b"}, `unknown mount type "r2"`},
		{"no type", workspace.MountSpec{Bucket: "b"}, `unknown mount type ""`},
		{"field of another type", s3(func(s *workspace.MountSpec) { s.Container = "c" }), "Container is not used"},
		{"bad bucket", s3(func(s *workspace.MountSpec) { s.Bucket = "My_Bucket" }), "invalid bucket name"},
		{"half a key pair", s3(func(s *workspace.MountSpec) { s.SecretAccessKey = "" }), "must be given together"},
		{"no credentials", s3(func(s *workspace.MountSpec) { s.AccessKeyID, s.SecretAccessKey = "", "" }), "missing credentials"},
		{"public with an endpoint", s3(func(s *workspace.MountSpec) {
			s.AccessKeyID, s.SecretAccessKey, s.Public, s.Endpoint = "", "", true, "https://r2.example.com"
		}), "public AWS buckets only"},
		{"traversal in prefix", s3(func(s *workspace.MountSpec) { s.Prefix = "a/../b" }), "invalid mount prefix"},
		{"empty segment in prefix", s3(func(s *workspace.MountSpec) { s.Prefix = "a//b" }), "invalid mount prefix"},
		{"control character in prefix", s3(func(s *workspace.MountSpec) { s.Prefix = "a\nb" }), "control characters"},
		{"endpoint scheme", s3(func(s *workspace.MountSpec) { s.Endpoint = "ftp://x" }), "http or https"},
		{"endpoint with credentials", s3(func(s *workspace.MountSpec) { s.Endpoint = "https://u:p@x" }), "must not hold credentials"},
		{"gcs without key", workspace.MountSpec{Type: workspace.MountGCS, Bucket: "bkt"}, "missing credentials"},
		{"gcs key not JSON", workspace.MountSpec{Type: workspace.MountGCS, Bucket: "bkt", ServiceAccountKey: secret}, "not a JSON object"},
		{"azure bad container", workspace.MountSpec{Type: workspace.MountAzureBlob, Container: "a--b", AccountName: "acct", AccountKey: secret}, "invalid container name"},
		{"azure no account", workspace.MountSpec{Type: workspace.MountAzureBlob, Container: "ctr", AccountKey: secret}, "missing AccountName"},
		{"azure no credentials", workspace.MountSpec{Type: workspace.MountAzureBlob, Container: "ctr", AccountName: "acct"}, "missing credentials"},
		{"azure bad connection string", workspace.MountSpec{Type: workspace.MountAzureBlob, Container: "ctr", ConnectionString: "nonsense"}, "key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.spec.Resolved()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolved() error = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error holds the secret: %v", err)
			}
		})
	}
}

func TestMountSpecResolvedNormalizes(t *testing.T) {
	got, err := workspace.MountSpec{
		Type: workspace.MountS3, Bucket: "my-bucket", Prefix: "/ws/data/", Endpoint: "https://acct.r2.cloudflarestorage.com/",
		AccessKeyID: "AK", SecretAccessKey: "SK",
	}.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if got.Prefix != "ws/data" || got.Endpoint != "https://acct.r2.cloudflarestorage.com" {
		t.Errorf("Prefix %q, Endpoint %q", got.Prefix, got.Endpoint)
	}
	az, err := workspace.MountSpec{
		Type: workspace.MountAzureBlob, Container: "ctr", SASToken: "?sv=explicit",
		ConnectionString: "DefaultEndpointsProtocol=https; AccountName=acct ;AccountKey=" + secret + ";EndpointSuffix=core.chinacloudapi.cn",
	}.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if az.AccountName != "acct" || az.AccountKey != secret || az.SASToken != "sv=explicit" ||
		az.Endpoint != "https://acct.blob.core.chinacloudapi.cn" {
		t.Errorf("resolved %+v (key set %v)", az, az.AccountKey == secret)
	}
	if p, err := workspace.NormalizePrefix("/"); err != nil || p != "" {
		t.Errorf(`NormalizePrefix("/") = %q, %v; want the whole bucket`, p, err)
	}
}

func TestMountSpecPrintsNoSecrets(t *testing.T) {
	spec := workspace.MountSpec{Type: workspace.MountS3, Bucket: "b-1", Prefix: "p", AccessKeyID: "AKIA", SecretAccessKey: secret, ReadOnly: true}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, spec); strings.Contains(out, secret) || strings.Contains(out, "AKIA") {
			t.Errorf("%s prints a credential: %s", format, out)
		}
	}
	if got := spec.String(); got != "s3 bucket b-1 prefix p (read-only)" {
		t.Errorf("String() = %q", got)
	}
	// The JSON encoding is Mastra's configuration shape, credentials included.
	b, _ := json.Marshal(spec)
	if want := `{"type":"s3","bucket":"b-1","prefix":"p","readOnly":true,"accessKeyId":"AKIA","secretAccessKey":"` + secret + `"}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	if got := spec.Secrets(); len(got) != 2 {
		t.Errorf("Secrets() = %d values, want 2", len(got))
	}
}

func TestPortURL(t *testing.T) {
	u := &workspace.PortURL{Port: 3000, URL: "https://3000-x.example.com/", Token: secret,
		Headers: map[string]string{"X-Preview-Token": secret}, ExpiresAt: time.Unix(0, 0)}
	req, err := u.NewRequest(t.Context(), "GET", "api/health?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "https://3000-x.example.com/api/health?x=1" || req.Header.Get("X-Preview-Token") != secret {
		t.Errorf("request %s with headers %v", req.URL, req.Header)
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(format, *u); strings.Contains(out, secret) {
			t.Errorf("%s prints the token: %s", format, out)
		}
	}
	if !workspace.ValidPort(1) || !workspace.ValidPort(65535) || workspace.ValidPort(0) || workspace.ValidPort(65536) {
		t.Error("ValidPort is wrong at the bounds")
	}
}
