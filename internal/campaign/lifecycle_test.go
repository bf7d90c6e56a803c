package campaign_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/fault"
)

var allStatuses = []campaign.Status{
	campaign.Draft, campaign.Scheduled, campaign.Active, campaign.Paused, campaign.Completed, campaign.Cancelled,
}

// legal is the state machine as the product defines it, written out.
var legal = map[campaign.Event]map[campaign.Status]campaign.Status{
	campaign.Launch:   {campaign.Draft: campaign.Active},
	campaign.Start:    {campaign.Scheduled: campaign.Active},
	campaign.Pause:    {campaign.Active: campaign.Paused},
	campaign.Resume:   {campaign.Paused: campaign.Active},
	campaign.Cancel:   {campaign.Scheduled: campaign.Cancelled, campaign.Active: campaign.Cancelled, campaign.Paused: campaign.Cancelled},
	campaign.Complete: {campaign.Active: campaign.Completed, campaign.Paused: campaign.Completed},
}

func TestTransition(t *testing.T) {
	t.Parallel()
	for ev, froms := range legal {
		for _, from := range allStatuses {
			to, err := campaign.Transition(from, ev)
			if want, ok := froms[from]; ok {
				require.NoError(t, err, "%s from %s", ev, from)
				require.Equal(t, want, to, "%s from %s", ev, from)
				continue
			}
			require.True(t, fault.Is(err, fault.Conflict), "%s from %s: %v", ev, from, err)
			require.Contains(t, err.Error(), string(from), "the message names the current status")
		}
	}
}

// inStatus returns a campaign of f's organization brought to status
// through the service (completed through the dispatcher's method).
func (f *fixture) inStatus(t *testing.T, status campaign.Status) campaign.Campaign {
	t.Helper()
	ctx := context.Background()
	f.audienceOf(t, f.nextPhone())
	c := f.draft(t, func(in *campaign.Spec) {
		if status == campaign.Scheduled {
			in.StartsAt = ptr(testNow.Add(48 * time.Hour))
		}
	})
	if status == campaign.Draft {
		return c
	}
	l, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	c = l.Campaign
	switch status {
	case campaign.Draft, campaign.Scheduled, campaign.Active:
	case campaign.Paused:
		c, err = f.svc.Pause(ctx, f.org, c.ID)
	case campaign.Cancelled:
		c, err = f.svc.Cancel(ctx, f.org, c.ID)
	case campaign.Completed:
		_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'completed' WHERE campaign_id = $1`, c.ID)
		require.NoError(t, err)
		var done bool
		done, err = f.svc.CompleteIfDone(ctx, f.org, c.ID)
		require.NoError(t, err)
		require.True(t, done)
		c, err = f.svc.Get(ctx, f.org, c.ID)
	}
	require.NoError(t, err)
	require.Equal(t, status, c.Status)
	return c
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	jobs := &recordingJobs{}
	f.svc.Jobs = jobs
	actions := map[campaign.Event]func(uuid.UUID) (campaign.Status, error){
		campaign.Launch: func(id uuid.UUID) (campaign.Status, error) {
			l, err := f.svc.Launch(ctx, f.org, id)
			return l.Campaign.Status, err
		},
		campaign.Pause: func(id uuid.UUID) (campaign.Status, error) {
			c, err := f.svc.Pause(ctx, f.org, id)
			return c.Status, err
		},
		campaign.Resume: func(id uuid.UUID) (campaign.Status, error) {
			c, err := f.svc.Resume(ctx, f.org, id)
			return c.Status, err
		},
		campaign.Cancel: func(id uuid.UUID) (campaign.Status, error) {
			c, err := f.svc.Cancel(ctx, f.org, id)
			return c.Status, err
		},
	}
	for ev, act := range actions {
		for _, from := range allStatuses {
			t.Run(string(ev)+" from "+string(from), func(t *testing.T) {
				c := f.inStatus(t, from)
				before := jobs.inserted.Load()
				got, err := act(c.ID)
				want, ok := legal[ev][from]
				if !ok {
					require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
					require.Contains(t, err.Error(), "is "+string(from))
					now, err := f.svc.Get(ctx, f.org, c.ID)
					require.NoError(t, err)
					require.Equal(t, from, now.Status, "an illegal transition changes nothing")
					return
				}
				require.NoError(t, err)
				require.Equal(t, want, got)
				// Launch and resume ask the scheduler for a pass at once.
				require.Equal(t, want == campaign.Active, jobs.inserted.Load() > before)
				// Every transition is audited with both statuses.
				var oldV, newV json.RawMessage
				require.NoError(t, f.db.Owner.QueryRow(ctx,
					`SELECT old_value, new_value FROM audit_logs WHERE entity = 'campaign' AND entity_id = $1 ORDER BY id DESC LIMIT 1`,
					c.ID.String()).Scan(&oldV, &newV))
				require.JSONEq(t, `{"status":"`+string(from)+`"}`, string(oldV))
				var after struct{ Event, Status string }
				require.NoError(t, json.Unmarshal(newV, &after))
				require.Equal(t, string(ev), after.Event)
				require.Equal(t, string(want), after.Status)
			})
		}
	}
	require.Contains(t, jobs.kinds, dispatch.ScheduleArgs{}.Kind())
}

func TestLaunchScheduledThenActivateDue(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.audienceOf(t, phoneN(1))
	starts := testNow.Add(2 * time.Hour)
	c := f.draft(t, func(in *campaign.Spec) { in.StartsAt = &starts })
	l, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Scheduled, l.Campaign.Status)
	for _, tg := range f.targets(t, c.ID) {
		require.True(t, starts.Equal(*tg.NextAttemptAt), "the first attempt waits for starts_at")
	}

	ids, err := f.svc.ActivateDue(ctx, f.org)
	require.NoError(t, err)
	require.Empty(t, ids, "not yet")

	later := *f.svc
	later.Now = func() time.Time { return starts.Add(time.Minute) }
	ids, err = later.ActivateDue(ctx, f.org)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{c.ID}, ids)
	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Active, got.Status)
}

func TestCancelClosesWaitingTargets(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	a, b, cc := f.audienceOf(t, phoneN(1)), f.audienceOf(t, phoneN(2)), f.audienceOf(t, phoneN(3))
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	// One target is in a call, one waits for a retry, one is pending.
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'in_call' WHERE customer_id = $1`, a)
	require.NoError(t, err)
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'retry' WHERE customer_id = $1`, b)
	require.NoError(t, err)

	_, err = f.svc.Cancel(ctx, f.org, c.ID)
	require.NoError(t, err)
	tg := f.targets(t, c.ID)
	require.Equal(t, "in_call", tg[a].Status, "a call in progress finishes")
	for _, id := range []uuid.UUID{b, cc} {
		require.Equal(t, "cancelled", tg[id].Status)
		require.Equal(t, "campaign_cancelled", *tg[id].SkipReason)
		require.Nil(t, tg[id].NextAttemptAt)
	}
}

func TestCompleteIfDone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	a := f.audienceOf(t, phoneN(1))
	f.audienceOf(t, phoneN(2))
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)

	done, err := f.svc.CompleteIfDone(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.False(t, done, "targets are open")

	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'completed' WHERE customer_id = $1`, a)
	require.NoError(t, err)
	done, err = f.svc.CompleteIfDone(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.False(t, done, "one target is still pending")

	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'failed' WHERE campaign_id = $1 AND status = 'pending'`, c.ID)
	require.NoError(t, err)
	done, err = f.svc.CompleteIfDone(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.True(t, done)
	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Completed, got.Status)

	done, err = f.svc.CompleteIfDone(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.False(t, done, "already completed: nothing to do")

	_, err = f.svc.CompleteIfDone(ctx, f.org, uuid.Must(uuid.NewV7()))
	require.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func TestDeleteOnlyDraftOrCancelled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, st := range allStatuses {
		c := f.inStatus(t, st)
		err := f.svc.Delete(ctx, f.org, c.ID)
		if st == campaign.Draft || st == campaign.Cancelled {
			require.NoError(t, err, st)
			_, err = f.svc.Get(ctx, f.org, c.ID)
			require.True(t, fault.Is(err, fault.NotFound))
			require.Zero(t, f.count(t, `SELECT count(*) FROM campaign_targets WHERE campaign_id = $1`, c.ID))
			continue
		}
		require.True(t, fault.Is(err, fault.Conflict), "%s: %v", st, err)
		require.Contains(t, err.Error(), string(st))
	}
}
