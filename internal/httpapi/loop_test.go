package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// loopRun is the whole loop running for one tenant (launch, scheduler
// passes, dial jobs, voicesim, signed webhooks, call processing) on a
// clock the test moves.
type loopRun struct {
	e        *env
	tn       *tenant
	clock    *manualClock
	campaign uuid.UUID
}

// startLoop makes a tenant with the given lines (concurrency limit) and
// one customer per script, each with a service record from the day
// before, and launches a post-service campaign for them on a Tuesday at
// 10:00 in Chicago, inside every window.
func startLoop(t *testing.T, lines int, scripts ...voicesim.Script) *loopRun {
	t.Helper()
	clock := &manualClock{t: time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)}
	e := setup(t, withWorkers(), withLoopClock(clock.Now))
	tn := e.newTenant(t)
	ctx := context.Background()
	_, err := e.db.Owner.Exec(ctx, `UPDATE organizations SET call_concurrency_limit = $2, credit_balance = 1000000, timezone = 'America/Chicago'
		WHERE id = $1`, tn.OrgID, lines)
	require.NoError(t, err)
	for i, sc := range scripts {
		phone := fmt.Sprintf("+1312555%04d", 100+i)
		e.sim.ScriptNumber(phone, sc)
		_, err := e.db.Owner.Exec(ctx, `WITH c AS (
			INSERT INTO customers (organization_id, first_name, last_name, phone, postal_code, state)
			VALUES ($1, 'Casey', 'Driver', $2, '60601', 'IL') RETURNING id)
			INSERT INTO service_records (organization_id, customer_id, ro_number, service_date, closed_at, service_type)
			SELECT $1, c.id, 'RO-' || $2, date '2026-11-23', timestamptz '2026-11-23 20:00Z', 'oil change' FROM c`, tn.OrgID, phone)
		require.NoError(t, err)
	}
	tok := withToken(tn.Owner.Token)
	c := e.createCampaign(t, tok, map[string]any{
		"audience": map[string]any{"service_days_ago": map[string]any{"min": 0, "max": 3}}, "max_attempts": 3,
	})
	requireStatus(t, http.StatusOK, e.do(t, http.MethodPost, "/api/v1/campaigns/"+c.ID.String()+"/launch", tok))
	return &loopRun{e: e, tn: tn, clock: clock, campaign: c.ID}
}

// count runs a count query whose $1 is the tenant; -1 on error (it also
// runs inside require.Eventually's goroutine).
func (l *loopRun) count(query string) int {
	n := -1
	if err := l.e.db.Owner.QueryRow(context.Background(), query, l.tn.OrgID).Scan(&n); err != nil {
		return -1
	}
	return n
}

// quiet waits until the tenant's scheduler passes and dial jobs are done
// (the launch enqueues a pass of its own), its calls ended and their
// reports processed.
func (l *loopRun) quiet(t *testing.T, round int) {
	t.Helper()
	require.Eventually(t, func() bool {
		return l.count(`SELECT count(*) FROM river_job WHERE kind IN ('dispatch.schedule', 'dispatch.dial') AND args->>'organization_id' = $1::text
			AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0 &&
			l.count(`SELECT count(*) FROM calls WHERE organization_id = $1 AND status NOT IN ('ended', 'failed')`) == 0
	}, 60*time.Second, 20*time.Millisecond, "round %d: the calls did not end", round)
	l.e.settleAll(t)
}

// rounds lets the calls in flight end, then runs a scheduler pass a minute
// later, n times, and waits for the last round's calls.
func (l *loopRun) rounds(t *testing.T, n int) {
	t.Helper()
	for round := range n {
		l.quiet(t, round)
		l.clock.Advance(time.Minute)
		_, err := l.e.deps.Dispatch.Pass(context.Background(), l.clock.Now(), l.tn.OrgID)
		require.NoError(t, err)
	}
	l.quiet(t, n)
}

// TestCoreLoopCallsEveryoneThroughUnansweredCalls: more targets than the
// organization has lines, every call unanswered. The lines freed by each
// round of calls go to the next targets: a target waiting for its retry
// gap holds no line. Every target is called once, and after its call it
// waits with the decision that says why.
func TestCoreLoopCallsEveryoneThroughUnansweredCalls(t *testing.T) {
	t.Parallel()
	const targets, lines = 6, 2
	scripts := make([]voicesim.Script, targets)
	for i := range scripts {
		scripts[i] = voicesim.Script{Outcome: voice.OutcomeNoAnswer}
	}
	l := startLoop(t, lines, scripts...)
	l.rounds(t, targets/lines+1) // a round more than the lines need: nothing more happens

	require.Equal(t, targets, l.count(`SELECT count(*) FROM calls WHERE organization_id = $1 AND outcome = 'no_answer'`),
		"every target called once; the lines did not stay taken")
	require.Equal(t, targets, l.count(`SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND status = 'retry'
		AND attempts = 1 AND last_decision = 'hold' AND last_decision_rule = '`+compliance.RuleRetryGap+`'`))
}

// TestCoreLoopCompletesTheCampaign: when the calls of the last open
// targets end (at the same moment, on parallel workers), the campaign
// completes.
func TestCoreLoopCompletesTheCampaign(t *testing.T) {
	t.Parallel()
	answered := voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(9), Booking: voicesim.Ptr(false), OptOut: voicesim.Ptr(false)}
	l := startLoop(t, 4, answered, answered, answered, answered)
	l.rounds(t, 1)

	require.Equal(t, 4, l.count(`SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND status = 'completed'`))
	res := l.e.do(t, http.MethodGet, "/api/v1/campaigns/"+l.campaign.String(), withToken(l.tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var c campaign.Campaign
	res.decode(t, &c)
	require.Equal(t, campaign.Completed, c.Status)
}
