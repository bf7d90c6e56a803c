package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// TestCoreLoopCallsEveryoneThroughUnansweredCalls runs the loop end to end
// (launch, scheduler passes, dial jobs, voicesim, signed webhooks, call
// processing) for more targets than the organization has lines, every call
// unanswered. The lines freed by each round of calls go to the next
// targets: a target waiting for its retry gap holds no line. Every target
// is called once, and after its call it waits with the decision that says
// why.
func TestCoreLoopCallsEveryoneThroughUnansweredCalls(t *testing.T) {
	t.Parallel()
	clock := &manualClock{t: time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)} // a Tuesday, 10:00 in Chicago
	e := setup(t, withWorkers(), withLoopClock(clock.Now))
	tn := e.newTenant(t)
	ctx := context.Background()
	const targets, lines = 6, 2
	_, err := e.db.Owner.Exec(ctx, `UPDATE organizations SET call_concurrency_limit = $2, credit_balance = 1000000, timezone = 'America/Chicago'
		WHERE id = $1`, tn.OrgID, lines)
	require.NoError(t, err)
	for i := range targets {
		phone := fmt.Sprintf("+1312555%04d", 100+i)
		e.sim.ScriptNumber(phone, voicesim.Script{Outcome: voice.OutcomeNoAnswer})
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

	// count runs a count query over the organization's rows; -1 on error
	// (it also runs inside require.Eventually's goroutine).
	count := func(query string) int {
		n := -1
		if err := e.db.Owner.QueryRow(ctx, query, tn.OrgID).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	// quiet waits until the dial jobs are done, the calls ended and their
	// reports processed.
	quiet := func(round int) {
		require.Eventually(t, func() bool {
			return count(`SELECT count(*) FROM river_job WHERE kind = 'dispatch.dial' AND args->>'organization_id' = $1::text
				AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0 &&
				count(`SELECT count(*) FROM calls WHERE organization_id = $1 AND status NOT IN ('ended', 'failed')`) == 0
		}, 60*time.Second, 20*time.Millisecond, "round %d: the calls did not end", round)
		e.settleAll(t)
	}
	// Each round: the calls in flight end, then a pass a minute later. A
	// round more than the lines need, to show nothing more happens.
	for round := range targets/lines + 1 {
		quiet(round)
		clock.Advance(time.Minute)
		_, err := e.deps.Dispatch.Pass(ctx, clock.Now(), tn.OrgID)
		require.NoError(t, err)
	}
	quiet(-1)

	require.Equal(t, targets, count(`SELECT count(*) FROM calls WHERE organization_id = $1 AND outcome = 'no_answer'`),
		"every target called once; the lines did not stay taken")
	require.Equal(t, targets, count(`SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND status = 'retry'
		AND attempts = 1 AND last_decision = 'hold' AND last_decision_rule = '`+compliance.RuleRetryGap+`'`))
}
