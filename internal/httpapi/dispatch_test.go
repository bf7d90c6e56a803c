package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/dispatch"
)

// dispatchNow is the dispatcher's clock in these tests: a Tuesday, 11:00 in
// New York.
var dispatchNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// dispatchTenant registers a tenant that may call: credit, and a schedule
// of every hour of every day (only the legal windows apply).
func (e *env) dispatchTenant(t *testing.T) *tenant {
	t.Helper()
	tn := e.newTenant(t)
	e.ownerExec(t, `UPDATE organizations SET credit_balance = 10000 WHERE id = $1`, tn.OrgID)
	e.ownerExec(t, `INSERT INTO schedule_configs (organization_id, timezone, active_days, start_time, end_time)
		VALUES ($1, 'America/New_York', '{1,2,3,4,5,6,7}', '00:00', '24:00')`, tn.OrgID)
	return tn
}

// serviceRecord adds a customer with a phone and postal code, and a record.
func (e *env) serviceRecord(t *testing.T, org uuid.UUID, phone, postal string) uuid.UUID {
	t.Helper()
	customer, record := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	e.ownerExec(t, `INSERT INTO customers (organization_id, id, first_name, last_name, phone, postal_code)
		VALUES ($1, $2, 'Casey', 'Customer', $3, $4)`, org, customer, phone, postal)
	e.ownerExec(t, `INSERT INTO service_records (organization_id, id, customer_id, ro_number, service_date)
		VALUES ($1, $2, $3, $4, '2026-03-09')`, org, record, customer, "RO-"+record.String())
	return record
}

type placedCall struct {
	CallID   uuid.UUID                   `json:"call_id"`
	Status   string                      `json:"status"`
	ToNumber string                      `json:"to_number"`
	Decision dispatch.ComplianceDecision `json:"decision"`
}

type complianceBody struct {
	Status         int        `json:"status"`
	Detail         string     `json:"detail"`
	Verdict        string     `json:"verdict"`
	Rule           string     `json:"rule"`
	Reason         string     `json:"reason"`
	NextEligibleAt *time.Time `json:"next_eligible_at"`
}

func TestOneOffCallPlaced(t *testing.T) {
	t.Parallel()
	e := setup(t, withLoopClock(fixedClock(dispatchNow)))
	tn := e.dispatchTenant(t)
	record := e.serviceRecord(t, tn.OrgID, "+12125550142", "10001")

	res := e.do(t, http.MethodPost, "/api/v1/calls", withToken(tn.Owner.Token), withJSON(map[string]any{"service_record_id": record}))
	requireStatus(t, http.StatusAccepted, res)
	var got placedCall
	res.decode(t, &got)
	require.Equal(t, "dialing", got.Status)
	require.Equal(t, "+12125550142", got.ToNumber)
	require.Equal(t, "allow", got.Decision.Verdict)
	require.Equal(t, "allowed", got.Decision.Rule)

	// The call row and its dial job were written together; the job will
	// claim the call (it is not claimed yet).
	var status string
	var claimed *time.Time
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		`SELECT status, dial_claimed_at FROM calls WHERE organization_id = $1 AND id = $2`, tn.OrgID, got.CallID).Scan(&status, &claimed))
	require.Equal(t, "dialing", status)
	require.Nil(t, claimed)
	var jobs int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'dispatch.dial' AND args->>'call_id' = $1`, got.CallID.String()).Scan(&jobs))
	require.Equal(t, 1, jobs)
	require.Len(t, e.auditTrail(t, tn.OrgID, "call", got.CallID), 1)
}

func TestOneOffCallRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, withLoopClock(fixedClock(dispatchNow)))
	tn := e.dispatchTenant(t)
	tok := withToken(tn.Owner.Token)

	t.Run("hold: before 08:00 in Honolulu", func(t *testing.T) {
		record := e.serviceRecord(t, tn.OrgID, "+18085550101", "96813")
		res := e.do(t, http.MethodPost, "/api/v1/calls", tok, withJSON(map[string]any{"service_record_id": record}))
		requireStatus(t, http.StatusConflict, res)
		require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		var p complianceBody
		res.decode(t, &p)
		require.Equal(t, "hold", p.Verdict)
		require.Equal(t, "window.federal", p.Rule)
		require.Contains(t, p.Reason, "Pacific/Honolulu")
		require.NotNil(t, p.NextEligibleAt)
		require.Equal(t, time.Date(2026, 3, 10, 18, 0, 0, 0, time.UTC), p.NextEligibleAt.UTC(), "08:00 in Honolulu")
		require.Equal(t, "10800", res.Header.Get("Retry-After"))
	})
	t.Run("block: on the do-not-call list", func(t *testing.T) {
		record := e.serviceRecord(t, tn.OrgID, "+12125550143", "10001")
		e.ownerExec(t, `INSERT INTO dnc_entries (organization_id, phone) VALUES ($1, '+12125550143')`, tn.OrgID)
		res := e.do(t, http.MethodPost, "/api/v1/calls", tok, withJSON(map[string]any{"service_record_id": record}))
		requireStatus(t, http.StatusUnprocessableEntity, res)
		var p complianceBody
		res.decode(t, &p)
		require.Equal(t, "block", p.Verdict)
		require.Equal(t, "dnc", p.Rule)
		require.Nil(t, p.NextEligibleAt)
	})
	t.Run("invalid: no such record, another tenant's record, a record without a phone", func(t *testing.T) {
		other := e.dispatchTenant(t)
		theirs := e.serviceRecord(t, other.OrgID, "+12125550144", "10001")
		noPhone := uuid.Must(uuid.NewV7())
		e.ownerExec(t, `INSERT INTO service_records (organization_id, id, ro_number, service_date) VALUES ($1, $2, 'RO-x', '2026-03-09')`, tn.OrgID, noPhone)
		for _, id := range []uuid.UUID{uuid.Must(uuid.NewV7()), theirs, noPhone} {
			res := e.do(t, http.MethodPost, "/api/v1/calls", tok, withJSON(map[string]any{"service_record_id": id}))
			requireStatus(t, http.StatusUnprocessableEntity, res)
			require.Equal(t, "body.service_record_id", res.problem(t).Errors[0].Location)
		}
		var calls int
		require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM calls`).Scan(&calls))
		require.Zero(t, calls, "no refused request leaves a call")
	})
	t.Run("forbidden without calls:write", func(t *testing.T) {
		viewer := e.newUser(t, tn, access.RoleViewer)
		record := e.serviceRecord(t, tn.OrgID, "+12125550145", "10001")
		res := e.do(t, http.MethodPost, "/api/v1/calls", withToken(viewer.Token), withJSON(map[string]any{"service_record_id": record}))
		requireStatus(t, http.StatusForbidden, res)
	})
}

func TestDispatchTargetDecision(t *testing.T) {
	t.Parallel()
	e := setup(t, withLoopClock(fixedClock(dispatchNow)))
	tn := e.dispatchTenant(t)
	campaign, customer, target := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	e.ownerExec(t, `INSERT INTO campaigns (organization_id, id, name, type, status) VALUES ($1, $2, 'Feedback', 'post_service_feedback', 'active')`, tn.OrgID, campaign)
	e.ownerExec(t, `INSERT INTO customers (organization_id, id, phone, postal_code) VALUES ($1, $2, '+18085550102', '96813')`, tn.OrgID, customer)
	e.ownerExec(t, `INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, phone, status, next_attempt_at,
		last_decision, last_decision_rule, last_decision_reason, last_decision_at)
		VALUES ($1, $2, $3, $4, '+18085550102', 'pending', '2026-03-10T18:00:00Z', 'hold', 'window.federal', 'too early', '2026-03-10T14:59:00Z')`,
		tn.OrgID, target, campaign, customer)

	res := e.do(t, http.MethodGet, "/api/v1/dispatch/targets/"+target.String()+"/decision", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var got dispatch.TargetDecision
	res.decode(t, &got)
	require.NotNil(t, got.Stored)
	require.Equal(t, "window.federal", got.Stored.Rule)
	require.Equal(t, "too early", got.Stored.Reason)
	require.Equal(t, "hold", got.Now.Verdict)
	require.Equal(t, "window.federal", got.Now.Rule)
	require.Equal(t, []string{"Pacific/Honolulu"}, got.Zones)
	require.Equal(t, "postal_code", got.ZoneSource)
	require.True(t, strings.Contains(got.Schedule, "America/New_York"), got.Schedule)

	// Another tenant's target is not found.
	other := e.dispatchTenant(t)
	res = e.do(t, http.MethodGet, "/api/v1/dispatch/targets/"+target.String()+"/decision", withToken(other.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
}

func TestJobsUIPlatformAdminsOnly(t *testing.T) {
	t.Parallel()
	e := setup(t, withJobsUI())
	tn := e.newTenant(t)
	staff := e.newPlatformAdmin(t)

	res := e.do(t, http.MethodGet, "/admin/jobs/")
	requireStatus(t, http.StatusUnauthorized, res)
	res = e.do(t, http.MethodGet, "/admin/jobs/api/jobs?state=available", withToken("not-a-token"))
	requireStatus(t, http.StatusUnauthorized, res)
	res = e.do(t, http.MethodGet, "/admin/jobs/", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusForbidden, res)
	res = e.do(t, http.MethodGet, "/admin/jobs/api/jobs?state=available", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusForbidden, res)

	res = e.do(t, http.MethodGet, "/admin/jobs/", withToken(staff.Token))
	requireStatus(t, http.StatusOK, res)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	res = e.do(t, http.MethodGet, "/admin/jobs/api/jobs?state=available", withToken(staff.Token))
	requireStatus(t, http.StatusOK, res)
	require.Contains(t, string(res.Body), `"data"`)
}
