//go:build unix

package daytonatest_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestCloseDoesNotWaitForUnusedConnections: a connection that never began
// a request (as an HTTP client leaves one when another connection served
// the request it was dialled for) is closed by Close at once; Close used
// to wait 5 seconds for it.
func TestCloseDoesNotWaitForUnusedConnections(t *testing.T) {
	t.Parallel()
	srv, err := daytonatest.Run()
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	// The server accepts connections in the order they came, so once a
	// request on a later connection is answered, conn has been accepted.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.APIURL() + "/sandbox")
	require.NoError(t, err)
	resp.Body.Close()

	start := time.Now()
	srv.Close()
	took := time.Since(start)
	require.Less(t, took, 3*time.Second, "Close waited for a connection that never sent a request")
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the unused connection is still open")
	require.Error(t, err)
}
