package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/voice"
)

// notPlaced prefixes calls.ended_reason of a call row whose dial certainly
// placed no call: such rows are not calls for the 24-hour caps nor the
// retry gap.
const notPlaced = "not-placed: "

// findMargin widens the provider search before the claim, for clock skew.
const findMargin = time.Minute

// attempt is one claimed dial: a call row of ours that may or may not have
// reached the provider.
type attempt struct {
	org       uuid.UUID
	callID    uuid.UUID
	targetID  uuid.UUID // uuid.Nil for a one-off call
	number    int       // the target's attempts counting this one
	claimedAt time.Time
	req       *voice.DialRequest // built in the claim's transaction; nil: place reads it
}

// step is what the claim phase leaves to do.
type step int

const (
	stepDone      step = iota // nothing left (or already done in the claim's transaction)
	stepDial                  // freshly claimed: dial
	stepReconcile             // claimed earlier, no provider id: reconcile before anything
)

// dial runs a dial job.
func (s *Service) dial(ctx context.Context, job *river.Job[DialArgs]) error {
	a := job.Args
	var (
		st  step
		att attempt
		err error
	)
	if a.CallID != uuid.Nil {
		st, att, err = s.claimCall(ctx, job)
	} else {
		st, att, err = s.claimTarget(ctx, job)
	}
	if err != nil {
		return err
	}
	switch st {
	case stepDial:
		return s.place(ctx, job, att)
	case stepReconcile:
		return s.reconcile(ctx, job, att)
	case stepDone:
	}
	return nil
}

// claimTarget claims a campaign target for attempt job.Args.Attempt, or
// finds the claim of an earlier run.
func (s *Service) claimTarget(ctx context.Context, job *river.Job[DialArgs]) (step, attempt, error) {
	a := job.Args
	st, att := stepDone, attempt{org: a.OrganizationID, targetID: a.TargetID}
	err := s.DB.InTenant(ctx, a.OrganizationID, func(tx *postgres.Tx) error {
		st = stepDone
		t, err := tx.TargetGetForDial(ctx, a.OrganizationID, a.TargetID)
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			return nil // the target is gone
		}
		if err != nil {
			return err
		}
		switch {
		case (t.Status == "pending" || t.Status == "retry") && int(t.Attempts) == a.Attempt-1:
			now := s.now()
			dc, err := tx.DialContextGet(ctx, db.DialContextGetParams{
				OrganizationID: a.OrganizationID, CampaignID: &t.CampaignID, CustomerID: &t.CustomerID, ServiceRecordID: t.ServiceRecordID,
			})
			if err != nil {
				return err
			}
			sub := subjectOfTarget(t)
			f, err := s.gather(ctx, tx, now, []subject{sub}, gatherOpts{skipLive: true})
			if err != nil {
				return err
			}
			// Every rule but the concurrency limit first.
			d := s.decide(now, sub, f, 0)
			if d.Verdict != compliance.Allow {
				return s.recordTargetDecision(ctx, tx, t.ID, t.Status, t.CampaignID, now, d)
			}
			// Claim, then check the limit under the organization's claim
			// lock, and undo the claim if it is reached: the lock is held
			// only for the count and the commit, so claims of one
			// organization queue behind each other for two round trips.
			callID := uuid.Must(uuid.NewV7())
			n, d, err := s.claimUnderLock(ctx, tx, t, a.Attempt, sub, f, callID, now, d)
			if err != nil {
				return err
			}
			if n == 0 { // a line is busy: the claim was undone
				return s.recordTargetDecision(ctx, tx, t.ID, t.Status, t.CampaignID, now, d)
			}
			req := dialRequest(a.OrganizationID, callID, t.Phone, &t.CampaignID, &t.ID, dc)
			st, att.callID, att.number, att.claimedAt, att.req = stepDial, callID, n, now, &req
			return nil

		case t.Status == "dialing" && int(t.Attempts) == a.Attempt:
			// An earlier run claimed this attempt; find its call.
			c, err := tx.CallGetLatestForTarget(ctx, a.OrganizationID, t.ID)
			if err != nil && !fault.Is(postgres.Translate(err), fault.NotFound) {
				return err
			}
			att.callID, att.number = c.ID, int(t.Attempts)
			switch {
			case err == nil && c.ProviderCallID != nil:
				// A webhook already told us the provider's id.
				return s.recordTx(ctx, tx, job, att, *c.ProviderCallID)
			case err != nil || c.DialClaimedAt == nil || c.Status != "dialing":
				// No live claim behind the status: give the attempt back.
				now := s.now()
				_, err := tx.TargetReleaseDial(ctx, db.TargetReleaseDialParams{
					CallID: c.ID, NextAttemptAt: now, Rule: RuleDialProviderError, DecidedAt: now,
					Reason:         "the target was left dialing without a call in progress; it waits again",
					OrganizationID: a.OrganizationID, ID: t.ID, Attempts: t.Attempts,
				})
				return err
			}
			att.claimedAt = *c.DialClaimedAt
			st = stepReconcile
			return nil
		}
		return nil // settled, or claimed for another attempt
	})
	return st, att, err
}

// claimUnderLock claims target t for attempt and writes its call row in a
// savepoint, then takes the organization's claim lock, reads again the
// calls to the number and counts the calls in flight besides this one, and
// decides again: when a line is busy (the organization's limit, the
// number's 24-hour cap, a call to the number in progress) it rolls the
// savepoint back. It returns the target's attempts after the claim (0 when
// undone) and the decision under the lock. d is the decision before it.
func (s *Service) claimUnderLock(ctx context.Context, tx *postgres.Tx, t db.TargetGetForDialRow, attempt int, sub subject, f *facts, callID uuid.UUID, now time.Time, d compliance.Decision) (int, compliance.Decision, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, d, err
	}
	defer sp.Rollback(ctx) //nolint:errcheck // a no-op once released
	q := tx.WithTx(sp)
	n, err := q.TargetClaimForDial(ctx, db.TargetClaimForDialParams{
		Now: now, Rule: d.Rule, Reason: d.Reason, OrganizationID: tx.Org, ID: t.ID,
		AttemptsBefore: int32(attempt - 1), //nolint:gosec // attempts ≤ 10
	})
	if err != nil {
		return 0, d, err
	}
	if _, err := q.CallInsertForDial(ctx, db.CallInsertForDialParams{
		OrganizationID: tx.Org, ID: callID, CampaignID: &t.CampaignID, TargetID: &t.ID,
		ServiceRecordID: t.ServiceRecordID, CustomerID: &t.CustomerID, ToNumber: &t.Phone,
		Provider: s.providerName(), DialClaimedAt: &now, Now: now,
	}); err != nil {
		return 0, d, err
	}
	if err := q.DispatchLockClaims(ctx, tx.Org); err != nil {
		return 0, d, err
	}
	if err := s.readRecent(ctx, q, tx.Org, now, f, []string{sub.phone}, callID); err != nil {
		return 0, d, err
	}
	live, err := q.CallCountLive(ctx, db.CallCountLiveParams{
		OrganizationID: tx.Org, Since: now.Add(-s.inFlightTimeout()), ExceptID: callID,
	})
	if err != nil {
		return 0, d, err
	}
	if d = s.decide(now, sub, f, int(live)); d.Verdict != compliance.Allow {
		return 0, d, sp.Rollback(ctx)
	}
	return int(n), d, sp.Commit(ctx)
}

// subjectOfTarget is the subject of a campaign target, as TargetGetForDial
// (and TargetListForDecision, whose columns are the same) read it.
func subjectOfTarget(t db.TargetGetForDialRow) subject {
	campaignID := t.CampaignID
	return subject{
		id: t.ID, campaignID: &campaignID, campaignStatus: t.CampaignStatus, phone: t.Phone,
		postalCode: deref(t.PostalCode), state: deref(t.State),
		attempts: int(t.Attempts), maxAttempts: int(t.MaxAttempts), lastAttemptAt: t.LastAttemptAt,
		retryGap: intervalOf(t.RetryGap), startsAt: t.StartsAt, endsAt: t.EndsAt,
	}
}

// recordTargetDecision stores a decision on a waiting target that may not
// be called now.
func (s *Service) recordTargetDecision(ctx context.Context, tx *postgres.Tx, id uuid.UUID, status string, campaignID uuid.UUID, now time.Time, d compliance.Decision) error {
	p := db.TargetRecordDecisionParams{
		Status: status, Verdict: string(d.Verdict), Rule: d.Rule, Reason: d.Reason, DecidedAt: now,
		OrganizationID: tx.Org, ID: id,
	}
	if d.Verdict == compliance.Block {
		p.Status, p.SkipReason = blockStatus(d.Rule), &d.Rule
	} else {
		next := s.nextAttempt(now, d)
		p.NextAttemptAt = &next
	}
	if _, err := tx.TargetRecordDecision(ctx, p); err != nil {
		return err
	}
	if d.Verdict == compliance.Block {
		return s.completeIfDone(ctx, tx, campaignID)
	}
	return nil
}

// claimCall claims a one-off call, or finds the claim of an earlier run.
func (s *Service) claimCall(ctx context.Context, job *river.Job[DialArgs]) (step, attempt, error) {
	a := job.Args
	st, att := stepDone, attempt{org: a.OrganizationID, callID: a.CallID}
	err := s.DB.InTenant(ctx, a.OrganizationID, func(tx *postgres.Tx) error {
		st = stepDone
		c, err := tx.CallGetForDial(ctx, a.OrganizationID, a.CallID)
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case c.ProviderCallID != nil:
			if c.DialClaimedAt != nil {
				att.claimedAt = *c.DialClaimedAt
			}
			return s.recordTx(ctx, tx, job, att, *c.ProviderCallID)
		case c.Status != "dialing":
			return nil // failed or otherwise settled
		case c.DialClaimedAt != nil:
			att.claimedAt = *c.DialClaimedAt
			st = stepReconcile
			return nil
		}
		now := s.now()
		sub, err := oneOffSubject(ctx, tx, c)
		if err != nil {
			return err
		}
		f, err := s.gather(ctx, tx, now, []subject{sub}, gatherOpts{exceptCall: c.ID, lockClaims: true})
		if err != nil {
			return err
		}
		if d := s.decide(now, sub, f, f.busy); d.Verdict != compliance.Allow {
			_, err := tx.CallFailDial(ctx, db.CallFailDialParams{
				Reason: notPlaced + d.Rule + ": " + d.Reason, Now: now, OrganizationID: a.OrganizationID, ID: c.ID,
			})
			s.log().InfoContext(ctx, "one-off call not placed", "organization_id", a.OrganizationID, "call_id", c.ID, "rule", d.Rule)
			return err
		}
		n, err := tx.CallClaimForDial(ctx, db.CallClaimForDialParams{Now: now, OrganizationID: a.OrganizationID, ID: c.ID})
		if err != nil || n == 0 {
			return err
		}
		st, att.claimedAt = stepDial, now
		return nil
	})
	return st, att, err
}

// oneOffSubject is the subject of a call placed by hand.
func oneOffSubject(ctx context.Context, tx *postgres.Tx, c db.Call) (subject, error) {
	sub := subject{id: c.ID, campaignID: c.CampaignID, phone: deref(c.ToNumber), manual: true}
	if c.CustomerID != nil {
		z, err := tx.CustomerZoneGet(ctx, tx.Org, *c.CustomerID)
		if err != nil && !fault.Is(postgres.Translate(err), fault.NotFound) {
			return sub, err
		}
		sub.postalCode, sub.state = deref(z.PostalCode), deref(z.State)
	}
	return sub, nil
}

// reconcile settles a claimed dial whose provider id is unknown: it waits
// for the webhook, then asks the provider, and dials again only when the
// provider has no such call.
func (s *Service) reconcile(ctx context.Context, job *river.Job[DialArgs], att attempt) error {
	now := s.now()
	age := now.Sub(att.claimedAt)
	if grace := s.reconcileGrace(); age < grace {
		return river.JobSnooze(grace - age)
	}
	if s.Finder == nil {
		if wait := s.unknownAfter(); age < wait {
			return river.JobSnooze(wait - age)
		}
		return s.settleUnknown(ctx, job, att)
	}
	st, err := s.Finder.FindByCallID(ctx, att.callID, att.claimedAt.Add(-findMargin))
	switch {
	case err == nil:
		s.log().InfoContext(ctx, "dial reconciled: the provider has the call", "organization_id", att.org,
			"call_id", att.callID, "provider_call_id", st.ProviderCallID)
		return s.record(ctx, job, att, st.ProviderCallID)
	case errors.Is(err, voice.ErrNotFound):
		s.log().InfoContext(ctx, "dial reconciled: the provider has no such call; dialing again", "organization_id", att.org, "call_id", att.callID)
		return s.redial(ctx, job, att)
	}
	return fmt.Errorf("reconcile call %s: %w", att.callID, err)
}

// redial dials a claimed call again after the provider said it has no
// such call: the rules are checked again first (time has passed).
func (s *Service) redial(ctx context.Context, job *river.Job[DialArgs], att attempt) error {
	again := false
	err := s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error {
		again = false
		c, err := tx.CallGetForDial(ctx, att.org, att.callID)
		if err != nil {
			return err
		}
		if c.ProviderCallID != nil {
			return s.recordTx(ctx, tx, job, att, *c.ProviderCallID)
		}
		if c.Status != "dialing" {
			return nil
		}
		now := s.now()
		var sub subject
		if att.targetID != uuid.Nil {
			t, err := tx.TargetGetForDial(ctx, att.org, att.targetID)
			if err != nil {
				return err
			}
			if t.Status != "dialing" || int(t.Attempts) != att.number {
				return nil
			}
			sub = subjectOfTarget(t)
			sub.attempts-- // this attempt has not happened yet
			if sub.lastAttemptAt, err = previousAttempt(ctx, tx, att); err != nil {
				return err
			}
		} else if sub, err = oneOffSubject(ctx, tx, c); err != nil {
			return err
		}
		f, err := s.gather(ctx, tx, now, []subject{sub}, gatherOpts{exceptCall: att.callID, lockClaims: true})
		if err != nil {
			return err
		}
		if d := s.decide(now, sub, f, f.busy); d.Verdict != compliance.Allow {
			return s.releaseTx(ctx, tx, att, now, d)
		}
		n, err := tx.CallRenewClaim(ctx, db.CallRenewClaimParams{Now: now, OrganizationID: att.org, ID: att.callID})
		if err != nil || n == 0 {
			return err
		}
		att.claimedAt, again = now, true
		return nil
	})
	if err != nil || !again {
		return err
	}
	return s.place(ctx, job, att)
}

// previousAttempt is the time of the target's last call that reached the
// provider, before this attempt.
func previousAttempt(ctx context.Context, tx *postgres.Tx, att attempt) (*time.Time, error) {
	at, err := tx.CallLastPlacedForTarget(ctx, db.CallLastPlacedForTargetParams{
		OrganizationID: att.org, TargetID: att.targetID, ExceptID: att.callID,
	})
	if fault.Is(postgres.Translate(err), fault.NotFound) {
		return nil, nil //nolint:nilnil // no earlier call is a normal answer
	}
	if err != nil {
		return nil, err
	}
	return &at, nil
}

// place builds the dial request, dials, and records or settles the result.
func (s *Service) place(ctx context.Context, job *river.Job[DialArgs], att attempt) error {
	if att.req == nil {
		err := s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error {
			c, err := tx.CallGetForDial(ctx, att.org, att.callID)
			if err != nil {
				return err
			}
			dc, err := tx.DialContextGet(ctx, db.DialContextGetParams{
				OrganizationID: att.org, CampaignID: c.CampaignID, CustomerID: c.CustomerID, ServiceRecordID: c.ServiceRecordID,
			})
			if err != nil {
				return err
			}
			req := dialRequest(att.org, c.ID, deref(c.ToNumber), c.CampaignID, c.TargetID, dc)
			att.req = &req
			return nil
		})
		if err != nil {
			return err
		}
	}
	res, err := s.Provider.Dial(ctx, *att.req)
	if err == nil {
		return s.record(ctx, job, att, res.ProviderCallID)
	}
	var verr *voice.Error
	switch {
	case errors.Is(err, voice.ErrUncertain) || !errors.As(err, &verr):
		// The call may exist: never dial again without asking.
		s.log().WarnContext(ctx, "dial outcome unknown; reconciling", "organization_id", att.org, "call_id", att.callID, "err", err)
		return river.JobSnooze(s.reconcileGrace())
	case errors.Is(err, voice.ErrInvalidRequest):
		return s.reject(ctx, att, err)
	}
	// Certainly not placed: retryable (429, refused connection), refused
	// credentials or another 4xx. Give the attempt back.
	delay := max(s.dialRetryDelay(), voice.RetryAfter(err))
	if errors.Is(err, voice.ErrUnauthorized) {
		delay = max(delay, s.holdRecheck())
		s.log().ErrorContext(ctx, "the voice provider refuses our credentials", "organization_id", att.org, "err", err)
	}
	now := s.now()
	d := compliance.Decision{Verdict: compliance.Hold, Rule: RuleDialProviderError, NextEligibleAt: now.Add(delay),
		Reason: "the provider failed without placing the call: " + clip(err.Error(), 500)}
	return s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error { return s.releaseTx(ctx, tx, att, now, d) })
}

// releaseTx ends a claimed call that placed no call and gives the target's
// attempt back, held by d.
func (s *Service) releaseTx(ctx context.Context, tx *postgres.Tx, att attempt, now time.Time, d compliance.Decision) error {
	if _, err := tx.CallFailDial(ctx, db.CallFailDialParams{
		Reason: notPlaced + d.Rule + ": " + d.Reason, Now: now, OrganizationID: att.org, ID: att.callID,
	}); err != nil {
		return err
	}
	if att.targetID == uuid.Nil {
		return nil
	}
	if d.Verdict == compliance.Block {
		rule := d.Rule
		_, err := tx.TargetSettleDial(ctx, db.TargetSettleDialParams{
			Status: blockStatus(d.Rule), SkipReason: &rule, Verdict: string(d.Verdict), Rule: d.Rule, Reason: d.Reason,
			DecidedAt: now, OrganizationID: att.org, ID: att.targetID, Attempts: int32(att.number), //nolint:gosec // ≤ 10
		})
		return err
	}
	_, err := tx.TargetReleaseDial(ctx, db.TargetReleaseDialParams{
		CallID: att.callID, NextAttemptAt: s.nextAttempt(now, d), Rule: d.Rule, Reason: d.Reason, DecidedAt: now,
		OrganizationID: att.org, ID: att.targetID, Attempts: int32(att.number), //nolint:gosec // ≤ 10
	})
	return err
}

// reject fails a dial the provider refused as invalid: retrying the same
// request cannot help.
func (s *Service) reject(ctx context.Context, att attempt, cause error) error {
	now := s.now()
	reason := "the provider refused the call request: " + clip(cause.Error(), 500)
	s.log().ErrorContext(ctx, "dial rejected", "organization_id", att.org, "call_id", att.callID, "err", cause)
	return s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error {
		if _, err := tx.CallFailDial(ctx, db.CallFailDialParams{
			Reason: notPlaced + RuleDialRejected + ": " + reason, Now: now, OrganizationID: att.org, ID: att.callID,
		}); err != nil {
			return err
		}
		if att.targetID == uuid.Nil {
			return nil
		}
		rule := RuleDialRejected
		n, err := tx.TargetSettleDial(ctx, db.TargetSettleDialParams{
			Status: "failed", SkipReason: &rule, Verdict: string(compliance.Block), Rule: rule, Reason: reason,
			DecidedAt: now, OrganizationID: att.org, ID: att.targetID, Attempts: int32(att.number), //nolint:gosec // ≤ 10
		})
		if err != nil || n == 0 {
			return err
		}
		return s.completeTargetCampaign(ctx, tx, att.targetID)
	})
}

// settleUnknown ends a dial whose outcome stayed unknown (no webhook, no
// Finder): the attempt counts, and the target is retried after the
// campaign's gap while attempts remain.
func (s *Service) settleUnknown(ctx context.Context, job *river.Job[DialArgs], att attempt) error {
	now := s.now()
	reason := "no webhook arrived and the provider cannot be asked; the attempt counts"
	return s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error {
		c, err := tx.CallGetForDial(ctx, att.org, att.callID)
		if err != nil {
			return err
		}
		if c.ProviderCallID != nil {
			return s.recordTx(ctx, tx, job, att, *c.ProviderCallID)
		}
		if _, err := tx.CallFailDial(ctx, db.CallFailDialParams{
			Reason: "dial-outcome-unknown", Now: now, OrganizationID: att.org, ID: att.callID,
		}); err != nil {
			return err
		}
		if att.targetID == uuid.Nil {
			return nil
		}
		t, err := tx.TargetGetForDial(ctx, att.org, att.targetID)
		if err != nil {
			return err
		}
		p := db.TargetSettleDialParams{
			Status: "retry", Verdict: string(compliance.Hold), Rule: RuleDialOutcomeUnknown, Reason: reason,
			DecidedAt: now, OrganizationID: att.org, ID: att.targetID, Attempts: int32(att.number), //nolint:gosec // ≤ 10
		}
		if att.number >= int(t.MaxAttempts) {
			rule := compliance.RuleAttemptsMax
			p.Status, p.Verdict, p.SkipReason = "failed", string(compliance.Block), &rule
		} else {
			next := now.Add(intervalOf(t.RetryGap))
			p.NextAttemptAt = &next
		}
		if _, err := tx.TargetSettleDial(ctx, p); err != nil {
			return err
		}
		if p.Status == "failed" {
			return s.completeIfDone(ctx, tx, t.CampaignID)
		}
		return nil
	})
}

func (s *Service) completeTargetCampaign(ctx context.Context, tx *postgres.Tx, targetID uuid.UUID) error {
	if s.CompleteIfDone == nil {
		return nil
	}
	t, err := tx.TargetGetForDial(ctx, tx.Org, targetID)
	if err != nil {
		return err
	}
	return s.completeIfDone(ctx, tx, t.CampaignID)
}

// record stores the provider's call id, moves the target in_call and
// completes the job, in one transaction.
func (s *Service) record(ctx context.Context, job *river.Job[DialArgs], att attempt, providerCallID string) error {
	err := s.DB.InTenant(ctx, att.org, func(tx *postgres.Tx) error {
		return s.recordTx(ctx, tx, job, att, providerCallID)
	})
	if err != nil {
		return err
	}
	s.Metrics.CallDialed(s.providerName())
	return nil
}

func (s *Service) recordTx(ctx context.Context, tx *postgres.Tx, job *river.Job[DialArgs], att attempt, providerCallID string) error {
	stored, err := tx.CallRecordProviderID(ctx, db.CallRecordProviderIDParams{
		ProviderCallID: providerCallID, OrganizationID: att.org, ID: att.callID,
	})
	if err != nil {
		return err
	}
	if stored != providerCallID {
		s.log().WarnContext(ctx, "the call already has another provider id", "organization_id", att.org,
			"call_id", att.callID, "stored", stored, "dialed", providerCallID)
	}
	if att.targetID != uuid.Nil {
		if _, err := tx.TargetMarkDialed(ctx, db.TargetMarkDialedParams{
			OrganizationID: att.org, ID: att.targetID, Attempts: int32(att.number), //nolint:gosec // ≤ 10
		}); err != nil {
			return err
		}
	}
	_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx.Tx, job)
	return err
}

// agentConfig is campaigns.agent_config as package campaign writes it
// (campaign.AgentConfig).
type agentConfig struct {
	AssistantID  string            `json:"assistant_id"`
	Prompt       string            `json:"prompt"`
	FirstMessage string            `json:"first_message"`
	Variables    map[string]string `json:"variables"`
	Disclosure   string            `json:"disclosure"`
}

// DefaultDisclosure is said first on a call whose campaign gives no
// disclosure (a one-off call without a campaign): it identifies the
// caller, says the caller is an automated assistant, and that the call is
// recorded. Campaigns default to the same text.
func DefaultDisclosure(orgName string) string {
	return "Hello, this is an automated assistant calling on behalf of " + strings.TrimSpace(orgName) +
		". This call is recorded for quality and training purposes."
}

// dialRequest builds the provider request of a call: the campaign's agent
// (an assistant id, else its prompt and first message; a one-off call
// without a campaign uses the provider's default assistant), its
// disclosure, and variables from the customer, vehicle and service record
// (the campaign's own variables win on the same name).
func dialRequest(org, callID uuid.UUID, to string, campaignID, targetID *uuid.UUID, r db.DialContextGetRow) voice.DialRequest {
	var agent agentConfig
	if len(r.AgentConfig) > 0 {
		_ = json.Unmarshal(r.AgentConfig, &agent) // written by package campaign; a bad one fails validation below
	}
	name := strings.TrimSpace(deref(r.FirstName) + " " + deref(r.LastName))
	req := voice.DialRequest{
		CallID: callID, OrganizationID: org, CampaignType: voice.CampaignCustom,
		ToNumber: to, CustomerName: clip(name, voice.MaxNameLen),
		AssistantID: agent.AssistantID, Disclosure: agent.Disclosure, FirstMessage: agent.FirstMessage,
		Variables: map[string]string{}, Metadata: map[string]string{},
	}
	if r.CampaignType != nil {
		req.CampaignType = *r.CampaignType
	}
	if req.Disclosure == "" {
		req.Disclosure = DefaultDisclosure(r.OrganizationName)
	}
	if agent.AssistantID == "" && agent.Prompt != "" {
		req.Assistant = &voice.Assistant{Name: clip("AutoPulse "+req.CampaignType, voice.MaxNameLen), SystemPrompt: agent.Prompt}
	}
	vars := req.Variables
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			vars[k] = clip(v, voice.MaxValueLen)
		}
	}
	set("dealership_name", r.OrganizationName)
	set("customer_name", name)
	set("customer_first_name", deref(r.FirstName))
	set("ro_number", deref(r.RoNumber))
	set("service_type", deref(r.ServiceType))
	set("advisor_name", deref(r.AdvisorName))
	if r.ServiceDate.Valid {
		set("service_date", r.ServiceDate.Time.Format(time.DateOnly))
	}
	if r.Mileage != nil {
		set("mileage", strconv.Itoa(int(*r.Mileage)))
	}
	var vehicle []string
	if r.VehicleYear != nil {
		set("vehicle_year", strconv.Itoa(int(*r.VehicleYear)))
		vehicle = append(vehicle, strconv.Itoa(int(*r.VehicleYear)))
	}
	set("vehicle_make", deref(r.VehicleMake))
	set("vehicle_model", deref(r.VehicleModel))
	vehicle = append(vehicle, deref(r.VehicleMake), deref(r.VehicleModel))
	set("vehicle", strings.Join(vehicle, " "))
	for k, v := range agent.Variables {
		vars[k] = v
	}
	if campaignID != nil {
		req.Metadata["campaign_id"] = campaignID.String()
	}
	if targetID != nil {
		req.Metadata["target_id"] = targetID.String()
	}
	return req
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
