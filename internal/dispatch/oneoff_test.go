package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/dispatch"
)

// serviceRecordOf returns the service record of a target's customer.
func (e *env) serviceRecordOf(t testing.TB, target uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	e.scalar(t, &id, `SELECT service_record_id FROM campaign_targets WHERE id = $1`, target)
	return id
}

// TestDispatchOneOffCall: a call placed by hand goes through the same
// claim, dial and record as a target's, once; one whose window closed
// before its job ran is not placed, and says why.
func TestDispatchOneOffCall(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := e.org(t, orgOpts{})
	camp := e.campaign(t, org, campaignOpts{Status: "completed"})
	record := e.serviceRecordOf(t, e.target(t, org, camp, targetOpts{Phone: phone(1), Status: "completed"}))
	svc := e.service(nil)
	e.insertOnly(t, svc)
	ctx := context.Background()

	placed, err := svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record, CampaignID: &camp})
	require.NoError(t, err)
	require.Equal(t, "allow", placed.Decision.Verdict)
	client := e.startRiver(t, svc)
	e.waitJobs(t)
	require.NoError(t, client.Stop(ctx))
	var status, reason string
	var claimed *time.Time
	require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT status, dial_claimed_at FROM calls WHERE id = $1`, placed.CallID).Scan(&status, &claimed))
	require.Equal(t, "queued", status, "placed and recorded")
	require.NotNil(t, claimed)
	require.Equal(t, 1, e.dials.count(phone(1)))

	// Accepted at 11:00 (after the first call ended), its job runs at
	// 21:30: not placed.
	e.exec(t, `UPDATE calls SET status = 'ended' WHERE id = $1`, placed.CallID)
	e.insertOnly(t, svc)
	late, err := svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record})
	require.NoError(t, err)
	e.clock.Set(time.Date(2026, 3, 11, 1, 30, 0, 0, time.UTC))
	e.startRiver(t, svc)
	e.waitJobs(t)
	require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT status, coalesce(ended_reason, '') FROM calls WHERE id = $1`, late.CallID).Scan(&status, &reason))
	require.Equal(t, "failed", status)
	require.Contains(t, reason, "not-placed: window.federal")
	require.Equal(t, 1, e.dials.count(phone(1)))

	// One call at a time to a number: while one is in flight, another is
	// refused with the rule.
	e.clock.Set(tuesday.Add(time.Hour))
	second, err := svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record})
	require.NoError(t, err)
	_, err = svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record})
	var na *dispatch.NotAllowedError
	require.ErrorAs(t, err, &na)
	require.Equal(t, "number.busy", na.Decision.Rule)

	// The 24-hour cap counts one-off calls (the one not placed excepted):
	// once the calls have ended, one more, then a hold.
	e.exec(t, `UPDATE calls SET status = 'ended' WHERE id = $1`, second.CallID)
	_, err = svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record})
	require.NoError(t, err)
	e.exec(t, `UPDATE calls SET status = 'ended' WHERE organization_id = $1 AND status <> 'failed'`, org)
	_, err = svc.PlaceCall(ctx, org, dispatch.OneOffCallInput{ServiceRecordID: record})
	require.ErrorAs(t, err, &na)
	require.Equal(t, "hold", na.Decision.Verdict)
	require.Equal(t, "frequency.24h", na.Decision.Rule)
	require.NotNil(t, na.Decision.NextEligibleAt)
	require.Equal(t, tuesday.Add(24*time.Hour), na.Decision.NextEligibleAt.UTC(), "24 hours after the first call")
}

// TestDispatchCampaignLifecycleHooks: with package campaign's lifecycle
// steps wired in, a pass starts a scheduled campaign whose start has come,
// and a campaign whose last target is blocked completes.
func TestDispatchCampaignLifecycleHooks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := e.org(t, orgOpts{})
	scheduled := e.campaign(t, org, campaignOpts{Status: "scheduled"})
	e.exec(t, `UPDATE campaigns SET starts_at = $2 WHERE id = $1`, scheduled, tuesday.Add(-time.Minute))
	e.target(t, org, scheduled, targetOpts{Phone: phone(1)})
	doomed := e.campaign(t, org, campaignOpts{})
	e.target(t, org, doomed, targetOpts{Phone: phone(2)})
	e.exec(t, `INSERT INTO dnc_entries (organization_id, phone) VALUES ($1, $2)`, org, phone(2))

	svc := e.service(nil)
	svc.ActivateDue, svc.CompleteIfDone = campaign.ActivateDueTx, campaign.CompleteIfDoneTx
	e.insertOnly(t, svc)
	res, err := svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Allowed)
	require.Equal(t, 1, res.Blocked)

	status := func(id uuid.UUID) string {
		var s string
		e.scalar(t, &s, `SELECT status FROM campaigns WHERE id = $1`, id)
		return s
	}
	require.Equal(t, "active", status(scheduled))
	require.Equal(t, "completed", status(doomed))
}
