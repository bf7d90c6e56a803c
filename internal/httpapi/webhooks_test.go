package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// Distinct events voicesim sends per call (status updates and the report).
const (
	eventsCompleted = 5 // queued, ringing, in-progress, ended, report
	eventsNoAnswer  = 4 // queued, ringing, ended, report
	eventsFailed    = 3 // queued, ended, report
	eventsInbound   = 4 // ringing, in-progress, ended, report
)

func (e *env) putSetting(t *testing.T, tn *tenant, key string, value any) {
	t.Helper()
	res := e.do(t, http.MethodPut, "/api/v1/settings/"+key, withToken(tn.Owner.Token), withJSON(map[string]any{"value": value}))
	requireStatus(t, http.StatusOK, res)
}

func (e *env) getCall(t *testing.T, tn *tenant, id uuid.UUID) call.CallDetail {
	t.Helper()
	res := e.do(t, http.MethodGet, "/api/v1/calls/"+id.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var c call.CallDetail
	res.decode(t, &c)
	return c
}

func TestWebhookPromoterCallEndToEnd(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	e.putSetting(t, tn, "sms_enabled", true)
	e.putSetting(t, tn, "review_link", "https://g.page/r/test-motors/review")
	ob := e.newOutbound(t, tn, outboundOptions{})

	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(10), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)

	c := e.getCall(t, tn, ob.Call)
	require.Equal(t, call.StatusEnded, c.Status)
	require.Equal(t, "completed", *c.Outcome)
	require.Equal(t, pid, *c.ProviderCallID)
	require.EqualValues(t, 10, *c.NPSScore)
	require.Equal(t, "positive", *c.Sentiment)
	require.Equal(t, "assistant-ended-call", *c.EndedReason)
	require.NotNil(t, c.AnsweredAt)
	require.NotNil(t, c.EndedAt)
	require.NotNil(t, c.ReportedAt)
	require.Positive(t, *c.DurationSec)
	require.Positive(t, *c.CostAmount)
	var analysis struct {
		StructuredData map[string]any `json:"structured_data"`
		Problems       []string       `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(c.Analysis, &analysis))
	require.EqualValues(t, 10, analysis.StructuredData["nps_score"])
	require.Empty(t, analysis.Problems)
	require.Contains(t, *c.Summary, "Promoter")

	// The transcript, by the call's route and by the transcripts route.
	res := e.do(t, http.MethodGet, "/api/v1/calls/"+ob.Call.String()+"/transcript", tok)
	requireStatus(t, http.StatusOK, res)
	var tr call.Transcript
	res.decode(t, &tr)
	require.GreaterOrEqual(t, len(tr.Turns), 4)
	require.Equal(t, "agent", tr.Turns[0].Speaker)
	require.Contains(t, tr.Turns[0].Text, "This call is recorded")
	for i, turn := range tr.Turns {
		require.EqualValues(t, i, turn.Seq)
		require.Contains(t, []string{"agent", "customer"}, turn.Speaker)
	}
	res2 := e.do(t, http.MethodGet, "/api/v1/transcripts/"+ob.Call.String(), tok)
	requireStatus(t, http.StatusOK, res2)
	require.JSONEq(t, string(res.Body), string(res2.Body))

	// The review link is queued for the SMS adapter.
	var status, recipient, body string
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT status, recipient, body FROM notifications
		WHERE call_id = $1 AND kind = 'review_link' AND channel = 'sms'`, ob.Call).Scan(&status, &recipient, &body))
	require.Equal(t, "pending", status)
	require.Equal(t, ob.Phone, recipient)
	require.Contains(t, body, "https://g.page/r/test-motors/review")
	require.Contains(t, body, "Casey")

	// The cost is charged once: one ledger row, and the balance moved by it.
	require.Equal(t, -*c.CostAmount, scalar[int64](t, e, `SELECT sum(amount)::bigint FROM credit_transactions WHERE call_id = $1 AND kind = 'call_charge'`, ob.Call))
	require.Equal(t, -*c.CostAmount, scalar[int64](t, e, `SELECT credit_balance FROM organizations WHERE id = $1`, tn.OrgID))

	// The target is done, and every event was routed to the call (processed,
	// or ignored when a status update was overtaken by a later one).
	require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM campaign_targets WHERE id = $1`, ob.Target))
	require.EqualValues(t, eventsCompleted, scalar[int64](t, e, `SELECT count(*) FROM webhook_events
		WHERE event_id LIKE $1 || ':%' AND status IN ('processed', 'ignored') AND routed_organization_id = $2 AND routed_call_id = $3`, pid, tn.OrgID, ob.Call))
	require.Equal(t, "processed", scalar[string](t, e, `SELECT status FROM webhook_events WHERE event_id = $1`, pid+":end-of-call-report"))
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM inquiries WHERE call_id = $1`, ob.Call))
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM bookings WHERE call_id = $1`, ob.Call))
	require.InDelta(t, 1, e.counter(t, "autopulse_calls_completed_total", map[string]string{"provider": "vapi", "outcome": "answered"}), 0)
}

func TestWebhookPromoterLinkSuppressedWithReason(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	// SMS is off by default, and no review link is set yet.
	ob := e.newOutbound(t, tn, outboundOptions{})
	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(9), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)
	require.Equal(t, "suppressed no_review_link", scalar[string](t, e,
		`SELECT status || ' ' || suppressed_reason FROM notifications WHERE call_id = $1 AND kind = 'review_link'`, ob.Call))

	e.putSetting(t, tn, "review_link", "https://g.page/r/test-motors/review")
	ob2 := e.newOutbound(t, tn, outboundOptions{campaign: ob.Campaign})
	pid2 := e.dial(t, ob2, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(9), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid2, eventsCompleted)
	require.Equal(t, "suppressed sms_disabled", scalar[string](t, e,
		`SELECT status || ' ' || suppressed_reason FROM notifications WHERE call_id = $1 AND kind = 'review_link'`, ob2.Call))
}

func TestWebhookDetractorOpensInquiryForManager(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	manager := e.newUser(t, tn, "manager")
	ob := e.newOutbound(t, tn, outboundOptions{})

	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(2), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)

	res := e.do(t, http.MethodGet, "/api/v1/inquiries?call_id="+ob.Call.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var inquiries struct{ Items []call.Inquiry }
	res.decode(t, &inquiries)
	require.Len(t, inquiries.Items, 1)
	in := inquiries.Items[0]
	require.Equal(t, call.TopicDetractor, in.Topic)
	require.Equal(t, call.InquiryNew, in.Status)
	require.Equal(t, manager.ID, *in.AssignedTo)
	require.Equal(t, ob.Customer, *in.CustomerID)
	require.Equal(t, "Casey Driver", in.CustomerName)
	require.Contains(t, in.Message, "NPS 2/10")

	var status, recipient, subject string
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT status, recipient, subject FROM notifications
		WHERE call_id = $1 AND kind = 'detractor_escalation' AND channel = 'email' AND inquiry_id = $2`, ob.Call, in.ID).Scan(&status, &recipient, &subject))
	require.Equal(t, "pending", status)
	require.Equal(t, manager.Email, recipient)
	require.Contains(t, subject, "2/10")
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM notifications WHERE call_id = $1 AND kind = 'review_link'`, ob.Call))

	// The inquiry's creation is audited, with no actor: the provider reported it.
	require.EqualValues(t, 1, scalar[int64](t, e, `SELECT count(*) FROM audit_logs
		WHERE organization_id = $1 AND entity = 'inquiry' AND entity_id = $2 AND action = 'create' AND actor_user_id IS NULL`, tn.OrgID, in.ID.String()))
}

func TestWebhookBookingFromReminderCall(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	ob := e.newOutbound(t, tn, outboundOptions{campaignType: voice.CampaignServiceReminder})

	pid := e.dial(t, ob, voice.CampaignServiceReminder, voicesim.Script{Outcome: voice.OutcomeCompleted, Booking: voicesim.Ptr(true), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)

	wantAt, err := time.Parse(time.RFC3339, scalar[string](t, e, `SELECT analysis->'structured_data'->>'booking_time' FROM calls WHERE id = $1`, ob.Call))
	require.NoError(t, err)
	res := e.do(t, http.MethodGet, "/api/v1/bookings?call_id="+ob.Call.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var bookings struct{ Items []call.Booking }
	res.decode(t, &bookings)
	require.Len(t, bookings.Items, 1)
	b := bookings.Items[0]
	require.True(t, wantAt.Equal(b.ScheduledAt), "booking at %s, the customer agreed to %s", b.ScheduledAt, wantAt)
	require.Equal(t, call.BookingScheduled, b.Status)
	require.Equal(t, ob.Customer, *b.CustomerID)
	require.Equal(t, ob.Campaign, *b.CampaignID)
	require.Equal(t, ob.Phone, *b.CustomerPhone)
	require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM campaign_targets WHERE id = $1`, ob.Target))
}

func TestWebhookOptOutAddsDNCInTheSameTransaction(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	other := e.newTenant(t)
	ob := e.newOutbound(t, tn, outboundOptions{campaignType: voice.CampaignServiceReminder})
	// The same number is an open target of another campaign of this
	// organization, and of another organization.
	second := e.newOutbound(t, tn, outboundOptions{campaignType: voice.CampaignRecall, phone: ob.Phone})
	foreign := e.newOutbound(t, other, outboundOptions{phone: ob.Phone})
	for _, o := range []outbound{second, foreign} {
		require.NoError(t, e.pdb.InTenant(context.Background(), o.Org, func(tx *postgres.Tx) error {
			_, err := tx.Exec(context.Background(), `UPDATE campaign_targets SET status = 'pending', attempts = 0 WHERE id = $1`, o.Target)
			return err
		}))
	}

	pid := e.dial(t, ob, voice.CampaignServiceReminder, voicesim.Script{Outcome: voice.OutcomeCompleted, OptOut: voicesim.Ptr(true)})
	e.waitSettled(t, pid, eventsCompleted)

	var source, reason string
	var callID uuid.UUID
	var dncAt, transcriptAt, reportedAt time.Time
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT d.source, d.reason, d.call_id, d.created_at,
		  (SELECT min(created_at) FROM transcripts WHERE call_id = d.call_id), c.report_received_at
		FROM dnc_entries d JOIN calls c ON c.organization_id = d.organization_id AND c.id = d.call_id
		WHERE d.organization_id = $1 AND d.phone = $2`, tn.OrgID, ob.Phone).Scan(&source, &reason, &callID, &dncAt, &transcriptAt, &reportedAt))
	require.Equal(t, "call_opt_out", source)
	require.Equal(t, ob.Call, callID)
	require.Contains(t, reason, ob.Call.String())
	// now() is the transaction's start: the entry and the transcript were
	// written by the transaction that stored the call's result.
	require.True(t, dncAt.Equal(transcriptAt), "DNC entry at %s, transcript at %s", dncAt, transcriptAt)

	require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM campaign_targets WHERE id = $1`, ob.Target))
	require.Equal(t, "cancelled block dnc", scalar[string](t, e,
		`SELECT status || ' ' || last_decision || ' ' || last_decision_rule FROM campaign_targets WHERE id = $1`, second.Target))
	require.Equal(t, "pending", scalar[string](t, e, `SELECT status FROM campaign_targets WHERE id = $1`, foreign.Target), "another tenant's list is its own")
	// Each campaign's only target ended: the campaigns completed, the
	// other tenant's did not.
	for _, o := range []outbound{ob, second} {
		require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM campaigns WHERE id = $1`, o.Campaign))
	}
	require.Equal(t, "active", scalar[string](t, e, `SELECT status FROM campaigns WHERE id = $1`, foreign.Campaign))
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM dnc_entries WHERE organization_id = $1`, other.OrgID))
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM bookings WHERE call_id = $1`, ob.Call))
	require.EqualValues(t, 1, scalar[int64](t, e, `SELECT count(*) FROM audit_logs WHERE organization_id = $1 AND entity = 'dnc_entry'`, tn.OrgID))
}

func TestWebhookUnansweredCallsScheduleTheNextAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)
	e := setup(t, withWorkers(), withLoopClock(fixedClock(now)))
	tn := e.newTenant(t)
	tests := []struct {
		outcome            voice.Outcome
		attempts, max      int
		events             int
		wantTarget, status string
	}{
		{voice.OutcomeNoAnswer, 1, 3, eventsNoAnswer, "retry", call.StatusEnded},
		{voice.OutcomeBusy, 2, 3, eventsNoAnswer, "retry", call.StatusEnded},
		{voice.OutcomeVoicemail, 1, 2, eventsCompleted, "retry", call.StatusEnded},
		{voice.OutcomeFailed, 1, 3, eventsFailed, "retry", call.StatusFailed},
		{voice.OutcomeNoAnswer, 3, 3, eventsNoAnswer, "failed", call.StatusEnded},
	}
	for _, tt := range tests {
		ob := e.newOutbound(t, tn, outboundOptions{attempts: tt.attempts, maxAttempts: tt.max})
		pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: tt.outcome})
		e.waitSettled(t, pid, tt.events)
		c := e.getCall(t, tn, ob.Call)
		require.Equal(t, string(tt.outcome), *c.Outcome)
		require.Equal(t, tt.status, c.Status)
		var status string
		var next *time.Time
		require.NoError(t, e.db.Owner.QueryRow(context.Background(),
			`SELECT status, next_attempt_at FROM campaign_targets WHERE id = $1`, ob.Target).Scan(&status, &next))
		require.Equal(t, tt.wantTarget, status, "%s at attempt %d of %d", tt.outcome, tt.attempts, tt.max)
		if tt.wantTarget == "retry" {
			require.NotNil(t, next)
			require.True(t, now.Add(4*time.Hour).Equal(*next), "next attempt at %s", next)
		} else {
			require.Nil(t, next)
		}
	}
}

func TestWebhookDuplicateAndOutOfOrderDeliveries(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers(), withSimFaults(voicesim.Faults{DuplicateRate: 1, ReorderRate: 1}))
	tn := e.newTenant(t)
	ob := e.newOutbound(t, tn, outboundOptions{})

	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(8), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)
	require.Eventually(t, func() bool { return e.sim.Stats().Delivered >= 2*eventsCompleted }, 30*time.Second, 20*time.Millisecond)

	// Every message came twice and the report first; each event was stored
	// once, and the late status updates did not move the call back.
	c := e.getCall(t, tn, ob.Call)
	require.Equal(t, call.StatusEnded, c.Status)
	require.NotNil(t, c.AnsweredAt, "the report says the call connected")
	require.EqualValues(t, 8, *c.NPSScore)
	require.EqualValues(t, eventsCompleted, scalar[int64](t, e, `SELECT count(*) FROM webhook_events WHERE event_id LIKE $1 || ':%'`, pid))
	require.Positive(t, scalar[int64](t, e, `SELECT count(*) FROM webhook_events WHERE event_id LIKE $1 || ':%' AND status = 'ignored' AND error LIKE '%arrived after ended%'`, pid))
	turns := scalar[int64](t, e, `SELECT count(*) FROM transcripts WHERE call_id = $1`, ob.Call)
	require.Equal(t, turns, scalar[int64](t, e, `SELECT count(DISTINCT seq) FROM transcripts WHERE call_id = $1`, ob.Call))
	require.EqualValues(t, 1, scalar[int64](t, e, `SELECT count(*) FROM credit_transactions WHERE call_id = $1`, ob.Call))
	require.Equal(t, "completed", scalar[string](t, e, `SELECT status FROM campaign_targets WHERE id = $1`, ob.Target))
}

// snapshot is everything a report leaves behind, as one comparable text.
func snapshot(t *testing.T, e *env, callID uuid.UUID) string {
	t.Helper()
	return scalar[string](t, e, `SELECT row_to_json(s)::text FROM (SELECT
		(SELECT row_to_json(c) FROM calls c WHERE c.id = $1) AS call,
		(SELECT count(*) FROM transcripts WHERE call_id = $1) AS transcripts,
		(SELECT count(*) FROM bookings WHERE call_id = $1) AS bookings,
		(SELECT count(*) FROM inquiries WHERE call_id = $1) AS inquiries,
		(SELECT count(*) FROM notifications WHERE call_id = $1) AS notifications,
		(SELECT count(*) FROM credit_transactions WHERE call_id = $1) AS charges,
		(SELECT count(*) FROM dnc_entries WHERE call_id = $1) AS dnc,
		(SELECT count(*) FROM audio_files WHERE call_id = $1) AS audio,
		(SELECT o.credit_balance FROM organizations o JOIN calls c ON c.organization_id = o.id WHERE c.id = $1) AS balance,
		(SELECT row_to_json(t) FROM campaign_targets t JOIN calls c ON c.target_id = t.id WHERE c.id = $1) AS target,
		(SELECT count(*) FROM audit_logs a JOIN calls c ON c.organization_id = a.organization_id WHERE c.id = $1) AS audit,
		(SELECT count(*) FROM river_job WHERE kind = 'call.download_recording') AS downloads
	) s`, callID)
}

func TestWebhookReplayedReportChangesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	e.newUser(t, tn, "manager")
	ob := e.newOutbound(t, tn, outboundOptions{})
	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(4), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)
	require.Eventually(t, func() bool {
		return scalar[string](t, e, `SELECT status FROM audio_files WHERE call_id = $1`, ob.Call) == "stored"
	}, 60*time.Second, 20*time.Millisecond)
	before := snapshot(t, e, ob.Call)
	require.Contains(t, before, `"inquiries":1`)
	require.Contains(t, before, `"notifications":1`)
	require.Contains(t, before, `"charges":1`)

	// The provider delivers the report again: a duplicate.
	payload := scalar[string](t, e, `SELECT payload::text FROM webhook_events WHERE event_id = $1`, pid+":end-of-call-report")
	res := e.postWebhook(t, payload)
	requireStatus(t, http.StatusOK, res)
	require.JSONEq(t, `{"result":"duplicate"}`, string(res.Body))

	// The same report stored again under another key (as if the dedupe row
	// had been pruned) is processed, and changes nothing.
	replay := scalar[uuid.UUID](t, e, `INSERT INTO webhook_events (provider, event_id, event_type, payload)
		SELECT provider, event_id || ':replay', event_type, payload FROM webhook_events WHERE event_id = $1 RETURNING id`, pid+":end-of-call-report")
	require.NoError(t, e.calls.ProcessEvent(context.Background(), replay))
	require.Equal(t, "ignored the call was already reported", scalar[string](t, e, `SELECT status || ' ' || error FROM webhook_events WHERE id = $1`, replay))
	// And processing an event twice (River runs jobs at least once) is a no-op.
	require.NoError(t, e.calls.ProcessEvent(context.Background(), replay))
	e.settleAll(t)
	require.Equal(t, before, snapshot(t, e, ob.Call))
	require.InDelta(t, 1, e.counter(t, "autopulse_calls_completed_total", map[string]string{"provider": "vapi"}), 0, "counted once")
}

func TestWebhookInboundCalls(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	ctx := context.Background()
	dealer := e.newTenant(t) // owns line A by its profile phone
	second := e.newTenant(t) // owns line B by its caller_id setting
	third := e.newTenant(t)  // claims line D, like dealer does
	lineA, lineB, lineC, lineD := voicesim.DevPhoneNumber, "+13125550111", "+13125550122", "+13125550133"
	require.NoError(t, e.pdb.InTenant(ctx, dealer.OrgID, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE organizations SET phone = $2 WHERE id = $1`, dealer.OrgID, lineA)
		return err
	}))
	e.putSetting(t, second, "caller_id", lineB)
	e.putSetting(t, dealer, "caller_id", lineD)
	e.putSetting(t, third, "caller_id", lineD)
	// A known customer of the dealer calls to book.
	known := e.newOutbound(t, dealer, outboundOptions{})

	pid := mustInbound(t, e, voicesim.InboundCall{From: known.Phone, To: lineA, Booking: voicesim.Ptr(true)})
	e.waitSettled(t, pid, eventsInbound)
	res := e.do(t, http.MethodGet, "/api/v1/calls?direction=inbound", withToken(dealer.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var calls struct{ Items []call.Call }
	res.decode(t, &calls)
	require.Len(t, calls.Items, 1)
	in := calls.Items[0]
	require.Equal(t, "inbound", in.Direction)
	require.Equal(t, pid, *in.ProviderCallID)
	require.Equal(t, known.Phone, *in.FromNumber)
	require.Equal(t, lineA, *in.ToNumber)
	require.Equal(t, known.Customer, *in.CustomerID, "the caller is matched by phone")
	require.Equal(t, call.StatusEnded, in.Status)
	require.Equal(t, "completed", *in.Outcome)
	res = e.do(t, http.MethodGet, "/api/v1/bookings?call_id="+in.ID.String(), withToken(dealer.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var bookings struct{ Items []call.Booking }
	res.decode(t, &bookings)
	require.Len(t, bookings.Items, 1)
	require.Equal(t, known.Customer, *bookings.Items[0].CustomerID)
	// The status updates came before the call existed: ignored, not failed.
	require.EqualValues(t, 3, scalar[int64](t, e, `SELECT count(*) FROM webhook_events WHERE event_id LIKE $1 || ':status-update:%' AND status = 'ignored'`, pid))

	// An unknown caller asks a question on the second organization's line.
	caller := randomPhone()
	pid = mustInbound(t, e, voicesim.InboundCall{From: caller, To: lineB, Booking: voicesim.Ptr(false), Topic: "warranty"})
	e.waitSettled(t, pid, eventsInbound)
	res = e.do(t, http.MethodGet, "/api/v1/inquiries", withToken(second.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var inquiries struct{ Items []call.Inquiry }
	res.decode(t, &inquiries)
	require.Len(t, inquiries.Items, 1)
	require.Equal(t, "warranty", inquiries.Items[0].Topic)
	require.Equal(t, caller, *inquiries.Items[0].CustomerPhone)
	require.Nil(t, inquiries.Items[0].CustomerID)
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM calls WHERE organization_id = $1 AND direction = 'inbound'`, third.OrgID))

	// A line nobody owns, and a line two organizations claim, route nowhere.
	for _, tt := range []struct{ line, reason string }{
		{lineC, "no active organization owns line " + lineC},
		{lineD, "claimed by more than one organization"},
	} {
		pid = mustInbound(t, e, voicesim.InboundCall{From: randomPhone(), To: tt.line, Booking: voicesim.Ptr(false)})
		e.waitSettled(t, pid, eventsInbound)
		require.Contains(t, scalar[string](t, e, `SELECT status || ': ' || error FROM webhook_events WHERE event_id = $1`, pid+":end-of-call-report"),
			"failed: ")
		require.Contains(t, scalar[string](t, e, `SELECT error FROM webhook_events WHERE event_id = $1`, pid+":end-of-call-report"), tt.reason)
	}
	require.EqualValues(t, 2, scalar[int64](t, e, `SELECT count(*) FROM calls WHERE direction = 'inbound'`))
}

func mustInbound(t *testing.T, e *env, in voicesim.InboundCall) string {
	t.Helper()
	id, err := e.sim.Inbound(in)
	require.NoError(t, err)
	return id
}

func TestWebhookUnknownCalls(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	unknown := uuid.Must(uuid.NewV7())
	meta := fmt.Sprintf(`"assistantOverrides":{"metadata":{"autopulse_call_id":%q}}`, unknown)
	bodies := map[string]string{
		"status update for an unknown call id": `{"message":{"type":"status-update","status":"ringing","call":{"id":"prov-1","type":"outboundPhoneCall",` + meta + `}}}`,
		"report for an unknown call id":        `{"message":{"type":"end-of-call-report","endedReason":"customer-ended-call","call":{"id":"prov-1","type":"outboundPhoneCall",` + meta + `}}}`,
		"a call AutoPulse did not place":       `{"message":{"type":"status-update","status":"ringing","call":{"id":"prov-2","type":"outboundPhoneCall"}}}`,
	}
	for name, body := range bodies {
		res := e.postWebhook(t, body)
		requireStatus(t, http.StatusOK, res)
		require.Contains(t, string(res.Body), `"result":"accepted"`, name)
	}
	e.settleAll(t)
	require.Equal(t, "failed", scalar[string](t, e, `SELECT status FROM webhook_events WHERE event_id = 'prov-1:status-update:ringing'`))
	require.Contains(t, scalar[string](t, e, `SELECT error FROM webhook_events WHERE event_id = 'prov-1:end-of-call-report'`), "no call "+unknown.String())
	require.Equal(t, "ignored", scalar[string](t, e, `SELECT status FROM webhook_events WHERE event_id = 'prov-2:status-update:ringing'`))
	require.Contains(t, scalar[string](t, e, `SELECT error FROM webhook_events WHERE event_id = 'prov-2:status-update:ringing'`), "not a call AutoPulse placed")
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM calls`))
	// Settled jobs complete rather than wait for another try.
	require.Eventually(t, func() bool {
		return scalar[int64](t, e, `SELECT count(*) FROM river_job WHERE kind = 'call.process_event' AND state <> 'completed'`) == 0
	}, 30*time.Second, 20*time.Millisecond)
}

func TestWebhookEventForACallNotCommittedYetWaits(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	e.calls.OrphanGrace = time.Minute
	tn := e.newTenant(t)
	id := uuid.Must(uuid.NewV7())
	body := fmt.Sprintf(`{"message":{"type":"status-update","status":"ringing","call":{"id":"prov-late","type":"outboundPhoneCall","assistantOverrides":{"metadata":{"autopulse_call_id":%q}}}}}`, id)
	requireStatus(t, http.StatusOK, e.postWebhook(t, body))
	// The job found no call and snoozed.
	require.Eventually(t, func() bool {
		return scalar[int64](t, e, `SELECT count(*) FROM river_job WHERE kind = 'call.process_event' AND state = 'scheduled'`) == 1
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "received", scalar[string](t, e, `SELECT status FROM webhook_events WHERE event_id = 'prov-late:status-update:ringing'`))

	// The dial's transaction commits; the next try applies the event.
	require.NoError(t, e.pdb.InTenant(context.Background(), tn.OrgID, func(tx *postgres.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO calls (organization_id, id, direction, to_number, status) VALUES ($1, $2, 'outbound', '+13125550199', 'dialing')`, tn.OrgID, id)
		return err
	}))
	require.Eventually(t, func() bool {
		return scalar[string](t, e, `SELECT status FROM webhook_events WHERE event_id = 'prov-late:status-update:ringing'`) == "processed"
	}, 60*time.Second, 50*time.Millisecond)
	c := e.getCall(t, tn, id)
	require.Equal(t, call.StatusRinging, c.Status)
	require.Equal(t, "prov-late", *c.ProviderCallID)
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"message":{"type":"status-update","status":"ringing","call":{"id":"prov-sig","type":"outboundPhoneCall"}}}`
	good := vapi.Sign([]byte(webhookSecret), []byte(body))
	tests := []struct {
		name string
		opts []reqOpt
	}{
		{"missing", nil},
		{"wrong secret", []reqOpt{withHeader(vapi.SignatureHeader, vapi.Sign([]byte("not-the-secret"), []byte(body)))}},
		{"another body's", []reqOpt{withHeader(vapi.SignatureHeader, vapi.Sign([]byte(webhookSecret), []byte(body+" ")))}},
		{"not hex", []reqOpt{withHeader(vapi.SignatureHeader, strings.Repeat("z", 64))}},
		{"truncated", []reqOpt{withHeader(vapi.SignatureHeader, good[:40])}},
		{"wrong secret header", []reqOpt{withHeader(vapi.SecretHeader, "guess")}},
		{"good signature repeated", []reqOpt{func(r *http.Request) {
			r.Header.Add(vapi.SignatureHeader, good)
			r.Header.Add(vapi.SignatureHeader, good)
		}}},
		{"bad signature with the right secret header", []reqOpt{withHeader(vapi.SignatureHeader, strings.Repeat("0", 64)), withHeader(vapi.SecretHeader, webhookSecret)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", append([]reqOpt{withRaw("application/json", body)}, tt.opts...)...)
			requireStatus(t, http.StatusUnauthorized, res)
			require.Equal(t, http.StatusUnauthorized, res.problem(t).Status)
		})
	}
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM webhook_events`), "a rejected delivery has no effect")
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM river_job`))
	require.InDelta(t, float64(len(tests)), e.counter(t, "autopulse_webhook_events_total", map[string]string{"provider": "vapi", "result": "rejected"}), 0)

	// The signature, or Vapi's older secret header, authenticates.
	res := e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", withRaw("application/json", body), withHeader(vapi.SignatureHeader, "sha256="+good))
	requireStatus(t, http.StatusOK, res)
	var receipt call.WebhookReceipt
	res.decode(t, &receipt)
	require.Equal(t, call.ReceiptAccepted, receipt.Result)
	require.NotNil(t, receipt.EventID)
	body2 := strings.Replace(body, "ringing", "queued", 1)
	res = e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", withRaw("application/json", body2), withHeader(vapi.SecretHeader, webhookSecret))
	requireStatus(t, http.StatusOK, res)
	require.EqualValues(t, 2, scalar[int64](t, e, `SELECT count(*) FROM webhook_events`))
	require.EqualValues(t, 2, scalar[int64](t, e, `SELECT count(*) FROM river_job WHERE kind = 'call.process_event'`))

	// A duplicate delivery is answered 200 and enqueues nothing.
	res = e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", withRaw("application/json", body), withHeader(vapi.SignatureHeader, good))
	requireStatus(t, http.StatusOK, res)
	require.JSONEq(t, `{"result":"duplicate"}`, string(res.Body))
	require.EqualValues(t, 2, scalar[int64](t, e, `SELECT count(*) FROM river_job WHERE kind = 'call.process_event'`))
	status := map[string]string{"provider": "vapi", "type": "status-update"}
	status["result"] = "accepted"
	require.InDelta(t, 2, e.counter(t, "autopulse_webhook_events_total", status), 0)
	status["result"] = "duplicate"
	require.InDelta(t, 1, e.counter(t, "autopulse_webhook_events_total", status), 0)
}

func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"malformed json", `{"message":`, http.StatusUnprocessableEntity},
		{"empty body", ``, http.StatusBadRequest},
		{"no message", `{}`, http.StatusUnprocessableEntity},
		{"message not an object", `{"message":[1]}`, http.StatusUnprocessableEntity},
		{"no type", `{"message":{"status":"ringing","call":{"id":"p"}}}`, http.StatusUnprocessableEntity},
		{"no call", `{"message":{"type":"status-update","status":"ringing"}}`, http.StatusUnprocessableEntity},
		{"unknown status", `{"message":{"type":"status-update","status":"exploded","call":{"id":"p"}}}`, http.StatusUnprocessableEntity},
		{"cost not a number", `{"message":{"type":"end-of-call-report","cost":"free","call":{"id":"p"}}}`, http.StatusUnprocessableEntity},
		{"nested too deep", `{"message":{"type":"status-update","status":"ringing","call":{"id":"p","metadata":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}}`, http.StatusUnprocessableEntity},
		{"oversized", `{"message":{"type":"transcript","transcript":"` + strings.Repeat("a", int(vapi.MaxEventBytes)) + `"}}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.postWebhook(t, tt.body)
			requireStatus(t, tt.status, res)
			require.Equal(t, tt.status, res.problem(t).Status)
		})
	}

	// Types AutoPulse does not act on are answered 200 and not stored.
	for _, typ := range []string{"transcript", "speech-update", "conversation-update", "hang", "tool-calls"} {
		res := e.postWebhook(t, `{"message":{"type":"`+typ+`","call":{"id":"p"}}}`)
		requireStatus(t, http.StatusOK, res)
		require.JSONEq(t, `{"result":"ignored"}`, string(res.Body))
	}
	require.Zero(t, scalar[int64](t, e, `SELECT count(*) FROM webhook_events`))
	require.InDelta(t, 5, e.counter(t, "autopulse_webhook_events_total", map[string]string{"provider": "vapi", "result": "ignored"}), 0)

	// Payloads jsonb would refuse are stored cleaned rather than failing.
	res := e.postWebhook(t, `{"message":{"type":"status-update","status":"ringing","call":{"id":"p-nul","metadata":{"x":"a\u0000b"}}}}`)
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "ab", scalar[string](t, e, `SELECT payload->'message'->'call'->'metadata'->>'x' FROM webhook_events WHERE event_id = 'p-nul:status-update:ringing'`))
}

func TestWebhookIsInTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res := e.do(t, http.MethodGet, "/openapi.json")
	requireStatus(t, http.StatusOK, res)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                           `json:"operationId"`
			Security    []map[string]any                 `json:"security"`
			RequestBody struct{ Content map[string]any } `json:"requestBody"`
			Responses   map[string]any                   `json:"responses"`
		} `json:"paths"`
	}
	res.decode(t, &doc)
	op := doc.Paths["/api/v1/webhooks/vapi"]["post"]
	require.Equal(t, "webhook-vapi", op.OperationID)
	require.Empty(t, op.Security, "authenticated by signature, not a bearer token")
	require.Contains(t, op.RequestBody.Content, "application/json")
	rec := doc.Paths["/api/v1/calls/{id}/recording"]["get"]
	require.Contains(t, rec.Responses, "206")
	for _, path := range []string{"/api/v1/calls", "/api/v1/calls/{id}/transcript", "/api/v1/transcripts/{id}", "/api/v1/bookings/{id}/status", "/api/v1/inquiries/{id}/assign"} {
		require.Contains(t, doc.Paths, path)
	}
}

// TestLostReportsAreRecovered: end-of-call reports the provider never
// delivered are fetched from it once overdue and applied as the webhook
// would have been, once; a call the provider does not know is ended as
// lost and its target tried again.
func TestLostReportsAreRecovered(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers(), withSimFaults(voicesim.Faults{DropReportRate: 1}))
	tn := e.newTenant(t)
	ctx := context.Background()
	ob := e.newOutbound(t, tn, outboundOptions{})
	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{
		Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(10), Booking: voicesim.Ptr(false), OptOut: voicesim.Ptr(false),
	})
	require.Eventually(t, func() bool {
		st, err := e.dialer.GetCall(ctx, pid)
		return err == nil && st.Status == voice.StatusEnded && st.Report != nil
	}, 30*time.Second, 20*time.Millisecond, "the simulated call ended")
	e.settleAll(t)

	// A call that reached the provider but that it no longer knows.
	lost := e.newOutbound(t, tn, outboundOptions{})
	_, err := e.db.Owner.Exec(ctx, `UPDATE calls SET provider_call_id = 'gone-' || id, status = 'in_progress' WHERE id = $1`, lost.Call)
	require.NoError(t, err)

	reported := func(id uuid.UUID) bool {
		var at *time.Time
		require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT report_received_at FROM calls WHERE id = $1`, id).Scan(&at))
		return at != nil
	}
	require.False(t, reported(ob.Call), "the report was dropped")

	// Not yet overdue: nothing is asked.
	res, err := e.calls.ReconcileReports(ctx, time.Now())
	require.NoError(t, err)
	require.Zero(t, res.Asked)

	later := time.Now().Add(call.DefaultReportOverdue + time.Minute)
	res, err = e.calls.ReconcileReports(ctx, later)
	require.NoError(t, err)
	require.Equal(t, call.ReconcileResult{Asked: 2, Finalized: 1, Lost: 1}, res)

	c := e.getCall(t, tn, ob.Call)
	require.Equal(t, call.StatusEnded, c.Status)
	require.Equal(t, string(voice.OutcomeCompleted), *c.Outcome)
	require.NotNil(t, c.NPSScore)
	require.EqualValues(t, 10, *c.NPSScore)
	var status string
	require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT status FROM campaign_targets WHERE id = $1`, ob.Target).Scan(&status))
	require.Equal(t, "completed", status)

	gone := e.getCall(t, tn, lost.Call)
	require.Equal(t, call.StatusFailed, gone.Status)
	require.Equal(t, call.EndedReasonReportLost, *gone.EndedReason)
	require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT status FROM campaign_targets WHERE id = $1`, lost.Target).Scan(&status))
	require.Equal(t, "retry", status, "a lost call is an attempt that reached nobody we know of")

	// Once applied, nothing is overdue any more, and a late webhook (or a
	// second run) changes nothing.
	res, err = e.calls.ReconcileReports(ctx, later)
	require.NoError(t, err)
	require.Zero(t, res.Asked)
}
