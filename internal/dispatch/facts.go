package dispatch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// subject is one prospective call: a campaign target, or a call placed by
// hand (manual).
type subject struct {
	id             uuid.UUID
	campaignID     *uuid.UUID // nil: a one-off call without a campaign
	campaignStatus string
	phone          string
	postalCode     string
	state          string
	attempts       int
	maxAttempts    int // 0: no cap (one-off calls)
	lastAttemptAt  *time.Time
	retryGap       time.Duration
	startsAt       *time.Time
	endsAt         *time.Time
	// manual calls were asked for by a person: the campaign's status,
	// start, end and attempt caps do not apply, and the schedule's
	// automatic-calling switch does not stop them.
	manual bool
}

// priorCall is a call already placed to a number.
type priorCall struct {
	campaignID *uuid.UUID
	at         time.Time
	live       bool // not ended yet
}

// facts are what one batch of decisions in one organization reads, each in
// one query whatever the batch's size.
type facts struct {
	orgName     string
	orgTimezone string
	org         compliance.Org // ActiveCalls is filled per decision
	// busy counts the lines in use: calls in flight, plus (for a pass)
	// targets allowed earlier whose dial job has not claimed them yet.
	busy      int
	schedules map[uuid.UUID]db.ScheduleConfigListForDispatchRow // a campaign's own
	orgSched  *db.ScheduleConfigListForDispatchRow              // the organization default; nil: built-in
	dnc       map[string]bool
	recent    map[string][]priorCall
}

// gatherOpts say how the calls in flight are counted.
type gatherOpts struct {
	countLeased bool      // a pass, or a request: lines promised to allowed targets are busy too
	exceptCall  uuid.UUID // a call being claimed is not busy with itself
	// lockClaims takes the organization's claim lock before counting the
	// calls in flight: the caller is about to add one, and the limit must
	// hold exactly however many workers claim at once.
	lockClaims bool
	// skipLive leaves busy at zero: the caller counts the calls in flight
	// itself (see claimTarget).
	skipLive bool
}

// gather reads the facts of subjects in tx (a tenant transaction).
func (s *Service) gather(ctx context.Context, tx *postgres.Tx, now time.Time, subjects []subject, o gatherOpts) (*facts, error) {
	org := tx.Org
	of, err := tx.OrgDispatchFacts(ctx, org)
	if err != nil {
		return nil, err
	}
	f := &facts{
		orgName: of.Name, orgTimezone: of.Timezone,
		org: compliance.Org{
			Status:           compliance.OrgStatus(of.Status),
			CreditBalance:    of.CreditBalance,
			ConcurrencyLimit: int(of.CallConcurrencyLimit),
		},
		schedules: map[uuid.UUID]db.ScheduleConfigListForDispatchRow{},
		dnc:       map[string]bool{},
		recent:    map[string][]priorCall{},
	}
	var campaigns []uuid.UUID
	var phones []string
	for _, sub := range subjects {
		if sub.campaignID != nil && !slices.Contains(campaigns, *sub.campaignID) {
			campaigns = append(campaigns, *sub.campaignID)
		}
		phones = append(phones, sub.phone)
	}
	slices.Sort(phones)
	phones = slices.Compact(phones)

	scheds, err := tx.ScheduleConfigListForDispatch(ctx, org, campaigns)
	if err != nil {
		return nil, err
	}
	for _, r := range scheds {
		if r.CampaignID == nil {
			f.orgSched = &r
			continue
		}
		f.schedules[*r.CampaignID] = r
	}
	listed, err := tx.DNCEntryListByPhones(ctx, org, phones)
	if err != nil {
		return nil, err
	}
	for _, p := range listed {
		f.dnc[p] = true
	}

	// The calls already made come last: with lockClaims the
	// per-organization claim lock is taken here and held to the end of the
	// transaction, so the critical section is these reads, the claim and
	// the commit. The reads are their own statements, after the lock:
	// under READ COMMITTED they then see every call committed by the
	// lock's previous holder, which makes the per-number caps and the
	// concurrency limit exact however many workers claim at once.
	if o.lockClaims {
		if err := tx.DispatchLockClaims(ctx, org); err != nil {
			return nil, err
		}
	}
	if err := s.readRecent(ctx, tx.Queries, org, now, f, phones, o.exceptCall); err != nil {
		return nil, err
	}
	if o.skipLive {
		return f, nil
	}
	live, err := tx.CallCountLive(ctx, db.CallCountLiveParams{
		OrganizationID: org, Since: now.Add(-s.inFlightTimeout()), ExceptID: o.exceptCall,
	})
	if err != nil {
		return nil, err
	}
	f.busy = int(live)
	if o.countLeased {
		leased, err := tx.TargetCountLeased(ctx, org, now)
		if err != nil {
			return nil, err
		}
		f.busy += int(leased)
	}
	return f, nil
}

// readRecent (re)reads the calls to phones in the 24 hours before now into
// f.recent, leaving out the call except.
func (s *Service) readRecent(ctx context.Context, q *db.Queries, org uuid.UUID, now time.Time, f *facts, phones []string, except uuid.UUID) error {
	calls, err := q.CallListRecentToNumbers(ctx, db.CallListRecentToNumbersParams{
		OrganizationID: org, Phones: phones, Since: now.Add(-24 * time.Hour), ExceptID: except,
		LiveSince: now.Add(-s.inFlightTimeout()),
	})
	if err != nil {
		return err
	}
	for _, p := range phones {
		delete(f.recent, p)
	}
	for _, c := range calls {
		f.recent[c.ToNumber] = append(f.recent[c.ToNumber], priorCall{campaignID: c.CampaignID, at: c.CreatedAt, live: c.InProgress})
	}
	return nil
}

// schedule returns the schedule that governs a call of the campaign (nil:
// a one-off call without one): the campaign's own, else the
// organization's, else the built-in default.
func (f *facts) schedule(campaignID *uuid.UUID) (compliance.Schedule, error) {
	row := f.orgSched
	if campaignID != nil {
		if own, ok := f.schedules[*campaignID]; ok {
			row = &own
		}
	}
	if row == nil {
		return compliance.DefaultSchedule(f.orgTimezone)
	}
	return compliance.NewSchedule(row.Timezone, row.ActiveDays, clockOf(row.StartTime), clockOf(row.EndTime), row.AutoCallEnabled)
}

func clockOf(t pgtype.Time) time.Duration { return time.Duration(t.Microseconds) * time.Microsecond }

// intervalOf converts a Postgres interval (months as 30 days).
func intervalOf(iv pgtype.Interval) time.Duration {
	return time.Duration(iv.Microseconds)*time.Microsecond +
		time.Duration(iv.Days)*24*time.Hour + time.Duration(iv.Months)*30*24*time.Hour
}

// input builds compliance's view of one subject.
func (f *facts) input(sub subject, sched compliance.Schedule) compliance.Input {
	zones, _ := compliance.ResolveZone(sub.postalCode, sub.state, sub.phone)
	in := compliance.Input{
		Zones:    zones,
		Schedule: sched,
		OnDNC:    f.dnc[sub.phone],
		Org:      f.org,
	}
	for _, c := range f.recent[sub.phone] {
		same := sub.campaignID != nil && c.campaignID != nil && *c.campaignID == *sub.campaignID
		in.RecentCalls = append(in.RecentCalls, compliance.PriorCall{At: c.at, SameSubject: same, InProgress: c.live})
	}
	if sub.manual {
		in.Schedule.Disabled = false
		return in
	}
	in.Attempts, in.MaxAttempts, in.RetryGap = sub.attempts, sub.maxAttempts, sub.retryGap
	if sub.lastAttemptAt != nil {
		in.LastAttemptAt = *sub.lastAttemptAt
	}
	if sub.startsAt != nil {
		in.CampaignStartsAt = *sub.startsAt
	}
	if sub.endsAt != nil {
		in.CampaignEndsAt = *sub.endsAt
	}
	return in
}

// decide applies every rule to sub at now with busy lines in use.
func (s *Service) decide(now time.Time, sub subject, f *facts, busy int) compliance.Decision {
	if !sub.manual && sub.campaignStatus != "active" {
		return compliance.Decision{Verdict: compliance.Hold, Rule: RuleCampaignNotActive, NextEligibleAt: now,
			Reason: fmt.Sprintf("the campaign is %s, not active", sub.campaignStatus)}
	}
	sched, err := f.schedule(sub.campaignID)
	if err != nil {
		return compliance.Decision{Verdict: compliance.Hold, Rule: RuleScheduleInvalid, NextEligibleAt: now,
			Reason: "the calling schedule cannot be read: " + err.Error()}
	}
	in := f.input(sub, sched)
	in.Org.ActiveCalls = busy
	d := compliance.Decide(now, in)
	if d.Verdict == compliance.Allow && !d.WindowClosesAt.IsZero() && d.WindowClosesAt.Sub(now) < s.windowMargin() {
		// The window closes before a dial could safely leave: decide as at
		// its closing, which holds until the next window (or blocks, when
		// the campaign ends first).
		at := d.WindowClosesAt
		in.Org.ActiveCalls = 0
		later := compliance.Decide(at, in)
		if later.Verdict == compliance.Allow { // cannot happen: the window is closed at that instant
			return d
		}
		if later.Verdict == compliance.Hold {
			later.Reason = fmt.Sprintf("the calling window closes at %s, too soon to start a call: %s",
				at.UTC().Format(time.RFC3339), later.Reason)
		}
		return later
	}
	return d
}

// nextAttempt is when a held target is decided again: its next eligible
// instant, or for a hold on a state rather than on time, the next pass
// (a busy line: concurrency, number.busy) or HoldRecheck later.
func (s *Service) nextAttempt(now time.Time, d compliance.Decision) time.Time {
	if d.NextEligibleAt.After(now) {
		return d.NextEligibleAt
	}
	if d.Rule == compliance.RuleConcurrency || d.Rule == compliance.RuleNumberBusy {
		return now.Add(s.interval())
	}
	return now.Add(s.holdRecheck())
}

// blockStatus is the final status of a blocked target: failed once its
// attempts are used up, skipped otherwise.
func blockStatus(rule string) string {
	if rule == compliance.RuleAttemptsMax {
		return "failed"
	}
	return "skipped"
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
