//go:build unix

package daytonatest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/internal/testparallel"
)

// minParallel is how many parallel tests run at once unless -parallel says
// otherwise: most tests here are parallel and wait for the fake's
// transitions, latency and shells rather than compute.
const minParallel = 4

func TestMain(m *testing.M) {
	testparallel.AtLeast(minParallel)
	goleak.VerifyTestMain(m)
}
