// Package testparallel raises how many parallel tests a test binary runs
// at once, for packages whose parallel tests mostly wait (for timeouts,
// shells, the fake's transitions and answers) rather than compute: go
// test's default is GOMAXPROCS, 2 on a 2-core machine.
package testparallel

import (
	"flag"
	"runtime"
	"strconv"
)

// AtLeast makes the tests run up to n parallel tests at once (or
// GOMAXPROCS, if more), unless the command line says how many with
// -parallel. Call it from TestMain, before m.Run; it parses the flags.
func AtLeast(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(max(n, runtime.GOMAXPROCS(0))))
	}
}
