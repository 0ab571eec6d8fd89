//go:build unix && !linux

package daytonatest

import "os"

// pipeHasData reports whether the pipe f reads from holds bytes not read
// yet. Outside Linux it does not look and says no, so that a labeller
// sees the other stream's data only once that labeller has read it (long
// lines then interleave with it less often).
func pipeHasData(*os.File) bool { return false }
