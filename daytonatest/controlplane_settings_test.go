//go:build unix

package daytonatest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestIntervalRoutes: the auto-stop, auto-archive and auto-delete routes
// are POSTs without @HttpCode, so 201 with the record
// (sandbox.controller.ts:937-1070 @v0.190.0, 910-1043 @v0.173.0); the
// interval becomes a number as JavaScript's + makes one, and one that
// does not fit the integer column is a 500 (sandbox.service.ts:3033-3065,
// 3290-3310 @v0.190.0).
func TestIntervalRoutes(t *testing.T) {
	t.Parallel()
	internal := answer{http.StatusInternalServerError, "An unexpected error occurred."}
	cases := []struct {
		route, interval string
		want            answer
		field           string
		value           float64
	}{
		{"autostop", "42", answer{http.StatusCreated, ""}, "autoStopInterval", 42},
		{"autostop", "0x10", answer{http.StatusCreated, ""}, "autoStopInterval", 16},
		{"autostop", "-1", refused("Auto-stop interval must be non-negative"), "", 0},
		{"autostop", "1.5", internal, "", 0},
		{"autostop", "abc", internal, "", 0},
		{"autoarchive", "0", answer{http.StatusCreated, ""}, "autoArchiveInterval", 43200},
		{"autoarchive", "50000", answer{http.StatusCreated, ""}, "autoArchiveInterval", 43200},
		{"autoarchive", "60", answer{http.StatusCreated, ""}, "autoArchiveInterval", 60},
		{"autoarchive", "-5", refused("Auto-archive interval must be non-negative"), "", 0},
		{"autoarchive", "x", internal, "", 0},
		{"autodelete", "-7", answer{http.StatusCreated, ""}, "autoDeleteInterval", -7},
		{"autodelete", "0", answer{http.StatusCreated, ""}, "autoDeleteInterval", 0},
		{"autodelete", "9999999999", internal, "", 0},
	}
	for _, v := range versions {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		for _, tc := range cases {
			path := "/api/sandbox/" + sb.ID + "/" + tc.route + "/" + tc.interval
			r := authed(t, srv, "POST", path, nil)
			require.Equal(t, tc.want.status, r.Status, "%s %s: %s", v, path, r.Body)
			if tc.want.msg != "" {
				requireAPIError(t, r, tc.want.status, tc.want.msg, path)
			}
			if tc.field != "" {
				require.EqualValues(t, tc.value, r.JSON(t)[tc.field], "%s %s", v, path)
			}
		}
		rec, _ := srv.Sandbox(sb.ID)
		require.Equal(t, []int{16, 60, 0}, []int{rec.AutoStopInterval, rec.AutoArchiveInterval, rec.AutoDeleteInterval})
		path := "/api/sandbox/nope/autostop/1"
		requireAPIError(t, authed(t, srv, "POST", path, nil), http.StatusNotFound, "Sandbox with ID or name nope not found", path)
	}
}

// TestReplaceLabels: PUT /sandbox/{id}/labels replaces the labels and
// answers the record, 200; the body is not validated, and without an
// object of labels they stay (sandbox.controller.ts:648-687,
// sandbox.service.ts:2837-2850 @v0.190.0; 616-655, 2339-2352 @v0.173.0).
func TestReplaceLabels(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		path := "/api/sandbox/" + sb.Name + "/labels"
		r := authed(t, srv, "PUT", path, `{"labels":{"team":"x"}}`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, map[string]any{"team": "x"}, r.JSON(t)["labels"])
		require.Equal(t, map[string]any{"team": "x"}, authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)["labels"])

		r = authed(t, srv, "PUT", path, `{"other":1}`)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, map[string]any{"team": "x"}, r.JSON(t)["labels"])
		require.Equal(t, http.StatusOK, authed(t, srv, "PUT", path, `{"labels":{}}`).Status)
		rec, _ := srv.Sandbox(sb.ID)
		require.Empty(t, rec.Labels)
		require.Equal(t, http.StatusBadRequest, authed(t, srv, "PUT", path, `{"labels":`).Status)
		require.Equal(t, 4, srv.Count(daytonatest.OpReplaceLabels))
	}
}
