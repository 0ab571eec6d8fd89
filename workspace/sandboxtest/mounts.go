package sandboxtest

import (
	"slices"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
)

var mountTests = []testCase{
	{"BadInput", testMountBadInput},
	{"MountUnmount", testMountUnmount},
	{"NotEmpty", testMountNotEmpty},
}

// mounter returns a new sandbox and its Mounter, or skips t when the
// sandbox has none.
func (h *harness) mounter(t *testing.T) (workspace.Sandbox, workspace.Mounter) {
	t.Helper()
	return capability[workspace.Mounter](t, h, false, "", "workspace.Mounter")
}

// storage returns the storage Config.MountSpec offers, or skips t.
func (h *harness) storage(t *testing.T) workspace.MountSpec {
	t.Helper()
	if h.cfg.MountSpec == nil {
		t.Skip("no Config.MountSpec: no storage to mount")
	}
	spec, ok := h.cfg.MountSpec(t)
	if !ok {
		t.Skip("Config.MountSpec offers no storage here (no credentials?)")
	}
	return spec
}

// testMountBadInput: a relative path, an unknown storage type and missing
// credentials are refused without starting the sandbox.
func testMountBadInput(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, m := h.mounter(t)
	good := workspace.MountSpec{Type: workspace.MountS3, Bucket: "bucket", AccessKeyID: "id", SecretAccessKey: "secret"}
	for _, tc := range []struct {
		what string
		path string
		spec workspace.MountSpec
	}{
		{"a relative path", "data", good},
		{"an unknown type", "/data", workspace.MountSpec{Type: "floppy", Bucket: "bucket"}},
		{"missing credentials", "/data", workspace.MountSpec{Type: workspace.MountGCS, Bucket: "bucket"}},
	} {
		if err := m.Mount(ctx, tc.path, tc.spec); err == nil {
			t.Errorf("Mount with %s succeeded", tc.what)
		}
	}
	wantStatus(t, sb, workspace.StatusPending, "after refused mounts")
}

// testMountUnmount: a mount is listed in Info.Mounts, shows files written
// through it, and is gone after Unmount.
func testMountUnmount(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, m := h.mounter(t)
	spec := h.storage(t)
	path := "/tmp/" + uniqueName("sandboxtest-mount")
	if err := m.Mount(ctx, path, spec); err != nil {
		t.Fatalf("Mount(%s, %s): %v", path, spec, err)
	}
	if !listed(t, h, sb, path, spec.Type) {
		t.Errorf("Info.Mounts does not list %s (%s)", path, spec.Type)
	}
	name := uniqueName("sandboxtest-file")
	file := path + "/" + name
	if got := execOK(t, ctx, sb, "printf '%s' "+name+" > "+file+" && cat "+file+" && rm -f "+file); got != name {
		t.Errorf("a file written through the mount reads %q, want %q", got, name)
	}
	if err := m.Unmount(ctx, path); err != nil {
		t.Fatalf("Unmount(%s): %v", path, err)
	}
	if listed(t, h, sb, path, spec.Type) {
		t.Errorf("Info.Mounts still lists %s after Unmount", path)
	}
	if err := m.Unmount(ctx, path); err != nil {
		t.Errorf("Unmount of a path no longer mounted: %v", err)
	}
}

// listed reports whether GetInfo lists a mount at path of this type.
func listed(t *testing.T, h *harness, sb workspace.Sandbox, path, typ string) bool {
	t.Helper()
	info, err := sb.GetInfo(h.context(t))
	if err != nil {
		t.Fatalf("GetInfo: %v", err)
	}
	return slices.Contains(info.Mounts, workspace.MountInfo{Path: path, Filesystem: typ})
}

// testMountNotEmpty: a directory with files in it is not mounted over.
func testMountNotEmpty(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, m := h.mounter(t)
	spec := h.storage(t)
	path := "/tmp/" + uniqueName("sandboxtest-full")
	execOK(t, ctx, sb, "mkdir -p "+path+" && echo keep > "+path+"/keep.txt")
	err := m.Mount(ctx, path, spec)
	if err == nil {
		t.Fatalf("Mount over a non-empty directory succeeded")
	}
	if got := strings.TrimSpace(execOK(t, ctx, sb, "cat "+path+"/keep.txt")); got != "keep" {
		t.Errorf("the directory's file reads %q after the refused mount", got)
	}
	if listed(t, h, sb, path, spec.Type) {
		t.Errorf("Info.Mounts lists the refused mount")
	}
}
