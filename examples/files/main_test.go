package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"Wrote 5 files into wordcount/.\n",
		"wordcount/\n  README.md (65 bytes, -rw-r--r--)\n  count.sh (",
		"bytes, -rwxr-xr-x)\n  data/\n    big.txt (1048576 bytes, -rw-r--r--)\n    empty.txt (0 bytes, -rw-r--r--)\n    fox.txt (44 bytes, -rw-r--r--)\n",
		"Ran count.sh: counted 3 files\n",
		"out/report.txt:\n174763 data/big.txt\n0 data/empty.txt\n9 data/fox.txt\n",
		"Reading a missing file: errors.Is(err, fs.ErrNotExist) = true (read wordcount/out/missing.txt: file does not exist)\n",
	)
}
