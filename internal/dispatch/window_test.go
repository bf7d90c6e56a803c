package dispatch_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/voice"
)

// recordingProvider notes the dispatcher's clock at every dial.
type recordingProvider struct {
	inner voice.Provider
	now   func() time.Time
	mu    sync.Mutex
	dials map[string][]time.Time
}

func (p *recordingProvider) Dial(ctx context.Context, req voice.DialRequest) (voice.DialResult, error) {
	p.mu.Lock()
	p.dials[req.ToNumber] = append(p.dials[req.ToNumber], p.now())
	p.mu.Unlock()
	return p.inner.Dial(ctx, req)
}

func (p *recordingProvider) GetCall(ctx context.Context, id string) (voice.CallState, error) {
	return p.inner.GetCall(ctx, id)
}

// TestDispatchNoCallOutsideTheWindowAcrossDST steps a controlled clock
// through the nights of the 2026 US daylight-saving changes (March 8,
// November 1) for recipients in seven zones, and shows that no call is
// placed outside 08:00–21:00 (Florida 08:00–20:00) in the recipient's
// local time, that calls resume at 08:00 local exactly on both sides of
// the change, and that every target keeps being called.
func TestDispatchNoCallOutsideTheWindowAcrossDST(t *testing.T) {
	t.Parallel()
	for _, day := range []time.Time{
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(day.Format(time.DateOnly), func(t *testing.T) {
			t.Parallel()
			stepThroughDST(t, day)
		})
	}
}

func stepThroughDST(t *testing.T, day time.Time) {
	e := setup(t)
	start, end := day.Add(-12*time.Hour), day.Add(48*time.Hour)
	e.clock.Set(start)
	org := e.org(t, orgOpts{Limit: 100})
	campaign := e.campaign(t, org, campaignOpts{MaxAttempts: 10, RetryGap: "15 minutes"})

	type recipient struct {
		phone   string
		zones   compliance.Zones
		closeAt int // the window's last hour, exclusive
	}
	var recipients []recipient
	postals := []string{"10001", "60601", "80202", "85004", "90012", "96813", "33130"}
	i := 0
	for _, postal := range postals {
		zones, source := compliance.ResolveZone(postal, "", phone(0))
		require.Equal(t, compliance.SourcePostalCode, source)
		closeAt := 21
		if slices.Contains(zones.States, "FL") {
			closeAt = 20
		}
		// Four customers per zone, first due at different times of day.
		for _, offset := range []time.Duration{0, 5 * time.Hour, 11 * time.Hour, 17 * time.Hour} {
			r := recipient{phone: phone(i), zones: zones, closeAt: closeAt}
			due := start.Add(offset)
			e.target(t, org, campaign, targetOpts{Phone: r.phone, Postal: postal, Due: &due})
			recipients = append(recipients, r)
			i++
		}
	}

	rec := &recordingProvider{inner: e.vapi, now: e.clock.Now, dials: map[string][]time.Time{}}
	svc := e.service(rec)
	e.startRiver(t, svc)
	ctx := context.Background()
	for now := start; now.Before(end); {
		e.clock.Set(now)
		_, err := svc.Pass(ctx, now, uuid.Nil)
		require.NoError(t, err)
		e.waitJobs(t)
		// What the call results would do: every call ended unanswered, and
		// its target waits the campaign's gap for its next attempt.
		e.exec(t, `UPDATE calls SET status = 'ended', ended_at = $1 WHERE status IN ('dialing', 'queued')`, now)
		e.exec(t, `UPDATE campaign_targets SET status = 'retry', next_attempt_at = $1::timestamptz + interval '15 minutes'
			WHERE status = 'in_call'`, now)
		// Next: the earliest due target, at most 15 minutes on.
		var next *time.Time
		e.scalar(t, &next, `SELECT min(next_attempt_at) FROM campaign_targets WHERE status IN ('pending', 'retry')`)
		step := now.Add(15 * time.Minute)
		if next != nil && next.After(now) && next.Before(step) {
			step = *next
		}
		now = step
	}

	require.Zero(t, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status NOT IN ('pending', 'retry')`),
		"every target is still open: nothing lost, nothing blocked")
	for _, r := range recipients {
		dials := rec.dials[r.phone]
		require.NotEmpty(t, dials, "%s was never called", r.phone)
		days := map[string]bool{}
		for _, at := range dials {
			for _, name := range r.zones.Names {
				loc, err := time.LoadLocation(name)
				require.NoError(t, err)
				local := at.In(loc)
				h := local.Hour()
				require.True(t, h >= 8 && h < r.closeAt, "%s called at %s (%s), outside 08:00–%d:00", r.phone, local.Format(time.RFC3339), name, r.closeAt)
			}
			loc, _ := time.LoadLocation(r.zones.Names[0])
			days[at.In(loc).Format(time.DateOnly)] = true
		}
		require.GreaterOrEqual(t, len(days), 2, "%s is called on both days", r.phone)
	}
	// On the day of the change, calls in each zone with daylight saving
	// start at 08:00:00 local exactly: the first instant of the window.
	for _, zone := range []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		eight := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, loc)
		found := false
		for _, r := range recipients {
			if len(r.zones.Names) == 1 && r.zones.Names[0] == zone {
				found = found || slices.ContainsFunc(rec.dials[r.phone], eight.Equal)
			}
		}
		require.True(t, found, "a call in %s at %s", zone, eight)
	}
}
