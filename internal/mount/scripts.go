package mount

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/workspace"
)

// The scripts that mount, and unmount, cloud storage in the sandbox. They
// run as the sandbox's user, under bash; values reach them as shell
// variables set in a prelude (quoted), never spliced into their text.
// Credentials never appear in them: mountCredentialsScript reads them from
// its standard input.

// Where mounts keep their files: markers in Mastra's directory and format
// (so that Go and TypeScript services recognise each other's mounts), and
// credential files in a directory only the sandbox's user can enter.
const (
	markerDir     = "/tmp/.mastra-mounts"
	credentialDir = `$HOME/.agentws-mounts`
)

// Exit codes of PrepareScript, beside 0.
const (
	ExitBadPath     = 3 // not a directory, not empty, or mounted by someone else
	ExitNoTool      = 4 // the FUSE tool is missing and could not be installed
	ExitUnreachable = 5 // the storage's endpoint cannot be reached
	ExitNoDirectory = 6 // the mount directory cannot be created or written
)

// Timeouts of the scripts: the first step may install a tool.
const (
	PrepareTimeout = 10 * time.Minute
	MountTimeout   = 2 * time.Minute
	UnmountTimeout = time.Minute
	CleanupTimeout = 30 * time.Second
)

// MarkerName is Mastra's marker file name for a mount path: "mount-" and
// the base-36 absolute value of the path's Java string hash (over UTF-16
// code units; mount paths are ASCII).
func MarkerName(path string) string {
	var h int32
	for _, c := range path {
		h = 31*h + int32(c)
	}
	n := int64(h)
	if n < 0 {
		n = -n
	}
	return "mount-" + strconv.FormatInt(n, 36)
}

// ConfigHash is Mastra's hash of a mount configuration: the first 16 hex
// digits of the SHA-256 of its JSON with sorted keys. It is taken of the
// spec as given, credentials included (so that new credentials mean a new
// mount); it identifies, it does not reveal.
func ConfigHash(spec workspace.MountSpec) string {
	b, _ := json.Marshal(spec)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	sorted, _ := json.Marshal(m) // maps marshal with sorted keys
	sum := sha256.Sum256(sorted)
	return hex.EncodeToString(sum[:])[:16]
}

// prelude sets the variables every mount script uses.
func (e Entry) prelude() string {
	name := MarkerName(e.Path)
	vars := [][2]string{
		{"P", e.Path},
		{"MARKER", markerDir + "/" + name},
		{"WANT", e.Path + "|" + ConfigHash(*e.Spec())},
		{"NAME", name},
		{"TOOL", e.tool()},
		{"PROBE", e.probeURL()},
	}
	var b strings.Builder
	b.WriteString("set -o pipefail\n")
	for _, v := range vars {
		b.WriteString(v[0] + "=" + shell.Quote(v[1]) + "\n")
	}
	b.WriteString(`D="` + credentialDir + `"` + "\n")
	b.WriteString(`SUDO=; [ "$(id -u)" = 0 ] || SUDO="sudo -n"` + "\n")
	return b.String()
}

// tool is the FUSE program of the entry's storage.
func (e Entry) tool() string {
	switch e.Resolved().Type {
	case workspace.MountGCS:
		return "gcsfuse"
	case workspace.MountAzureBlob:
		return "blobfuse2"
	}
	return "s3fs"
}

// probeURL is what the reachability probe fetches: the storage's
// endpoint.
func (e Entry) probeURL() string {
	s := e.Resolved()
	switch {
	case s.Endpoint != "":
		return s.Endpoint
	case s.Type == workspace.MountGCS:
		return "https://storage.googleapis.com"
	case s.Type == workspace.MountAzureBlob:
		return "https://" + s.AccountName + ".blob.core.windows.net"
	case s.Region != "" && s.Region != "us-east-1":
		return "https://s3." + s.Region + ".amazonaws.com"
	}
	return "https://s3.amazonaws.com"
}

// prepareMountBody checks the mount path, installs the tool if needed,
// probes the storage and creates the directory. It prints "already" when
// the same storage is mounted there already (by this package or
// Mastra's), else "ready " and the absolute credentials directory; a
// failure exits with one of the exit codes above and a message on stdout.
const prepareMountBody = `if mountpoint -q "$P" 2>/dev/null; then
  if [ "$(cat "$MARKER" 2>/dev/null)" = "$WANT" ]; then echo already; exit 0; fi
  if [ "$(cut -d'|' -f1 "$MARKER" 2>/dev/null)" != "$P" ]; then
    echo "$P is already a mount point, and not one this package (or Mastra) made"; exit 3
  fi
  fusermount -u "$P" 2>/dev/null || fusermount3 -u "$P" 2>/dev/null || umount "$P" 2>/dev/null ||
    $SUDO umount -l "$P" 2>/dev/null || { echo "could not unmount what is mounted at $P"; exit 3; }
fi
if [ -e "$P" ] && [ ! -d "$P" ]; then echo "$P exists and is not a directory"; exit 3; fi
if [ -d "$P" ] && [ -n "$(ls -A "$P" 2>/dev/null)" ]; then
  echo "$P is not empty: mounting would hide its files (use a new or empty directory)"; exit 3
fi
if ! command -v "$TOOL" >/dev/null 2>&1; then
  out=$(install_tool 2>&1 | tail -c 600)
  command -v "$TOOL" >/dev/null 2>&1 || { echo "$TOOL is not installed, and installing it failed: $out"; exit 4; }
fi
if command -v curl >/dev/null 2>&1; then
  out=$(curl -sS --max-time 5 "$PROBE" 2>&1) && ! printf '%s' "${out:0:2000}" | grep -qiE 'restricted|blocked' ||
    { echo "cannot reach $PROBE from the sandbox (is its network restricted?): ${out:0:300}"; exit 5; }
fi
mkdir -p "$P" 2>/dev/null || $SUDO mkdir -p "$P" 2>/dev/null || { echo "cannot create $P"; exit 6; }
[ -w "$P" ] || $SUDO chown "$(id -u):$(id -g)" "$P" 2>/dev/null || { echo "$P is not writable by $(id -un)"; exit 6; }
if [ "$(id -u)" != 0 ] && [ -e /dev/fuse ] && [ ! -w /dev/fuse ]; then $SUDO chmod a+rw /dev/fuse 2>/dev/null; fi
printf 'ready %s\n' "$D"
`

// installers install each tool, on Debian and Ubuntu images.
var installers = map[string]string{
	"s3fs": `export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq s3fs fuse`,
	"gcsfuse": `export DEBIAN_FRONTEND=noninteractive
. /etc/os-release; codename=${VERSION_CODENAME:-bookworm}
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq curl gnupg ca-certificates fuse &&
curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg | $SUDO gpg --batch --yes --dearmor -o /usr/share/keyrings/gcsfuse.gpg &&
echo "deb [signed-by=/usr/share/keyrings/gcsfuse.gpg] https://packages.cloud.google.com/apt gcsfuse-$codename main" | $SUDO tee /etc/apt/sources.list.d/gcsfuse.list >/dev/null &&
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq gcsfuse`,
	"blobfuse2": `export DEBIAN_FRONTEND=noninteractive
. /etc/os-release
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq curl ca-certificates fuse3 &&
curl -fsSL "https://packages.microsoft.com/config/$ID/$VERSION_ID/packages-microsoft-prod.deb" -o /tmp/packages-microsoft-prod.deb &&
$SUDO dpkg -i /tmp/packages-microsoft-prod.deb && $SUDO apt-get update -qq && $SUDO apt-get install -y -qq blobfuse2`,
}

// PrepareScript is the first step of a mount: it checks the path,
// installs the tool, probes the storage and creates the directory (see
// prepareMountBody; ParsePrepared reads what it printed).
func (e Entry) PrepareScript() string {
	return e.prelude() + "install_tool() {\n" + installers[e.tool()] + "\n}\n" + prepareMountBody
}

// Credentials returns the file the tool reads its credentials or
// configuration from, and its extension; "" when the tool needs none. dir
// is the absolute credentials directory.
func (e Entry) Credentials(dir string) (content, ext string) {
	s := e.Resolved()
	switch s.Type {
	case workspace.MountS3:
		if s.AccessKeyID == "" {
			return "", ""
		}
		return s.AccessKeyID + ":" + s.SecretAccessKey, "passwd"
	case workspace.MountGCS:
		if s.ServiceAccountKey == "" {
			return "", ""
		}
		return s.ServiceAccountKey, "json"
	}
	return e.blobfuseConfig(dir + "/" + MarkerName(e.Path) + ".cache"), "yaml"
}

// mountBody writes the credentials (when there are any: N bytes from
// stdin, into a file only the user can read, in a directory only the user
// can enter), mounts, checks that the mount point appeared and writes the
// marker. On failure it removes the credentials and exits 1 with the
// tool's output.
const mountBody = `umask 077
F= C="$D/$NAME.cache"
cleanup() { [ -z "$F" ] || rm -f "$F" "$F.tmp"; rm -rf "$C"; }
if [ -n "$N" ]; then
  mkdir -p "$D" && chmod 700 "$D" || { echo "cannot create $D"; exit 1; }
  F="$D/$NAME.$EXT"
  head -c "$N" > "$F.tmp" && mv -f "$F.tmp" "$F" || { cleanup; echo "could not write the credentials file"; exit 1; }
  [ "$(wc -c < "$F")" -eq "$N" ] || { cleanup; echo "the credentials arrived incomplete"; exit 1; }
fi
[ "$TOOL" != blobfuse2 ] || mkdir -p "$C" || { cleanup; echo "cannot create $C"; exit 1; }
out=$(run_tool 2>&1) || { cleanup; echo "$TOOL failed: $out"; exit 1; }
mountpoint -q "$P" || { cleanup; echo "$TOOL exited but $P is not a mount point: $out"; exit 1; }
(umask 022; mkdir -p "$(dirname "$MARKER")" && printf '%s' "$WANT" > "$MARKER") 2>/dev/null
echo mounted
`

// MountScript is the second step of a mount; n is the length of the
// credentials it reads from stdin (0: none), ext their file's extension.
func (e Entry) MountScript(n int, ext string) string {
	pre := e.prelude()
	if n > 0 {
		pre += "N=" + strconv.Itoa(n) + " EXT=" + ext + "\n"
	} else {
		pre += "N=\n"
	}
	return pre + "run_tool() {\n  " + e.toolCommand() + "\n}\n" + mountBody
}

// toolCommand is the tool's command line; "$F" is the credentials file,
// "$C" blobfuse2's cache directory.
func (e Entry) toolCommand() string {
	s := e.Resolved()
	switch s.Type {
	case workspace.MountGCS:
		return gcsfuseCommand(*s)
	case workspace.MountAzureBlob:
		return `blobfuse2 mount "$P" --config-file="$F"`
	}
	return s3fsCommand(*s)
}

// s3fsCommand mounts the bucket, or its prefix as bucket:/prefix.
func s3fsCommand(s workspace.MountSpec) string {
	target := s.Bucket
	if s.Prefix != "" {
		target += ":/" + s.Prefix
	}
	cmd := "s3fs " + shell.Quote(target) + ` "$P"`
	if s.AccessKeyID != "" {
		cmd += ` -o passwd_file="$F"`
	} else {
		cmd += " -o public_bucket=1"
	}
	if s.Endpoint != "" {
		cmd += " -o url=" + shell.Quote(s.Endpoint) + " -o use_path_request_style"
	} else if s.Region != "" && s.Region != "us-east-1" {
		cmd += " -o url=" + shell.Quote("https://s3."+s.Region+".amazonaws.com")
	}
	if s.Region != "" {
		cmd += " -o endpoint=" + shell.Quote(s.Region)
	}
	if s.ReadOnly {
		cmd += " -o ro"
	}
	return cmd
}

// gcsfuseCommand mounts the bucket, or only its prefix with --only-dir.
func gcsfuseCommand(s workspace.MountSpec) string {
	cmd := "gcsfuse"
	if s.ServiceAccountKey != "" {
		cmd += ` --key-file="$F"`
	} else {
		cmd += " --anonymous-access"
	}
	if s.Prefix != "" {
		cmd += " --only-dir=" + shell.Quote(s.Prefix)
	}
	if s.Endpoint != "" {
		cmd += " --custom-endpoint=" + shell.Quote(s.Endpoint)
	}
	if s.ReadOnly {
		cmd += " -o ro"
	}
	return cmd + " " + shell.Quote(s.Bucket) + ` "$P"`
}

// blobfuseConfig is blobfuse2's configuration file: the container (or
// only its prefix, as subdirectory), the credentials, and a file cache in
// cache.
func (e Entry) blobfuseConfig(cache string) string {
	s := e.Resolved()
	mode, secretKey, secret := "msi", "", ""
	switch {
	case s.UseDefaultCredential:
	case s.SASToken != "":
		mode, secretKey, secret = "sas", "sas", s.SASToken
	default:
		mode, secretKey, secret = "key", "account-key", s.AccountKey
	}
	lines := []string{
		"foreground: false",
		"read-only: " + strconv.FormatBool(s.ReadOnly),
		"logging:", "  type: silent",
		"components:", "  - libfuse", "  - file_cache", "  - attr_cache", "  - azstorage",
		"libfuse:", "  attribute-expiration-sec: 240", "  entry-expiration-sec: 240", "  negative-entry-expiration-sec: 120",
		"file_cache:", "  path: " + yamlString(cache), "  timeout-sec: 120",
		"attr_cache:", "  timeout-sec: 7200",
		"azstorage:", "  type: block", "  mode: " + mode,
		"  account-name: " + yamlString(s.AccountName), "  container: " + yamlString(s.Container),
	}
	if secretKey != "" {
		lines = append(lines, "  "+secretKey+": "+yamlString(secret))
	}
	if s.Endpoint != "" {
		lines = append(lines, "  endpoint: "+yamlString(s.Endpoint))
	}
	if s.Prefix != "" {
		lines = append(lines, "  virtual-directory: true", "  subdirectory: "+yamlString(s.Prefix))
	}
	return strings.Join(lines, "\n") + "\n"
}

// yamlString quotes s as a YAML double-quoted string.
func yamlString(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted string
	return string(b)
}

// unmountBody unmounts P if mounted, then removes the marker, the
// credentials and cache, and the directory if it is empty.
const unmountBody = `if mountpoint -q "$P" 2>/dev/null; then
  fusermount -u "$P" 2>/dev/null || fusermount3 -u "$P" 2>/dev/null || umount "$P" 2>/dev/null ||
    $SUDO umount -l "$P" 2>/dev/null || { echo "could not unmount $P"; exit 1; }
fi
if [ "$(cut -d'|' -f1 "$MARKER" 2>/dev/null)" = "$P" ]; then rm -f "$MARKER"; fi
rm -rf "$D/$NAME".* 2>/dev/null
rmdir "$P" 2>/dev/null || true
echo unmounted
`

// UnmountScript unmounts the entry's path.
func (e Entry) UnmountScript() string { return e.prelude() + unmountBody }

// CleanupScript removes what a failed mount may have left of its
// credentials (a mount step that was killed could not clean up).
func (e Entry) CleanupScript() string {
	return e.prelude() + `if ! mountpoint -q "$P" 2>/dev/null; then rm -rf "$D/$NAME".* 2>/dev/null; fi; true` + "\n"
}
