package pool_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/internal/testparallel"
)

// minParallel is how many parallel tests run at once unless -parallel says
// otherwise: the tests mostly wait for the fake's answers and shells
// rather than compute.
const minParallel = 4

func TestMain(m *testing.M) {
	testparallel.AtLeast(minParallel)
	goleak.VerifyTestMain(m)
}
