//go:build unix

package daytonatest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestListShapeByVersion: GET /sandbox answers every sandbox as a bare
// array of records in v0.173.0 (sandbox.controller.ts:128-169
// @v0.173.0), and a page {items, nextCursor} of list items without env,
// volumes or build since v0.190.0 (sandbox.controller.ts:130-146,
// dto/list-sandboxes-response.dto.ts, dto/sandbox-list-item.dto.ts
// @v0.190.0); today's items add the network settings and auto-pause
// (@daytonaio/api-client 0.220.0, models/sandbox-list-item.d.ts).
func TestListShapeByVersion(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		r := authed(t, srv, "GET", "/api/sandbox", nil)
		require.Equal(t, http.StatusOK, r.Status)
		if v == daytonatest.Service0173 {
			var all []map[string]any
			require.NoError(t, json.Unmarshal(r.Body, &all))
			require.Len(t, all, 1)
			require.Equal(t, sb.ID, all[0]["id"])
			require.Contains(t, all[0], "env")
			continue
		}
		page := r.JSON(t)
		require.Nil(t, page["nextCursor"])
		items := page["items"].([]any)
		require.Len(t, items, 1)
		item := items[0].(map[string]any)
		require.Equal(t, sb.ID, item["id"])
		require.Equal(t, srv.ToolboxURL(), item["toolboxProxyUrl"])
		for _, k := range []string{"env", "volumes", "buildInfo"} {
			require.NotContains(t, item, k)
		}
		_, hasPause := item["autoPauseInterval"]
		require.Equal(t, v == daytonatest.ServiceCurrent, hasPause)
	}
}

// TestListPages: since v0.190.0, GET /sandbox pages by cursor, 100 items
// by default, at most 200, sorted by last activity (newest first) unless
// sort and order say otherwise; a cursor that does not decode is a 400
// (list-sandboxes-query.dto.ts, page-limit.decorator.ts,
// sandbox-typeorm-search.adapter.ts:133-171, 231-262 @v0.190.0).
func TestListPages(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: name, Labels: map[string]string{"all": "yes"}}})
	}
	var names []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := url.Values{"limit": {"2"}, "sort": {"name"}, "order": {"asc"}, "labels": {`{"all":"yes"}`}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		m := authed(t, srv, "GET", "/api/sandbox?"+q.Encode(), nil).JSON(t)
		for _, it := range m["items"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		if m["nextCursor"] == nil {
			require.Equal(t, 2, pages)
			break
		}
		cursor = m["nextCursor"].(string)
		_, err := base64.StdEncoding.DecodeString(cursor)
		require.NoError(t, err)
	}
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, names)

	m := authed(t, srv, "GET", "/api/sandbox?sort=name&order=desc&limit=3", nil).JSON(t)
	require.Len(t, m["items"], 3)
	require.Equal(t, "e", m["items"].([]any)[0].(map[string]any)["name"])

	for query, msg := range map[string]string{
		"limit=0":      "limit must not be less than 1",
		"limit=201":    "limit must not be greater than 200",
		"limit=x":      "limit must be an integer number, limit must not be less than 1, limit must not be greater than 200",
		"sort=size":    "sort must be one of the following values: name, cpu, memoryGib, diskGib, lastActivityAt, createdAt",
		"order=up":     "order must be one of the following values: asc, desc",
		"cursor=%%%":   "Invalid cursor provided: %%%",
		"labels=notjs": "Invalid labels JSON format",
	} {
		path := "/api/sandbox?" + query
		if query == "cursor=%%%" {
			path = "/api/sandbox?cursor=" + url.QueryEscape("%%%")
		}
		requireAPIError(t, authed(t, srv, "GET", path, nil), http.StatusBadRequest, msg, path)
	}
}

// TestListHidesErroredDeleted: an errored sandbox being deleted is left
// out unless includeErroredDeleted=true (sandbox.service.ts:1240-1250
// @v0.173.0, sandbox-typeorm-search.adapter.ts:99-129 @v0.190.0).
func TestListHidesErroredDeleted(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
		srv.SetTransitionDelay(time.Hour)
		require.NoError(t, srv.FailSandbox(sb.ID, "x", false))
		require.Equal(t, http.StatusOK, authed(t, srv, "DELETE", "/api/sandbox/"+sb.ID, nil).Status)
		for query, n := range map[string]int{"": 0, "?includeErroredDeleted=true": 1} {
			body := authed(t, srv, "GET", "/api/sandbox"+query, nil).Body
			var got int
			if v == daytonatest.Service0173 {
				var all []any
				require.NoError(t, json.Unmarshal(body, &all))
				got = len(all)
			} else {
				var page struct{ Items []any }
				require.NoError(t, json.Unmarshal(body, &page))
				got = len(page.Items)
			}
			require.Equal(t, n, got, "%s %q", v, query)
		}
	}
}

// TestListLabelsThatAreNoJSON: v0.173.0's list parses the labels with
// JSON.parse in the controller, so bad JSON is a 500
// (sandbox.controller.ts:164 @v0.173.0); since v0.190.0 a 400
// (sandbox.service.ts:1631-1638 @v0.190.0). The paginated list of v0.173.0
// does the same (sandbox.controller.ts:218), v0.190.0's a 400
// (sandbox.controller.ts:187-193).
func TestListLabelsThatAreNoJSON(t *testing.T) {
	t.Parallel()
	for _, v := range []daytonatest.ServiceVersion{daytonatest.Service0173, daytonatest.Service0190} {
		srv := newServerAt(t, v)
		for _, path := range []string{"/api/sandbox?labels=x", "/api/sandbox/paginated?labels=x"} {
			r := authed(t, srv, "GET", path, nil)
			if v == daytonatest.Service0173 {
				requireAPIError(t, r, http.StatusInternalServerError, "An unexpected error occurred.", path)
			} else {
				requireAPIError(t, r, http.StatusBadRequest, "Invalid labels JSON format", path)
			}
		}
		path := "/api/sandbox/paginated?page=0&limit=x"
		requireAPIError(t, authed(t, srv, "GET", path, nil), http.StatusBadRequest,
			"page must not be less than 1, limit must be an integer number, limit must not be less than 1, limit must not be greater than 200", path)
	}
}

// TestPaginatedIsGoneToday: GET /sandbox/paginated, deprecated in v0.190.0,
// is not in the published control-plane client from 0.218.0 on
// (@daytonaio/api-client 0.220.0, api/sandbox-api.js); without its route
// the path is a lookup of a sandbox named "paginated", so SDK v0.173.0's
// List fails.
func TestPaginatedIsGoneToday(t *testing.T) {
	t.Parallel()
	srv, c, _ := newSandbox(t)
	_, err := c.List(t.Context(), nil, nil, nil)
	requireNotFound(t, err, "Sandbox with ID or name paginated not found")
	createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "paginated"}})
	r := authed(t, srv, "GET", "/api/sandbox/paginated", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "paginated", r.JSON(t)["name"])
}
