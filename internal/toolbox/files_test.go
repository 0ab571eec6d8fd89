package toolbox

import "testing"

// TestRefusal: the daemon's file handlers answer with a status and no
// body; answers with a body come from the proxy or the runner.
func TestRefusal(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   bool
	}{
		{400, "", true}, {403, "", true}, {404, "", true}, {409, "", true},
		{403, "403 Forbidden\n", true},
		{404, `{"message":"sandbox not found"}`, false},
		{400, `{"message":"failed to get runner info"}`, false},
		{500, "", false}, {502, "", false}, {401, "", false},
	}
	for _, tc := range cases {
		if got := refusal(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("refusal(%d, %q) = %v; want %v", tc.status, tc.body, got, tc.want)
		}
	}
}
