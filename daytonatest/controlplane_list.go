//go:build unix

package daytonatest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Listing sandboxes. GET /sandbox answered every sandbox, a bare array of
// records, in v0.173.0 (sandbox.controller.ts:128-169, findAllDeprecated
// in sandbox.service.ts:1230-1253 @v0.173.0); since v0.190.0 it answers
// a page {items, nextCursor} of reduced records, sorted by last activity,
// newest first (sandbox.controller.ts:130-146, search in
// sandbox.service.ts:1630-1688, sandbox-typeorm-search.adapter.ts:133-171
// @v0.190.0; SandboxListItem in dto/sandbox-list-item.dto.ts). GET
// /sandbox/paginated, which SDK v0.173.0's List calls, answers
// {items, total, page, totalPages} until it leaves the API: it is gone
// from @daytonaio/api-client 0.218.0 on, and GET /sandbox/paginated then
// looks up a sandbox named "paginated".

// listSortFields are the fields GET /sandbox sorts by
// (dto/list-sandboxes-query.dto.ts:14-21 @v0.190.0).
var listSortFields = []string{"name", "cpu", "memoryGib", "diskGib", "lastActivityAt", "createdAt"}

// listItemKeys are the keys of a SandboxListItem: the record without its
// environment, volumes and build (dto/sandbox-list-item.dto.ts:15-41
// @v0.190.0); today's adds the network settings and auto-pause
// (@daytonaio/api-client 0.220.0, models/sandbox-list-item.d.ts).
var listItemKeys = []string{
	"id", "organizationId", "name", "target", "sandboxClass", "state", "desiredState", "snapshot", "user",
	"errorReason", "recoverable", "public", "cpu", "gpu", "memory", "disk", "labels", "autoStopInterval",
	"autoArchiveInterval", "autoDeleteInterval", "createdAt", "updatedAt", "lastActivityAt", "daemonVersion",
	"toolboxProxyUrl",
}
var listItemKeysCurrent = []string{"networkBlockAll", "networkAllowList", "autoPauseInterval", "autoDestroyAt"}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.since(level0190) {
		s.listAll(w, r)
		return
	}
	q, labels, ok := s.listQuery(w, r, []queryRule{
		{name: "limit", integer: true, min: 1, max: 200},
		{name: "sort", enum: listSortFields},
		{name: "order", enum: []string{"asc", "desc"}},
	})
	if !ok {
		return
	}
	page, aerr := s.listPage(q, labels)
	if aerr != nil {
		writeAPIError(w, r, aerr.status, aerr.msg)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// listAll is GET /sandbox of v0.173.0: every sandbox, as full records.
// Labels that are not JSON are a 500, JSON.parse throwing in the
// controller.
func (s *Server) listAll(w http.ResponseWriter, r *http.Request) {
	q, labels, ok := s.listQuery(w, r, nil)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []sandboxDTO{}
	for _, sb := range listable(s.filteredLocked(labels), q) {
		items = append(items, s.dtoLocked(sb))
	}
	writeJSON(w, http.StatusOK, items)
}

// listable drops the errored sandboxes being deleted, unless the query
// asks for them with includeErroredDeleted=true (sandbox.service.ts:
// 1240-1250 @v0.173.0; sandbox-typeorm-search.adapter.ts:99-129
// @v0.190.0).
func listable(all []*sandbox, q url.Values) []*sandbox {
	if q.Get("includeErroredDeleted") == "true" {
		return all
	}
	return slices.DeleteFunc(all, func(sb *sandbox) bool { return sb.errored() && sb.desired == "destroyed" })
}

// listCursor is the position after which a page starts: the sort value
// and id of the last item of the page before.
type listCursor struct {
	SortValue any    `json:"sortValue"`
	ID        string `json:"id"`
}

// listPage is one page of the sandboxes with labels, in the order q asks
// for (lastActivityAt, descending, by default; ties by id), after q's
// cursor.
func (s *Server) listPage(q url.Values, labels map[string]string) (map[string]any, *apiError) {
	limit := 100
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	field, desc := cmp.Or(q.Get("sort"), "lastActivityAt"), q.Get("order") != "asc"
	var after *listCursor
	if raw := q.Get("cursor"); raw != "" {
		b, err := base64.StdEncoding.DecodeString(raw)
		after = &listCursor{}
		if err != nil || json.Unmarshal(b, after) != nil {
			return nil, &apiError{http.StatusBadRequest, "Invalid cursor provided: " + raw}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := listable(s.filteredLocked(labels), q)
	keys := make(map[*sandbox]listCursor, len(all))
	for _, sb := range all {
		keys[sb] = listCursor{s.sortValueLocked(sb, field), sb.id}
	}
	order := func(a, b listCursor) int {
		c := cmp.Or(compareSortValues(a.SortValue, b.SortValue), strings.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	}
	slices.SortFunc(all, func(a, b *sandbox) int { return order(keys[a], keys[b]) })
	var page []*sandbox
	var next any
	for _, sb := range all {
		if after != nil && order(keys[sb], *after) <= 0 {
			continue
		}
		if len(page) == limit {
			b, _ := json.Marshal(keys[page[limit-1]])
			next = base64.StdEncoding.EncodeToString(b)
			break
		}
		page = append(page, sb)
	}
	items := []map[string]any{}
	for _, sb := range page {
		items = append(items, s.listItemLocked(sb))
	}
	return map[string]any{"items": items, "nextCursor": next}, nil
}

// sortValueLocked is sb's value of a sort field, as the cursor carries it.
func (s *Server) sortValueLocked(sb *sandbox, field string) any {
	switch field {
	case "name":
		return sb.name
	case "cpu":
		return float64(sb.cpu)
	case "memoryGib":
		return float64(sb.memory)
	case "diskGib":
		return float64(sb.disk)
	case "createdAt":
		return isoTime(sb.createdAt)
	}
	return isoTime(lastActivityLocked(sb))
}

// compareSortValues orders two sort values of one field: numbers, or
// strings (names, and times in ISO 8601, which sort as strings).
func compareSortValues(a, b any) int {
	af, aNum := a.(float64)
	bf, bNum := b.(float64)
	if aNum && bNum {
		return cmp.Compare(af, bf)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// listItemLocked is sb's record as a list item.
func (s *Server) listItemLocked(sb *sandbox) map[string]any {
	b, _ := json.Marshal(s.dtoLocked(sb))
	var full map[string]any
	_ = json.Unmarshal(b, &full)
	keys := listItemKeys
	if s.since(levelCurrent) {
		keys = append(slices.Clone(keys), listItemKeysCurrent...)
	}
	keys = append(slices.Clone(keys), "execution") // daytonatest's own (hostfacts.go)
	item := make(map[string]any, len(keys))
	for _, k := range keys {
		if v, ok := full[k]; ok {
			item[k] = v
		}
	}
	return item
}

// labelFilter parses the labels query parameter, a JSON object.
func labelFilter(raw string) (map[string]string, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// handleListPaginated is GET /sandbox/paginated (listSandboxesPaginated,
// sandbox.controller.ts:148-227 @v0.190.0, 174-245 @v0.173.0), by
// default newest first.
func (s *Server) handleListPaginated(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.since(levelCurrent) {
		r.SetPathValue("idOrName", "paginated")
		s.onSandbox(s.getSandbox)(w, r, body)
		return
	}
	q, labels, ok := s.listQuery(w, r, []queryRule{
		{name: "page", integer: true, min: 1},
		{name: "limit", integer: true, min: 1, max: 200},
		{name: "order", enum: []string{"asc", "desc"}},
	})
	if !ok {
		return
	}
	page, limit := 1, 100
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := listable(s.filteredLocked(labels), q)
	if q.Get("order") == "asc" {
		slices.Reverse(all)
	}
	items := []sandboxDTO{}
	for i := (page - 1) * limit; i < len(all) && i < page*limit; i++ {
		items = append(items, s.dtoLocked(all[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items":      items,
		"total":      len(all),
		"page":       page,
		"totalPages": (len(all) + limit - 1) / limit,
	})
}

// listQuery checks a list's query against rules and parses its labels,
// or answers 400 and returns false. Labels that are not JSON are a 400
// "Invalid labels JSON format" since v0.190.0; before, JSON.parse threw
// in the controller, a 500.
func (s *Server) listQuery(w http.ResponseWriter, r *http.Request, rules []queryRule) (url.Values, map[string]string, bool) {
	q := r.URL.Query()
	if msg := validateQuery(q, rules); msg != "" {
		writeAPIError(w, r, http.StatusBadRequest, msg)
		return nil, nil, false
	}
	labels, err := labelFilter(q.Get("labels"))
	switch {
	case err != nil && s.since(level0190):
		writeAPIError(w, r, http.StatusBadRequest, "Invalid labels JSON format")
	case err != nil:
		writeAPIError(w, r, errUnexpected.status, errUnexpected.msg)
	default:
		return q, labels, true
	}
	return nil, nil, false
}

// queryRule is the validation of one query parameter: an integer in a
// range (@Type(() => Number), @IsInt, @Min, @Max, applied in this order
// by PageNumber and PageLimit, common/decorators/page-limit.decorator.ts
// @v0.190.0), or one of enum (@IsEnum).
type queryRule struct {
	name     string
	integer  bool
	min, max int // max 0: none
	enum     []string
}

// validateQuery checks q against rules and returns the messages of the
// failed checks, joined as the API joins them ("" if none).
func validateQuery(q url.Values, rules []queryRule) string {
	var msgs []string
	for _, rule := range rules {
		if !q.Has(rule.name) {
			continue
		}
		v := q.Get(rule.name)
		if rule.enum != nil {
			if !slices.Contains(rule.enum, v) {
				msgs = append(msgs, fmt.Sprintf("%s must be one of the following values: %s", rule.name, strings.Join(rule.enum, ", ")))
			}
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		valid := err == nil || strings.TrimSpace(v) == "" // Number("") is 0
		if !valid || n != float64(int64(n)) {
			msgs = append(msgs, rule.name+" must be an integer number")
		}
		if !valid || n < float64(rule.min) {
			msgs = append(msgs, fmt.Sprintf("%s must not be less than %d", rule.name, rule.min))
		}
		if rule.max > 0 && (!valid || n > float64(rule.max)) {
			msgs = append(msgs, fmt.Sprintf("%s must not be greater than %d", rule.name, rule.max))
		}
	}
	return strings.Join(msgs, ", ")
}
