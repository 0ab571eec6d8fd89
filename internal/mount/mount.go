// Package mount holds what a bucket mount is made of, apart from running
// it: the entries a Sandbox keeps, the checks of their paths, the
// redaction of their credentials, and the scripts that mount and unmount
// (scripts.go).
//
// Mounts are made as Mastra's DaytonaSandbox makes them: an S3-compatible
// bucket with s3fs, a GCS bucket with gcsfuse, an Azure Blob container
// with blobfuse2, installed in the sandbox when missing (on Debian and
// Ubuntu images). A mount happens in two commands: the first
// (PrepareScript) checks the path (an empty or missing directory, not
// mounted by someone else), installs the tool, probes the storage's
// endpoint and creates the directory; the second (MountScript) writes the
// credentials and runs the tool.
//
// Credentials never appear in a command's text (which the daemon keeps and
// lists with the session), in an error or in a log: the second command is
// a background process that reads them from its standard input, sent once
// in the body of the daemon's input request, with input echo off (the
// daemon then writes input to the process only:
// apps/daemon/pkg/session/input.go:47-72 at v0.173.0). It writes them to a
// file only the sandbox's user can read, in a directory only that user can
// enter; the tool reads them from there, and the file stays, for the
// tool, until the unmount. If the mount fails, the file is removed (by the
// command, or by CleanupScript if it was killed); outputs that make up
// error messages are stripped of the credentials (Redact).
//
// A marker in /tmp/.mastra-mounts, in Mastra's format, records what is
// mounted where, so that mounting the same storage again does nothing,
// and Go and TypeScript services recognise each other's mounts.
package mount

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/workspace"
)

// Entry is a mount a Sandbox keeps. Its specs, which hold credentials, are
// kept inside a closure: fmt prints a func as an address whatever the verb
// and however deep, and prints a Sandbox's unexported fields without their
// String methods.
type Entry struct {
	Path  string
	specs func() (given, resolved *workspace.MountSpec)
}

// Spec is the mount's spec as given: its hash identifies the mount.
func (e Entry) Spec() *workspace.MountSpec {
	given, _ := e.specs()
	return given
}

// Resolved is the mount's spec, resolved (see
// workspace.MountSpec.Resolved).
func (e Entry) Resolved() *workspace.MountSpec {
	_, resolved := e.specs()
	return resolved
}

func newEntry(path string, spec, res workspace.MountSpec) Entry {
	return Entry{Path: path, specs: func() (*workspace.MountSpec, *workspace.MountSpec) { return &spec, &res }}
}

// At returns an entry for path with no storage: enough to unmount it.
func At(path string) Entry { return newEntry(path, workspace.MountSpec{}, workspace.MountSpec{}) }

// pathRE is what a mount path may hold (Mastra's rule).
var pathRE = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)

// CleanPath checks a mount path for op: absolute, of letters, digits,
// ".", "_", "-" and "/", with no empty, "." or ".." segment, not "/"; a
// trailing slash is dropped.
func CleanPath(op, path string) (string, error) {
	p := strings.TrimSuffix(path, "/")
	if !pathRE.MatchString(p) {
		return "", fmt.Errorf("%s: mount path %q must be an absolute path of letters, digits, '.', '_', '-' and '/'", op, path)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%s: mount path %q has an empty, \".\" or \"..\" segment", op, path)
		}
	}
	return p, nil
}

// New checks a mount request of op and returns its entry.
func New(op, path string, spec workspace.MountSpec) (Entry, error) {
	p, err := CleanPath(op, path)
	if err != nil {
		return Entry{}, err
	}
	res, err := spec.Resolved()
	if err != nil {
		return Entry{}, fmt.Errorf("%s %s: %v", op, p, err)
	}
	for _, secret := range res.Secrets() {
		if !utf8.ValidString(secret) || strings.ContainsRune(secret, 0) {
			return Entry{}, fmt.Errorf("%s %s: a credential is not valid UTF-8 text", op, p)
		}
	}
	return newEntry(p, spec, res), nil
}

// Overlap refuses a path nested in another entry's or containing one;
// the same path is allowed when replace is true.
func Overlap(entries []Entry, path string, replace bool) error {
	for _, e := range entries {
		switch {
		case e.Path == path && replace:
		case e.Path == path:
			return fmt.Errorf("two mounts at %s", path)
		case strings.HasPrefix(path, e.Path+"/"), strings.HasPrefix(e.Path, path+"/"):
			return fmt.Errorf("mount path %s and %s are nested; mount paths must not contain each other", path, e.Path)
		}
	}
	return nil
}

// ParsePrepared reads what PrepareScript printed: "already" when the same
// storage is mounted there already, else the absolute credentials
// directory after "ready ".
func ParsePrepared(stdout string) (already bool, dir string) {
	out := strings.TrimSpace(stdout)
	if strings.HasSuffix(out, "already") {
		return true, ""
	}
	_, dir, _ = strings.Cut(out[strings.LastIndex(out, "\n")+1:], "ready ")
	return false, dir
}
