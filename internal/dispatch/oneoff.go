package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// ComplianceDecision is a verdict with the rule that decided it, as the API
// shows it.
type ComplianceDecision struct {
	Verdict        string     `json:"verdict" enum:"allow,hold,block"`
	Rule           string     `json:"rule" example:"window.federal" doc:"The rule that decided (allowed when every rule allows)"`
	Reason         string     `json:"reason" doc:"Why, in words"`
	At             time.Time  `json:"at" doc:"When the decision was made"`
	NextEligibleAt *time.Time `json:"next_eligible_at,omitempty" doc:"For a hold: the earliest time the rules may allow the call"`
}

func decisionOf(at time.Time, d compliance.Decision) ComplianceDecision {
	out := ComplianceDecision{Verdict: string(d.Verdict), Rule: d.Rule, Reason: d.Reason, At: at.UTC()}
	if d.Verdict == compliance.Hold && !d.NextEligibleAt.IsZero() {
		next := d.NextEligibleAt.UTC()
		out.NextEligibleAt = &next
	}
	return out
}

// NotAllowedError is PlaceCall's refusal: the rules hold or block the call.
// The HTTP layer answers a hold with 409 (and Retry-After) and a block with
// 422, each with the rule, the reason and, for a hold, the next eligible
// time.
type NotAllowedError struct {
	Decision ComplianceDecision
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("the call is not allowed now (%s %s): %s", e.Decision.Verdict, e.Decision.Rule, e.Decision.Reason)
}

// OneOffCallInput asks for a one-off call.
type OneOffCallInput struct {
	ServiceRecordID uuid.UUID  `json:"service_record_id" doc:"The service record whose customer is called"`
	CampaignID      *uuid.UUID `json:"campaign_id,omitempty" doc:"A campaign whose agent, schedule and subject the call uses; omitted: the organization's default schedule and the provider's default assistant"`
}

// OneOffCall is an accepted one-off call.
type OneOffCall struct {
	CallID   uuid.UUID          `json:"call_id" doc:"The call; follow it with GET /api/v1/calls/{id}"`
	Status   string             `json:"status" doc:"dialing: a dial job will place it within seconds"`
	ToNumber string             `json:"to_number"`
	Decision ComplianceDecision `json:"decision"`
}

// PlaceCall places one call to a service record's customer, outside any
// campaign's targets, under the same rules as a campaign's calls: the
// legal windows in the customer's zones intersected with the schedule (the
// campaign's, when one is given, else the organization's; its
// automatic-calling switch does not apply to a call asked for by a
// person), the DNC list, the 24-hour caps (the campaign, if any, is the
// subject), the organization's status, credit and concurrency. Attempt
// caps, retry gaps and the campaign's dates and status do not apply.
//
// When every rule allows, the call row is written (status dialing) and its
// dial job enqueued in the same transaction; the job checks the rules
// again when it claims the call and ends it failed ("not-placed: <rule>")
// if they no longer allow it. A one-off call is tried once: no automatic
// retry.
//
// Errors: fault.Invalid for a service record or campaign that does not
// exist, or a record without a customer or phone; *NotAllowedError when a
// rule holds or blocks the call.
func (s *Service) PlaceCall(ctx context.Context, org uuid.UUID, in OneOffCallInput) (OneOffCall, error) {
	var out OneOffCall
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		sr, err := tx.ServiceRecordGetForCall(ctx, org, in.ServiceRecordID)
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			return fault.InvalidField("body.service_record_id", "no such service record")
		}
		if err != nil {
			return err
		}
		switch {
		case sr.CustomerID == nil:
			return fault.InvalidField("body.service_record_id", "the service record has no customer")
		case sr.Phone == nil || *sr.Phone == "":
			return fault.InvalidField("body.service_record_id", "the service record's customer has no phone number")
		}
		if in.CampaignID != nil {
			if _, err := tx.CampaignGetForCall(ctx, org, *in.CampaignID); err != nil {
				if fault.Is(postgres.Translate(err), fault.NotFound) {
					return fault.InvalidField("body.campaign_id", "no such campaign")
				}
				return err
			}
		}
		now := s.now()
		sub := subject{
			id: uuid.Nil, campaignID: in.CampaignID, phone: *sr.Phone,
			postalCode: deref(sr.PostalCode), state: deref(sr.State), manual: true,
		}
		f, err := s.gather(ctx, tx, now, []subject{sub}, gatherOpts{countLeased: true, lockClaims: true})
		if err != nil {
			return err
		}
		d := s.decide(now, sub, f, f.busy)
		if d.Verdict != compliance.Allow {
			return &NotAllowedError{Decision: decisionOf(now, d)}
		}
		callID := uuid.Must(uuid.NewV7())
		if _, err := tx.CallInsertForDial(ctx, db.CallInsertForDialParams{
			OrganizationID: org, ID: callID, CampaignID: in.CampaignID, ServiceRecordID: &sr.ID,
			CustomerID: sr.CustomerID, ToNumber: sr.Phone, Provider: s.providerName(), Now: now,
		}); err != nil {
			return err
		}
		if _, err := s.Jobs.InsertTx(ctx, tx.Tx, DialArgs{OrganizationID: org, CallID: callID}, nil); err != nil {
			return err
		}
		out = OneOffCall{CallID: callID, Status: "dialing", ToNumber: *sr.Phone, Decision: decisionOf(now, d)}
		return audit.Record(ctx, tx, audit.Create, "call", callID, nil, out)
	})
	return out, err
}

// TargetDecision explains a target: the decision stored by the last pass
// or dial job, and the decision the rules give at this instant (not
// stored), with the facts behind it.
type TargetDecision struct {
	TargetID      uuid.UUID           `json:"target_id"`
	CampaignID    uuid.UUID           `json:"campaign_id"`
	Status        string              `json:"status"`
	Attempts      int                 `json:"attempts"`
	MaxAttempts   int                 `json:"max_attempts"`
	LastAttemptAt *time.Time          `json:"last_attempt_at"`
	NextAttemptAt *time.Time          `json:"next_attempt_at" doc:"When the scheduler considers the target next"`
	SkipReason    *string             `json:"skip_reason"`
	Stored        *ComplianceDecision `json:"stored" doc:"The last stored decision; null before the first"`
	Now           ComplianceDecision  `json:"now" doc:"The rules' verdict at this instant (not stored). For a target no longer waiting it is what a new attempt would meet"`
	Zones         []string            `json:"zones" doc:"The time zones the recipient may be in; the call must be lawful in all"`
	States        []string            `json:"states" doc:"The states whose rules may apply"`
	ZoneSource    string              `json:"zone_source" enum:"postal_code,state,phone,strictest" doc:"Where the zones come from"`
	Schedule      string              `json:"schedule" doc:"The calling schedule that applies"`
}

// ExplainTarget answers "why was (or wasn't) this customer called?" for a
// campaign target. Errors: fault.NotFound for a target outside the
// organization.
func (s *Service) ExplainTarget(ctx context.Context, org, targetID uuid.UUID) (TargetDecision, error) {
	var out TargetDecision
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		r, err := tx.TargetGetForExplain(ctx, org, targetID)
		if err != nil {
			return err
		}
		campaignID := r.CampaignID
		sub := subject{
			id: r.ID, campaignID: &campaignID, campaignStatus: r.CampaignStatus, phone: r.Phone,
			postalCode: deref(r.PostalCode), state: deref(r.State),
			attempts: int(r.Attempts), maxAttempts: int(r.MaxAttempts), lastAttemptAt: r.LastAttemptAt,
			retryGap: intervalOf(r.RetryGap), startsAt: r.StartsAt, endsAt: r.EndsAt,
		}
		now := s.now()
		f, err := s.gather(ctx, tx, now, []subject{sub}, gatherOpts{countLeased: true})
		if err != nil {
			return err
		}
		zones, source := compliance.ResolveZone(sub.postalCode, sub.state, sub.phone)
		out = TargetDecision{
			TargetID: r.ID, CampaignID: r.CampaignID, Status: r.Status, Attempts: int(r.Attempts), MaxAttempts: int(r.MaxAttempts),
			LastAttemptAt: r.LastAttemptAt, NextAttemptAt: r.NextAttemptAt, SkipReason: r.SkipReason,
			Now:   decisionOf(now, s.decide(now, sub, f, f.busy)),
			Zones: zones.Names, States: zones.States, ZoneSource: string(source),
		}
		if out.States == nil {
			out.States = []string{}
		}
		if sched, err := f.schedule(sub.campaignID); err == nil {
			out.Schedule = sched.String()
		}
		if r.LastDecision != nil && r.LastDecisionAt != nil {
			stored := ComplianceDecision{Verdict: *r.LastDecision, Rule: deref(r.LastDecisionRule), Reason: deref(r.LastDecisionReason), At: r.LastDecisionAt.UTC()}
			if *r.LastDecision == string(compliance.Hold) && r.NextAttemptAt != nil {
				next := r.NextAttemptAt.UTC()
				stored.NextEligibleAt = &next
			}
			out.Stored = &stored
		}
		return nil
	})
	return out, err
}
