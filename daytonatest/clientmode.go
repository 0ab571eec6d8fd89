//go:build unix

package daytonatest

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// What the daemon makes of the SDK version a request carries: the shape of
// a command's output in its answers (apps/daemon/pkg/session/common.go and
// internal/util/version.go, v0.173.0 and v0.190.0).

// version is a semantic version; pre is its pre-release ("" for none).
type version struct {
	major, minor, patch int
	pre                 string
}

var (
	// versionCore matches what the daemon's semver library accepts: an
	// optional v, one to three numbers, a pre-release after "-" and
	// build metadata after "+".
	versionCore = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)
	// needsDash is X.Y.Z followed directly by a suffix, which the daemon
	// turns into a pre-release unless it is one already (normalizeSemver,
	// internal/util/version.go:81-96).
	needsDash     = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(\D.+)$`)
	alreadyDashed = regexp.MustCompile(`^\d+\.\d+\.\d+-\S+$`)
)

var errBadVersion = errors.New("not a semantic version")

// parseVersion parses v as the daemon does.
func parseVersion(v string) (version, error) {
	if !alreadyDashed.MatchString(v) && needsDash.MatchString(v) {
		v = needsDash.ReplaceAllString(v, "$1.$2.$3-$4")
	}
	m := versionCore.FindStringSubmatch(v)
	if m == nil {
		return version{}, errBadVersion
	}
	var out version
	for i, dst := range []*int{&out.major, &out.minor, &out.patch} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return version{}, errBadVersion
			}
			*dst = n
		}
	}
	out.pre = m[4]
	return out, nil
}

// compare returns -1, 0 or 1 as v is lower than, equal to or higher than
// w, pre-releases ranking below their release (semver precedence).
func (v version) compare(w version) int {
	for _, d := range [][2]int{{v.major, w.major}, {v.minor, w.minor}, {v.patch, w.patch}} {
		if d[0] != d[1] {
			return cmpInt(d[0], d[1])
		}
	}
	switch {
	case v.pre == w.pre:
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	a, b := strings.Split(v.pre, "."), strings.Split(w.pre, ".")
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := comparePreField(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}

// comparePreField compares two pre-release identifiers: numbers by value,
// below words, which compare as text.
func comparePreField(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmpInt(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (v version) atLeast(w version) bool { return v.compare(w) >= 0 }

// outputMode is what a request's SDK version makes of command output.
type outputMode struct {
	// combined: labels are stripped, stdout and stderr are not given
	// (IsCombinedOutput: no version and no X-Daytona-Split-Output: true,
	// or a version below 0.27.0 that is not a dev build).
	combined bool
	// demux: stdout and stderr are given apart (!SkipServerDemux: a dev
	// build, or a version from 0.167.0 on).
	demux bool
}

// Thresholds of the daemon's output modes (common.go:17-33).
var (
	combinedBelow = version{0, 27, 0, "0"}
	demuxFrom     = version{0, 167, 0, "0"}
)

// clientOutput returns the output mode of a request: its version is the
// X-Daytona-SDK-Version header, else the X-Daytona-SDK-Version~<version>
// subprotocol of a WebSocket handshake (ExtractSdkVersionFromHeader,
// internal/util/version.go:20-58).
func clientOutput(h http.Header) outputMode {
	v := h.Get("X-Daytona-SDK-Version")
	if v == "" {
		for _, p := range strings.Split(h.Get("Sec-WebSocket-Protocol"), ",") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(p), "X-Daytona-SDK-Version~"); ok {
				v = rest
				break
			}
		}
	}
	if v == "" {
		return outputMode{combined: h.Get("X-Daytona-Split-Output") != "true"}
	}
	if strings.Contains(v, "dev") {
		return outputMode{demux: true}
	}
	parsed, err := parseVersion(v)
	if err != nil {
		// The controller counts an unreadable version as a new one, the
		// demultiplexer as an old one.
		return outputMode{}
	}
	return outputMode{combined: parsed.compare(combinedBelow) < 0, demux: parsed.atLeast(demuxFrom)}
}

// stripLabels removes every label-like sequence from a log, as the daemon
// does for combined output (execute.go:127-128, log.go:132-135).
func stripLabels(raw []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(raw, stdoutLabel, nil), stderrLabel, nil)
}

// logLabelFilter strips labels from a follow stream for a combined-output
// client, frame by frame, as the daemon's processLogChunkWithPrefixFiltering
// and flushRemainingBuffer do (apps/daemon/pkg/session/log.go:205-292,
// v0.173.0 and v0.190.0), quirks included:
//
//   - when fewer than three bytes are left to scan, they wait for the next
//     frame if they may start a label, and go out otherwise; so a label cut
//     after its first byte, behind another byte ("x\x01" + "\x01\x01"),
//     goes out;
//   - two bytes that wait, after exactly one byte scanned in the frame,
//     lose one of them;
//   - a frame whose scan ends exactly on the end of a label is kept and
//     scanned again with the next frame, so that its bytes before that
//     label go out twice;
//   - what waits at the end of the stream goes out as it is.
type logLabelFilter struct {
	buf []byte
}

// frame returns what the daemon sends of one frame of the log.
func (f *logLabelFilter) frame(chunk []byte) []byte {
	f.buf = append(f.buf, chunk...)
	var out []byte
	p := 0
	for p < len(f.buf) {
		if len(f.buf)-p < len(stdoutLabel) {
			rest := f.buf[p:]
			if bytes.HasPrefix(stdoutLabel, rest) || bytes.HasPrefix(stderrLabel, rest) {
				f.buf = append(f.buf[:0], rest...)
			} else {
				out = append(out, rest...)
				f.buf = f.buf[:0]
			}
			break
		}
		if bytes.HasPrefix(f.buf[p:], stdoutLabel) || bytes.HasPrefix(f.buf[p:], stderrLabel) {
			p += len(stdoutLabel)
			continue
		}
		out = append(out, f.buf[p])
		p++
	}
	if p > 0 && p < len(f.buf) {
		f.buf = f.buf[p:]
	}
	return out
}

// rest returns what the daemon sends of the filter's buffer when the
// stream ends (flushRemainingBuffer, log.go:280-292).
func (f *logLabelFilter) rest() []byte {
	out := f.buf
	f.buf = nil
	return out
}
