// Package compliance decides whether a campaign target may be called now:
// allow, hold until a computed instant, or block for good, always with the
// rule that decided and a reason a person can read. It is pure logic, with
// no I/O: the dispatcher gathers the facts (Input) and stores the Decision.
//
// The rules, in the order they are reported when several apply:
//
//	block  org.deleted         the organization is deleted
//	block  dnc                 the number is on the organization's do-not-call list
//	block  attempts.max        the campaign's attempts per target are used up
//	block  campaign.ended      the campaign has ended, or its next window opens after the end
//	hold   org.suspended       the organization is suspended (or of unknown status)
//	hold   credit.exhausted    the credit balance is not positive
//	hold   schedule.no_overlap the windows never meet in the next 8 days (re-check in 24 h)
//	hold   campaign.not_started
//	hold   schedule.disabled   automatic calling is switched off
//	hold   retry.gap           too soon after the last attempt
//	hold   frequency.florida   3 calls on the same subject in 24 h to a Florida recipient
//	hold   frequency.24h       3 calls to the number in 24 h, across campaigns
//	hold   window.federal      outside 08:00–21:00 in one of the recipient's zones
//	hold   window.florida      outside 08:00–20:00 for a Florida recipient
//	hold   schedule.day        not one of the schedule's days (in the schedule's zone)
//	hold   schedule.hours      outside the schedule's hours
//	hold   number.busy         a call to the number is in progress (another campaign's, say)
//	hold   concurrency         the organization's concurrent-call limit is reached
//
// A recipient's location is a set of candidate zones and states (Zones):
// the call must be lawful in every one of them. Only the federal window and
// Florida's rules are modelled; other states' telemarketing laws (several
// set their own hours, frequency caps or Sunday bans) would be further
// StateRules, once counsel confirms which apply to service calls.
package compliance

import (
	"fmt"
	"slices"
	"time"
)

// Verdict is the outcome of a decision (campaign_targets.last_decision).
type Verdict string

// The verdicts.
const (
	Allow Verdict = "allow" // call now
	Hold  Verdict = "hold"  // not now; see NextEligibleAt
	Block Verdict = "block" // never, for this target
)

// Rule codes: stable, stored with each decision
// (campaign_targets.last_decision_rule).
const (
	RuleAllowed            = "allowed"
	RuleOrgDeleted         = "org.deleted"
	RuleDNC                = "dnc"
	RuleAttemptsMax        = "attempts.max"
	RuleCampaignEnded      = "campaign.ended"
	RuleOrgSuspended       = "org.suspended"
	RuleCreditExhausted    = "credit.exhausted"
	RuleCampaignNotStarted = "campaign.not_started"
	RuleScheduleDisabled   = "schedule.disabled"
	RuleRetryGap           = "retry.gap"
	RuleFrequencyFlorida   = "frequency.florida"
	RuleFrequency24h       = "frequency.24h"
	RuleWindowFederal      = "window.federal"
	RuleWindowFlorida      = "window.florida"
	RuleScheduleDay        = "schedule.day"
	RuleScheduleHours      = "schedule.hours"
	RuleScheduleNoOverlap  = "schedule.no_overlap"
	RuleNumberBusy         = "number.busy"
	RuleConcurrency        = "concurrency"
)

// OrgStatus is organizations.status.
type OrgStatus string

// The organization statuses.
const (
	OrgActive    OrgStatus = "active"
	OrgSuspended OrgStatus = "suspended"
	OrgDeleted   OrgStatus = "deleted"
)

// Org holds the organization facts a decision needs.
type Org struct {
	Status           OrgStatus
	CreditBalance    int64 // minor units
	ConcurrencyLimit int   // organizations.call_concurrency_limit; 0 stops calling
	ActiveCalls      int   // calls of the organization in progress now
}

// PriorCall is one call already placed to the target's number.
type PriorCall struct {
	At          time.Time
	SameSubject bool // placed by the same campaign (Florida counts calls per subject)
	InProgress  bool // not ended yet: the line is busy
}

// Input holds the facts about one target.
type Input struct {
	// Zones is where the recipient may be (ResolveZone). Empty or unknown
	// zone names fall back to the strictest assumption.
	Zones Zones
	// Schedule is the campaign's (else the organization's) schedule.
	Schedule Schedule

	OnDNC bool

	Attempts      int           // attempts already made on this target
	MaxAttempts   int           // the campaign's cap; 0 means no cap
	LastAttemptAt time.Time     // zero when never attempted
	RetryGap      time.Duration // the campaign's minimum gap between attempts

	// RecentCalls are the calls placed to this number in the 24 hours
	// before now, by any campaign of the organization. Older entries are
	// ignored.
	RecentCalls []PriorCall

	CampaignStartsAt time.Time // zero: no start
	CampaignEndsAt   time.Time // zero: no end

	Org Org
}

// Decision is the verdict on one target, with the rule that decided it.
type Decision struct {
	Verdict Verdict
	Rule    string
	Reason  string
	// NextEligibleAt, for a hold, is the earliest instant at which every
	// time-bound rule (windows, schedule, retry gap, frequency, campaign
	// start) allows the call: the time to evaluate the target again. A hold
	// on a state (suspension, credit, concurrency) that the time rules
	// would allow now carries now. Zero for allow and block.
	NextEligibleAt time.Time
	// WindowClosesAt, for an allow, is when the calling window closes: a
	// dial queued now must not start after it.
	WindowClosesAt time.Time
}

// Decide applies every rule to one target at instant now.
func Decide(now time.Time, in Input) Decision {
	block := func(rule, reason string) Decision { return Decision{Verdict: Block, Rule: rule, Reason: reason} }

	// Blocks: never call.
	if in.Org.Status == OrgDeleted {
		return block(RuleOrgDeleted, "the organization is deleted")
	}
	if in.OnDNC {
		return block(RuleDNC, "the number is on the organization's do-not-call list")
	}
	if in.MaxAttempts > 0 && in.Attempts >= in.MaxAttempts {
		return block(RuleAttemptsMax, fmt.Sprintf("%d of %d attempts made", in.Attempts, in.MaxAttempts))
	}
	if !in.CampaignEndsAt.IsZero() && !now.Before(in.CampaignEndsAt) {
		return block(RuleCampaignEnded, "the campaign ended at "+in.CampaignEndsAt.UTC().Format(time.RFC3339))
	}

	// Holds, in reporting order. Each time-bound hold says until when.
	type hold struct {
		rule, reason string
		until        time.Time // zero: not time-bound
	}
	var holds []hold
	switch in.Org.Status {
	case OrgActive:
	case OrgSuspended:
		holds = append(holds, hold{rule: RuleOrgSuspended, reason: "the organization is suspended"})
	default:
		holds = append(holds, hold{rule: RuleOrgSuspended, reason: fmt.Sprintf("the organization's status is %q, not active", in.Org.Status)})
	}
	if in.Org.CreditBalance <= 0 {
		holds = append(holds, hold{rule: RuleCreditExhausted, reason: fmt.Sprintf("the credit balance is %d", in.Org.CreditBalance)})
	}
	if now.Before(in.CampaignStartsAt) {
		holds = append(holds, hold{rule: RuleCampaignNotStarted, reason: "the campaign starts at " + in.CampaignStartsAt.UTC().Format(time.RFC3339), until: in.CampaignStartsAt})
	}
	if in.Schedule.Disabled {
		holds = append(holds, hold{rule: RuleScheduleDisabled, reason: "automatic calling is switched off in the schedule"})
	}
	if !in.LastAttemptAt.IsZero() && in.RetryGap > 0 {
		if until := in.LastAttemptAt.Add(in.RetryGap); now.Before(until) {
			holds = append(holds, hold{rule: RuleRetryGap, until: until, reason: fmt.Sprintf(
				"the last attempt was at %s and the campaign waits %s between attempts", in.LastAttemptAt.UTC().Format(time.RFC3339), in.RetryGap)})
		}
	}
	for _, r := range stateRules {
		if r.MaxCallsSameSubject24h > 0 && in.Zones.in(r.State) {
			if until, n := frequencyHold(now, in.RecentCalls, r.MaxCallsSameSubject24h, true); !until.IsZero() {
				holds = append(holds, hold{rule: r.FrequencyRule, until: until, reason: fmt.Sprintf(
					"%d calls on this subject in the last 24 h to a recipient who may be in %s; at most %d (%s)", n, r.State, r.MaxCallsSameSubject24h, r.Citation)})
			}
		}
	}
	if until, n := frequencyHold(now, in.RecentCalls, MaxCallsPerNumber24h, false); !until.IsZero() {
		holds = append(holds, hold{rule: RuleFrequency24h, until: until, reason: fmt.Sprintf(
			"%d calls to this number in the last 24 h across campaigns; at most %d", n, MaxCallsPerNumber24h)})
	}

	// The earliest instant the time-bound holds allow, then the first
	// window at or after it.
	p := newPlan(in.Zones, in.Schedule)
	earliest := now
	for _, h := range holds {
		if h.until.After(earliest) {
			earliest = h.until
		}
	}
	next, ok := p.next(earliest, earliest.Add(searchHorizon))
	if rule, reason := p.violation(now); rule != "" {
		holds = append(holds, hold{rule: rule, reason: reason, until: next})
	}
	if !ok {
		next = earliest.Add(24 * time.Hour) // evaluate again tomorrow
		timeBound := len(holds) == 0 || holds[0].rule != RuleOrgSuspended && holds[0].rule != RuleCreditExhausted
		if timeBound {
			holds = slices.Insert(holds, 0, hold{rule: RuleScheduleNoOverlap, reason: fmt.Sprintf(
				"no calling window in the next %d days: the schedule (%s) never meets the legal window in %s",
				int(searchHorizon/(24*time.Hour)), in.Schedule, p.zoneList())})
		}
	}
	if ok && !in.CampaignEndsAt.IsZero() && !next.Before(in.CampaignEndsAt) {
		return block(RuleCampaignEnded, fmt.Sprintf("the next calling window opens at %s, after the campaign ends at %s",
			next.UTC().Format(time.RFC3339), in.CampaignEndsAt.UTC().Format(time.RFC3339)))
	}
	if len(holds) > 0 {
		return Decision{Verdict: Hold, Rule: holds[0].rule, Reason: holds[0].reason, NextEligibleAt: next}
	}

	// Everything allows a call now; only a free line is missing, perhaps:
	// the recipient's, or one of the organization's.
	for _, c := range in.RecentCalls {
		if c.InProgress {
			return Decision{Verdict: Hold, Rule: RuleNumberBusy, NextEligibleAt: now,
				Reason: "a call to this number started at " + c.At.UTC().Format(time.RFC3339) + " is still in progress"}
		}
	}
	if in.Org.ActiveCalls >= in.Org.ConcurrencyLimit {
		return Decision{Verdict: Hold, Rule: RuleConcurrency, NextEligibleAt: now, Reason: fmt.Sprintf(
			"%d of %d concurrent calls in progress", in.Org.ActiveCalls, in.Org.ConcurrencyLimit)}
	}
	return Decision{Verdict: Allow, Rule: RuleAllowed, Reason: "every rule allows the call", WindowClosesAt: p.closes(now)}
}

// frequencyHold returns when the number of calls in the rolling 24 hours
// drops below limit, and the count now, or a zero time when it already is
// below. With sameSubject only calls on the same subject count.
func frequencyHold(now time.Time, calls []PriorCall, limit int, sameSubject bool) (time.Time, int) {
	since := now.Add(-24 * time.Hour)
	var at []time.Time
	for _, c := range calls {
		if c.At.After(since) && (!sameSubject || c.SameSubject) {
			at = append(at, c.At)
		}
	}
	if len(at) < limit {
		return time.Time{}, len(at)
	}
	// The count falls below limit once the (n-limit+1)th oldest call is 24 h old.
	slices.SortFunc(at, time.Time.Compare)
	return at[len(at)-limit].Add(24 * time.Hour), len(at)
}

func (p *plan) zoneList() string {
	s := fmt.Sprint(p.zoneNames)
	return s[1 : len(s)-1]
}
