//go:build !unix

package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "daytonatest: needs a Unix system (FIFOs, process groups); %s is not supported\n", runtime.GOOS)
	os.Exit(2)
}
