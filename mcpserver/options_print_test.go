package mcpserver_test

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/zerotest"
	"github.com/agentworkspace/daytona/mcpserver"
)

// Issue #19 item 10: HTTPOptions hold the bearer token; they print without
// it with every verb of fmt and through slog's handlers.
func TestHTTPOptionsPrintWithoutToken(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cretValue"
	opts := mcpserver.HTTPOptions{Token: secret, AllowedOrigins: []string{"http://localhost:6274"}}
	for _, v := range []any{opts, &opts} {
		out := zerotest.Printed(v)
		if strings.Contains(out, secret) {
			t.Errorf("%T printed the token:\n%s", v, out)
		}
		if !strings.Contains(out, "http://localhost:6274") {
			t.Errorf("%T printed without its origins:\n%s", v, out)
		}
	}
}
