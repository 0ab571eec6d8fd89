//go:build unix

package daytonatest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStdioWritesMatchStrace: the write sizes of the daemon's labeller for
// a labelled line (apps/daemon/pkg/session/execute.go:212-213), as strace
// showed them for bash 5.2.15 (buffer 4096, the log file's st_blksize) and
// zsh 5.9 (buffer 8192), glibc 2.36: the line length, then the writes.
func TestStdioWritesMatchStrace(t *testing.T) {
	for _, tc := range []struct {
		size, line int
		want       []int
	}{
		{4096, 100, []int{104}},
		{4096, 4092, []int{4096}},
		{4096, 4093, []int{4096, 1}},
		{4096, 4094, []int{4096, 2}},
		{4096, 8189, []int{4096, 4096, 1}},
		{4096, 8191, []int{4096, 4096, 3}},
		{4096, 12285, []int{4096, 8192, 1}},
		{4096, 20000, []int{4096, 12288, 3620}},
		{4096, 30000, []int{4096, 24576, 1332}},
		{8192, 4093, []int{4097}},
		{8192, 8189, []int{8192, 1}},
		{8192, 8191, []int{8192, 3}},
		{8192, 12285, []int{8192, 4097}},
		{8192, 20000, []int{8192, 8192, 3620}},
		{8192, 30000, []int{8192, 16384, 5428}},
		{4096, 0, []int{4}},
	} {
		require.Equal(t, tc.want, stdioWrites(tc.line, tc.size), "line %d, buffer %d", tc.line, tc.size)
	}
}

// TestSplitLogAsDemuxLogBytes: the daemon's demultiplexing
// (execute.go:157-186) cuts at every label-like sequence and drops what
// comes before the first label.
func TestSplitLogAsDemuxLogBytes(t *testing.T) {
	for _, tc := range []struct{ raw, stdout, stderr string }{
		{"\x01\x01\x01out\n\x02\x02\x02err\n", "out\n", "err\n"},
		{"junk\x01\x01\x01a\n", "a\n", ""},
		{"\x01\x01\x01a\x02\x02\x02b\n", "a", "b\n"},
		{"\x01\x01\x01\x01\x01\x01\x01", "\x01", ""},
		{"\x01\x01\x01a\x01\x01", "a\x01\x01", ""},
		{"\x01\x01\x01a\x01\x02\x02\x02\x02", "a\x01", "\x02"},
		{"\x01\x01\x01a\x02\x02\x02", "a", ""},
		{"", "", ""},
	} {
		stdout, stderr := splitLog([]byte(tc.raw))
		require.Equal(t, tc.stdout, string(stdout), "%q", tc.raw)
		require.Equal(t, tc.stderr, string(stderr), "%q", tc.raw)
	}
}

// TestLabelFilterAsTheDaemons: the label filter of a combined-output
// follow stream (apps/daemon/pkg/session/log.go:205-292), quirks included.
func TestLabelFilterAsTheDaemons(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames []string
		want   []string // per frame, then the flush at the end
	}{
		{"labels stripped", []string{"\x01\x01\x01out\n\x02\x02\x02err\n"}, []string{"out\nerr\n", ""}},
		{"label split across frames", []string{"\x01\x01\x01a\n\x01\x01", "\x01b\n"}, []string{"a\n", "b\n", ""}},
		// Only the last two bytes of a frame are looked at as a whole: a
		// label cut after its first byte, behind another byte, goes out.
		{"label cut after one byte", []string{"\x01\x01\x01a\n\x01", "\x01\x01b\n"}, []string{"a\n\x01", "\x01\x01b\n", ""}},
		// Two bytes that may start a label wait for the next frame; when
		// exactly one byte came before them in the frame, the buffer is
		// then cut by that count once more, and one of them is lost.
		{"not a label after all", []string{"a\x01\x01", "c\n"}, []string{"a", "\x01c\n", ""}},
		{"not a label after all, longer frame", []string{"ab\x01\x01", "c\n"}, []string{"ab", "\x01\x01c\n", ""}},
		// A frame whose scan ends on the end of a label is scanned again
		// with the next one: its bytes before the label come twice.
		{"frame ending with a label", []string{"ab\x01\x01\x01", "cd\n"}, []string{"ab", "abcd\n", ""}},
		{"prefix at the end of the stream", []string{"\x01\x01\x01\x01"}, []string{"", "\x01"}},
	} {
		var f logLabelFilter
		var got []string
		for _, fr := range tc.frames {
			got = append(got, string(f.frame([]byte(fr))))
		}
		got = append(got, string(f.rest()))
		require.Equal(t, tc.want, got, tc.name)
	}
}

// TestClientOutputModes: what the daemon makes of the SDK version
// (apps/daemon/pkg/session/common.go, internal/util/version.go).
func TestClientOutputModes(t *testing.T) {
	for _, tc := range []struct {
		header map[string]string
		want   outputMode
	}{
		{nil, outputMode{combined: true}},
		{map[string]string{"X-Daytona-Split-Output": "true"}, outputMode{}},
		{map[string]string{"X-Daytona-SDK-Version": "0.173.0"}, outputMode{demux: true}},
		{map[string]string{"X-Daytona-SDK-Version": "v0.167.0"}, outputMode{demux: true}},
		{map[string]string{"X-Daytona-SDK-Version": "0.167.0-rc.1"}, outputMode{demux: true}},
		{map[string]string{"X-Daytona-SDK-Version": "0.166.9"}, outputMode{}},
		{map[string]string{"X-Daytona-SDK-Version": "0.26.0"}, outputMode{combined: true}},
		{map[string]string{"X-Daytona-SDK-Version": "0.0.0-dev"}, outputMode{demux: true}},
		{map[string]string{"X-Daytona-SDK-Version": "latest"}, outputMode{}},
		{map[string]string{"Sec-WebSocket-Protocol": "foo, X-Daytona-SDK-Version~0.190.0"}, outputMode{demux: true}},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		require.Equal(t, tc.want, clientOutput(h), "%v", tc.header)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]version{
		"0.173.0":      {0, 173, 0, ""},
		"v0.190":       {0, 190, 0, ""},
		"1":            {1, 0, 0, ""},
		"0.167.0rc":    {0, 167, 0, "rc"},
		"1.2.3-rc+abc": {1, 2, 3, "rc"},
	} {
		got, err := parseVersion(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	// "1.2.3+abc" too: the daemon's normalizeSemver makes it "1.2.3-+abc".
	for _, bad := range []string{"", "latest", "1.x", "0.1.2.3", "1.2.3+abc"} {
		_, err := parseVersion(bad)
		require.Error(t, err, bad)
	}
	require.Equal(t, -1, version{0, 167, 0, "0"}.compare(version{0, 167, 0, ""}))
	require.Equal(t, -1, version{0, 167, 0, "0"}.compare(version{0, 167, 0, "rc"}))
	require.Equal(t, 1, version{0, 167, 0, "1"}.compare(version{0, 167, 0, "0"}))
	require.Equal(t, 1, version{0, 167, 0, "0.1"}.compare(version{0, 167, 0, "0"}))
}
