package call

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
)

// Statuses of webhook_events.
const (
	eventReceived  = "received"
	eventProcessed = "processed"
	eventIgnored   = "ignored"
	eventFailed    = "failed"
)

// OrphanError is ProcessEvent's answer for an event that names a call of
// ours not in the database (yet): the job tries again after RetryAfter, and
// once the Service's OrphanGrace has passed the event is marked failed.
type OrphanError struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *OrphanError) Error() string { return "call: " + e.Reason }

// ProcessEvent applies one stored webhook event (webhook_events.id) to its
// tenant's data. It is idempotent: an event already settled is skipped, and
// everything it applies is guarded so that a second application (River
// runs jobs at least once) or a replayed report changes nothing.
//
// The event is routed to a tenant by our call id in the metadata, else by
// the provider's call id, else (an inbound call) by the line dialled: the
// organization whose caller_id setting is that number, else the one whose
// profile phone is, else the organization the assistant's metadata names.
// An event settles as processed; as ignored (a call AutoPulse did not
// place, an inbound status update before its call exists, a stale or
// mismatched event) or as failed (nobody owns the line, the call is
// unknown after OrphanGrace), each with its reason in webhook_events.error.
//
// It returns *OrphanError while an unknown call id of ours is still within
// its grace, and database errors for River to retry.
func (s *Service) ProcessEvent(ctx context.Context, eventID uuid.UUID) error {
	var ev db.WebhookEvent
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		ev, err = tx.WebhookEventGet(ctx, eventID)
		return err
	})
	switch {
	case fault.Is(err, fault.NotFound):
		return nil // pruned: nothing left to do
	case err != nil:
		return err
	case ev.Status != eventReceived:
		return nil
	}
	parsed, err := parseStored(ev.Provider, ev.Payload)
	if err != nil {
		return s.settleSystem(ctx, eventID, eventFailed, "the stored payload does not parse: "+err.Error(), route{})
	}
	rt, err := s.route(ctx, ev.Provider, parsed)
	if err != nil {
		return err
	}
	switch {
	case rt.ignore != "":
		return s.settleSystem(ctx, eventID, eventIgnored, rt.ignore, rt)
	case rt.fail != "":
		return s.settleSystem(ctx, eventID, eventFailed, rt.fail, rt)
	case rt.orphan != "":
		// The grace is real time since the delivery, whatever s.Now says.
		if time.Since(ev.ReceivedAt) < s.orphanGrace() {
			return &OrphanError{Reason: rt.orphan, RetryAfter: min(orphanRetry, s.orphanGrace())}
		}
		return s.settleSystem(ctx, eventID, eventFailed, rt.orphan, rt)
	}

	var res applied
	err = s.DB.InTenant(ctx, rt.org, func(tx *postgres.Tx) error {
		locked, err := tx.WebhookEventGetForUpdate(ctx, eventID)
		if err != nil || locked.Status != eventReceived {
			return err
		}
		res, err = s.apply(ctx, tx, ev.Provider, rt, parsed)
		if err != nil {
			return err
		}
		status, reason := eventProcessed, ""
		if res.ignore != "" {
			status, reason = eventIgnored, res.ignore
		}
		return settle(ctx, tx, eventID, status, reason, rt.org, res.call, s.now())
	})
	if err != nil {
		return err
	}
	if res.finalized != "" {
		s.Metrics.CallCompleted(ev.Provider, metricOutcome(res.finalized))
	}
	return nil
}

// MarkEventFailed settles a received event as failed with reason (the
// processing job's last attempt gave up). An event already settled is left
// as it is.
func (s *Service) MarkEventFailed(ctx context.Context, eventID uuid.UUID, reason string) error {
	return s.settleSystem(ctx, eventID, eventFailed, reason, route{})
}

func (s *Service) settleSystem(ctx context.Context, eventID uuid.UUID, status, reason string, rt route) error {
	s.log().InfoContext(ctx, "webhook event settled", "event_id", eventID, "status", status, "reason", reason)
	return s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		return settle(ctx, tx, eventID, status, reason, rt.org, rt.call, s.now())
	})
}

func settle(ctx context.Context, tx *postgres.Tx, eventID uuid.UUID, status, reason string, org, callID uuid.UUID, now time.Time) error {
	p := db.WebhookEventFinishParams{ID: eventID, Status: status, Now: now}
	if reason != "" {
		r := clip(reason, 1000)
		p.Error = &r
	}
	if org != uuid.Nil {
		p.OrganizationID = &org
	}
	if callID != uuid.Nil {
		p.CallID = &callID
	}
	_, err := tx.WebhookEventFinish(ctx, p)
	return err
}

func parseStored(provider string, payload []byte) (voice.Event, error) {
	if provider != ProviderVapi {
		return nil, fmt.Errorf("unknown provider %q", provider)
	}
	return vapi.ParseEvent(payload)
}

// route is where an event goes: a tenant and its call, or the tenant in
// which to create an inbound call, or why it goes nowhere.
type route struct {
	org, call uuid.UUID // call is Nil for an inbound call not created yet
	inbound   bool      // create the call when absent
	ignore    string    // settle as ignored, with this reason
	fail      string    // settle as failed, with this reason
	orphan    string    // our call id, not (yet) in the database
}

func (s *Service) route(ctx context.Context, provider string, ev voice.Event) (route, error) {
	providerCallID, callID := ev.Call()
	var rt route
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		if callID != uuid.Nil {
			owners, err := tx.WebhookCallOwner(ctx, callID)
			if err != nil {
				return err
			}
			if len(owners) == 1 {
				rt.org, rt.call = owners[0].OrganizationID, owners[0].CallID
			} else {
				rt.orphan = fmt.Sprintf("no call %s (the metadata's %s)", callID, voice.MetaCallID)
			}
			return nil
		}
		owners, err := tx.WebhookCallOwnerByProvider(ctx, provider, providerCallID)
		if err != nil {
			return err
		}
		if len(owners) == 1 {
			rt.org, rt.call = owners[0].OrganizationID, owners[0].CallID
			return nil
		}
		if direction(ev) != voice.Inbound {
			rt.ignore = fmt.Sprintf("not a call AutoPulse placed: no %s in the metadata and no call with provider id %s", voice.MetaCallID, providerCallID)
			return nil
		}
		return s.routeInbound(ctx, tx, ev, &rt)
	})
	return rt, err
}

// routeInbound finds the tenant of an inbound call that has no call row
// yet: the owner of the line dialled, else the organization the assistant's
// metadata names.
func (s *Service) routeInbound(ctx context.Context, tx *postgres.Tx, ev voice.Event, rt *route) error {
	var line string
	var metaOrg uuid.UUID
	switch e := ev.(type) {
	case *voice.EndOfCallReport:
		line, metaOrg = e.ToNumber, e.OrganizationID
	case *voice.StatusUpdate:
		metaOrg = e.OrganizationID
	}
	if line != "" {
		owners, err := tx.WebhookLineOwners(ctx, line)
		if err != nil {
			return err
		}
		switch len(owners) {
		case 1:
			rt.org, rt.inbound = owners[0], true
			return nil
		case 2:
			rt.fail = fmt.Sprintf("line %s is claimed by more than one organization (caller_id setting or profile phone)", line)
			return nil
		}
	}
	if metaOrg != uuid.Nil {
		active, err := tx.WebhookOrganizationActive(ctx, metaOrg)
		if err != nil {
			return err
		}
		if active {
			rt.org, rt.inbound = metaOrg, true
			return nil
		}
	}
	switch {
	case line != "":
		rt.fail = fmt.Sprintf("no active organization owns line %s (caller_id setting or profile phone) and the metadata names none", line)
	case isReport(ev):
		rt.fail = "inbound call without the number dialled, and the metadata names no organization"
	default:
		rt.ignore = "inbound call not known yet: its end-of-call report creates it"
	}
	return nil
}

func direction(ev voice.Event) voice.Direction {
	switch e := ev.(type) {
	case *voice.EndOfCallReport:
		return e.Direction
	case *voice.StatusUpdate:
		return e.Direction
	}
	return ""
}

func isReport(ev voice.Event) bool {
	_, ok := ev.(*voice.EndOfCallReport)
	return ok
}

// applied is what apply did.
type applied struct {
	call      uuid.UUID
	ignore    string        // the event changed nothing, and why
	finalized voice.Outcome // set when a report finalized the call now
}

func (s *Service) apply(ctx context.Context, tx *postgres.Tx, provider string, rt route, ev voice.Event) (applied, error) {
	providerCallID, _ := ev.Call()
	var c db.Call
	var err error
	if rt.call != uuid.Nil {
		c, err = tx.CallGetForUpdate(ctx, rt.org, rt.call)
	} else {
		c, err = s.inboundCall(ctx, tx, provider, rt.org, ev)
	}
	if isNoRows(err) {
		return applied{ignore: "the call was deleted"}, nil
	}
	if err != nil {
		return applied{}, err
	}
	res := applied{call: c.ID}
	if c.ProviderCallID != nil && *c.ProviderCallID != providerCallID {
		res.ignore = fmt.Sprintf("provider call id mismatch: the call has %s, the event %s", *c.ProviderCallID, providerCallID)
		return res, nil
	}
	switch e := ev.(type) {
	case *voice.StatusUpdate:
		res.ignore, err = s.applyStatus(ctx, tx, c, e)
	case *voice.EndOfCallReport:
		res.finalized, res.ignore, err = s.applyReport(ctx, tx, c, e)
	}
	return res, err
}

// inboundCall returns the call of an inbound event, creating it the first
// time. Two events of one call racing here insert once; the loser reads the
// winner's row.
func (s *Service) inboundCall(ctx context.Context, tx *postgres.Tx, provider string, org uuid.UUID, ev voice.Event) (db.Call, error) {
	providerCallID, _ := ev.Call()
	c, err := tx.CallGetByProviderForUpdate(ctx, db.CallGetByProviderForUpdateParams{
		OrganizationID: org, Provider: provider, ProviderCallID: &providerCallID,
	})
	if !isNoRows(err) {
		return c, err
	}
	p := db.CallInsertInboundParams{
		OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Status: StatusQueued, Provider: provider, ProviderCallID: &providerCallID,
	}
	if r, ok := ev.(*voice.EndOfCallReport); ok {
		p.FromNumber, p.ToNumber = optional(r.FromNumber), optional(r.ToNumber)
		if r.FromNumber != "" {
			found, err := tx.CallCustomerFindByPhone(ctx, org, r.FromNumber)
			if err != nil {
				return db.Call{}, err
			}
			if len(found) == 1 {
				p.CustomerID = &found[0].ID
			}
		}
	}
	rows, err := tx.CallInsertInbound(ctx, p)
	if err != nil {
		return db.Call{}, err
	}
	if len(rows) == 1 {
		s.log().InfoContext(ctx, "inbound call created", "organization_id", org, "call_id", rows[0].ID, "provider_call_id", providerCallID)
		return rows[0], nil
	}
	return tx.CallGetByProviderForUpdate(ctx, db.CallGetByProviderForUpdateParams{
		OrganizationID: org, Provider: provider, ProviderCallID: &providerCallID,
	})
}

// dbStatus maps a provider status onto calls.status.
func dbStatus(st voice.Status) string {
	switch st {
	case voice.StatusQueued:
		return StatusQueued
	case voice.StatusRinging:
		return StatusRinging
	case voice.StatusInProgress:
		return StatusInProgress
	case voice.StatusForwarding:
		return StatusForwarding
	case voice.StatusEnded:
		return StatusEnded
	}
	return ""
}

// rank orders calls.status like voice.Status.Rank: a status moves forward
// only. dialing (ours, before the provider speaks) ranks lowest; failed is
// as final as ended.
func rank(status string) int {
	switch status {
	case StatusDialing:
		return 0
	case StatusQueued:
		return voice.StatusQueued.Rank()
	case StatusRinging:
		return voice.StatusRinging.Rank()
	case StatusInProgress:
		return voice.StatusInProgress.Rank()
	case StatusForwarding:
		return voice.StatusForwarding.Rank()
	case StatusEnded, StatusFailed:
		return voice.StatusEnded.Rank()
	}
	return 0
}

// applyStatus moves the call to the event's status if that is forward, and
// records the times the event reveals (answered, ended) if not yet known.
// Out-of-order and repeated updates are normal; they change only what is
// still unknown. It returns why nothing changed, if nothing did.
func (s *Service) applyStatus(ctx context.Context, tx *postgres.Tx, c db.Call, ev *voice.StatusUpdate) (string, error) {
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	next := dbStatus(ev.Status)
	forward := rank(next) > rank(c.Status)
	p := db.CallApplyStatusParams{OrganizationID: c.OrganizationID, ID: c.ID, Status: c.Status, ProviderCallID: &ev.ProviderCallID}
	if forward {
		p.Status = next
	}
	switch ev.Status {
	case voice.StatusInProgress:
		p.AnsweredAt = &at
	case voice.StatusEnded:
		p.EndedAt = &at
		p.EndedReason = optional(ev.EndedReason)
	case voice.StatusQueued, voice.StatusRinging, voice.StatusForwarding:
	}
	if _, err := tx.CallApplyStatus(ctx, p); err != nil {
		return "", err
	}
	if forward && ev.Status == voice.StatusInProgress && c.TargetID != nil {
		if _, err := tx.TargetMarkInCall(ctx, c.OrganizationID, *c.TargetID); err != nil {
			return "", err
		}
	}
	if !forward {
		return fmt.Sprintf("status %s arrived after %s: the status stays", next, c.Status), nil
	}
	return "", nil
}

// applyReport finalizes the call from its end-of-call report, once: the
// call's results, its transcript, its recording (a download job), the
// charge and the outcome. A call already reported is left alone.
func (s *Service) applyReport(ctx context.Context, tx *postgres.Tx, c db.Call, r *voice.EndOfCallReport) (voice.Outcome, string, error) {
	if c.ReportReceivedAt != nil {
		return "", "the call was already reported", nil
	}
	now := s.now()
	outcome := r.Outcome()
	status := StatusEnded
	if outcome == voice.OutcomeFailed {
		status = StatusFailed
	}
	sd := r.StructuredData
	analysis, err := analysisOf(r)
	if err != nil {
		return "", "", err
	}
	currency := r.Currency
	if currency == "" {
		currency = "USD"
	}
	duration := int32(min(r.DurationSeconds, 1<<31-1)) //nolint:gosec // bounded by the parser (a week) and here
	cost := r.CostMinor
	p := db.CallFinalizeParams{
		OrganizationID: c.OrganizationID, ID: c.ID, Status: status, ProviderCallID: &r.ProviderCallID,
		FromNumber: optional(r.FromNumber), ToNumber: optional(r.ToNumber),
		StartedAt: timeOrNil(r.StartedAt), EndedAt: timeOrNil(r.EndedAt), Now: now,
		DurationSec: &duration, EndedReason: optional(r.EndedReason), CostAmount: &cost, Currency: currency,
		Summary: optional(r.Summary), Outcome: optional(string(outcome)), Analysis: analysis,
	}
	if outcome.Connected() {
		p.AnsweredAt = timeOrNil(r.StartedAt)
	}
	if sd.NPSScore != nil {
		n := int16(*sd.NPSScore) //nolint:gosec // 0–10, checked by the parser
		p.NpsScore = &n
	}
	if sd.Sentiment != "" {
		p.Sentiment = optional(string(sd.Sentiment))
	}
	call, err := tx.CallFinalize(ctx, p)
	if err != nil {
		return "", "", err
	}
	if err := storeTranscript(ctx, tx, call, r.Messages); err != nil {
		return "", "", err
	}
	if err := s.queueRecording(ctx, tx, call, r.RecordingURL); err != nil {
		return "", "", err
	}
	if err := charge(ctx, tx, call, cost, currency); err != nil {
		return "", "", err
	}
	if err := s.applyOutcome(ctx, tx, call, r, outcome, now); err != nil {
		return "", "", err
	}
	if call.TargetID != nil {
		// An attempt that reached nobody is tried again, unless the
		// customer (somehow) asked not to be called.
		retry := outcome.Retry() && !sd.OptOut
		settled, err := tx.TargetSettleAfterCall(ctx, db.TargetSettleAfterCallParams{
			OrganizationID: call.OrganizationID, TargetID: *call.TargetID, CallID: call.ID, Retry: retry, Now: now,
			Outcome: string(outcome),
		})
		if err != nil {
			return "", "", err
		}
		// A target that ended may have been its campaign's last open one.
		// CompleteIfDone locks the campaign before it counts, so of two
		// last calls ending at once the second sees the first's target.
		if len(settled) == 1 && settled[0].Status != "retry" {
			if err := s.completeIfDone(ctx, tx, settled[0].CampaignID); err != nil {
				return "", "", err
			}
		}
	}
	s.log().InfoContext(ctx, "call reported", "organization_id", call.OrganizationID, "call_id", call.ID,
		"outcome", outcome, "cost_minor", cost, "problems", len(r.Problems))
	return outcome, "", nil
}

func analysisOf(r *voice.EndOfCallReport) (json.RawMessage, error) {
	sd := r.StructuredData.Raw
	if len(sd) == 0 {
		sd = json.RawMessage(`{}`)
	}
	problems := r.Problems
	if problems == nil {
		problems = []string{}
	}
	return json.Marshal(struct {
		StructuredData    json.RawMessage `json:"structured_data"`
		SuccessEvaluation string          `json:"success_evaluation,omitempty"`
		Problems          []string        `json:"problems"`
	}{sd, r.SuccessEvaluation, problems})
}

// storeTranscript writes the turns in one statement; turns already stored
// stay.
func storeTranscript(ctx context.Context, tx *postgres.Tx, c db.Call, turns []voice.Turn) error {
	if len(turns) == 0 {
		return nil
	}
	p := db.TranscriptInsertTurnsParams{OrganizationID: c.OrganizationID, CallID: c.ID}
	for i, t := range turns {
		p.Ids = append(p.Ids, uuid.Must(uuid.NewV7()))
		p.Seqs = append(p.Seqs, int32(i)) //nolint:gosec // at most 2000 turns (the parser's cap)
		p.Speakers = append(p.Speakers, string(t.Role))
		p.Texts = append(p.Texts, t.Message)
		p.StartMs = append(p.StartMs, millis(t.StartMs))
		p.EndMs = append(p.EndMs, millis(t.EndMs))
	}
	_, err := tx.TranscriptInsertTurns(ctx, p)
	return err
}

func millis(ms int64) int32 { return int32(min(max(ms, 0), 1<<31-1)) } //nolint:gosec // clamped

// charge debits the call's cost from the organization's balance, once (the
// ledger's unique call charge). Free calls leave no ledger row.
func charge(ctx context.Context, tx *postgres.Tx, c db.Call, cost int64, currency string) error {
	if cost <= 0 {
		return nil
	}
	rows, err := tx.CreditChargeInsert(ctx, db.CreditChargeInsertParams{
		OrganizationID: c.OrganizationID, ID: uuid.Must(uuid.NewV7()), Cost: cost, Currency: currency, CallID: &c.ID,
		Description: fmt.Sprintf("%s call %s", c.Direction, c.ID),
	})
	if err != nil || len(rows) == 0 {
		return err
	}
	_, err = tx.OrganizationCreditAdd(ctx, -cost, c.OrganizationID)
	return err
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// clip cuts s to at most n bytes without splitting a rune.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// metricOutcome names an outcome for autopulse_calls_completed_total.
func metricOutcome(o voice.Outcome) string {
	switch o {
	case voice.OutcomeCompleted:
		return metrics.CallAnswered
	case voice.OutcomeNoAnswer:
		return metrics.CallNoAnswer
	case voice.OutcomeBusy:
		return metrics.CallBusy
	case voice.OutcomeVoicemail:
		return metrics.CallVoicemail
	case voice.OutcomeFailed:
		return metrics.CallFailed
	}
	return "other"
}
