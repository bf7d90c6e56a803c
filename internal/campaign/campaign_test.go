package campaign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
)

func TestCampaignCreateDefaults(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	c, err := f.svc.Create(ctx, f.org, validInput(func(in *campaign.Spec) {
		in.Name = "  June feedback  "
		in.Audience = campaign.Audience{ServiceTypes: []string{" Oil Change ", "oil change", "Brakes"}, Makes: []string{"Toyota"}}
		in.Schedule = &campaign.ScheduleInput{Days: []int{1, 2}, StartTime: "10:00", EndTime: "16:00"}
	}))
	require.NoError(t, err)
	require.Equal(t, "June feedback", c.Name)
	require.Equal(t, campaign.Draft, c.Status)
	require.Equal(t, 3, c.MaxAttempts)
	require.Equal(t, 240, c.RetryGapMinutes)
	require.Equal(t, 4*time.Hour, c.RetryGap())
	require.Equal(t, []string{"oil change", "brakes"}, c.Audience.ServiceTypes, "trimmed, folded, deduplicated")
	require.Equal(t, []string{"toyota"}, c.Audience.Makes)
	require.Equal(t, campaign.DefaultDisclosure("Lakeside Motors"), c.Agent.Disclosure)
	require.Contains(t, c.Agent.Disclosure, "Lakeside Motors")
	require.Contains(t, c.Agent.Disclosure, "recorded")
	require.NotNil(t, c.Schedule)
	require.Equal(t, "America/Chicago", c.Schedule.Timezone)

	got, err := f.svc.Get(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM audit_logs WHERE entity = 'campaign' AND action = 'create'`))
}

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	past := testNow.Add(-time.Hour)
	soon, later := testNow.Add(time.Hour), testNow.Add(2*time.Hour)
	tests := []struct {
		name     string
		mutate   func(*campaign.Spec)
		location string
	}{
		{"blank name", func(in *campaign.Spec) { in.Name = "  " }, "body.name"},
		{"unknown type", func(in *campaign.Spec) { in.Type = "survey" }, "body.type"},
		{"too many attempts", func(in *campaign.Spec) { in.MaxAttempts = 11 }, "body.max_attempts"},
		{"negative attempts", func(in *campaign.Spec) { in.MaxAttempts = -1 }, "body.max_attempts"},
		{"retry gap too short", func(in *campaign.Spec) { in.RetryGapMinutes = 14 }, "body.retry_gap_minutes"},
		{"retry gap too long", func(in *campaign.Spec) { in.RetryGapMinutes = 7*24*60 + 1 }, "body.retry_gap_minutes"},
		{"end before start", func(in *campaign.Spec) { in.StartsAt, in.EndsAt = &later, &soon }, "body.ends_at"},
		{"end in the past", func(in *campaign.Spec) { in.EndsAt = &past }, "body.ends_at"},
		{"no agent", func(in *campaign.Spec) { in.Agent = campaign.AgentConfig{} }, "body.agent.prompt"},
		{"prompt without first message", func(in *campaign.Spec) { in.Agent.FirstMessage = "" }, "body.agent.first_message"},
		{"assistant and prompt", func(in *campaign.Spec) { in.Agent.AssistantID = "asst_1" }, "body.agent.assistant_id"},
		{"bad variable name", func(in *campaign.Spec) { in.Agent.Variables = map[string]string{"first-name": "x"} }, "body.agent.variables.first-name"},
		{"long variable", func(in *campaign.Spec) { in.Agent.Variables = map[string]string{"v": strings.Repeat("x", 1001)} }, "body.agent.variables.v"},
		{"disclosure without recording notice", func(in *campaign.Spec) { in.Agent.Disclosure = "Hi, this is Lakeside Motors." }, "body.agent.disclosure"},
		{"http review link", func(in *campaign.Spec) { in.Agent.ReviewLink = "http://g.page/x" }, "body.agent.review_link"},
		{"days ago reversed", func(in *campaign.Spec) { in.Audience.ServiceDaysAgo = &campaign.DayRange{Min: 3, Max: 1} }, "body.audience.service_days_ago"},
		{"days ago and dates", func(in *campaign.Spec) {
			in.Audience.ServiceDaysAgo = &campaign.DayRange{Min: 1, Max: 3}
			in.Audience.ServiceDateFrom = "2025-01-01"
		}, "body.audience.service_days_ago"},
		{"bad date", func(in *campaign.Spec) { in.Audience.ServiceDateFrom = "2025-13-01" }, "body.audience.service_date_from"},
		{"dates reversed", func(in *campaign.Spec) {
			in.Audience.ServiceDateFrom, in.Audience.ServiceDateTo = "2025-02-01", "2025-01-01"
		}, "body.audience.service_date_to"},
		{"blank service type", func(in *campaign.Spec) { in.Audience.ServiceTypes = []string{"oil", " "} }, "body.audience.service_types[1]"},
		{"long make", func(in *campaign.Spec) { in.Audience.Makes = []string{strings.Repeat("m", 101)} }, "body.audience.makes[0]"},
		{"not called too long", func(in *campaign.Spec) { in.Audience.NotCalledInDays = 366 }, "body.audience.not_called_in_days"},
		{"bad schedule", func(in *campaign.Spec) {
			in.Schedule = &campaign.ScheduleInput{Days: []int{1}, StartTime: "10:00", EndTime: "09:00"}
		}, "body.schedule.end_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Create(ctx, f.org, validInput(tt.mutate))
			requireField(t, err, tt.location)
		})
	}
	require.Zero(t, f.count(t, `SELECT count(*) FROM campaigns`))

	// An assistant alone is enough.
	_, err := f.svc.Create(ctx, f.org, validInput(func(in *campaign.Spec) { in.Agent = campaign.AgentConfig{AssistantID: "asst_1"} }))
	require.NoError(t, err)
}

func TestCampaignUpdateByStatus(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	name := "Renamed"
	audience := campaign.Audience{Makes: []string{"Ford"}}
	attempts := 5

	draft := f.inStatus(t, campaign.Draft)
	c, err := f.svc.Update(ctx, f.org, draft.ID, campaign.Patch{Name: &name, Audience: &audience, MaxAttempts: &attempts})
	require.NoError(t, err)
	require.Equal(t, "Renamed", c.Name)
	require.Equal(t, []string{"ford"}, c.Audience.Makes)
	require.Equal(t, 5, c.MaxAttempts)
	require.Equal(t, draft.Agent, c.Agent, "unchanged fields stay")

	active := f.inStatus(t, campaign.Active)
	_, err = f.svc.Update(ctx, f.org, active.ID, campaign.Patch{Audience: &audience})
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "active: audience")
	c, err = f.svc.Update(ctx, f.org, active.ID, campaign.Patch{MaxAttempts: &attempts, Schedule: &campaign.ScheduleInput{Days: []int{1}, StartTime: "09:00", EndTime: "11:00"}})
	require.NoError(t, err)
	require.Equal(t, 5, c.MaxAttempts)
	require.Equal(t, "11:00", c.Schedule.EndTime)

	done := f.inStatus(t, campaign.Completed)
	_, err = f.svc.Update(ctx, f.org, done.ID, campaign.Patch{MaxAttempts: &attempts})
	require.True(t, fault.Is(err, fault.Conflict), "got %v", err)
	c, err = f.svc.Update(ctx, f.org, done.ID, campaign.Patch{Name: &name})
	require.NoError(t, err)
	require.Equal(t, "Renamed", c.Name)

	// Clearing the end of a draft.
	ends := testNow.Add(24 * time.Hour)
	withEnd := f.draft(t, func(in *campaign.Spec) { in.EndsAt = &ends })
	c, err = f.svc.Update(ctx, f.org, withEnd.ID, campaign.Patch{EndsAt: campaign.Optional[time.Time]{Set: true}})
	require.NoError(t, err)
	require.Nil(t, c.EndsAt)

	_, err = f.svc.Update(ctx, f.newOrg(t), draft.ID, campaign.Patch{Name: &name})
	require.True(t, fault.Is(err, fault.NotFound))
}

func TestCampaignList(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	a := f.draft(t, func(in *campaign.Spec) { in.Type = campaign.TypeRecall })
	b := f.draft(t, func(in *campaign.Spec) {
		in.Schedule = &campaign.ScheduleInput{Days: []int{1}, StartTime: "09:00", EndTime: "10:00"}
	})
	active := f.inStatus(t, campaign.Active)
	f.draft(t) // the other tenant's campaign below must not show
	other := f.newOrg(t)
	_, err := f.svc.Create(ctx, other, validInput())
	require.NoError(t, err)

	all, next, err := f.svc.List(ctx, f.org, campaign.Filter{}, page.Request{Limit: 50})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, all, 4)
	require.Equal(t, b.ID, all[2].ID, "newest first")
	require.NotNil(t, all[2].Schedule, "own schedules are loaded")
	require.Nil(t, all[3].Schedule)

	got, _, err := f.svc.List(ctx, f.org, campaign.Filter{Type: campaign.TypeRecall}, page.Request{Limit: 50})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, a.ID, got[0].ID)
	got, _, err = f.svc.List(ctx, f.org, campaign.Filter{Status: string(campaign.Active)}, page.Request{Limit: 50})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, active.ID, got[0].ID)

	first, next, err := f.svc.List(ctx, f.org, campaign.Filter{}, page.Request{Limit: 3})
	require.NoError(t, err)
	require.Len(t, first, 3)
	after, err := page.Decode(next)
	require.NoError(t, err)
	rest, next, err := f.svc.List(ctx, f.org, campaign.Filter{}, page.Request{Limit: 3, After: &after})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, rest, 1)
	require.Equal(t, all[3].ID, rest[0].ID)
}
