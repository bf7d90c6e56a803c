package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
)

func TestStats(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		f.audienceOf(t, phoneN(i))
	}
	f.record(t, f.org, f.customer(t, f.org, customerOpts{}), recordOpts{ServiceDate: day(2025, 6, 1)})
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)

	empty, err := f.svc.Stats(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.TargetCounts{Total: 5, Pending: 4, Skipped: 1}, empty.Targets)
	require.Nil(t, empty.AverageNPS, "no responses, no average")
	require.Equal(t, campaign.Money{Amount: 0, Currency: "USD"}, empty.Cost)

	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'completed', attempts = 1 WHERE campaign_id = $1 AND phone IN ($2, $3)`, c.ID, phoneN(1), phoneN(2))
	require.NoError(t, err)
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'retry', attempts = 1 WHERE campaign_id = $1 AND phone = $2`, c.ID, phoneN(3))
	require.NoError(t, err)
	id := &c.ID
	promoter := f.call(t, f.org, callOpts{Campaign: id, To: phoneN(1), Outcome: "completed", Answered: true, NPS: ptr(10), Cost: 120, Duration: 180})
	f.call(t, f.org, callOpts{Campaign: id, To: phoneN(2), Outcome: "completed", Answered: true, NPS: ptr(5), Cost: 90, Duration: 120})
	optOut := f.call(t, f.org, callOpts{Campaign: id, To: phoneN(4), Outcome: "completed", Answered: true, Cost: 40, Duration: 30})
	f.call(t, f.org, callOpts{Campaign: id, To: phoneN(3), Outcome: "voicemail", Cost: 15, Duration: 25})
	f.call(t, f.org, callOpts{Campaign: id, To: phoneN(3), Outcome: "no_answer", Cost: 5})
	// Another campaign's call and booking count elsewhere.
	f.call(t, f.org, callOpts{To: phoneN(1), Outcome: "completed", Answered: true, NPS: ptr(0), Cost: 999})
	_, err = f.db.Owner.Exec(ctx, `INSERT INTO bookings (organization_id, call_id, campaign_id, scheduled_at) VALUES ($1, $2, $3, now()), ($1, NULL, NULL, now())`, f.org, promoter, c.ID)
	require.NoError(t, err)
	_, err = f.db.Owner.Exec(ctx, `INSERT INTO dnc_entries (organization_id, phone, source, call_id) VALUES ($1, $2, 'call_opt_out', $3), ($1, '+13125559999', 'manual', NULL)`, f.org, phoneN(4), optOut)
	require.NoError(t, err)

	st, err := f.svc.Stats(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.TargetCounts{Total: 5, Pending: 1, Retry: 1, Completed: 2, Skipped: 1}, st.Targets)
	require.Equal(t, map[string]int64{"no_phone": 1}, st.SkippedByReason)
	require.Equal(t, int64(5), st.Calls)
	require.Equal(t, int64(4), st.Connects, "three conversations and a voicemail")
	require.Equal(t, int64(3), st.Completions)
	require.Equal(t, int64(1), st.Bookings)
	require.Equal(t, int64(1), st.OptOuts)
	require.Equal(t, int64(2), st.NPSResponses)
	require.InDelta(t, 7.5, *st.AverageNPS, 0.001)
	require.InDelta(t, 0, *st.NPS, 0.001, "one promoter, one detractor")
	require.Equal(t, int64(355), st.DurationSec)
	require.Equal(t, campaign.Money{Amount: 270, Currency: "USD"}, st.Cost)

	_, err = f.svc.Stats(ctx, f.newOrg(t), c.ID)
	require.True(t, fault.Is(err, fault.NotFound))
}

func TestTargetsList(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		f.audienceOf(t, phoneN(i))
	}
	f.record(t, f.org, f.customer(t, f.org, customerOpts{}), recordOpts{ServiceDate: day(2025, 6, 1)})
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	decided := testNow.Add(time.Minute)
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET last_decision = 'hold', last_decision_rule = 'window.federal',
	  last_decision_reason = 'too late in Chicago', last_decision_at = $2 WHERE campaign_id = $1 AND phone = $3`, c.ID, decided, phoneN(2))
	require.NoError(t, err)

	var seen []uuid.UUID
	pr := page.Request{Limit: 2}
	for range 4 {
		items, next, err := f.svc.Targets(ctx, f.org, c.ID, "", pr)
		require.NoError(t, err)
		for _, it := range items {
			seen = append(seen, it.ID)
			require.Equal(t, "Casey Driver", it.CustomerName)
			if it.Phone == phoneN(2) {
				require.Equal(t, &campaign.LastDecision{Verdict: "hold", Rule: "window.federal", Reason: "too late in Chicago", At: it.LastDecision.At}, it.LastDecision)
				require.True(t, decided.Equal(it.LastDecision.At))
			}
		}
		if next == "" {
			break
		}
		after, err := page.Decode(next)
		require.NoError(t, err)
		pr.After = &after
	}
	require.Len(t, seen, 6, "every target once")

	skipped, _, err := f.svc.Targets(ctx, f.org, c.ID, campaign.TargetSkipped, page.Request{Limit: 10})
	require.NoError(t, err)
	require.Len(t, skipped, 1)
	require.Equal(t, "no_phone", *skipped[0].SkipReason)
	require.Equal(t, &campaign.LastDecision{Verdict: "block", Rule: "no_phone", Reason: "the customer has no phone number", At: skipped[0].LastDecision.At}, skipped[0].LastDecision)

	_, _, err = f.svc.Targets(ctx, f.newOrg(t), c.ID, "", page.Request{Limit: 10})
	require.True(t, fault.Is(err, fault.NotFound))
}
