package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/tag"
)

func TestTagsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/tags", tok, withJSON(map[string]any{"name": " Brakes ", "type": "service_type"}))
	requireStatus(t, http.StatusCreated, res)
	var created tag.Tag
	res.decode(t, &created)
	require.Equal(t, "Brakes", created.Name)
	require.Equal(t, "#6b7280", created.Color)

	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withJSON(map[string]any{"name": "Brakes", "type": "service_type"}))
	requireStatus(t, http.StatusConflict, res)
	res.problem(t)

	res = e.do(t, http.MethodPut, "/api/v1/tags/"+created.ID.String(), tok, withJSON(map[string]any{"name": "Brake job", "type": "service_type", "color": "#ff0000"}))
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodGet, "/api/v1/tags/"+created.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var got tag.Tag
	res.decode(t, &got)
	require.Equal(t, "Brake job", got.Name)
	require.Equal(t, "#ff0000", got.Color)

	res = e.do(t, http.MethodDelete, "/api/v1/tags/"+created.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags/"+created.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)

	// Create, update and delete each left an audit row with old and new values.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=tag&entity_id="+created.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 3)
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Create}, []string{logs.Items[0].Action, logs.Items[1].Action, logs.Items[2].Action})
	require.Contains(t, string(logs.Items[1].OldValue), `"Brakes"`)
	require.Contains(t, string(logs.Items[1].NewValue), `"Brake job"`)
	require.Equal(t, tn.Owner.ID, *logs.Items[0].ActorUserID)
	require.NotNil(t, logs.Items[0].RequestID)
}

func TestTagsPagination(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	for i := range 5 {
		res := e.do(t, http.MethodPost, "/api/v1/tags", tok, withJSON(map[string]any{"name": strings.Repeat("x", i+1)}))
		requireStatus(t, http.StatusCreated, res)
	}
	var seen []string
	cursor := ""
	for range 3 {
		res := e.do(t, http.MethodGet, "/api/v1/tags?limit=2&cursor="+cursor, tok)
		requireStatus(t, http.StatusOK, res)
		var page struct {
			Items      []tag.Tag
			NextCursor *string `json:"next_cursor"`
		}
		res.decode(t, &page)
		for _, it := range page.Items {
			seen = append(seen, it.Name)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	require.Equal(t, []string{"xxxxx", "xxxx", "xxx", "xx", "x"}, seen, "newest first, each once")
}

func TestTagsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	res := e.do(t, http.MethodPost, "/api/v1/tags", withToken(other.Owner.Token), withJSON(map[string]any{"name": "theirs"}))
	requireStatus(t, http.StatusCreated, res)
	var theirs tag.Tag
	res.decode(t, &theirs)

	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
	}{
		{"malformed json", http.MethodPost, "/api/v1/tags", []reqOpt{withRaw("application/json", `{"name":`)}, http.StatusBadRequest},
		{"wrong type", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"name": 42})}, http.StatusUnprocessableEntity},
		{"missing field", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"type": "custom"})}, http.StatusUnprocessableEntity},
		{"unknown field", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"name": "a", "colour": "#000000"})}, http.StatusUnprocessableEntity},
		{"bad enum", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"name": "a", "type": "nope"})}, http.StatusUnprocessableEntity},
		{"bad color", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"name": "a", "color": "red"})}, http.StatusUnprocessableEntity},
		{"blank name", http.MethodPost, "/api/v1/tags", []reqOpt{withJSON(map[string]any{"name": "   "})}, http.StatusUnprocessableEntity},
		{"oversized body", http.MethodPost, "/api/v1/tags", []reqOpt{withRaw("application/json", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`)}, http.StatusRequestEntityTooLarge},
		{"bad uuid", http.MethodGet, "/api/v1/tags/not-a-uuid", nil, http.StatusUnprocessableEntity},
		{"foreign id get", http.MethodGet, "/api/v1/tags/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"foreign id put", http.MethodPut, "/api/v1/tags/" + theirs.ID.String(), []reqOpt{withJSON(map[string]any{"name": "mine"})}, http.StatusNotFound},
		{"foreign id delete", http.MethodDelete, "/api/v1/tags/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"limit too large", http.MethodGet, "/api/v1/tags?limit=201", nil, http.StatusUnprocessableEntity},
		{"bad cursor", http.MethodGet, "/api/v1/tags?cursor=zzz", nil, http.StatusUnprocessableEntity},
		{"unknown query", http.MethodGet, "/api/v1/tags?colour=red", nil, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			require.Equal(t, tt.status, p.Status)
		})
	}

	// The other tenant's tag is untouched.
	res = e.do(t, http.MethodGet, "/api/v1/tags/"+theirs.ID.String(), withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
}

func TestViewerCannotWriteTags(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)
	res := e.do(t, http.MethodGet, "/api/v1/tags", withToken(viewer.Token))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(viewer.Token), withJSON(map[string]any{"name": "x"}))
	requireStatus(t, http.StatusForbidden, res)
	require.Contains(t, res.problem(t).Detail, "tags:write")
}
