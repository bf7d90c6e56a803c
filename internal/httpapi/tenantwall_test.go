package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// wallRoute says how TestTenantWallEveryRoute calls one route with a path
// parameter: with the id of which of tenant A's resources, and with what
// body. Every such route of the route table needs one.
type wallRoute struct {
	res  string // a key of wallFixtures.ids
	body any    // nil: no body
	// platform: a platform-admin route (see TestTenantWallEveryRoute).
	platform bool
	// setting: a /settings/{key} route (see TestTenantWallEveryRoute).
	setting bool
}

// wallRoutes maps each route with a path parameter, by operation id, to A's
// resource it is called with.
var wallRoutes = map[string]wallRoute{
	"tag-get":    {res: "tag"},
	"tag-update": {res: "tag", body: map[string]any{"name": "Mine now"}},
	"tag-delete": {res: "tag"},

	"admin-organization-get":        {res: "organization", platform: true},
	"admin-organization-suspend":    {res: "organization", platform: true},
	"admin-organization-reactivate": {res: "organization", platform: true},

	"user-get":    {res: "user"},
	"user-update": {res: "user", body: map[string]any{"full_name": "Mine Now", "is_active": false}},
	"user-delete": {res: "user"},

	"role-get":    {res: "role"},
	"role-update": {res: "role", body: map[string]any{"name": "Mine now", "permissions": []string{"tags:read", "tags:write"}}},
	"role-delete": {res: "role"},

	"api-key-get":    {res: "api_key"},
	"api-key-revoke": {res: "api_key"},

	"setting-get":    {setting: true},
	"setting-put":    {setting: true},
	"setting-delete": {setting: true},

	"service-record-import-get": {res: "import"},
	"service-record-get":        {res: "service_record"},
	"service-record-update":     {res: "service_record", body: map[string]any{"status": "void", "advisor_name": "Mallory"}},
	"service-record-delete":     {res: "service_record"},
	"customer-get":              {res: "customer"},
	"vehicle-get":               {res: "vehicle"},

	"dms-integration-get":    {res: "dms"},
	"dms-integration-update": {res: "dms", body: map[string]any{"name": "Mine now", "is_active": false}},
	"dms-integration-delete": {res: "dms"},
	"dms-integration-test":   {res: "dms"},
	"dms-integration-sync":   {res: "dms"},

	"campaign-get":             {res: "campaign"},
	"campaign-update":          {res: "campaign", body: map[string]any{"name": "Mine now"}},
	"campaign-delete":          {res: "campaign"},
	"campaign-preview":         {res: "campaign"},
	"campaign-launch":          {res: "campaign"},
	"campaign-pause":           {res: "campaign"},
	"campaign-resume":          {res: "campaign"},
	"campaign-cancel":          {res: "campaign"},
	"campaign-target-list":     {res: "campaign"},
	"campaign-stats":           {res: "campaign"},
	"campaign-schedule-get":    {res: "campaign"},
	"campaign-schedule-put":    {res: "campaign", body: map[string]any{"days": []int{1, 2, 3}, "start_time": "09:00", "end_time": "17:00"}},
	"campaign-schedule-delete": {res: "campaign"},

	"dnc-get":    {res: "dnc"},
	"dnc-delete": {res: "dnc"},

	"dispatch-target-decision": {res: "target"},

	"call-get":        {res: "call"},
	"call-transcript": {res: "call"},
	"call-recording":  {res: "call"},
	"transcript-get":  {res: "call"},

	"booking-get":    {res: "booking"},
	"booking-update": {res: "booking", body: map[string]any{"scheduled_at": "2031-01-02T15:00:00Z", "notes": "mine"}},
	"booking-delete": {res: "booking"},
	"booking-status": {res: "booking", body: map[string]any{"status": "canceled"}},

	"inquiry-get":    {res: "inquiry"},
	"inquiry-update": {res: "inquiry", body: map[string]any{"message": "mine now"}},
	"inquiry-delete": {res: "inquiry"},
	"inquiry-assign": {res: "inquiry", body: map[string]any{"user_id": nil}},
	"inquiry-status": {res: "inquiry", body: map[string]any{"status": "closed"}},
}

// wallLists classifies each GET route without a path parameter: the marker
// of A's (a key of wallFixtures.markers) that A's own answer must show, so
// that B's answer not showing any of A's markers means something; "" for
// routes that show nothing of a tenant's by id, "platform" for platform
// routes.
var wallLists = map[string]string{
	"healthz":                        "",
	"readyz":                         "",
	"permission-list":                "",
	"service-record-import-template": "",
	"schedule-config-get":            "",
	"admin-organization-list":        "platform",
	"auth-me":                        "organization",
	"organization-get":               "organization",
	"audit-log-list":                 "tag",
	"tag-list":                       "tag",
	"user-list":                      "user",
	"role-list":                      "role",
	"api-key-list":                   "api_key",
	"setting-list":                   "setting",
	"service-record-list":            "service_record",
	"service-record-import-list":     "import",
	"customer-list":                  "customer",
	"vehicle-list":                   "vehicle",
	"dms-integration-list":           "dms",
	"campaign-list":                  "campaign",
	"dnc-list":                       "dnc",
	"call-list":                      "call",
	"booking-list":                   "booking",
	"inquiry-list":                   "inquiry",
}

// wallFixtures are tenant A's resources.
type wallFixtures struct {
	ids map[string]uuid.UUID
	// markers are strings only A's data contains: every id, the owner's
	// and the user's email, the custom setting's key and value.
	markers map[string]string
	// settingKey is A's custom setting; settingValue its value.
	settingKey, settingValue string
}

// TestTenantWallEveryRoute creates one of every resource of tenant A that a
// route reaches by id, through the API and the real call pipeline (a call
// placed by hand, dialled on voicesim, its webhooks processed, its
// transcript and recording stored), then calls every route of the route
// table that has a path parameter as tenant B's owner with A's id (and a
// valid body for writes): each must answer 404 problem+json, showing
// nothing of A's. Every list route, as B, must show none of A's ids. A's
// rows, every table of them, are then exactly as they were.
//
// A route with a path parameter and no entry in wallRoutes fails the test,
// as does a list route missing from wallLists: coverage cannot rot as
// routes are added.
//
// Two kinds of routes have no tenant wall to test, by design:
//
//   - Platform routes (/api/v1/admin/...) take any organization's id: staff
//     see every tenant. The wall there is the platform gate: B's owner gets
//     the RBAC 403 with A's id, and A's organization is not suspended. A
//     platform administrator's 200 on the same paths shows the id is real.
//   - /settings/{key} takes a name, not an id: each organization has its
//     own namespace of keys. A sets a custom key; B reading or deleting that
//     name finds nothing (404), B writing it writes B's own setting (200,
//     B's value), and A's value stays A's.
func TestTenantWallEveryRoute(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers(), withLoopClock(fixedClock(dispatchNow)))
	a := e.dispatchTenant(t) // credit and an all-day schedule: A may place a call
	fx := e.wallFixtures(t, a)
	b := e.newTenant(t)
	staff := e.newPlatformAdmin(t)
	asA, asB, asStaff := withToken(a.Owner.Token), withToken(b.Owner.Token), withToken(staff.Token)

	// Sort the route table: routes with a parameter (each with its
	// fixture), and GET routes without one (lists and the like). Writes
	// without a parameter act on the caller's own tenant only: they are not
	// swept. A fixture whose route is gone fails too.
	var withParam, lists []routeInfo
	seen := map[string]bool{}
	for _, rt := range e.api.Routes() {
		seen[rt.ID] = true
		switch {
		case pathParam.MatchString(rt.Path):
			f, ok := wallRoutes[rt.ID]
			if !ok {
				t.Errorf("%s %s (%s) has a path parameter but no entry in wallRoutes: map it to a resource of tenant A", rt.Method, rt.Path, rt.ID)
				continue
			}
			if !f.setting {
				_, ok := fx.ids[f.res]
				require.True(t, ok, "%s: no fixture %q", rt.ID, f.res)
			}
			withParam = append(withParam, routeInfo{rt, f})
		case rt.Method == http.MethodGet:
			if _, ok := wallLists[rt.ID]; !ok {
				t.Errorf("GET %s (%s) is not in wallLists: say what of A's its answer shows", rt.Path, rt.ID)
				continue
			}
			lists = append(lists, routeInfo{RouteInfo: rt})
		}
	}
	for id := range wallRoutes {
		if !seen[id] {
			t.Errorf("wallRoutes has %q, which is no longer a route", id)
		}
	}
	for id := range wallLists {
		if !seen[id] {
			t.Errorf("wallLists has %q, which is no longer a route", id)
		}
	}
	require.False(t, t.Failed(), "the route table and the fixtures disagree")

	pathOf := func(r routeInfo) string {
		return pathParam.ReplaceAllString(r.Path, fx.ids[r.fixture.res].String())
	}
	// noMarkers checks res shows nothing of A's, except the markers named
	// (what B sent itself).
	noMarkers := func(t *testing.T, what string, res *response, except ...string) {
		t.Helper()
		for name, m := range fx.markers {
			if slices.Contains(except, name) {
				continue
			}
			require.NotContains(t, string(res.Body), m, "%s shows A's %s", what, name)
		}
	}
	// Every id is real: A (or staff, on platform routes) reads each.
	readsAsA := func() {
		t.Helper()
		for _, r := range withParam {
			if r.Method != http.MethodGet || r.fixture.setting {
				continue
			}
			tok := asA
			if r.fixture.platform {
				tok = asStaff
			}
			requireStatus(t, http.StatusOK, e.do(t, http.MethodGet, pathOf(r), tok))
		}
	}
	readsAsA()
	before := e.tenantRows(t, a.OrgID)

	for _, r := range withParam {
		if r.fixture.setting {
			continue
		}
		name := r.Method + " " + r.Path + " (" + r.ID + ")"
		opts := []reqOpt{asB}
		if r.fixture.body != nil {
			opts = append(opts, withJSON(r.fixture.body))
		}
		res := e.do(t, r.Method, pathOf(r), opts...)
		want := http.StatusNotFound
		if r.fixture.platform {
			want = http.StatusForbidden
		}
		require.Equal(t, want, res.Status, "%s as B with A's id: %s", name, res.Body)
		require.Equal(t, want, res.problem(t).Status, name)
		if r.fixture.platform {
			require.Contains(t, string(res.Body), "platform administrators only", name)
		}
		noMarkers(t, name, res)
	}

	for _, r := range lists {
		name := "GET " + r.Path + " (" + r.ID + ")"
		res := e.do(t, http.MethodGet, r.Path, asB)
		marker := wallLists[r.ID]
		if marker == "platform" {
			requireStatus(t, http.StatusForbidden, res)
			require.Contains(t, string(e.do(t, http.MethodGet, r.Path, asStaff).Body), fx.markers["organization"], "staff see every organization")
			continue
		}
		require.Equal(t, http.StatusOK, res.Status, "%s as B: %s", name, res.Body)
		noMarkers(t, name+" as B", res)
		if marker != "" {
			own := e.do(t, http.MethodGet, r.Path, asA)
			requireStatus(t, http.StatusOK, own)
			require.Contains(t, string(own.Body), fx.markers[marker], "%s as A shows A's %s", name, marker)
		}
	}

	// Settings: the key is a name in each organization's own namespace.
	sp := "/api/v1/settings/" + fx.settingKey
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		res := e.do(t, method, sp, asB)
		requireStatus(t, http.StatusNotFound, res)
		res.problem(t)
		noMarkers(t, method+" "+sp, res, "setting")
	}
	res := e.do(t, http.MethodPut, sp, asB, withJSON(map[string]any{"value": "B's own"}))
	requireStatus(t, http.StatusOK, res)
	require.JSONEq(t, `"B's own"`, string(jsonField(t, res, "value")))
	noMarkers(t, "PUT "+sp, res, "setting")
	res = e.do(t, http.MethodGet, sp, asA)
	requireStatus(t, http.StatusOK, res)
	require.Contains(t, string(jsonField(t, res, "value")), fx.settingValue, "A's value is A's")
	requireStatus(t, http.StatusNoContent, e.do(t, http.MethodDelete, sp, asB))

	after := e.tenantRows(t, a.OrgID)
	for table, rows := range before {
		require.Equal(t, rows, after[table], "A's rows of %s changed", table)
	}
	readsAsA()
}

// routeInfo is a route of the table with its fixture.
type routeInfo struct {
	httpapi.RouteInfo
	fixture wallRoute
}

// jsonField returns one top-level member of a JSON object body.
func jsonField(t *testing.T, res *response, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	res.decode(t, &m)
	require.Contains(t, m, name, "body: %s", res.Body)
	return m[name]
}

// wallFixtures creates one of each resource of tn through the API, places
// and completes a call, and waits until every job has run.
func (e *env) wallFixtures(t *testing.T, tn *tenant) *wallFixtures {
	t.Helper()
	tok := withToken(tn.Owner.Token)
	fx := &wallFixtures{ids: map[string]uuid.UUID{"organization": tn.OrgID}}
	create := func(name, path string, want int, opts ...reqOpt) *response {
		t.Helper()
		res := e.do(t, http.MethodPost, path, append([]reqOpt{tok}, opts...)...)
		requireStatus(t, want, res)
		var v struct {
			ID uuid.UUID `json:"id"`
		}
		res.decode(t, &v)
		require.NotEqual(t, uuid.Nil, v.ID, "body: %s", res.Body)
		if name != "" {
			fx.ids[name] = v.ID
		}
		return res
	}

	create("tag", "/api/v1/tags", http.StatusCreated, withJSON(map[string]any{"name": "Wall tag"}))
	create("role", "/api/v1/roles", http.StatusCreated, withJSON(map[string]any{"name": "Wall role", "permissions": []string{"tags:read"}}))
	userEmail := "wall-" + uuid.NewString()[:8] + "@example.com"
	create("user", "/api/v1/users", http.StatusCreated, withJSON(map[string]any{
		"email": userEmail, "full_name": "Wally Wall", "password": testPassword, "role_id": fx.ids["role"],
	}))
	create("api_key", "/api/v1/api-keys", http.StatusCreated, withJSON(map[string]any{"name": "Wall key", "role_id": fx.ids["role"]}))
	fx.settingKey, fx.settingValue = "custom.wall_"+uuid.NewString()[:8], "a-only-"+uuid.NewString()
	res := e.do(t, http.MethodPut, "/api/v1/settings/"+fx.settingKey, tok, withJSON(map[string]any{"value": map[string]any{"note": fx.settingValue}}))
	requireStatus(t, http.StatusOK, res)

	// A service record, its customer and vehicle; an import and what it
	// loaded; a DMS integration; a do-not-call entry.
	phone := "+12025550143"
	var sr record.ServiceRecord
	create("service_record", "/api/v1/service-records", http.StatusCreated,
		withJSON(recordBody("RO-WALL", map[string]any{"customer.phone": phone})),
	).decode(t, &sr)
	fx.ids["customer"], fx.ids["vehicle"] = *sr.CustomerID, *sr.VehicleID
	create("import", importsPath, http.StatusAccepted, withRaw("text/csv", sampleCSV(2)))
	create("dms", "/api/v1/dms-integrations", http.StatusCreated, withJSON(map[string]any{"name": "Wall push", "type": "api_push"}))
	create("dnc", "/api/v1/dnc", http.StatusCreated, withJSON(map[string]any{"phone": "+13125550199"}))

	// A campaign, launched: its targets wait for a weekend the clock (a
	// Tuesday) is not in, so the launch's scheduler pass holds them.
	create("campaign", "/api/v1/campaigns", http.StatusCreated, withJSON(campaignBody(map[string]any{
		"schedule": map[string]any{"days": []int{6, 7}, "start_time": "09:00", "end_time": "17:00", "timezone": "America/New_York"},
	})))
	cp := "/api/v1/campaigns/" + fx.ids["campaign"].String()
	requireStatus(t, http.StatusOK, e.do(t, http.MethodPost, cp+"/launch", tok))
	res = e.do(t, http.MethodGet, cp+"/targets", tok)
	requireStatus(t, http.StatusOK, res)
	var targets struct{ Items []campaign.Target }
	res.decode(t, &targets)
	require.NotEmpty(t, targets.Items)
	fx.ids["target"] = targets.Items[0].ID

	// A call placed by hand to the record's customer: the dial job calls
	// voicesim, whose webhooks bring the transcript and the recording.
	e.sim.ScriptNumber(phone, voicesim.Script{
		Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(9), Booking: voicesim.Ptr(false), OptOut: voicesim.Ptr(false),
	})
	res = e.do(t, http.MethodPost, "/api/v1/calls", tok, withJSON(map[string]any{"service_record_id": sr.ID}))
	requireStatus(t, http.StatusAccepted, res)
	var placed placedCall
	res.decode(t, &placed)
	fx.ids["call"] = placed.CallID
	var c call.CallDetail
	require.Eventually(t, func() bool {
		c = e.getCall(t, tn, placed.CallID)
		return c.Recording != nil && c.Recording.Status != "pending"
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, "stored", c.Recording.Status)
	res = e.do(t, http.MethodGet, "/api/v1/calls/"+placed.CallID.String()+"/transcript", tok)
	requireStatus(t, http.StatusOK, res)
	var tr call.Transcript
	res.decode(t, &tr)
	require.NotEmpty(t, tr.Turns)

	create("booking", "/api/v1/bookings", http.StatusCreated, withJSON(map[string]any{
		"customer_id": fx.ids["customer"], "scheduled_at": "2030-05-06T14:30:00Z", "service_type": "Brakes",
	}))
	create("inquiry", "/api/v1/inquiries", http.StatusCreated, withJSON(map[string]any{
		"call_id": placed.CallID, "message": "Wall inquiry", "assigned_to": fx.ids["user"],
	}))

	// Nothing runs any more: every job has finished, every event settled.
	require.Eventually(t, func() bool {
		return scalar[int64](t, e, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')`) == 0 &&
			scalar[int64](t, e, `SELECT count(*) FROM webhook_events WHERE status = 'received'`) == 0
	}, 60*time.Second, 50*time.Millisecond, "jobs still running")
	require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM service_record_imports WHERE id = $1`, fx.ids["import"]))

	fx.markers = map[string]string{
		"owner email": tn.Owner.Email, "user email": userEmail,
		"setting": fx.settingKey, "setting value": fx.settingValue,
	}
	for name, id := range fx.ids {
		fx.markers[name] = id.String()
	}
	return fx
}

// tenantRows reads every row of org, table by table (every table with an
// organization_id, and the organization's own row), as JSON.
func (e *env) tenantRows(t *testing.T, org uuid.UUID) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.Owner.Query(ctx, `SELECT c.table_name::text FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "calls")
	out := map[string]string{
		"organizations": scalar[string](t, e, `SELECT to_jsonb(o)::text FROM organizations o WHERE id = $1`, org),
	}
	for _, table := range tables {
		out[table] = scalar[string](t, e, `SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]')::text FROM `+
			pgx.Identifier{table}.Sanitize()+` x WHERE organization_id = $1`, org)
	}
	filled := 0
	for _, rows := range out {
		if rows != "[]" {
			filled++
		}
	}
	require.Greater(t, filled, 15, "A has rows in most tables")
	return out
}
