package daytona_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/internal/testparallel"
)

// minParallel is how many parallel tests run at once unless -parallel says
// otherwise: the parallel tests here (the conformance suites, transitions,
// retries) mostly wait rather than compute.
const minParallel = 4

func TestMain(m *testing.M) {
	testparallel.AtLeast(minParallel)
	goleak.VerifyTestMain(m)
}
