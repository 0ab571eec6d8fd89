package daytona

import "time"

// SetSyncWindow changes how long a synchronous exec waits before following
// the command's log, and returns a function that restores it.
func SetSyncWindow(d time.Duration) (restore func()) {
	old := syncWindow
	syncWindow = d
	return func() { syncWindow = old }
}
