package mount

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"/data": "/data", "/data/": "/data", "/a/b-c_d.e": "/a/b-c_d.e"} {
		if got, err := CleanPath("Mount", in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/", "data", "/a//b", "/a/../b", "/a/./b", "/a b", "/a;rm"} {
		if _, err := CleanPath("Mount", bad); err == nil || !strings.HasPrefix(err.Error(), "Mount: ") {
			t.Errorf("CleanPath(%q) = %v; want an error naming Mount", bad, err)
		}
	}
}

func TestOverlap(t *testing.T) {
	entries := []Entry{At("/data"), At("/logs")}
	for _, tc := range []struct {
		path    string
		replace bool
		ok      bool
	}{
		{"/other", false, true}, {"/data", true, true}, {"/data", false, false},
		{"/data/sub", true, false}, {"/", false, true}, {"/lo", false, true}, {"/logs/x", false, false},
	} {
		if err := Overlap(entries, tc.path, tc.replace); (err == nil) != tc.ok {
			t.Errorf("Overlap(%s, replace %v) = %v", tc.path, tc.replace, err)
		}
	}
}

func TestNewAndRedact(t *testing.T) {
	spec := workspace.MountSpec{Type: workspace.MountS3, Bucket: "my-bucket", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t-value"}
	e, err := New("Mount", "/data/", spec)
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != "/data" || e.Spec().Bucket != "my-bucket" || e.Resolved().Type != workspace.MountS3 {
		t.Errorf("entry %q %+v", e.Path, e.Resolved())
	}
	if got := e.Redact("failed: AKIAEXAMPLE:s3cr3t-value"); strings.Contains(got, "s3cr3t") || strings.Contains(got, "AKIA") {
		t.Errorf("Redact left a credential: %q", got)
	}
	if script := e.PrepareScript() + e.MountScript(10, "passwd") + e.UnmountScript() + e.CleanupScript(); strings.Contains(script, "s3cr3t") {
		t.Error("a script holds the secret")
	}
	content, ext := e.Credentials("/home/u/.agentws-mounts")
	if content != "AKIAEXAMPLE:s3cr3t-value" || ext != "passwd" {
		t.Errorf("Credentials = %q, %q", content, ext)
	}
	bad := spec
	bad.SecretAccessKey = "\xff"
	if _, err := New("Mount", "/data", bad); err == nil {
		t.Error("a credential that is not UTF-8 was accepted")
	}
}

func TestParsePrepared(t *testing.T) {
	if already, _ := ParsePrepared("installing...\nalready\n"); !already {
		t.Error("already not seen")
	}
	if already, dir := ParsePrepared("Get:1 http://deb...\nready /home/daytona/.agentws-mounts\n"); already || dir != "/home/daytona/.agentws-mounts" {
		t.Errorf("ready: %v %q", already, dir)
	}
}
