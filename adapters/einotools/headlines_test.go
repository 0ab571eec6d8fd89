package einotools

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace/tools"
)

// FuzzHeadLines checks the rule StreamableRun relies on: whatever the
// output and however it is split into reports, the lines headLines sends
// early are the start of the output as tools trims it.
func FuzzHeadLines(f *testing.F) {
	for _, s := range []string{"", "a\n", "a\nb", strings.Repeat("line\n", 100), strings.Repeat("x", 300) + "\nb\n",
		"a\n" + strings.Repeat("é", 100) + "\n", "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"} {
		f.Add(s, uint8(3), uint16(64))
	}
	f.Fuzz(func(t *testing.T, out string, cut uint8, maxBytes uint16) {
		b := tools.Budget{MaxLines: 8, MaxBytes: 64 + int(maxBytes)%512}
		h := &headLines{maxLines: b.MaxLines / 4, maxBytes: b.MaxBytes / 4}
		var sent strings.Builder
		step := 1 + int(cut)%17
		for i := 0; i < len(out); i += step {
			sent.WriteString(h.take(tools.Progress{Stream: "stdout", Text: out[i:min(i+step, len(out))]}))
			sent.WriteString(h.take(tools.Progress{Stream: "stderr", Text: "noise\n"}))
		}
		if trimmed := tools.Trim(out, b); !strings.HasPrefix(trimmed, sent.String()) {
			t.Errorf("sent %q, which does not start %q", sent.String(), trimmed)
		}
	})
}
