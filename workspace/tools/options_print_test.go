package tools_test

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/zerotest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// Issue #19 item 10: Options hold secrets (Redact); they print without
// them with every verb of fmt and through slog's handlers.
func TestOptionsPrintWithoutSecrets(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cretValue"
	opts := tools.Options{Prefix: "sb_", Redact: []string{secret, "other-" + secret}}
	for _, v := range []any{opts, &opts} {
		out := zerotest.Printed(v)
		if strings.Contains(out, secret) {
			t.Errorf("%T printed a secret:\n%s", v, out)
		}
		if !strings.Contains(out, `Prefix: "sb_"`) || !strings.Contains(out, "Redact: 2 secrets") {
			t.Errorf("%T printed without what is not secret:\n%s", v, out)
		}
	}
}
