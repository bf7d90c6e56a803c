package compliance_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/fault"
)

func loc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	require.NoError(t, err)
	return l
}

// local parses "2006-01-02 15:04:05" in zone.
func local(t testing.TB, zone, s string) time.Time {
	t.Helper()
	ts, err := time.ParseInLocation(time.DateTime, s, loc(t, zone))
	require.NoError(t, err)
	return ts
}

func utc(t testing.TB, s string) time.Time { return local(t, "UTC", s) }

func zonesOf(postal, state, phone string) compliance.Zones {
	z, _ := compliance.ResolveZone(postal, state, phone)
	return z
}

// input returns an Input for an active organization with credit and free
// lines, so that only the rule under test can stop the call.
func input(z compliance.Zones) compliance.Input {
	return compliance.Input{
		Zones: z,
		Org:   compliance.Org{Status: compliance.OrgActive, CreditBalance: 10_000, ConcurrencyLimit: 5},
	}
}

func TestDecideCallingWindows(t *testing.T) {
	t.Parallel()
	var (
		newYork    = zonesOf("10001", "", "")
		losAngeles = zonesOf("90012", "", "")
		miami      = zonesOf("33101", "", "")
		pensacola  = zonesOf("32501", "", "")
		phoenix    = zonesOf("85004", "", "")
		unknown    = compliance.Strictest()
	)
	tests := []struct {
		name   string
		zones  compliance.Zones
		now    time.Time
		rule   string
		next   time.Time // for holds
		closes time.Time // for allows
	}{
		// Window edges, New York.
		{name: "07:59:59 holds", zones: newYork, now: local(t, ny, "2026-03-10 07:59:59"), rule: compliance.RuleWindowFederal, next: local(t, ny, "2026-03-10 08:00:00")},
		{name: "08:00 allows", zones: newYork, now: local(t, ny, "2026-03-10 08:00:00"), rule: compliance.RuleAllowed, closes: local(t, ny, "2026-03-10 21:00:00")},
		{name: "20:59:59 allows", zones: newYork, now: local(t, ny, "2026-03-10 20:59:59"), rule: compliance.RuleAllowed, closes: local(t, ny, "2026-03-10 21:00:00")},
		{name: "21:00 holds to the next morning", zones: newYork, now: local(t, ny, "2026-03-10 21:00:00"), rule: compliance.RuleWindowFederal, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "midnight holds", zones: newYork, now: local(t, ny, "2026-03-10 00:00:00"), rule: compliance.RuleWindowFederal, next: local(t, ny, "2026-03-10 08:00:00")},

		// Spring forward, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 08:00 EDT is 12:00 UTC.
		{name: "spring forward: night before opens at 08:00 EDT", zones: newYork, now: utc(t, "2026-03-08 06:30:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-03-08 12:00:00")},
		{name: "spring forward: 07:59:59 EDT holds", zones: newYork, now: utc(t, "2026-03-08 11:59:59"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-03-08 12:00:00")},
		{name: "spring forward: 08:00 EDT allows", zones: newYork, now: utc(t, "2026-03-08 12:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-03-09 01:00:00")},
		{name: "spring forward: Saturday 21:00 EST waits for 08:00 EDT", zones: newYork, now: utc(t, "2026-03-08 02:00:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-03-08 12:00:00")},
		{name: "spring forward Los Angeles", zones: losAngeles, now: utc(t, "2026-03-08 14:59:59"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-03-08 15:00:00")},
		{name: "spring forward Los Angeles allows", zones: losAngeles, now: utc(t, "2026-03-08 15:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-03-09 04:00:00")},

		// Fall back, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 08:00 EST is 13:00 UTC.
		{name: "fall back: repeated hour holds until 08:00 EST", zones: newYork, now: utc(t, "2026-11-01 05:30:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-11-01 13:00:00")},
		{name: "fall back: 07:59 EST holds", zones: newYork, now: utc(t, "2026-11-01 12:59:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-11-01 13:00:00")},
		{name: "fall back: Saturday 21:30 EDT waits for 08:00 EST", zones: newYork, now: utc(t, "2026-11-01 01:30:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-11-01 13:00:00")},
		{name: "fall back: 20:59 EST allows", zones: newYork, now: utc(t, "2026-11-02 01:59:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-11-02 02:00:00")},
		{name: "fall back Los Angeles", zones: losAngeles, now: utc(t, "2026-11-01 15:59:59"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-11-01 16:00:00")},

		// Florida ends at 20:00.
		{name: "Florida 19:59:59 allows", zones: miami, now: local(t, ny, "2026-03-10 19:59:59"), rule: compliance.RuleAllowed, closes: local(t, ny, "2026-03-10 20:00:00")},
		{name: "Florida 20:00 holds", zones: miami, now: local(t, ny, "2026-03-10 20:00:00"), rule: compliance.RuleWindowFlorida, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "Florida 07:00 is federal", zones: miami, now: local(t, ny, "2026-03-10 07:00:00"), rule: compliance.RuleWindowFederal, next: local(t, ny, "2026-03-10 08:00:00")},
		{name: "Florida number, New York address", zones: zonesOf("10001", "NY", "+13055550100"), now: local(t, ny, "2026-03-10 20:30:00"), rule: compliance.RuleWindowFlorida, next: local(t, ny, "2026-03-11 08:00:00")},

		// The Central-time panhandle: its own 08:00 and 20:00.
		{name: "Pensacola 07:59 CDT holds", zones: pensacola, now: local(t, chi, "2026-07-01 07:59:00"), rule: compliance.RuleWindowFederal, next: local(t, chi, "2026-07-01 08:00:00")},
		{name: "Pensacola 08:00 CDT (09:00 EDT) allows", zones: pensacola, now: local(t, chi, "2026-07-01 08:00:00"), rule: compliance.RuleAllowed, closes: local(t, chi, "2026-07-01 20:00:00")},
		{name: "Pensacola 20:00 CDT holds", zones: pensacola, now: local(t, chi, "2026-07-01 20:00:00"), rule: compliance.RuleWindowFlorida, next: local(t, chi, "2026-07-02 08:00:00")},
		{name: "panhandle number both zones", zones: zonesOf("", "", "+18505550100"), now: local(t, chi, "2026-07-01 07:30:00"), rule: compliance.RuleWindowFederal, next: local(t, chi, "2026-07-01 08:00:00")},
		{name: "panhandle number ends at 20:00 Eastern", zones: zonesOf("", "", "+18505550100"), now: local(t, ny, "2026-07-01 20:00:00"), rule: compliance.RuleWindowFlorida, next: local(t, chi, "2026-07-02 08:00:00")},

		// Arizona keeps standard time all year.
		{name: "Phoenix winter 08:00 MST", zones: phoenix, now: utc(t, "2026-01-15 15:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-01-16 04:00:00")},
		{name: "Phoenix summer 08:00 MST", zones: phoenix, now: utc(t, "2026-07-15 15:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-07-16 04:00:00")},
		{name: "Phoenix summer 07:59 MST", zones: phoenix, now: utc(t, "2026-07-15 14:59:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-07-15 15:00:00")},
		{name: "Phoenix across the DST change", zones: phoenix, now: utc(t, "2026-03-08 04:00:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-03-08 15:00:00")},

		// Unknown location: 08:00 in Hawaii to 20:00 (Florida) in New York.
		{name: "unknown, winter, before Hawaii's 08:00", zones: unknown, now: utc(t, "2026-01-15 17:59:59"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-01-15 18:00:00")},
		{name: "unknown, winter, allowed", zones: unknown, now: utc(t, "2026-01-15 18:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-01-16 01:00:00")},
		{name: "unknown, winter, after 20:00 EST", zones: unknown, now: utc(t, "2026-01-16 01:00:00"), rule: compliance.RuleWindowFlorida, next: utc(t, "2026-01-16 18:00:00")},
		{name: "unknown, summer, allowed", zones: unknown, now: utc(t, "2026-07-15 18:00:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-07-16 00:00:00")},
		{name: "empty zones are the strictest", zones: compliance.Zones{}, now: local(t, ny, "2026-01-15 10:00:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-01-15 18:00:00")},
		{name: "unloadable zone is the strictest", zones: compliance.Zones{Names: []string{"Mars/Olympus_Mons"}}, now: local(t, ny, "2026-01-15 10:00:00"), rule: compliance.RuleWindowFederal, next: utc(t, "2026-01-15 18:00:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := compliance.Decide(tt.now, input(tt.zones))
			require.Equal(t, tt.rule, d.Rule, d.Reason)
			require.NotEmpty(t, d.Reason)
			if tt.rule == compliance.RuleAllowed {
				require.Equal(t, compliance.Allow, d.Verdict)
				require.True(t, tt.closes.Equal(d.WindowClosesAt), "closes at %s, want %s", d.WindowClosesAt.UTC(), tt.closes.UTC())
				require.True(t, d.NextEligibleAt.IsZero())
				return
			}
			require.Equal(t, compliance.Hold, d.Verdict)
			require.True(t, tt.next.Equal(d.NextEligibleAt), "next eligible %s, want %s (%s)", d.NextEligibleAt.UTC(), tt.next.UTC(), d.Reason)
		})
	}
}

func TestDecideSchedule(t *testing.T) {
	t.Parallel()
	officeHours := func(t *testing.T) compliance.Schedule {
		s, err := compliance.NewSchedule(ny, []int16{1, 2, 3, 4, 5}, 9*time.Hour, 17*time.Hour, true)
		require.NoError(t, err)
		return s
	}
	// Pago Pago (UTC-11) keeps the legal window open over the US night, so
	// a schedule's own DST behaviour can be tested alone.
	samoa := compliance.Zones{Names: []string{"Pacific/Pago_Pago"}}
	nightShift := func(start, end time.Duration) compliance.Schedule {
		return compliance.Schedule{Location: loc(t, ny), Days: compliance.EveryDay, Start: start, End: end}
	}
	tests := []struct {
		name   string
		zones  compliance.Zones
		sched  compliance.Schedule
		now    time.Time
		rule   string
		next   time.Time
		closes time.Time
	}{
		{name: "inside both", zones: zonesOf("10001", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-10 10:00:00"), rule: compliance.RuleAllowed, closes: local(t, ny, "2026-03-10 17:00:00")},
		{name: "schedule open, recipient asleep in Los Angeles", zones: zonesOf("90012", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-10 09:00:00"), rule: compliance.RuleWindowFederal, next: local(t, la, "2026-03-10 08:00:00")},
		{name: "before the schedule", zones: zonesOf("10001", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-10 08:30:00"), rule: compliance.RuleScheduleHours, next: local(t, ny, "2026-03-10 09:00:00")},
		{name: "Friday after hours waits for Monday", zones: zonesOf("10001", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-13 17:00:00"), rule: compliance.RuleScheduleHours, next: local(t, ny, "2026-03-16 09:00:00")},
		{name: "Saturday", zones: zonesOf("10001", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-14 12:00:00"), rule: compliance.RuleScheduleDay, next: local(t, ny, "2026-03-16 09:00:00")},
		{name: "Sunday of the spring change", zones: zonesOf("10001", "", ""), sched: officeHours(t), now: local(t, ny, "2026-03-08 12:00:00"), rule: compliance.RuleScheduleDay, next: local(t, ny, "2026-03-09 09:00:00")},
		{name: "Hawaii schedule, New York recipient after 21:00", zones: zonesOf("10001", "", ""),
			sched: compliance.Schedule{Location: loc(t, "Pacific/Honolulu"), Days: compliance.EveryDay, Start: 9 * time.Hour, End: 17 * time.Hour},
			now:   local(t, "Pacific/Honolulu", "2026-03-10 16:00:00"), rule: compliance.RuleWindowFederal, next: local(t, "Pacific/Honolulu", "2026-03-11 09:00:00")},

		// The schedule's repeated hour: 01:00–02:00 happens twice on 2026-11-01.
		{name: "fall back: first 01:30", zones: samoa, sched: nightShift(1*time.Hour, 2*time.Hour), now: utc(t, "2026-11-01 05:30:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-11-01 07:00:00")},
		{name: "fall back: second 01:30", zones: samoa, sched: nightShift(1*time.Hour, 2*time.Hour), now: utc(t, "2026-11-01 06:30:00"), rule: compliance.RuleAllowed, closes: utc(t, "2026-11-01 07:00:00")},
		{name: "fall back: before", zones: samoa, sched: nightShift(1*time.Hour, 2*time.Hour), now: utc(t, "2026-11-01 04:00:00"), rule: compliance.RuleScheduleHours, next: utc(t, "2026-11-01 05:00:00")},
		// The schedule's missing hour: 02:00–03:00 does not exist on 2026-03-08.
		{name: "spring forward: a window inside the gap waits a day", zones: samoa, sched: nightShift(2*time.Hour, 3*time.Hour), now: utc(t, "2026-03-08 05:00:00"), rule: compliance.RuleScheduleHours, next: utc(t, "2026-03-09 06:00:00")},
		{name: "spring forward: a window starting in the gap opens at 03:00 EDT", zones: samoa, sched: nightShift(2*time.Hour+30*time.Minute, 4*time.Hour), now: utc(t, "2026-03-08 05:00:00"), rule: compliance.RuleScheduleHours, next: utc(t, "2026-03-08 07:00:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := input(tt.zones)
			in.Schedule = tt.sched
			d := compliance.Decide(tt.now, in)
			require.Equal(t, tt.rule, d.Rule, d.Reason)
			if tt.rule == compliance.RuleAllowed {
				require.True(t, tt.closes.Equal(d.WindowClosesAt), "closes at %s, want %s", d.WindowClosesAt.UTC(), tt.closes.UTC())
				return
			}
			require.Equal(t, compliance.Hold, d.Verdict)
			require.True(t, tt.next.Equal(d.NextEligibleAt), "next eligible %s, want %s (%s)", d.NextEligibleAt.UTC(), tt.next.UTC(), d.Reason)
			next, ok := compliance.NextWindowStart(tt.now, tt.zones, tt.sched)
			require.True(t, ok)
			require.True(t, next.Equal(d.NextEligibleAt), "NextWindowStart agrees with Decide")
		})
	}
}

func TestDecideRules(t *testing.T) {
	t.Parallel()
	nyZones := zonesOf("10001", "", "")
	now := local(t, ny, "2026-03-10 12:00:00") // Tuesday noon: inside every window
	tests := []struct {
		name    string
		zones   compliance.Zones
		edit    func(in *compliance.Input)
		verdict compliance.Verdict
		rule    string
		next    time.Time
	}{
		{name: "allowed", edit: func(*compliance.Input) {}, verdict: compliance.Allow, rule: compliance.RuleAllowed},
		{name: "DNC blocks even out of hours", edit: func(in *compliance.Input) { in.OnDNC = true }, verdict: compliance.Block, rule: compliance.RuleDNC},
		{name: "attempts used up", edit: func(in *compliance.Input) { in.Attempts, in.MaxAttempts = 3, 3 }, verdict: compliance.Block, rule: compliance.RuleAttemptsMax},
		{name: "attempts left", edit: func(in *compliance.Input) { in.Attempts, in.MaxAttempts = 2, 3 }, verdict: compliance.Allow, rule: compliance.RuleAllowed},
		{name: "organization deleted", edit: func(in *compliance.Input) { in.Org.Status = compliance.OrgDeleted }, verdict: compliance.Block, rule: compliance.RuleOrgDeleted},
		{name: "organization suspended", edit: func(in *compliance.Input) { in.Org.Status = compliance.OrgSuspended }, verdict: compliance.Hold, rule: compliance.RuleOrgSuspended, next: now},
		{name: "unknown organization status holds", edit: func(in *compliance.Input) { in.Org.Status = "" }, verdict: compliance.Hold, rule: compliance.RuleOrgSuspended, next: now},
		{name: "no credit", edit: func(in *compliance.Input) { in.Org.CreditBalance = 0 }, verdict: compliance.Hold, rule: compliance.RuleCreditExhausted, next: now},
		{name: "negative credit", edit: func(in *compliance.Input) { in.Org.CreditBalance = -5 }, verdict: compliance.Hold, rule: compliance.RuleCreditExhausted, next: now},
		{name: "lines busy", edit: func(in *compliance.Input) { in.Org.ActiveCalls = 5 }, verdict: compliance.Hold, rule: compliance.RuleConcurrency, next: now},
		{name: "concurrency limit zero", edit: func(in *compliance.Input) { in.Org.ConcurrencyLimit = 0 }, verdict: compliance.Hold, rule: compliance.RuleConcurrency, next: now},
		{name: "suspended out of hours waits for the window", edit: func(in *compliance.Input) {
			in.Org.Status = compliance.OrgSuspended
			in.LastAttemptAt, in.RetryGap = now, 10*time.Hour // until 22:00: the window is closed
		}, verdict: compliance.Hold, rule: compliance.RuleOrgSuspended, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "schedule disabled", edit: func(in *compliance.Input) { in.Schedule.Disabled = true }, verdict: compliance.Hold, rule: compliance.RuleScheduleDisabled, next: now},
		{name: "retry gap", edit: func(in *compliance.Input) {
			in.LastAttemptAt, in.RetryGap = local(t, ny, "2026-03-10 10:00:00"), 4*time.Hour
		}, verdict: compliance.Hold, rule: compliance.RuleRetryGap, next: local(t, ny, "2026-03-10 14:00:00")},
		{name: "retry gap ends after the window", edit: func(in *compliance.Input) {
			in.LastAttemptAt, in.RetryGap = local(t, ny, "2026-03-10 11:00:00"), 10*time.Hour
		}, verdict: compliance.Hold, rule: compliance.RuleRetryGap, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "retry gap over", edit: func(in *compliance.Input) {
			in.LastAttemptAt, in.RetryGap = local(t, ny, "2026-03-10 07:00:00"), 4*time.Hour
		}, verdict: compliance.Allow, rule: compliance.RuleAllowed},
		{name: "three calls in 24 h", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-09 15:00:00", "2026-03-10 09:00:00", "2026-03-10 10:00:00")
		}, verdict: compliance.Hold, rule: compliance.RuleFrequency24h, next: local(t, ny, "2026-03-10 15:00:00")},
		{name: "four calls in 24 h: the second oldest frees the slot", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-09 13:00:00", "2026-03-09 14:00:00", "2026-03-10 09:00:00", "2026-03-10 10:00:00")
		}, verdict: compliance.Hold, rule: compliance.RuleFrequency24h, next: local(t, ny, "2026-03-10 14:00:00")},
		{name: "older calls do not count", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-09 11:59:59", "2026-03-10 09:00:00", "2026-03-10 10:00:00")
		}, verdict: compliance.Allow, rule: compliance.RuleAllowed},
		{name: "frequency frees at night: wait for the window", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-09 22:30:00", "2026-03-10 09:00:00", "2026-03-10 10:00:00")
		}, verdict: compliance.Hold, rule: compliance.RuleFrequency24h, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "a call to the number in progress", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-10 11:58:00")
			in.RecentCalls[0].InProgress = true
		}, verdict: compliance.Hold, rule: compliance.RuleNumberBusy, next: now},
		{name: "an ended call leaves the line free", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-10 11:58:00")
		}, verdict: compliance.Allow, rule: compliance.RuleAllowed},
		{name: "out of hours wins over a busy line", edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-10 11:58:00")
			in.RecentCalls[0].InProgress = true
			in.LastAttemptAt, in.RetryGap = now, 10*time.Hour
		}, verdict: compliance.Hold, rule: compliance.RuleRetryGap, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "Florida: three calls on one subject", zones: zonesOf("33101", "", ""), edit: func(in *compliance.Input) {
			in.RecentCalls = calls(t, "2026-03-09 15:00:00", "2026-03-10 09:00:00", "2026-03-10 10:00:00")
			for i := range in.RecentCalls {
				in.RecentCalls[i].SameSubject = true
			}
		}, verdict: compliance.Hold, rule: compliance.RuleFrequencyFlorida, next: local(t, ny, "2026-03-10 15:00:00")},
		{name: "campaign not started", edit: func(in *compliance.Input) {
			in.CampaignStartsAt = local(t, ny, "2026-03-10 13:30:00")
		}, verdict: compliance.Hold, rule: compliance.RuleCampaignNotStarted, next: local(t, ny, "2026-03-10 13:30:00")},
		{name: "campaign starts overnight", edit: func(in *compliance.Input) {
			in.CampaignStartsAt = local(t, ny, "2026-03-11 00:00:00")
		}, verdict: compliance.Hold, rule: compliance.RuleCampaignNotStarted, next: local(t, ny, "2026-03-11 08:00:00")},
		{name: "campaign ended", edit: func(in *compliance.Input) {
			in.CampaignEndsAt = local(t, ny, "2026-03-10 12:00:00")
		}, verdict: compliance.Block, rule: compliance.RuleCampaignEnded},
		{name: "campaign ends before the next window", edit: func(in *compliance.Input) {
			in.CampaignEndsAt = local(t, ny, "2026-03-10 23:00:00")
			in.LastAttemptAt, in.RetryGap = now, 10*time.Hour
		}, verdict: compliance.Block, rule: compliance.RuleCampaignEnded},
		{name: "schedule never meets the window", edit: func(in *compliance.Input) {
			in.Schedule = compliance.Schedule{Location: loc(t, ny), Days: compliance.EveryDay, Start: 6 * time.Hour, End: 7*time.Hour + 30*time.Minute}
		}, verdict: compliance.Hold, rule: compliance.RuleScheduleNoOverlap, next: now.Add(24 * time.Hour)},
		{name: "schedule with no days", edit: func(in *compliance.Input) {
			in.Schedule = compliance.Schedule{Location: loc(t, ny), Start: 9 * time.Hour, End: 17 * time.Hour}
		}, verdict: compliance.Hold, rule: compliance.RuleScheduleNoOverlap, next: now.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := tt.zones
			if z.Names == nil {
				z = nyZones
			}
			in := input(z)
			tt.edit(&in)
			d := compliance.Decide(now, in)
			require.Equal(t, tt.verdict, d.Verdict, d.Reason)
			require.Equal(t, tt.rule, d.Rule, d.Reason)
			require.NotEmpty(t, d.Reason)
			if tt.verdict == compliance.Hold {
				require.True(t, tt.next.Equal(d.NextEligibleAt), "next eligible %s, want %s", d.NextEligibleAt, tt.next)
			} else {
				require.True(t, d.NextEligibleAt.IsZero())
			}
		})
	}
}

// calls returns prior calls at New York local times.
func calls(t *testing.T, at ...string) []compliance.PriorCall {
	out := make([]compliance.PriorCall, len(at))
	for i, s := range at {
		out[i] = compliance.PriorCall{At: local(t, ny, s)}
	}
	return out
}

func TestNewSchedule(t *testing.T) {
	t.Parallel()
	s, err := compliance.NewSchedule("America/Chicago", []int16{1, 2, 3, 4, 5, 7}, 9*time.Hour, 17*time.Hour+30*time.Minute, false)
	require.NoError(t, err)
	require.Equal(t, "America/Chicago", s.Location.String())
	require.True(t, s.Disabled)
	for day, want := range map[time.Weekday]bool{time.Sunday: true, time.Monday: true, time.Friday: true, time.Saturday: false} {
		require.Equal(t, want, s.Days.Has(day), day)
	}
	require.Equal(t, "Mon, Tue, Wed, Thu, Fri, Sun 09:00–17:30 America/Chicago", s.String())
	s, err = compliance.NewSchedule("UTC", []int16{0}, 0, 24*time.Hour, true)
	require.NoError(t, err)
	require.Equal(t, compliance.DaysOf(time.Sunday), s.Days)

	for _, bad := range []struct {
		tz         string
		days       []int16
		start, end time.Duration
	}{
		{tz: "Mars/Olympus_Mons", days: []int16{1}, start: 9 * time.Hour, end: 17 * time.Hour},
		{tz: "", days: []int16{1}, start: 9 * time.Hour, end: 17 * time.Hour},
		{tz: "Local", days: []int16{1}, start: 9 * time.Hour, end: 17 * time.Hour},
		{tz: "UTC", days: []int16{8}, start: 9 * time.Hour, end: 17 * time.Hour},
		{tz: "UTC", days: []int16{1}, start: 17 * time.Hour, end: 9 * time.Hour},
		{tz: "UTC", days: []int16{1}, start: 9 * time.Hour, end: 25 * time.Hour},
	} {
		_, err := compliance.NewSchedule(bad.tz, bad.days, bad.start, bad.end, true)
		require.True(t, fault.Is(err, fault.Invalid), "%+v: %v", bad, err)
	}
}

var oracleLocations sync.Map

func oracleLocation(name string) *time.Location {
	if l, ok := oracleLocations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	oracleLocations.Store(name, l)
	return l
}

// lawful is an independent statement of the window rules: every candidate
// zone's local time inside 08:00–21:00 (20:00 when Florida may apply), and
// inside the schedule.
func lawful(at time.Time, z compliance.Zones, s compliance.Schedule) bool {
	if len(z.Names) == 0 {
		z = compliance.Strictest()
	}
	end := 21 * time.Hour
	if slices.Contains(z.States, "FL") {
		end = 20 * time.Hour
	}
	sinceMidnight := func(t time.Time) time.Duration {
		h, mi, sec := t.Clock()
		return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())
	}
	for _, n := range z.Names {
		if w := sinceMidnight(at.In(oracleLocation(n))); w < 8*time.Hour || w >= end {
			return false
		}
	}
	if s.Location != nil {
		lt := at.In(s.Location)
		if w := sinceMidnight(lt); !s.Days.Has(lt.Weekday()) || w < s.Start || w >= s.End {
			return false
		}
	}
	return true
}

// Property: at random instants of 2026 (DST changes included), for random
// recipients and schedules, Decide allows only lawful instants, its
// NextEligibleAt is the first lawful minute (checked minute by minute), and
// WindowClosesAt is the first unlawful instant.
func TestDecideWindowProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20260308, 20261101))
	recipients := []compliance.Zones{
		zonesOf("10001", "", ""), zonesOf("90012", "", ""), zonesOf("33101", "", ""), zonesOf("32401", "", ""),
		zonesOf("85004", "", ""), zonesOf("86045", "", ""), zonesOf("99546", "", ""), zonesOf("96813", "", ""),
		zonesOf("47708", "", ""), zonesOf("", "", "+18505550100"), zonesOf("10001", "", "+13055550100"),
		zonesOf("00901", "", ""), compliance.Strictest(),
	}
	schedules := []compliance.Schedule{
		{},
		{Location: loc(t, ny), Days: compliance.Weekdays, Start: 9 * time.Hour, End: 17 * time.Hour},
		{Location: loc(t, la), Days: compliance.EveryDay, Start: 0, End: 24 * time.Hour},
		{Location: loc(t, chi), Days: compliance.DaysOf(time.Saturday, time.Sunday), Start: 10 * time.Hour, End: 14*time.Hour + 30*time.Minute},
		{Location: loc(t, ny), Days: compliance.EveryDay, Start: 1 * time.Hour, End: 3 * time.Hour},
		{Location: loc(t, "Pacific/Honolulu"), Days: compliance.Weekdays, Start: 7 * time.Hour, End: 19 * time.Hour},
	}
	year := utc(t, "2026-01-01 00:00:00")
	n := 1000
	if testing.Short() {
		n = 200
	}
	holds, allows := 0, 0
	for i := 0; i < n; i++ {
		z := recipients[rng.IntN(len(recipients))]
		s := schedules[rng.IntN(len(schedules))]
		now := year.Add(time.Duration(rng.Int64N(int64(365*24*time.Hour/time.Second))) * time.Second)
		if i%4 == 0 { // a quarter of the instants around the DST changes
			change := []time.Time{utc(t, "2026-03-08 07:00:00"), utc(t, "2026-11-01 06:00:00")}[rng.IntN(2)]
			now = change.Add(time.Duration(rng.Int64N(int64(48*time.Hour/time.Second))-int64(24*time.Hour/time.Second)) * time.Second)
		}
		in := input(z)
		in.Schedule = s
		d := compliance.Decide(now, in)
		desc := fmt.Sprintf("case %d: %s, zones %v, schedule %s: %s %s (%s)", i, now.UTC(), z, s, d.Verdict, d.Rule, d.Reason)
		switch d.Verdict {
		case compliance.Allow:
			allows++
			require.True(t, lawful(now, z, s), desc)
			require.True(t, d.WindowClosesAt.After(now), desc)
			require.True(t, lawful(d.WindowClosesAt.Add(-time.Nanosecond), z, s), desc)
			require.False(t, lawful(d.WindowClosesAt, z, s), desc)
		case compliance.Hold:
			holds++
			require.False(t, lawful(now, z, s), desc)
			if d.Rule == compliance.RuleScheduleNoOverlap {
				continue
			}
			require.True(t, lawful(d.NextEligibleAt, z, s), desc)
			// Every boundary is on a whole minute, so the first lawful
			// minute is the first lawful instant.
			first := now.Truncate(time.Minute)
			for !lawful(first, z, s) || first.Before(now) {
				first = first.Add(time.Minute)
			}
			require.True(t, first.Equal(d.NextEligibleAt), "%s: first lawful minute %s", desc, first.UTC())
		default:
			t.Fatal(desc)
		}
	}
	require.Positive(t, holds)
	require.Positive(t, allows)
}

func BenchmarkDecide(b *testing.B) {
	z := compliance.Strictest()
	s := compliance.Schedule{Location: loc(b, ny), Days: compliance.Weekdays, Start: 9 * time.Hour, End: 17 * time.Hour}
	in := input(z)
	in.Schedule = s
	night := local(b, ny, "2026-03-10 23:00:00") // a hold: the search for the next window runs
	day := local(b, ny, "2026-03-10 15:00:00")   // an allow: the search for the window's close runs
	b.Run("hold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			compliance.Decide(night, in)
		}
	})
	b.Run("allow", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			compliance.Decide(day, in)
		}
	})
}
