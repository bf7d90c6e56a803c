package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/setting"
)

func TestSettingsListShowsDefaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodGet, "/api/v1/settings", tok)
	requireStatus(t, http.StatusOK, res)
	var l struct {
		Items      []setting.Setting
		NextCursor *string `json:"next_cursor"`
	}
	res.decode(t, &l)
	require.Nil(t, l.NextCursor)
	byKey := map[string]setting.Setting{}
	var keys []string
	for _, it := range l.Items {
		byKey[it.Key] = it
		keys = append(keys, it.Key)
		require.True(t, it.IsDefault, it.Key)
		require.Nil(t, it.UpdatedAt, it.Key)
		require.NotEmpty(t, it.Description, it.Key)
		require.NotEmpty(t, it.Category, it.Key)
	}
	require.Equal(t, []string{
		"business_hours", "caller_id", "default_max_attempts", "default_retry_gap_minutes", "escalation_email",
		"locale", "review_link", "sms_enabled", "timezone",
	}, keys)
	require.JSONEq(t, `"America/New_York"`, string(byKey["timezone"].Value), "the organization's time zone")
	require.JSONEq(t, `{"days":[1,2,3,4,5],"start":"08:00","end":"18:00"}`, string(byKey["business_hours"].Value))
	require.JSONEq(t, `null`, string(byKey["caller_id"].Value))
	require.JSONEq(t, `3`, string(byKey["default_max_attempts"].Value))
	require.JSONEq(t, `false`, string(byKey["sms_enabled"].Value))

	// Set values show as such, in the list and on their own.
	res = e.do(t, http.MethodPut, "/api/v1/settings/caller_id", tok, withJSON(map[string]any{"value": "+13125550100"}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPut, "/api/v1/settings/custom.loaner_days", tok, withJSON(map[string]any{"value": 3, "description": "Loaner car days"}))
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodGet, "/api/v1/settings?category=calling&limit=2", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &l)
	require.Len(t, l.Items, 2)
	require.Equal(t, "business_hours", l.Items[0].Key)
	require.True(t, l.Items[0].IsDefault)
	require.Equal(t, "caller_id", l.Items[1].Key)
	require.False(t, l.Items[1].IsDefault)
	require.NotNil(t, l.Items[1].UpdatedAt)
	require.NotNil(t, l.NextCursor)
	res = e.do(t, http.MethodGet, "/api/v1/settings?category=calling&limit=2&cursor="+*l.NextCursor, tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &l)
	require.Len(t, l.Items, 2)
	require.Equal(t, "default_retry_gap_minutes", l.Items[1].Key)

	res = e.do(t, http.MethodGet, "/api/v1/settings?category=custom", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &l)
	require.Len(t, l.Items, 1)
	require.Equal(t, "custom.loaner_days", l.Items[0].Key)
	require.Equal(t, "Loaner car days", l.Items[0].Description)
	require.JSONEq(t, `3`, string(l.Items[0].Value))
}

func TestSettingsPutGetDelete(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPut, "/api/v1/settings/business_hours", tok,
		withJSON(map[string]any{"value": map[string]any{"days": []int{6, 1, 3}, "start": "07:30", "end": "17:00"}}))
	requireStatus(t, http.StatusOK, res)
	var put setting.Setting
	res.decode(t, &put)
	require.Equal(t, "business_hours", put.Key)
	require.JSONEq(t, `{"days":[1,3,6],"start":"07:30","end":"17:00"}`, string(put.Value), "stored in canonical form")
	require.Equal(t, setting.CategoryCalling, put.Category)
	require.False(t, put.IsDefault)

	res = e.do(t, http.MethodGet, "/api/v1/settings/business_hours", tok)
	requireStatus(t, http.StatusOK, res)
	var got setting.Setting
	res.decode(t, &got)
	require.JSONEq(t, string(put.Value), string(got.Value))

	res = e.do(t, http.MethodPut, "/api/v1/settings/business_hours", tok,
		withJSON(map[string]any{"value": map[string]any{"days": []int{1, 2}, "start": "09:00", "end": "17:00"}}))
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodDelete, "/api/v1/settings/business_hours", tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/settings/business_hours", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &got)
	require.True(t, got.IsDefault)
	require.JSONEq(t, `{"days":[1,2,3,4,5],"start":"08:00","end":"18:00"}`, string(got.Value))
	res = e.do(t, http.MethodDelete, "/api/v1/settings/business_hours", tok)
	requireStatus(t, http.StatusNoContent, res)

	// Every change wrote an audit row with the old and new values.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=setting&entity_id=business_hours", tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 3)
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Create},
		[]string{logs.Items[0].Action, logs.Items[1].Action, logs.Items[2].Action})
	require.Contains(t, string(logs.Items[1].OldValue), `"07:30"`)
	require.Contains(t, string(logs.Items[1].NewValue), `"09:00"`)
	var restored setting.Setting
	require.NoError(t, json.Unmarshal(logs.Items[0].NewValue, &restored))
	require.True(t, restored.IsDefault, "the delete records the default restored")
	require.Equal(t, tn.Owner.ID, *logs.Items[0].ActorUserID)

	// Custom keys come and go.
	res = e.do(t, http.MethodPut, "/api/v1/settings/custom.shuttle.radius-miles", tok,
		withJSON(map[string]any{"value": map[string]any{"miles": 15, "zips": []string{"60601"}}}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &got)
	require.Equal(t, setting.CategoryCustom, got.Category)
	require.JSONEq(t, `{"miles":15,"zips":["60601"]}`, string(got.Value))
	res = e.do(t, http.MethodDelete, "/api/v1/settings/custom.shuttle.radius-miles", tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/settings/custom.shuttle.radius-miles", tok)
	requireStatus(t, http.StatusNotFound, res)
	res = e.do(t, http.MethodDelete, "/api/v1/settings/custom.shuttle.radius-miles", tok)
	requireStatus(t, http.StatusNotFound, res)
}

func TestSettingsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	val := func(v any) reqOpt { return withJSON(map[string]any{"value": v}) }

	tests := []struct {
		name     string
		method   string
		key      string
		opts     []reqOpt
		status   int
		location string // of the first field error, when there is one to check
	}{
		{"bad time zone", http.MethodPut, "timezone", []reqOpt{val("Mars/Olympus_Mons")}, 422, "body.value"},
		{"time zone of wrong type", http.MethodPut, "timezone", []reqOpt{val(5)}, 422, "body.value"},
		{"null for a known key", http.MethodPut, "timezone", []reqOpt{val(nil)}, 422, "body.value"},
		{"days out of range", http.MethodPut, "business_hours", []reqOpt{val(map[string]any{"days": []int{0}, "start": "08:00", "end": "17:00"})}, 422, "body.value.days"},
		{"start after end", http.MethodPut, "business_hours", []reqOpt{val(map[string]any{"days": []int{1}, "start": "18:00", "end": "08:00"})}, 422, "body.value.end"},
		{"bad clock", http.MethodPut, "business_hours", []reqOpt{val(map[string]any{"days": []int{1}, "start": "8am", "end": "17:00"})}, 422, "body.value.start"},
		{"unknown field in value", http.MethodPut, "business_hours", []reqOpt{val(map[string]any{"days": []int{1}, "start": "08:00", "end": "17:00", "lunch": true})}, 422, "body.value"},
		{"caller id not E.164", http.MethodPut, "caller_id", []reqOpt{val("(312) 555-0100")}, 422, "body.value"},
		{"review link not https", http.MethodPut, "review_link", []reqOpt{val("http://example.com/review")}, 422, "body.value"},
		{"bad email", http.MethodPut, "escalation_email", []reqOpt{val("manager at dealer")}, 422, "body.value"},
		{"attempts too many", http.MethodPut, "default_max_attempts", []reqOpt{val(11)}, 422, "body.value"},
		{"attempts not integer", http.MethodPut, "default_max_attempts", []reqOpt{val(2.5)}, 422, "body.value"},
		{"attempts as string", http.MethodPut, "default_max_attempts", []reqOpt{val("3")}, 422, "body.value"},
		{"gap too short", http.MethodPut, "default_retry_gap_minutes", []reqOpt{val(5)}, 422, "body.value"},
		{"sms not boolean", http.MethodPut, "sms_enabled", []reqOpt{val("yes")}, 422, "body.value"},
		{"bad locale", http.MethodPut, "locale", []reqOpt{val("English")}, 422, "body.value"},
		{"known key, other description", http.MethodPut, "timezone", []reqOpt{withJSON(map[string]any{"value": "UTC", "description": "mine"})}, 422, "body.description"},
		{"custom value too large", http.MethodPut, "custom.big", []reqOpt{val(strings.Repeat("x", 9000))}, 422, "body.value"},
		{"custom description too long", http.MethodPut, "custom.x", []reqOpt{withJSON(map[string]any{"value": 1, "description": strings.Repeat("d", 501)})}, 422, ""},
		{"unknown key put", http.MethodPut, "colour", []reqOpt{val("red")}, 422, "path.key"},
		{"unknown key get", http.MethodGet, "colour", nil, 404, ""},
		{"unknown key delete", http.MethodDelete, "colour", nil, 404, ""},
		{"unset custom key get", http.MethodGet, "custom.nothing", nil, 404, ""},
		{"malformed key", http.MethodGet, "Time_Zone", nil, 422, "path.key"},
		{"empty custom name", http.MethodPut, "custom.", []reqOpt{val(1)}, 422, "path.key"},
		{"upper-case custom name", http.MethodDelete, "custom.Loaner", nil, 422, "path.key"},
		{"custom name too long", http.MethodGet, "custom." + strings.Repeat("x", 65), nil, 422, "path.key"},
		{"missing value", http.MethodPut, "custom.x", []reqOpt{withJSON(map[string]any{"description": "d"})}, 422, ""},
		{"unknown body field", http.MethodPut, "custom.x", []reqOpt{withJSON(map[string]any{"value": 1, "val": 2})}, 422, ""},
		{"malformed json", http.MethodPut, "timezone", []reqOpt{withRaw("application/json", `{"value":`)}, 400, ""},
		{"oversized body", http.MethodPut, "custom.x", []reqOpt{withRaw("application/json", `{"value":"`+strings.Repeat("a", 70<<10)+`"}`)}, 413, ""},
		{"bad cursor", http.MethodGet, "", nil, 422, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/settings/" + tt.key
			if tt.key == "" {
				path = "/api/v1/settings?cursor=%21%21"
			}
			res := e.do(t, tt.method, path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			require.Equal(t, tt.status, p.Status)
			if tt.location != "" {
				require.NotEmpty(t, p.Errors, "body: %s", res.Body)
				require.Equal(t, tt.location, p.Errors[0].Location, "body: %s", res.Body)
			}
		})
	}

	// Nothing was stored.
	res := e.do(t, http.MethodGet, "/api/v1/settings", tok)
	requireStatus(t, http.StatusOK, res)
	var l struct{ Items []setting.Setting }
	res.decode(t, &l)
	for _, it := range l.Items {
		require.True(t, it.IsDefault, it.Key)
	}
}

func TestSettingsAccessAndTenants(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)
	manager := e.newUser(t, tn, access.RoleManager)

	res := e.do(t, http.MethodPut, "/api/v1/settings/custom.secret_sauce", withToken(tn.Owner.Token), withJSON(map[string]any{"value": "ketchup"}))
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodGet, "/api/v1/settings/custom.secret_sauce", withToken(viewer.Token))
	requireStatus(t, http.StatusOK, res)
	for _, u := range []testUser{viewer, manager} {
		res = e.do(t, http.MethodPut, "/api/v1/settings/sms_enabled", withToken(u.Token), withJSON(map[string]any{"value": true}))
		requireStatus(t, http.StatusForbidden, res)
		require.Contains(t, res.problem(t).Detail, "settings:write")
		res = e.do(t, http.MethodDelete, "/api/v1/settings/custom.secret_sauce", withToken(u.Token))
		requireStatus(t, http.StatusForbidden, res)
	}
	res = e.do(t, http.MethodGet, "/api/v1/settings", nil...)
	requireStatus(t, http.StatusUnauthorized, res)

	// The other tenant neither sees nor touches it.
	res = e.do(t, http.MethodGet, "/api/v1/settings/custom.secret_sauce", withToken(other.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
	res = e.do(t, http.MethodDelete, "/api/v1/settings/custom.secret_sauce", withToken(other.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
	res = e.do(t, http.MethodGet, "/api/v1/settings?category=custom", withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var l struct{ Items []json.RawMessage }
	res.decode(t, &l)
	require.Empty(t, l.Items)
	res = e.do(t, http.MethodGet, "/api/v1/settings/custom.secret_sauce", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
}
