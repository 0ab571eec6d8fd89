package daytona_test

import (
	"flag"
	"runtime"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// minParallel is how many parallel tests run at once unless -parallel says
// otherwise: go test's default is GOMAXPROCS (2 on a 2-core machine), and
// the parallel tests here (the conformance suites) mostly wait, for
// timeouts, shells and the fake's answers, rather than compute.
const minParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(max(minParallel, runtime.GOMAXPROCS(0))))
	}
	goleak.VerifyTestMain(m)
}
