package campaign_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/fault"
)

func TestLaunchSkipsWithReasons(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	callable := f.customer(t, f.org, customerOpts{Phone: phoneN(1)})
	oldVisit := f.record(t, f.org, callable, recordOpts{ServiceDate: day(2025, 3, 1), ServiceType: "oil change"})
	latestVisit := f.record(t, f.org, callable, recordOpts{ServiceDate: day(2025, 6, 9), ServiceType: "oil change"})
	onDNC := f.customer(t, f.org, customerOpts{Phone: phoneN(2)})
	f.record(t, f.org, onDNC, recordOpts{ServiceDate: day(2025, 6, 9)})
	phoneless := f.customer(t, f.org, customerOpts{})
	f.record(t, f.org, phoneless, recordOpts{ServiceDate: day(2025, 6, 9)})
	// A household: two customers, one number; the later visit is called.
	household := f.customer(t, f.org, customerOpts{Phone: phoneN(3)})
	f.record(t, f.org, household, recordOpts{ServiceDate: day(2025, 6, 8)})
	sameNumber := f.customer(t, f.org, customerOpts{Phone: phoneN(3)})
	f.record(t, f.org, sameNumber, recordOpts{ServiceDate: day(2025, 5, 1)})
	// Another tenant's customers never join.
	other := f.newOrg(t)
	f.record(t, other, f.customer(t, other, customerOpts{Phone: phoneN(4)}), recordOpts{ServiceDate: day(2025, 6, 9)})

	_, _, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "(312) 555-0002", Reason: "asked"})
	require.NoError(t, err)

	c := f.draft(t)
	l, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Active, l.Campaign.Status)
	require.NotNil(t, l.Campaign.LaunchedAt)
	require.Equal(t, campaign.AudienceCount{
		Targets: 2, Skipped: 3,
		SkippedByReason: map[string]int64{campaign.SkipDNC: 1, campaign.SkipNoPhone: 1, campaign.SkipDuplicatePhone: 1},
	}, l.Audience)

	tg := f.targets(t, c.ID)
	require.Len(t, tg, 5)
	require.Equal(t, "pending", tg[callable].Status)
	require.Equal(t, latestVisit, *tg[callable].ServiceRecordID, "linked to the latest visit, not %s", oldVisit)
	require.True(t, testNow.Equal(*tg[callable].NextAttemptAt), "due at once")
	require.Nil(t, tg[callable].Decision, "the dispatcher decides")
	require.Equal(t, "pending", tg[household].Status)
	for id, reason := range map[uuid.UUID]string{onDNC: "dnc", phoneless: "no_phone", sameNumber: "duplicate_phone"} {
		require.Equal(t, "skipped", tg[id].Status, reason)
		require.Equal(t, reason, *tg[id].SkipReason)
		require.Equal(t, "block", *tg[id].Decision, "why not called is recorded")
		require.Equal(t, reason, *tg[id].Rule)
		require.Nil(t, tg[id].NextAttemptAt)
	}
	require.Empty(t, tg[phoneless].Phone)
}

func TestPreviewWritesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.audienceOf(t, phoneN(1))
	f.audienceOf(t, phoneN(2))
	f.record(t, f.org, f.customer(t, f.org, customerOpts{}), recordOpts{ServiceDate: day(2025, 6, 1)})
	c := f.draft(t)
	snapshot := func() [4]int {
		return [4]int{
			f.count(t, `SELECT count(*) FROM campaign_targets`),
			f.count(t, `SELECT count(*) FROM audit_logs`),
			f.count(t, `SELECT count(*) FROM campaigns WHERE status = 'draft' AND launched_at IS NULL`),
			f.count(t, `SELECT count(*) FROM river_job`),
		}
	}
	before := snapshot()
	p, err := f.svc.Preview(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, before, snapshot(), "a preview writes nothing")
	require.Equal(t, campaign.AudienceCount{Targets: 2, Skipped: 1, SkippedByReason: map[string]int64{"no_phone": 1}}, p)

	// The launch targets exactly what the preview counted.
	l, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, p, l.Audience)

	_, err = f.svc.Preview(ctx, f.newOrg(t), c.ID)
	require.True(t, fault.Is(err, fault.NotFound), "another tenant's campaign: %v", err)
}

func TestLaunchIsAtomic(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.audienceOf(t, phoneN(1))
	f.record(t, f.org, f.customer(t, f.org, customerOpts{}), recordOpts{ServiceDate: day(2025, 6, 1)})
	c := f.draft(t)

	// The last step (enqueueing the scheduler's pass) fails: nothing stays.
	f.svc.Jobs = &recordingJobs{fail: true}
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.ErrorIs(t, err, errInsert)
	require.Zero(t, f.count(t, `SELECT count(*) FROM campaign_targets`))
	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Draft, got.Status)
	require.Nil(t, got.LaunchedAt)
	require.Zero(t, f.count(t, `SELECT count(*) FROM audit_logs WHERE entity = 'campaign' AND action = 'update'`))

	// Then it works.
	f.svc.Jobs = &recordingJobs{}
	_, err = f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, 2, f.count(t, `SELECT count(*) FROM campaign_targets`))
}

func TestLaunchNobodyToCall(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.record(t, f.org, f.customer(t, f.org, customerOpts{}), recordOpts{ServiceDate: day(2025, 6, 1)})
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "nobody to call")
	require.Zero(t, f.count(t, `SELECT count(*) FROM campaign_targets`), "the skipped rows written were rolled back")
	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Draft, got.Status)
}

func TestRelaunchImpossible(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.audienceOf(t, phoneN(1))
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	f.audienceOf(t, phoneN(2))
	_, err = f.svc.Launch(ctx, f.org, c.ID)
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "cannot launch a campaign that is active")
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM campaign_targets WHERE campaign_id = $1`, c.ID), "no second set of targets")

	_, err = f.svc.Cancel(ctx, f.org, c.ID)
	require.NoError(t, err)
	_, err = f.svc.Launch(ctx, f.org, c.ID)
	require.True(t, fault.Is(err, fault.Conflict), "a cancelled campaign stays cancelled: %v", err)
}

func TestLaunchAfterEnd(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.audienceOf(t, phoneN(1))
	ends := testNow.Add(time.Hour)
	c := f.draft(t, func(in *campaign.Spec) { in.EndsAt = &ends })
	late := *f.svc
	late.Now = func() time.Time { return ends.Add(time.Minute) }
	_, err := late.Launch(ctx, f.org, c.ID)
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "ended")
}

func TestAudienceFilters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return &v
	}
	// testNow is 11 June 10:00 in Chicago. Days are Chicago days.
	c1 := f.customer(t, f.org, customerOpts{Phone: phoneN(1), Tags: []string{"vip"}})
	f.record(t, f.org, c1, recordOpts{ServiceDate: day(2025, 6, 9), ClosedAt: at("2025-06-10T04:30:00Z"), ServiceType: "Oil Change", Make: "Toyota"}) // 9 June in Chicago: 2 days ago
	c2 := f.customer(t, f.org, customerOpts{Phone: phoneN(2)})
	f.record(t, f.org, c2, recordOpts{ServiceDate: day(2025, 6, 10), ClosedAt: at("2025-06-10T18:00:00Z"), ServiceType: "brakes", Make: "Honda"}) // 1 day ago
	c3 := f.customer(t, f.org, customerOpts{Phone: phoneN(3), Tags: []string{"fleet"}})
	f.record(t, f.org, c3, recordOpts{ServiceDate: day(2025, 6, 6), ClosedAt: at("2025-06-06T20:00:00Z"), ServiceType: "oil change", Make: "toyota"}) // 5 days ago
	f.call(t, f.org, callOpts{To: phoneN(3), Outcome: "completed", CreatedAt: testNow.Add(-3 * 24 * time.Hour)})
	c4 := f.customer(t, f.org, customerOpts{Phone: phoneN(4)})
	f.record(t, f.org, c4, recordOpts{ServiceDate: day(2025, 1, 15), ServiceType: "recall", Make: "Ford"}) // open: its service date counts
	f.call(t, f.org, callOpts{To: phoneN(4), Outcome: "no_answer", CreatedAt: testNow.Add(-40 * 24 * time.Hour)})
	c5 := f.customer(t, f.org, customerOpts{Phone: phoneN(5)})
	f.record(t, f.org, c5, recordOpts{ServiceDate: day(2025, 6, 10), ClosedAt: at("2025-06-10T18:00:00Z"), ServiceType: "oil change", Status: "void"})
	c6 := f.customer(t, f.org, customerOpts{Phone: phoneN(6)})
	c6brakes := f.record(t, f.org, c6, recordOpts{ServiceDate: day(2025, 6, 1), ClosedAt: at("2025-06-01T16:00:00Z"), ServiceType: "brakes", Make: "Honda"}) // 10 days ago
	c6oil := f.record(t, f.org, c6, recordOpts{ServiceDate: day(2025, 6, 10), ClosedAt: at("2025-06-10T17:00:00Z"), ServiceType: "oil change", Make: "Toyota"})
	_ = c5

	tests := []struct {
		name     string
		audience campaign.Audience
		want     []uuid.UUID
		records  map[uuid.UUID]uuid.UUID // customer → the record the target links
	}{
		{"everyone", campaign.Audience{}, []uuid.UUID{c1, c2, c3, c4, c6}, map[uuid.UUID]uuid.UUID{c6: c6oil}},
		{"closed 1–3 days ago", campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 1, Max: 3}}, []uuid.UUID{c1, c2, c6}, nil},
		{"closed 1 day ago, in Chicago", campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 1, Max: 1}}, []uuid.UUID{c2, c6}, nil},
		{"closed 2 days ago, in Chicago", campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 2, Max: 2}}, []uuid.UUID{c1}, nil},
		{"absolute dates", campaign.Audience{ServiceDateFrom: "2025-01-01", ServiceDateTo: "2025-01-31"}, []uuid.UUID{c4}, nil},
		{"from a date on", campaign.Audience{ServiceDateFrom: "2025-06-06"}, []uuid.UUID{c1, c2, c3, c6}, nil},
		{"service types, any case", campaign.Audience{ServiceTypes: []string{"OIL CHANGE"}}, []uuid.UUID{c1, c3, c6}, nil},
		{"the latest matching record", campaign.Audience{ServiceTypes: []string{"brakes"}}, []uuid.UUID{c2, c6}, map[uuid.UUID]uuid.UUID{c6: c6brakes}},
		{"makes", campaign.Audience{Makes: []string{"toyota"}}, []uuid.UUID{c1, c3, c6}, nil},
		{"tags, any of", campaign.Audience{CustomerTags: []string{"vip", "fleet"}}, []uuid.UUID{c1, c3}, nil},
		{"not called in 7 days", campaign.Audience{NotCalledInDays: 7}, []uuid.UUID{c1, c2, c4, c6}, nil},
		{"not called in 60 days", campaign.Audience{NotCalledInDays: 60}, []uuid.UUID{c1, c2, c6}, nil},
		{"every condition holds on the same record", campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 1, Max: 3}, Makes: []string{"honda"}}, []uuid.UUID{c2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.draft(t, func(in *campaign.Spec) { in.Audience = tt.audience })
			p, err := f.svc.Preview(ctx, f.org, c.ID)
			require.NoError(t, err)
			require.Equal(t, int64(len(tt.want)), p.Targets)
			_, err = f.svc.Launch(ctx, f.org, c.ID)
			require.NoError(t, err)
			tg := f.targets(t, c.ID)
			var got []uuid.UUID
			for id := range tg {
				got = append(got, id)
			}
			require.ElementsMatch(t, sorted(tt.want), sorted(got))
			for cust, rec := range tt.records {
				require.Equal(t, rec, *tg[cust].ServiceRecordID)
			}
		})
	}
}

func sorted(ids []uuid.UUID) []uuid.UUID {
	out := append([]uuid.UUID(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
