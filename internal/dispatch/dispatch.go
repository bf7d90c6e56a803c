// Package dispatch places calls: the scheduler decides, under the
// compliance rules, which campaign targets may be called now, and the dial
// job calls each one exactly once in effect.
//
// # The scheduler
//
// A River periodic job (ScheduleArgs, every Interval, 30 s by default) and
// the same job enqueued by a campaign's launch or resume run a pass (Pass):
//
//  1. The privileged function dispatch_due_targets lists due targets across
//     tenants, fairly: at most PerOrgLimit per organization, interleaved
//     round-robin and cut at PassLimit, so one large tenant cannot starve
//     the others.
//  2. For each organization, inside its own tenant transaction, the pass
//     gathers every fact compliance.Decide needs in a handful of batched
//     reads (the organization's status, credit and concurrency; the calls
//     in flight; the schedules; the DNC list; the calls to each number in
//     the last 24 hours), decides every target and stores every decision
//     in one statement (campaign_targets.last_decision, _rule, _reason,
//     _at). A hold sets next_attempt_at to the next eligible instant; a
//     block ends the target (failed after its last attempt, skipped
//     otherwise, with the rule as skip_reason).
//  3. Allowed targets get a dial job (DialArgs) in the same transaction,
//     and a lease: next_attempt_at moves DialLease ahead, so the next pass
//     does not decide them again while their job waits. Dial jobs are
//     unique per target and attempt while waiting or running.
//
// # The dial job (DESIGN.md §3: effectively once)
//
//  1. Claim: in one transaction the job re-checks every rule (time has
//     passed since the pass) under a per-organization lock that makes the
//     concurrency limit, the per-number caps and "one call at a time to a
//     number" exact, moves the target to dialing, counts the
//     attempt (only at the attempt it was enqueued for) and writes the call
//     row (status dialing, dial_claimed_at set) with our call id.
//  2. Dial: the provider gets our call id in the call's metadata.
//  3. Record: the provider's call id, the target in_call and the job's
//     completion (river.JobCompleteTx) commit in one transaction.
//  4. A run that finds its target dialing with a call that has no provider
//     id reconciles first: it waits ReconcileGrace for the webhook, then
//     asks the provider (Finder.FindByCallID). A call the provider has is
//     recorded; one it does not have was never placed, so the rules are
//     checked again and the same call id is dialled again. It never dials
//     blind. Without a Finder, a dial whose outcome stays unknown for
//     UnknownOutcomeAfter counts as an attempt and the target is retried
//     after the campaign's gap.
//
// A provider error that certainly placed no call (refused connection,
// 429, a 4xx other than invalid) gives the attempt back and holds the
// target (rule dial.provider_error); a request the provider refuses as
// invalid fails the target (rule dial.rejected); an uncertain one (lost
// response, 5xx) reconciles.
//
// # One-off calls
//
// PlaceCall (POST /api/v1/calls) calls a service record's customer once,
// outside any campaign's targets: the call row itself is the unit of work.
// The request is decided at once under the same rules (a hold or block is
// refused with the rule, the reason and the next eligible time), the call
// row is written unclaimed and a dial job enqueued in the same transaction;
// the job claims the call (dial_claimed_at), re-checks the rules, and then
// dials, records and reconciles exactly like a target's. See PlaceCall.
//
// Package campaign imports this package (for ScheduleArgs), so the
// campaign lifecycle steps the scheduler needs are injected as functions
// (Service.ActivateDue, Service.CompleteIfDone) and the schedules are read
// through this package's own queries.
package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/voice"
)

// JobInserter enqueues River jobs inside the caller's transaction;
// *river.Client[pgx.Tx] is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Defaults of the Service's tunables.
const (
	DefaultInterval            = 30 * time.Second
	MinInterval                = 15 * time.Second
	MaxInterval                = 60 * time.Second
	DefaultPerOrgLimit         = 500
	DefaultPassLimit           = 5000
	DefaultDialLease           = 5 * time.Minute
	DefaultReconcileGrace      = time.Minute
	DefaultUnknownOutcomeAfter = 10 * time.Minute
	DefaultDialRetryDelay      = time.Minute
	DefaultHoldRecheck         = 5 * time.Minute
	DefaultInFlightTimeout     = 2 * time.Hour
	DefaultWindowMargin        = time.Minute
	DefaultStaleClaimAfter     = 15 * time.Minute
	DefaultProviderName        = "vapi"
)

// Rule codes the dispatcher stores besides compliance's.
const (
	// RuleCampaignNotActive: the target's campaign is not active (paused,
	// or scheduled and not started); the target waits.
	RuleCampaignNotActive = "campaign.not_active"
	// RuleScheduleInvalid: the stored schedule cannot be read (a bad time
	// zone); nothing is called until it is fixed.
	RuleScheduleInvalid = "schedule.invalid"
	// RuleDialProviderError: the provider failed without placing the call;
	// the attempt was given back and the target waits.
	RuleDialProviderError = "dial.provider_error"
	// RuleDialRejected: the provider refused the request as invalid; the
	// target failed.
	RuleDialRejected = "dial.rejected"
	// RuleDialOutcomeUnknown: nothing tells whether the dial placed a call
	// (no webhook, no way to ask); the attempt counts.
	RuleDialOutcomeUnknown = "dial.outcome_unknown"
)

// Service schedules and places calls.
//
// Wiring: DB, Provider and Jobs (the River client) are required; Finder
// should be the same Vapi client as Provider (it reconciles dials whose
// response was lost); ActivateDue and CompleteIfDone should be
// campaign.ActivateDueTx and campaign.CompleteIfDoneTx. Register the
// workers with RegisterWorkers and the periodic pass with PeriodicJobs.
// The zero values of the tunables mean their defaults.
type Service struct {
	DB       *postgres.DB
	Provider voice.Provider
	// Finder finds a call by our call id at the provider; nil means a dial
	// with an uncertain outcome waits for the webhook, then counts as an
	// attempt (see UnknownOutcomeAfter).
	Finder voice.Finder
	// ProviderName is stored in calls.provider (default "vapi").
	ProviderName string
	// Jobs enqueues dial jobs in the transaction that allows them.
	Jobs JobInserter
	// Metrics counts placed calls; nil records nothing.
	Metrics *metrics.Metrics
	// Log receives what the scheduler and the dial jobs decide; nil
	// discards.
	Log *slog.Logger
	// Now is the clock of every decision (default time.Now). River's own
	// timing (snoozes, retries) stays on the real clock.
	Now func() time.Time

	// Interval is the scheduler's period (default 30 s, clamped to
	// 15–60 s). A pass works at most this long.
	Interval time.Duration
	// PerOrgLimit caps the targets one organization contributes to one
	// batch of a pass (default 500); PassLimit caps a batch (default 5000).
	PerOrgLimit, PassLimit int
	// DialLease is how long an allowed target waits for its dial job
	// before a pass may decide it again (default 5 min).
	DialLease time.Duration
	// ReconcileGrace is how long after a claim a run waits for the
	// webhook before it asks the provider about a dial whose response was
	// lost (default 1 min; keep it above the provider client's timeout).
	ReconcileGrace time.Duration
	// UnknownOutcomeAfter bounds the wait for a webhook when there is no
	// Finder (default 10 min).
	UnknownOutcomeAfter time.Duration
	// DialRetryDelay is the least wait after a provider error that placed
	// no call (default 1 min; the provider's Retry-After wins when longer).
	DialRetryDelay time.Duration
	// HoldRecheck is when a target held by a state rather than by time
	// (suspended organization, no credit, automatic calling off) is
	// decided again (default 5 min). Targets held by the concurrency limit
	// or by a call to their number in progress are decided again at the
	// next pass.
	HoldRecheck time.Duration
	// InFlightTimeout: a call not ended after this long no longer counts
	// against the concurrency limit, so a lost end-of-call report cannot
	// stop an organization's calling for good (default 2 h).
	InFlightTimeout time.Duration
	// WindowMargin: a call is not started when its calling window closes
	// sooner than this (default 1 min), so a dial never leaves after the
	// window has closed.
	WindowMargin time.Duration
	// StaleClaimAfter: a target still dialing (or a call placed by hand
	// still unplaced) this long after its claim gets its dial job enqueued
	// again by the next pass, in case the job was lost (default 15 min).
	StaleClaimAfter time.Duration

	// ActivateDue starts the organization's scheduled campaigns whose start
	// has come, inside the pass's tenant transaction (campaign.ActivateDueTx).
	// Nil leaves scheduled campaigns to someone else.
	ActivateDue func(ctx context.Context, tx *postgres.Tx, now time.Time) ([]uuid.UUID, error)
	// CompleteIfDone completes a campaign left without open targets, after
	// the dispatcher ended some (campaign.CompleteIfDoneTx). Nil skips it.
	CompleteIfDone func(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) (bool, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) providerName() string {
	if s.ProviderName != "" {
		return s.ProviderName
	}
	return DefaultProviderName
}

// interval returns the scheduler's period, clamped to 15–60 s.
func (s *Service) interval() time.Duration { return ClampInterval(s.Interval) }

// ClampInterval returns the scheduler period for a configured value: the
// default for zero, else the value clamped to MinInterval–MaxInterval.
func ClampInterval(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultInterval
	}
	return min(max(d, MinInterval), MaxInterval)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (s *Service) perOrgLimit() int { return orDefault(s.PerOrgLimit, DefaultPerOrgLimit) }

func (s *Service) passLimit() int { return orDefault(s.PassLimit, DefaultPassLimit) }

func (s *Service) dialLease() time.Duration { return orDefault(s.DialLease, DefaultDialLease) }

func (s *Service) reconcileGrace() time.Duration {
	return orDefault(s.ReconcileGrace, DefaultReconcileGrace)
}

func (s *Service) unknownAfter() time.Duration {
	return orDefault(s.UnknownOutcomeAfter, DefaultUnknownOutcomeAfter)
}

func (s *Service) dialRetryDelay() time.Duration {
	return orDefault(s.DialRetryDelay, DefaultDialRetryDelay)
}

func (s *Service) holdRecheck() time.Duration { return orDefault(s.HoldRecheck, DefaultHoldRecheck) }

func (s *Service) inFlightTimeout() time.Duration {
	return orDefault(s.InFlightTimeout, DefaultInFlightTimeout)
}

func (s *Service) windowMargin() time.Duration { return orDefault(s.WindowMargin, DefaultWindowMargin) }

func (s *Service) staleClaimAfter() time.Duration {
	return orDefault(s.StaleClaimAfter, DefaultStaleClaimAfter)
}
