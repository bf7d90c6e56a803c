package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/fault"
)

func TestScheduleDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	// Nothing stored: the built-in default in the organization's zone.
	sc, err := f.svc.OrgSchedule(ctx, f.org)
	require.NoError(t, err)
	require.Equal(t, campaign.Schedule{
		Timezone: "America/Chicago", Days: []int{1, 2, 3, 4, 5}, StartTime: "09:00", EndTime: "18:00",
		AutoCallEnabled: true, Source: campaign.SourceDefault, Start: 9 * time.Hour, End: 18 * time.Hour,
	}, sc)

	c := f.draft(t)
	eff, err := f.svc.EffectiveSchedule(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, sc, eff)

	off := false
	org, err := f.svc.SetOrgSchedule(ctx, f.org, campaign.ScheduleInput{
		Days: []int{6, 1, 2}, StartTime: "10:00", EndTime: "24:00", AutoCallEnabled: &off,
	})
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 6}, org.Days, "sorted")
	require.Equal(t, "America/Chicago", org.Timezone, "the organization's zone by default")
	require.Equal(t, 24*time.Hour, org.End)
	require.False(t, org.AutoCallEnabled)
	require.Equal(t, campaign.SourceOrganization, org.Source)
	eff, err = f.svc.EffectiveSchedule(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, org, eff, "the campaign follows the organization")

	// Setting the default again updates the one row.
	org, err = f.svc.SetOrgSchedule(ctx, f.org, campaign.ScheduleInput{Days: []int{1}, StartTime: "08:30", EndTime: "12:00", Timezone: "America/Denver"})
	require.NoError(t, err)
	require.True(t, org.AutoCallEnabled, "auto-calling defaults to on")
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM schedule_configs WHERE organization_id = $1 AND campaign_id IS NULL`, f.org))

	own, err := f.svc.SetCampaignSchedule(ctx, f.org, c.ID, campaign.ScheduleInput{Days: []int{7}, StartTime: "12:00", EndTime: "16:00", Timezone: "America/Los_Angeles"})
	require.NoError(t, err)
	require.Equal(t, campaign.SourceCampaign, own.Source)
	eff, err = f.svc.EffectiveSchedule(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, own, eff)
	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, &own, got.Schedule)

	// The dispatcher builds its compliance schedule from it.
	cs, err := compliance.NewSchedule(eff.Timezone, eff.ActiveDays(), eff.Start, eff.End, eff.AutoCallEnabled)
	require.NoError(t, err)
	require.True(t, cs.Days.Has(time.Sunday))
	require.False(t, cs.Days.Has(time.Monday))

	back, err := f.svc.ClearCampaignSchedule(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, org, back)
	got, err = f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Nil(t, got.Schedule)

	// Every change is audited.
	require.Equal(t, 4, f.count(t, `SELECT count(*) FROM audit_logs WHERE entity = 'schedule_config'`), "org create, org update, campaign create, campaign delete")

	// Another tenant's campaign is not found.
	_, err = f.svc.CampaignSchedule(ctx, f.newOrg(t), c.ID)
	require.True(t, fault.Is(err, fault.NotFound))
	_, err = f.svc.CampaignSchedule(ctx, f.org, uuid.Must(uuid.NewV7()))
	require.True(t, fault.Is(err, fault.NotFound))
}

func TestCampaignScheduleFixedOnceFinished(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	c := f.inStatus(t, campaign.Cancelled)
	_, err := f.svc.SetCampaignSchedule(ctx, f.org, c.ID, campaign.ScheduleInput{Days: []int{1}, StartTime: "09:00", EndTime: "10:00"})
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "cancelled")
}

func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	ok := campaign.ScheduleInput{Days: []int{1, 2, 3}, StartTime: "09:00", EndTime: "17:00"}
	tests := []struct {
		name     string
		mutate   func(*campaign.ScheduleInput)
		location string
	}{
		{"unknown zone", func(in *campaign.ScheduleInput) { in.Timezone = "Mars/Olympus" }, "body.timezone"},
		{"Local is not a zone", func(in *campaign.ScheduleInput) { in.Timezone = "Local" }, "body.timezone"},
		{"start equals end", func(in *campaign.ScheduleInput) { in.EndTime = "09:00" }, "body.end_time"},
		{"start after end", func(in *campaign.ScheduleInput) { in.StartTime = "18:00" }, "body.end_time"},
		{"bad start", func(in *campaign.ScheduleInput) { in.StartTime = "9am" }, "body.start_time"},
		{"start at 24:00", func(in *campaign.ScheduleInput) { in.StartTime = "24:00" }, "body.start_time"},
		{"bad end", func(in *campaign.ScheduleInput) { in.EndTime = "25:00" }, "body.end_time"},
		{"no days", func(in *campaign.ScheduleInput) { in.Days = nil }, "body.days"},
		{"day zero", func(in *campaign.ScheduleInput) { in.Days = []int{0} }, "body.days[0]"},
		{"day eight", func(in *campaign.ScheduleInput) { in.Days = []int{1, 8} }, "body.days[1]"},
		{"day twice", func(in *campaign.ScheduleInput) { in.Days = []int{3, 3} }, "body.days[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			in.Days = append([]int(nil), ok.Days...)
			tt.mutate(&in)
			_, err := f.svc.SetOrgSchedule(ctx, f.org, in)
			requireField(t, err, tt.location)
		})
	}
	require.Zero(t, f.count(t, `SELECT count(*) FROM schedule_configs`), "nothing stored")
}

// requireField checks err is fault.Invalid naming location.
func requireField(t *testing.T, err error, location string) {
	t.Helper()
	require.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	var fe *fault.Error
	require.ErrorAs(t, err, &fe)
	var locs []string
	for _, fl := range fe.Fields {
		locs = append(locs, fl.Location)
	}
	require.Contains(t, locs, location)
}
