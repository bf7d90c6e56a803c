package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// TestDispatchRules: one pass stores every target's decision with the rule
// that made it, and enqueues a dial job for the allowed target only.
func TestDispatchRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	svc := e.service(nil)
	e.insertOnly(t, svc)
	now := e.clock.Now() // Tuesday 11:00 in New York
	hoursAgo := func(h float64) *time.Time { v := now.Add(-time.Duration(h * float64(time.Hour))); return &v }
	at := func(t time.Time) *time.Time { return &t }

	type want struct {
		verdict, rule, status string
		next                  *time.Time // for holds
	}
	cases := []struct {
		name    string
		org     orgOpts
		camp    campaignOpts
		target  targetOpts
		prepare func(t *testing.T, org, campaign uuid.UUID, phone string)
		want    want
	}{
		{name: "allowed", target: targetOpts{}, want: want{verdict: "allow", rule: compliance.RuleAllowed, status: "pending"}},
		{
			name: "dnc", target: targetOpts{},
			prepare: func(t *testing.T, org, _ uuid.UUID, phone string) {
				e.exec(t, `INSERT INTO dnc_entries (organization_id, phone) VALUES ($1, $2)`, org, phone)
			},
			want: want{verdict: "block", rule: compliance.RuleDNC, status: "skipped"},
		},
		{
			name: "attempts used up", camp: campaignOpts{MaxAttempts: 3},
			target: targetOpts{Status: "retry", Attempts: 3, LastAttempt: hoursAgo(30)},
			want:   want{verdict: "block", rule: compliance.RuleAttemptsMax, status: "failed"},
		},
		{
			name: "retry gap", camp: campaignOpts{RetryGap: "4 hours"},
			target: targetOpts{Status: "retry", Attempts: 1, LastAttempt: hoursAgo(1)},
			want:   want{verdict: "hold", rule: compliance.RuleRetryGap, status: "retry", next: at(now.Add(3 * time.Hour))},
		},
		{
			name: "three calls in 24 hours", target: targetOpts{},
			prepare: func(t *testing.T, org, _ uuid.UUID, phone string) {
				other := e.campaign(t, org, campaignOpts{})
				for _, h := range []float64{20, 10, 2} {
					e.exec(t, `INSERT INTO calls (organization_id, campaign_id, to_number, status, provider_call_id, created_at)
						VALUES ($1, $2, $3, 'ended', gen_random_uuid()::text, $4)`, org, other, phone, *hoursAgo(h))
				}
			},
			want: want{verdict: "hold", rule: compliance.RuleFrequency24h, status: "pending", next: at(now.Add(4 * time.Hour))},
		},
		{
			name: "florida: three calls on the subject", target: targetOpts{Postal: "33130"},
			prepare: func(t *testing.T, org, campaign uuid.UUID, phone string) {
				for _, h := range []float64{20, 10, 2} {
					e.exec(t, `INSERT INTO calls (organization_id, campaign_id, to_number, status, provider_call_id, created_at)
						VALUES ($1, $2, $3, 'ended', gen_random_uuid()::text, $4)`, org, campaign, phone, *hoursAgo(h))
				}
			},
			want: want{verdict: "hold", rule: compliance.RuleFrequencyFlorida, status: "pending", next: at(now.Add(4 * time.Hour))},
		},
		{
			name: "dials that never left do not count", target: targetOpts{},
			prepare: func(t *testing.T, org, _ uuid.UUID, phone string) {
				for _, h := range []float64{20, 10, 2} {
					e.exec(t, `INSERT INTO calls (organization_id, to_number, status, ended_reason, created_at)
						VALUES ($1, $2, 'failed', 'not-placed: dial.provider_error: 429', $3)`, org, phone, *hoursAgo(h))
				}
			},
			want: want{verdict: "allow", rule: compliance.RuleAllowed, status: "pending"},
		},
		{
			name: "concurrency limit", org: orgOpts{Limit: 1}, target: targetOpts{},
			prepare: func(t *testing.T, org, _ uuid.UUID, _ string) {
				e.exec(t, `INSERT INTO calls (organization_id, to_number, status, provider_call_id, created_at)
					VALUES ($1, '+13125550199', 'in_progress', 'live-1', $2)`, org, *hoursAgo(0.1))
			},
			want: want{verdict: "hold", rule: compliance.RuleConcurrency, status: "pending", next: at(now.Add(dispatch.DefaultInterval))},
		},
		{
			name: "a call to the number in progress", target: targetOpts{},
			prepare: func(t *testing.T, org, _ uuid.UUID, phone string) {
				other := e.campaign(t, org, campaignOpts{})
				e.exec(t, `INSERT INTO calls (organization_id, campaign_id, to_number, status, provider_call_id, created_at)
					VALUES ($1, $2, $3, 'in_progress', gen_random_uuid()::text, $4)`, org, other, phone, *hoursAgo(0.05))
			},
			want: want{verdict: "hold", rule: compliance.RuleNumberBusy, status: "pending", next: at(now.Add(dispatch.DefaultInterval))},
		},
		{
			// The target the line went to has since been called and waits
			// for its retry gap: it holds no line.
			name: "a target back to retry holds no line", org: orgOpts{Limit: 1}, target: targetOpts{},
			prepare: func(t *testing.T, org, campaign uuid.UUID, _ string) {
				id := e.target(t, org, campaign, targetOpts{Phone: "+13125550198", Status: "retry", Attempts: 1,
					LastAttempt: hoursAgo(1), Due: at(now.Add(3 * time.Hour))})
				e.exec(t, `UPDATE campaign_targets SET last_decision = 'allow', last_decision_rule = 'allowed',
					last_decision_at = last_attempt_at WHERE id = $1`, id)
			},
			want: want{verdict: "allow", rule: compliance.RuleAllowed, status: "pending"},
		},
		{
			name: "no credit", org: orgOpts{Credit: -5}, target: targetOpts{},
			want: want{verdict: "hold", rule: compliance.RuleCreditExhausted, status: "pending", next: at(now.Add(dispatch.DefaultHoldRecheck))},
		},
		{
			name: "suspended organization", org: orgOpts{Status: "suspended"}, target: targetOpts{},
			want: want{verdict: "hold", rule: compliance.RuleOrgSuspended, status: "pending", next: at(now.Add(dispatch.DefaultHoldRecheck))},
		},
		{
			name: "before 08:00 in Honolulu", target: targetOpts{Postal: "96813"},
			want: want{verdict: "hold", rule: compliance.RuleWindowFederal, status: "pending", next: at(time.Date(2026, 3, 10, 18, 0, 0, 0, time.UTC))},
		},
		{
			name: "outside the schedule's hours", org: orgOpts{Days: "{1,2,3,4,5}", Start: "13:00", End: "17:00"}, target: targetOpts{},
			want: want{verdict: "hold", rule: compliance.RuleScheduleHours, status: "pending", next: at(time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC))},
		},
		{
			name: "campaign ended", camp: campaignOpts{EndsAt: hoursAgo(1)}, target: targetOpts{},
			want: want{verdict: "block", rule: compliance.RuleCampaignEnded, status: "skipped"},
		},
	}
	ids := make([]uuid.UUID, len(cases))
	for i, c := range cases {
		org := e.org(t, c.org)
		campaign := e.campaign(t, org, c.camp)
		c.target.Phone = phone(i)
		if c.prepare != nil {
			c.prepare(t, org, campaign, c.target.Phone)
		}
		ids[i] = e.target(t, org, campaign, c.target)
	}

	res, err := svc.Pass(context.Background(), now, uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, len(cases), res.Decided())

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.targetState(t, ids[i])
			require.NotNil(t, got.Verdict)
			require.Equal(t, c.want.verdict, *got.Verdict, "rule %v: %v", *got.Rule, *got.Reason)
			require.Equal(t, c.want.rule, *got.Rule, "reason: %s", *got.Reason)
			require.NotEmpty(t, *got.Reason)
			require.Equal(t, c.want.status, got.Status)
			jobs := e.countWhere(t, `SELECT count(*) FROM river_job WHERE kind = 'dispatch.dial' AND args->>'target_id' = $1`, ids[i].String())
			switch c.want.verdict {
			case "allow":
				require.Equal(t, 1, jobs)
				require.NotNil(t, got.Next, "an allowed target is leased")
				require.Equal(t, now.Add(dispatch.DefaultDialLease), got.Next.UTC())
			case "hold":
				require.Zero(t, jobs)
				require.NotNil(t, got.Next)
				require.Equal(t, c.want.next.UTC(), got.Next.UTC())
			case "block":
				require.Zero(t, jobs)
				require.Nil(t, got.Next)
				require.Equal(t, c.want.rule, *got.Skip)
			}
		})
	}

	// A second pass at the same instant finds nothing due: holds wait for
	// their time, allowed targets for their dial job.
	res, err = svc.Pass(context.Background(), now, uuid.Nil)
	require.NoError(t, err)
	require.Zero(t, res.Decided())
}

// TestDispatchOneCallPerNumber: two campaigns due for the same number in
// one pass get one call; the other target waits for the line, and the
// 24-hour cap counts the calls a pass allows.
func TestDispatchOneCallPerNumber(t *testing.T) {
	t.Parallel()
	e := setup(t)
	svc := e.service(nil)
	e.insertOnly(t, svc)
	now := e.clock.Now()
	org := e.org(t, orgOpts{})
	first := e.target(t, org, e.campaign(t, org, campaignOpts{}), targetOpts{Phone: phone(1)})
	second := e.target(t, org, e.campaign(t, org, campaignOpts{}), targetOpts{Phone: phone(1)})
	other := e.target(t, org, e.campaign(t, org, campaignOpts{}), targetOpts{Phone: phone(2)})

	res, err := svc.Pass(context.Background(), now, uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, 2, res.Allowed)
	require.Equal(t, 1, res.Held)
	a, b := e.targetState(t, first), e.targetState(t, second)
	require.ElementsMatch(t, []string{"allow", "hold"}, []string{*a.Verdict, *b.Verdict})
	held := a
	if *a.Verdict == "allow" {
		held = b
	}
	require.Equal(t, compliance.RuleNumberBusy, *held.Rule, *held.Reason)
	require.Equal(t, now.Add(dispatch.DefaultInterval), held.Next.UTC())
	require.Equal(t, "allow", *e.targetState(t, other).Verdict)
}

// TestDispatchFairness: a large tenant cannot crowd out small ones; each
// organization's share of a batch is capped and the organizations are
// interleaved.
func TestDispatchFairness(t *testing.T) {
	t.Parallel()
	e := setup(t)
	big, small1, small2 := e.org(t, orgOpts{}), e.org(t, orgOpts{}), e.org(t, orgOpts{})
	e.bulkTargets(t, big, e.campaign(t, big, campaignOpts{}), 300, 0)
	e.bulkTargets(t, small1, e.campaign(t, small1, campaignOpts{}), 5, 1000)
	e.bulkTargets(t, small2, e.campaign(t, small2, campaignOpts{}), 5, 2000)
	paused := e.org(t, orgOpts{})
	e.bulkTargets(t, paused, e.campaign(t, paused, campaignOpts{Status: "paused"}), 50, 3000)

	scan := func(perOrg, total int32) map[uuid.UUID]int {
		var rows []db.DispatchDueTargetsRow
		require.NoError(t, e.pdb.InSystem(context.Background(), func(tx *postgres.Tx) error {
			var err error
			rows, err = tx.DispatchDueTargets(context.Background(), db.DispatchDueTargetsParams{Now: e.clock.Now(), PerOrg: perOrg, Total: total})
			return err
		}))
		got := map[uuid.UUID]int{}
		for i, r := range rows {
			got[r.OrganizationID]++
			if i < 3 {
				require.NotEqual(t, paused, r.OrganizationID)
			}
		}
		if len(rows) >= 3 {
			require.Len(t, map[uuid.UUID]bool{rows[0].OrganizationID: true, rows[1].OrganizationID: true, rows[2].OrganizationID: true}, 3,
				"the first turn serves every organization once")
		}
		return got
	}

	// A batch of 30: the small tenants get all they have; the big one the rest.
	got := scan(100, 30)
	require.Equal(t, map[uuid.UUID]int{big: 20, small1: 5, small2: 5}, got)
	// The per-organization cap holds however large the batch.
	got = scan(100, 10000)
	require.Equal(t, map[uuid.UUID]int{big: 100, small1: 5, small2: 5}, got)
	// A batch smaller than the number of tenants still serves each in turn.
	got = scan(100, 3)
	require.Equal(t, map[uuid.UUID]int{big: 1, small1: 1, small2: 1}, got)

	// The pass works through the batches; the paused campaign is left alone.
	svc := e.service(nil)
	svc.PerOrgLimit, svc.PassLimit = 100, 30
	e.insertOnly(t, svc)
	res, err := svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, 310, res.Decided())
	require.Equal(t, 50, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND last_decision IS NULL`, paused))
	// Each organization got no more lines than its limit (50): the rest wait.
	require.Equal(t, 50, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND last_decision = 'allow'`, big))
	require.Equal(t, 250, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND last_decision_rule = 'concurrency'`, big))
	require.Equal(t, 5, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND last_decision = 'allow'`, small1))
}

// TestDispatchScheduleArgsNarrowsToOneOrganization: a launch's pass over
// one tenant leaves the others to the periodic pass.
func TestDispatchScheduleArgsNarrowsToOneOrganization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, b := e.org(t, orgOpts{}), e.org(t, orgOpts{})
	e.bulkTargets(t, a, e.campaign(t, a, campaignOpts{}), 3, 0)
	e.bulkTargets(t, b, e.campaign(t, b, campaignOpts{}), 3, 100)
	svc := e.service(nil)
	e.insertOnly(t, svc)
	res, err := svc.Pass(context.Background(), e.clock.Now(), a)
	require.NoError(t, err)
	require.Equal(t, 3, res.Allowed)
	require.Zero(t, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE organization_id = $1 AND last_decision IS NOT NULL`, b))
}
