package toolbox

import (
	"net/http"
	"testing"

	"github.com/agentworkspace/daytona/internal/apierr"
)

// TestRefusal: the daemon's file handlers answer with a status and no
// body (up to v0.190.0), or today with a structured answer of the daemon
// (source DAYTONA_DAEMON, a FILE_* code); a plain-text 404 is the daemon's
// mux. Answers with a JSON body and another source, or none, come from the
// proxy or the runner.
func TestRefusal(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   bool
	}{
		{400, "", true}, {403, "", true}, {404, "", true}, {409, "", true},
		{403, "403 Forbidden\n", true},
		{404, `{"statusCode":404,"message":"file not found: /x","code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}`, true},
		{403, `{"message":"permission denied: /x","code":"FILE_ACCESS_DENIED"}`, true},
		{400, `{"message":"invalid file path: /x","code":"INVALID_FILE_PATH","source":"DAYTONA_DAEMON"}`, true},
		{409, `{"message":"conflict","code":"CONFLICT","source":"DAYTONA_DAEMON"}`, true},
		{404, "404 page not found", true},
		{404, `{"message":"sandbox not found"}`, false},
		{404, `{"message":"sandbox not found","source":"DAYTONA_PROXY"}`, false},
		{400, `{"message":"failed to get runner info"}`, false},
		{400, `{"message":"bad request: failed to resolve container IP","source":"DAYTONA_PROXY"}`, false},
		{500, `{"message":"read failed","code":"FILE_READ_FAILED","source":"DAYTONA_DAEMON"}`, false},
		{500, "", false}, {502, "", false}, {401, "", false},
	}
	for _, tc := range cases {
		err := apierr.FromBody(tc.status, http.Header{}, []byte(tc.body))
		if got := refusal(tc.status, []byte(tc.body), err); got != tc.want {
			t.Errorf("refusal(%d, %q) = %v; want %v", tc.status, tc.body, got, tc.want)
		}
	}
}
