package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/campaign"
)

// seedCustomer adds a customer (phone "" for none) with one service record
// closed yesterday.
func (e *env) seedCustomer(t *testing.T, org uuid.UUID, phone string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	var p *string
	if phone != "" {
		p = &phone
	}
	_, err := e.db.Owner.Exec(ctx, `INSERT INTO customers (organization_id, id, first_name, last_name, phone) VALUES ($1, $2, 'Casey', 'Driver', $3)`, org, id, p)
	require.NoError(t, err)
	_, err = e.db.Owner.Exec(ctx, `INSERT INTO service_records (organization_id, customer_id, ro_number, service_date, closed_at, service_type)
	  VALUES ($1, $2, $3, current_date - 1, now() - interval '1 day', 'oil change')`, org, id, "RO-"+id.String())
	require.NoError(t, err)
	return id
}

// campaignBody is a valid create body.
func campaignBody(over map[string]any) map[string]any {
	b := map[string]any{
		"name": "June feedback",
		"type": "post_service_feedback",
		"agent": map[string]any{
			"prompt":        "Ask how the visit went.",
			"first_message": "Do you have a minute?",
		},
	}
	for k, v := range over {
		b[k] = v
	}
	return b
}

func (e *env) createCampaign(t *testing.T, tok reqOpt, over map[string]any) campaign.Campaign {
	t.Helper()
	res := e.do(t, http.MethodPost, "/api/v1/campaigns", tok, withJSON(campaignBody(over)))
	requireStatus(t, http.StatusCreated, res)
	var c campaign.Campaign
	res.decode(t, &c)
	return c
}

func TestCampaignsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	c := e.createCampaign(t, tok, map[string]any{
		"audience": map[string]any{"service_days_ago": map[string]any{"min": 1, "max": 3}, "makes": []string{"Toyota"}},
		"schedule": map[string]any{"days": []int{1, 2, 3}, "start_time": "10:00", "end_time": "16:30", "timezone": "America/Denver"},
		"agent": map[string]any{
			"assistant_id": "asst_123", "variables": map[string]string{"offer": "free car wash"},
			"review_link": "https://g.page/r/example",
		},
	})
	require.Equal(t, campaign.Draft, c.Status)
	require.Equal(t, 3, c.MaxAttempts)
	require.Equal(t, 240, c.RetryGapMinutes)
	require.Equal(t, []string{"toyota"}, c.Audience.Makes)
	require.Contains(t, c.Agent.Disclosure, "recorded", "a default disclosure")
	require.Equal(t, &campaign.Schedule{Timezone: "America/Denver", Days: []int{1, 2, 3}, StartTime: "10:00", EndTime: "16:30",
		AutoCallEnabled: true, Source: "campaign"}, c.Schedule)
	require.Equal(t, tn.Owner.ID, *c.CreatedBy)

	path := "/api/v1/campaigns/" + c.ID.String()
	res := e.do(t, http.MethodPatch, path, tok, withJSON(map[string]any{"name": "July feedback", "max_attempts": 5, "description": "x"}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPatch, path, tok, withJSON(map[string]any{"description": nil}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, path, tok)
	requireStatus(t, http.StatusOK, res)
	var got campaign.Campaign
	res.decode(t, &got)
	require.Equal(t, "July feedback", got.Name)
	require.Equal(t, 5, got.MaxAttempts)
	require.Empty(t, got.Description)
	require.Equal(t, c.Agent, got.Agent)

	e.createCampaign(t, tok, map[string]any{"type": "recall", "name": "Recall 24V-123"})
	res = e.do(t, http.MethodGet, "/api/v1/campaigns?type=recall", tok)
	requireStatus(t, http.StatusOK, res)
	var page struct{ Items []campaign.Campaign }
	res.decode(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "Recall 24V-123", page.Items[0].Name)
	res = e.do(t, http.MethodGet, "/api/v1/campaigns?status=draft&limit=1", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &page)
	require.Len(t, page.Items, 1)

	res = e.do(t, http.MethodDelete, path, tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, path, tok)
	requireStatus(t, http.StatusNotFound, res)

	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=campaign&entity_id="+c.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 4, "create, two updates, delete")
	require.Equal(t, audit.Delete, logs.Items[0].Action)
	require.Equal(t, audit.Create, logs.Items[3].Action)
}

func TestCampaignLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	for i := range 3 {
		e.seedCustomer(t, tn.OrgID, fmt.Sprintf("+1312555%04d", i))
	}
	e.seedCustomer(t, tn.OrgID, "")
	res := e.do(t, http.MethodPost, "/api/v1/dnc", tok, withJSON(map[string]any{"phone": "312-555-0002"}))
	requireStatus(t, http.StatusCreated, res)

	c := e.createCampaign(t, tok, map[string]any{"audience": map[string]any{"service_days_ago": map[string]any{"min": 0, "max": 3}}})
	path := "/api/v1/campaigns/" + c.ID.String()

	res = e.do(t, http.MethodPost, path+"/preview", tok)
	requireStatus(t, http.StatusOK, res)
	var preview campaign.AudienceCount
	res.decode(t, &preview)
	require.Equal(t, campaign.AudienceCount{Targets: 2, Skipped: 2, SkippedByReason: map[string]int64{"dnc": 1, "no_phone": 1}}, preview)

	res = e.do(t, http.MethodPost, path+"/pause", tok)
	requireStatus(t, http.StatusConflict, res)
	require.Contains(t, res.problem(t).Detail, "cannot pause a campaign that is draft")

	res = e.do(t, http.MethodPost, path+"/launch", tok)
	requireStatus(t, http.StatusOK, res)
	var launched campaign.Launched
	res.decode(t, &launched)
	require.Equal(t, campaign.Active, launched.Campaign.Status)
	require.Equal(t, preview, launched.Audience)
	var jobs int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'dispatch.schedule'`).Scan(&jobs))
	require.Equal(t, 1, jobs, "the launch asked the scheduler for a pass, in its transaction")

	res = e.do(t, http.MethodPost, path+"/launch", tok)
	requireStatus(t, http.StatusConflict, res)
	require.Contains(t, res.problem(t).Detail, "is active")
	res = e.do(t, http.MethodPatch, path, tok, withJSON(map[string]any{"audience": map[string]any{}}))
	requireStatus(t, http.StatusConflict, res)
	res = e.do(t, http.MethodDelete, path, tok)
	requireStatus(t, http.StatusConflict, res)

	res = e.do(t, http.MethodGet, path+"/targets?status=skipped", tok)
	requireStatus(t, http.StatusOK, res)
	var targets struct{ Items []campaign.Target }
	res.decode(t, &targets)
	require.Len(t, targets.Items, 2)
	for _, tg := range targets.Items {
		require.Equal(t, "block", tg.LastDecision.Verdict)
		require.Equal(t, *tg.SkipReason, tg.LastDecision.Rule)
	}
	res = e.do(t, http.MethodGet, path+"/targets?limit=1", tok)
	requireStatus(t, http.StatusOK, res)
	var first struct {
		Items      []campaign.Target
		NextCursor *string `json:"next_cursor"`
	}
	res.decode(t, &first)
	require.Len(t, first.Items, 1)
	require.NotNil(t, first.NextCursor)

	res = e.do(t, http.MethodGet, path+"/stats", tok)
	requireStatus(t, http.StatusOK, res)
	var st campaign.Stats
	res.decode(t, &st)
	require.Equal(t, campaign.TargetCounts{Total: 4, Pending: 2, Skipped: 2}, st.Targets)
	require.Zero(t, st.Calls)

	for _, step := range []struct{ action, status string }{{"pause", "paused"}, {"resume", "active"}, {"cancel", "cancelled"}} {
		res = e.do(t, http.MethodPost, path+"/"+step.action, tok)
		requireStatus(t, http.StatusOK, res)
		var got campaign.Campaign
		res.decode(t, &got)
		require.Equal(t, campaign.Status(step.status), got.Status)
	}
	res = e.do(t, http.MethodGet, path+"/stats", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &st)
	require.Equal(t, campaign.TargetCounts{Total: 4, Skipped: 2, Cancelled: 2}, st.Targets)
	res = e.do(t, http.MethodPost, path+"/resume", tok)
	requireStatus(t, http.StatusConflict, res)
	require.Contains(t, res.problem(t).Detail, "is cancelled")
	res = e.do(t, http.MethodDelete, path, tok)
	requireStatus(t, http.StatusNoContent, res)
}

func TestCampaignsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	theirs := e.createCampaign(t, withToken(other.Owner.Token), nil)
	res := e.do(t, http.MethodPost, "/api/v1/dnc", withToken(other.Owner.Token), withJSON(map[string]any{"phone": "+13125550100"}))
	requireStatus(t, http.StatusCreated, res)
	var theirDNC campaign.DNCEntry
	res.decode(t, &theirDNC)

	body := func(over map[string]any) []reqOpt { return []reqOpt{withJSON(campaignBody(over))} }
	agent := func(a map[string]any) map[string]any { return map[string]any{"agent": a} }
	sched := map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "17:00"}
	cp := "/api/v1/campaigns/" + theirs.ID.String()
	tests := []struct {
		name     string
		method   string
		path     string
		opts     []reqOpt
		status   int
		location string
	}{
		{"malformed json", http.MethodPost, "/api/v1/campaigns", []reqOpt{withRaw("application/json", `{"name":`)}, http.StatusBadRequest, ""},
		{"unknown field", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"colour": "red"}), http.StatusUnprocessableEntity, ""},
		{"unknown audience field", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"audience": map[string]any{"zip": "60601"}}), http.StatusUnprocessableEntity, ""},
		{"missing agent", http.MethodPost, "/api/v1/campaigns", []reqOpt{withJSON(map[string]any{"name": "x", "type": "custom"})}, http.StatusUnprocessableEntity, ""},
		{"bad type", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"type": "survey"}), http.StatusUnprocessableEntity, ""},
		{"blank name", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"name": "   "}), http.StatusUnprocessableEntity, "body.name"},
		{"attempts 11", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"max_attempts": 11}), http.StatusUnprocessableEntity, ""},
		{"retry gap 10", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"retry_gap_minutes": 10}), http.StatusUnprocessableEntity, ""},
		{"ends before starts", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"starts_at": "2099-01-02T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"}), http.StatusUnprocessableEntity, "body.ends_at"},
		{"no prompt", http.MethodPost, "/api/v1/campaigns", body(agent(map[string]any{"first_message": "hi"})), http.StatusUnprocessableEntity, "body.agent.prompt"},
		{"assistant and prompt", http.MethodPost, "/api/v1/campaigns", body(agent(map[string]any{"assistant_id": "a", "prompt": "p", "first_message": "f"})), http.StatusUnprocessableEntity, "body.agent.assistant_id"},
		{"disclosure without recording notice", http.MethodPost, "/api/v1/campaigns", body(agent(map[string]any{"assistant_id": "a", "disclosure": "Hi from Lakeside"})), http.StatusUnprocessableEntity, "body.agent.disclosure"},
		{"bad variable name", http.MethodPost, "/api/v1/campaigns", body(agent(map[string]any{"assistant_id": "a", "variables": map[string]string{"a b": "x"}})), http.StatusUnprocessableEntity, "body.agent.variables.a b"},
		{"relative and absolute dates", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"audience": map[string]any{"service_days_ago": map[string]any{"min": 1, "max": 3}, "service_date_from": "2025-01-01"}}), http.StatusUnprocessableEntity, "body.audience.service_days_ago"},
		{"bad date", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"audience": map[string]any{"service_date_from": "01/02/2025"}}), http.StatusUnprocessableEntity, ""},
		{"schedule bad zone", http.MethodPost, "/api/v1/campaigns", body(map[string]any{"schedule": map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "17:00", "timezone": "Nowhere/Town"}}), http.StatusUnprocessableEntity, "body.schedule.timezone"},
		{"patch null name", http.MethodPatch, "/api/v1/campaigns/" + uuid.NewString(), []reqOpt{withJSON(map[string]any{"name": nil})}, http.StatusUnprocessableEntity, "body.name"},
		{"bad uuid", http.MethodGet, "/api/v1/campaigns/nope", nil, http.StatusUnprocessableEntity, ""},
		{"bad status filter", http.MethodGet, "/api/v1/campaigns?status=running", nil, http.StatusUnprocessableEntity, ""},
		{"bad target status", http.MethodGet, "/api/v1/campaigns/" + uuid.NewString() + "/targets?status=busy", nil, http.StatusUnprocessableEntity, ""},
		// Another tenant's ids are not found, on every {id} route.
		{"foreign get", http.MethodGet, cp, nil, http.StatusNotFound, ""},
		{"foreign patch", http.MethodPatch, cp, []reqOpt{withJSON(map[string]any{"name": "mine"})}, http.StatusNotFound, ""},
		{"foreign delete", http.MethodDelete, cp, nil, http.StatusNotFound, ""},
		{"foreign preview", http.MethodPost, cp + "/preview", nil, http.StatusNotFound, ""},
		{"foreign launch", http.MethodPost, cp + "/launch", nil, http.StatusNotFound, ""},
		{"foreign pause", http.MethodPost, cp + "/pause", nil, http.StatusNotFound, ""},
		{"foreign resume", http.MethodPost, cp + "/resume", nil, http.StatusNotFound, ""},
		{"foreign cancel", http.MethodPost, cp + "/cancel", nil, http.StatusNotFound, ""},
		{"foreign targets", http.MethodGet, cp + "/targets", nil, http.StatusNotFound, ""},
		{"foreign stats", http.MethodGet, cp + "/stats", nil, http.StatusNotFound, ""},
		{"foreign schedule get", http.MethodGet, cp + "/schedule", nil, http.StatusNotFound, ""},
		{"foreign schedule put", http.MethodPut, cp + "/schedule", []reqOpt{withJSON(sched)}, http.StatusNotFound, ""},
		{"foreign schedule delete", http.MethodDelete, cp + "/schedule", nil, http.StatusNotFound, ""},
		{"foreign dnc get", http.MethodGet, "/api/v1/dnc/" + theirDNC.ID.String(), nil, http.StatusNotFound, ""},
		{"foreign dnc delete", http.MethodDelete, "/api/v1/dnc/" + theirDNC.ID.String(), nil, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			require.Equal(t, tt.status, p.Status)
			if tt.location != "" {
				var locs []string
				for _, fe := range p.Errors {
					locs = append(locs, fe.Location)
				}
				require.Contains(t, locs, tt.location)
			}
		})
	}

	// The other tenant's campaign and entry are untouched.
	res = e.do(t, http.MethodGet, cp, withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var still campaign.Campaign
	res.decode(t, &still)
	require.Equal(t, campaign.Draft, still.Status)
	require.Equal(t, theirs.Name, still.Name)
	res = e.do(t, http.MethodGet, "/api/v1/dnc/"+theirDNC.ID.String(), withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
}

func TestViewerCannotWriteCampaigns(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	c := e.createCampaign(t, withToken(tn.Owner.Token), nil)
	viewer := withToken(e.newUser(t, tn, access.RoleViewer).Token)
	cp := "/api/v1/campaigns/" + c.ID.String()

	for _, path := range []string{"/api/v1/campaigns", cp, cp + "/targets", cp + "/stats", cp + "/schedule", "/api/v1/schedule-config", "/api/v1/dnc"} {
		res := e.do(t, http.MethodGet, path, viewer)
		requireStatus(t, http.StatusOK, res)
	}
	res := e.do(t, http.MethodPost, cp+"/preview", viewer)
	requireStatus(t, http.StatusOK, res)

	sched := withJSON(map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "17:00"})
	writes := []struct {
		method, path string
		opts         []reqOpt
	}{
		{http.MethodPost, "/api/v1/campaigns", []reqOpt{withJSON(campaignBody(nil))}},
		{http.MethodPatch, cp, []reqOpt{withJSON(map[string]any{"name": "x"})}},
		{http.MethodDelete, cp, nil},
		{http.MethodPost, cp + "/launch", nil},
		{http.MethodPost, cp + "/pause", nil},
		{http.MethodPost, cp + "/resume", nil},
		{http.MethodPost, cp + "/cancel", nil},
		{http.MethodPut, cp + "/schedule", []reqOpt{sched}},
		{http.MethodDelete, cp + "/schedule", nil},
		{http.MethodPut, "/api/v1/schedule-config", []reqOpt{sched}},
		{http.MethodPost, "/api/v1/dnc", []reqOpt{withJSON(map[string]any{"phone": "+13125550100"})}},
		{http.MethodPost, "/api/v1/dnc/import", []reqOpt{withRaw("text/csv", "phone\n3125550100\n")}},
		{http.MethodDelete, "/api/v1/dnc/" + uuid.NewString(), nil},
	}
	for _, w := range writes {
		res := e.do(t, w.method, w.path, append([]reqOpt{viewer}, w.opts...)...)
		requireStatus(t, http.StatusForbidden, res)
		require.Contains(t, res.problem(t).Detail, "campaigns:write", "%s %s", w.method, w.path)
	}
	res = e.do(t, http.MethodGet, cp, viewer)
	requireStatus(t, http.StatusOK, res)
	var got campaign.Campaign
	res.decode(t, &got)
	require.Equal(t, c.Name, got.Name)
	require.Equal(t, campaign.Draft, got.Status)
}

func TestScheduleConfigOverHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodGet, "/api/v1/schedule-config", tok)
	requireStatus(t, http.StatusOK, res)
	var sc campaign.Schedule
	res.decode(t, &sc)
	require.Equal(t, "default", sc.Source)
	require.Equal(t, []int{1, 2, 3, 4, 5}, sc.Days)
	require.Equal(t, "09:00", sc.StartTime)
	require.Equal(t, "18:00", sc.EndTime)
	require.True(t, sc.AutoCallEnabled)
	orgZone := sc.Timezone
	require.NotEmpty(t, orgZone)

	res = e.do(t, http.MethodPut, "/api/v1/schedule-config", tok, withJSON(map[string]any{
		"days": []int{2, 4}, "start_time": "08:00", "end_time": "12:00", "auto_call_enabled": false,
	}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/schedule-config", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &sc)
	require.Equal(t, "organization", sc.Source)
	require.Equal(t, []int{2, 4}, sc.Days)
	require.Equal(t, orgZone, sc.Timezone)
	require.False(t, sc.AutoCallEnabled)

	c := e.createCampaign(t, tok, nil)
	cp := "/api/v1/campaigns/" + c.ID.String() + "/schedule"
	res = e.do(t, http.MethodGet, cp, tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &sc)
	require.Equal(t, "organization", sc.Source, "a campaign without its own follows the organization")
	res = e.do(t, http.MethodPut, cp, tok, withJSON(map[string]any{"days": []int{6, 7}, "start_time": "10:00", "end_time": "14:00", "timezone": "America/Phoenix"}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &sc)
	require.Equal(t, "campaign", sc.Source)
	res = e.do(t, http.MethodDelete, cp, tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &sc)
	require.Equal(t, "organization", sc.Source)

	bad := []struct {
		name     string
		body     map[string]any
		location string
	}{
		{"bad zone", map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "17:00", "timezone": "Europe/Atlantis"}, "body.timezone"},
		{"start after end", map[string]any{"days": []int{1}, "start_time": "17:00", "end_time": "09:00"}, "body.end_time"},
		{"start equals end", map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "09:00"}, "body.end_time"},
		{"day 8", map[string]any{"days": []int{8}, "start_time": "09:00", "end_time": "17:00"}, "body.days[0]"},
		{"day twice", map[string]any{"days": []int{1, 1}, "start_time": "09:00", "end_time": "17:00"}, "body.days[1]"},
		{"no days", map[string]any{"days": []int{}, "start_time": "09:00", "end_time": "17:00"}, ""},
		{"bad time", map[string]any{"days": []int{1}, "start_time": "9:00", "end_time": "17:00"}, ""},
		{"unknown field", map[string]any{"days": []int{1}, "start_time": "09:00", "end_time": "17:00", "holidays": true}, ""},
		{"missing times", map[string]any{"days": []int{1}}, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/schedule-config", cp} {
				res := e.do(t, http.MethodPut, path, tok, withJSON(tt.body))
				requireStatus(t, http.StatusUnprocessableEntity, res)
				p := res.problem(t)
				if tt.location != "" {
					var locs []string
					for _, fe := range p.Errors {
						locs = append(locs, fe.Location)
					}
					require.Contains(t, locs, tt.location)
				}
			}
		})
	}
}

func TestDNCOverHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/dnc", tok, withJSON(map[string]any{"phone": "(312) 555-0100", "reason": "asked"}))
	requireStatus(t, http.StatusCreated, res)
	var entry campaign.DNCEntry
	res.decode(t, &entry)
	require.Equal(t, "+13125550100", entry.Phone)
	require.Equal(t, "manual", entry.Source)
	res = e.do(t, http.MethodPost, "/api/v1/dnc", tok, withJSON(map[string]any{"phone": "+1 312 555 0100"}))
	requireStatus(t, http.StatusOK, res)
	var again campaign.DNCEntry
	res.decode(t, &again)
	require.Equal(t, entry, again, "adding a listed number returns its entry")

	for _, bad := range []map[string]any{{"phone": "555"}, {"phone": ""}, {"phone": "+13125550100", "source": "x"}, {}} {
		res = e.do(t, http.MethodPost, "/api/v1/dnc", tok, withJSON(bad))
		requireStatus(t, http.StatusUnprocessableEntity, res)
		res.problem(t)
	}

	file := "phone,reason\n312-555-0101,moved\nnope,\n312-555-0100,dup\n"
	res = e.do(t, http.MethodPost, "/api/v1/dnc/import", tok, withRaw("text/csv; charset=utf-8", file))
	requireStatus(t, http.StatusOK, res)
	var rep campaign.DNCImport
	res.decode(t, &rep)
	require.Equal(t, 3, rep.Rows)
	require.Equal(t, 1, rep.Added)
	require.Equal(t, 1, rep.AlreadyListed)
	require.Equal(t, 1, rep.Invalid)
	require.Equal(t, []campaign.DNCRowError{{Line: 3, Column: "phone", Reason: `phone "nope" is not a phone number`}}, rep.Errors)

	// The same numbers as a form upload.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "dnc.csv")
	require.NoError(t, err)
	_, err = fw.Write([]byte("3125550101\n3125550102\n"))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	res = e.do(t, http.MethodPost, "/api/v1/dnc/import", tok, withRaw(mw.FormDataContentType(), buf.String()))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &rep)
	require.Equal(t, 1, rep.Added)
	require.Equal(t, 1, rep.AlreadyListed)

	for _, bad := range []struct {
		name   string
		ctype  string
		body   string
		status int
	}{
		{"json", "application/json", `{"phone":"3125550100"}`, http.StatusUnsupportedMediaType},
		{"no phone column", "text/csv", "name,email\na,b\n", http.StatusUnprocessableEntity},
		{"empty", "text/csv", "", http.StatusBadRequest},
		{"header only", "text/csv", "phone\n", http.StatusOK},
		{"no rows", "text/csv", "\n\n", http.StatusUnprocessableEntity},
		{"form without file", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--x--\r\n", http.StatusUnprocessableEntity},
		{"form without boundary", "multipart/form-data", "--x--", http.StatusBadRequest},
		{"oversized", "text/csv", "phone\n" + strings.Repeat("3125550100\n", 7000), http.StatusRequestEntityTooLarge},
	} {
		res = e.do(t, http.MethodPost, "/api/v1/dnc/import", tok, withRaw(bad.ctype, bad.body))
		requireStatus(t, bad.status, res)
		if bad.status != http.StatusOK {
			res.problem(t)
		}
	}

	res = e.do(t, http.MethodGet, "/api/v1/dnc?phone=555-0101", tok)
	requireStatus(t, http.StatusOK, res)
	var list struct{ Items []campaign.DNCEntry }
	res.decode(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, "+13125550101", list.Items[0].Phone)
	require.Equal(t, "import", list.Items[0].Source)
	res = e.do(t, http.MethodGet, "/api/v1/dnc?source=import", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &list)
	require.Len(t, list.Items, 2)

	res = e.do(t, http.MethodDelete, "/api/v1/dnc/"+entry.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/dnc/"+entry.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)
}
