//go:build unix

package daytonatest_test

import (
	"errors"
	"strings"
	"testing"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/stretchr/testify/require"
)

// requireSDKTimeout checks that err is the SDK's report of a wait (such as
// StopWithTimeout's) that ran out of time. The SDK polls the sandbox until
// its deadline: a deadline that ends between two polls gives a
// *DaytonaTimeoutError, one that ends during a poll (likelier on a loaded
// machine) the poll's error, "context deadline exceeded".
func requireSDKTimeout(t *testing.T, err error) {
	t.Helper()
	var te *sdkerrors.DaytonaTimeoutError
	if errors.As(err, &te) {
		return
	}
	require.True(t, err != nil && strings.Contains(err.Error(), "context deadline exceeded"), "want a timeout, got %T: %v", err, err)
}
