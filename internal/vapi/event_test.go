package vapi_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
)

const (
	ourCallID = "0190a4c5-7b1e-7cc0-9d6e-2f9a6c1b3e01"
	ourOrgID  = "0190a4c5-7b1e-7cc0-9d6e-2f9a6c1b3e02"
)

// statusUpdateJSON is shaped like Vapi's status-update server message.
const statusUpdateJSON = `{"message": {
  "type": "status-update",
  "timestamp": 1744364973594,
  "status": "ended",
  "endedReason": "customer-busy",
  "call": {
    "id": "c0ffee00-1111-2222-3333-444455556666",
    "orgId": "org-1",
    "type": "outboundPhoneCall",
    "status": "ended",
    "phoneNumberId": "pn-1",
    "customer": {"number": "+14155550123"},
    "assistantOverrides": {
      "variableValues": {"customer_name": "Dana"},
      "metadata": {"autopulse_call_id": "` + ourCallID + `", "organization_id": "` + ourOrgID + `", "campaign_type": "recall"}
    },
    "someFutureField": {"nested": [1, 2, 3]}
  },
  "phoneNumber": {"id": "pn-1", "number": "+13125550100"},
  "artifact": {"messages": []}
}}`

// reportJSON is shaped like Vapi's end-of-call-report server message,
// with one of each kind of oddity the parser must survive.
const reportJSON = `{"message": {
  "type": "end-of-call-report",
  "timestamp": "2025-04-11T09:49:42.000Z",
  "endedReason": "assistant-ended-call",
  "cost": 0.1234,
  "startedAt": "2025-04-11T09:49:33.624Z",
  "endedAt": "2025-04-11T09:49:41.358Z",
  "durationSeconds": 7.734,
  "artifact": {
    "messages": [
      {"role": "system", "message": "You are a helpful assistant.", "time": 1744364968450, "secondsFromStart": 0},
      {"role": "bot", "message": "Hi Dana, this call is recorded.", "time": 1744364970174, "endTime": 1744364970494, "secondsFromStart": 1.44, "duration": 320},
      {"role": "tool_calls", "toolCalls": [{"id": "t1"}], "time": 1744364971000, "secondsFromStart": 2.2},
      {"role": "user", "message": "  I'd give it a 9.\u0000 ", "time": 1744364973594, "endTime": 1744364973994, "secondsFromStart": 4.86},
      {"role": "user", "message": 42, "time": 1744364974000, "secondsFromStart": 5}
    ],
    "transcript": "AI: Hi Dana, this call is recorded.\nUser: I'd give it a 9.\n",
    "recordingUrl": "https://storage.vapi.ai/c0ffee.wav"
  },
  "analysis": {
    "summary": "Promoter.",
    "successEvaluation": true,
    "structuredData": {
      "nps_score": 9,
      "sentiment": "Positive",
      "wants_booking": "no",
      "booking_time": null,
      "opt_out": false,
      "inquiry_topic": "  praise ",
      "went_well": "Quick service",
      "unrelated": {"x": 1}
    }
  },
  "call": {
    "id": "c0ffee00-1111-2222-3333-444455556666",
    "type": "outboundPhoneCall",
    "customer": {"number": "+14155550123", "name": "Dana"},
    "assistantOverrides": {"metadata": {"autopulse_call_id": "` + ourCallID + `", "organization_id": "` + ourOrgID + `", "n": 7}}
  },
  "phoneNumber": {"id": "pn-1", "number": "+13125550100"}
}}`

func TestParseStatusUpdate(t *testing.T) {
	t.Parallel()
	ev, err := vapi.ParseEvent([]byte(statusUpdateJSON))
	require.NoError(t, err)
	su, ok := ev.(*voice.StatusUpdate)
	require.True(t, ok, "got %T", ev)
	require.Equal(t, "c0ffee00-1111-2222-3333-444455556666", su.ProviderCallID)
	require.Equal(t, uuid.MustParse(ourCallID), su.CallID)
	require.Equal(t, uuid.MustParse(ourOrgID), su.OrganizationID)
	require.Equal(t, voice.StatusEnded, su.Status)
	require.Equal(t, "customer-busy", su.EndedReason)
	require.Equal(t, voice.Outbound, su.Direction)
	require.Equal(t, time.UnixMilli(1744364973594).UTC(), su.At)
	require.Equal(t, "recall", su.Metadata[voice.MetaCampaignType])
	require.Equal(t, "c0ffee00-1111-2222-3333-444455556666:status-update:ended", su.DedupeKey())
}

func TestParseEndOfCallReport(t *testing.T) {
	t.Parallel()
	ev, err := vapi.ParseEvent([]byte(reportJSON))
	require.NoError(t, err)
	r, ok := ev.(*voice.EndOfCallReport)
	require.True(t, ok, "got %T", ev)

	require.Equal(t, uuid.MustParse(ourCallID), r.CallID)
	require.Equal(t, voice.Outbound, r.Direction)
	require.Equal(t, "+13125550100", r.FromNumber)
	require.Equal(t, "+14155550123", r.ToNumber)
	require.Equal(t, "pn-1", r.PhoneNumberID)
	require.Equal(t, "assistant-ended-call", r.EndedReason)
	require.Equal(t, voice.OutcomeCompleted, r.Outcome())
	require.Equal(t, "0.1234", r.Cost)
	require.Equal(t, int64(12), r.CostMinor)
	require.Equal(t, "USD", r.Currency)
	require.Equal(t, time.Date(2025, 4, 11, 9, 49, 33, 624e6, time.UTC), r.StartedAt)
	require.Equal(t, 8, r.DurationSeconds, "7.734 s rounds to 8")
	require.Equal(t, "https://storage.vapi.ai/c0ffee.wav", r.RecordingURL)
	require.Equal(t, "Promoter.", r.Summary)
	require.Equal(t, "true", r.SuccessEvaluation)
	require.NotContains(t, r.Metadata, "n", "non-string metadata is dropped")

	require.Equal(t, []voice.Turn{
		{Role: voice.RoleAgent, Message: "Hi Dana, this call is recorded.", StartMs: 1440, EndMs: 1760},
		{Role: voice.RoleCustomer, Message: "I'd give it a 9.", StartMs: 4860, EndMs: 5260},
	}, r.Messages, "system and tool messages are skipped, NUL removed, text trimmed")

	sd := r.StructuredData
	require.NotNil(t, sd.NPSScore)
	require.Equal(t, 9, *sd.NPSScore)
	require.Equal(t, voice.SentimentPositive, sd.Sentiment, "sentiment is case-insensitive")
	require.False(t, sd.WantsBooking)
	require.Nil(t, sd.BookingTime)
	require.Equal(t, "praise", sd.InquiryTopic)
	require.Equal(t, "Quick service", sd.WentWell)
	require.JSONEq(t, `{"nps_score": 9, "sentiment": "Positive", "wants_booking": "no", "booking_time": null,
		"opt_out": false, "inquiry_topic": "  praise ", "went_well": "Quick service", "unrelated": {"x": 1}}`, string(sd.Raw))

	require.Len(t, r.Problems, 1, "the turn whose message is a number: %v", r.Problems)
	require.Contains(t, r.Problems[0], "messages[4]")
	require.Equal(t, "c0ffee00-1111-2222-3333-444455556666:end-of-call-report", r.DedupeKey())
}

// report returns reportJSON with the message's fields changed by edit.
func report(t *testing.T, edit func(msg map[string]any)) []byte {
	t.Helper()
	var env map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(reportJSON), &env))
	edit(env["message"])
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func parseReport(t *testing.T, body []byte) *voice.EndOfCallReport {
	t.Helper()
	ev, err := vapi.ParseEvent(body)
	require.NoError(t, err)
	r, ok := ev.(*voice.EndOfCallReport)
	require.True(t, ok, "got %T", ev)
	return r
}

func TestParseReportDropsInvalidAnalysisValues(t *testing.T) {
	t.Parallel()
	body := report(t, func(m map[string]any) {
		m["analysis"] = map[string]any{"structuredData": map[string]any{
			"nps_score":     11,
			"sentiment":     "ecstatic",
			"wants_booking": "maybe",
			"booking_time":  "next Tuesday",
			"opt_out":       "yes",
			"inquiry_topic": strings.Repeat("t", 500),
		}}
		m["artifact"].(map[string]any)["recordingUrl"] = "file:///etc/passwd"
		m["phoneNumber"] = map[string]any{"number": "312-555-0100"}
	})
	r := parseReport(t, body)
	sd := r.StructuredData
	require.Nil(t, sd.NPSScore)
	require.Empty(t, sd.Sentiment)
	require.False(t, sd.WantsBooking)
	require.Nil(t, sd.BookingTime)
	require.True(t, sd.OptOut, `"yes" reads as true`)
	require.Len(t, sd.InquiryTopic, 200)
	require.Empty(t, r.RecordingURL)
	require.Empty(t, r.FromNumber)
	joined := strings.Join(r.Problems, "\n")
	for _, want := range []string{"nps_score", "sentiment", "wants_booking", "booking_time", "recordingUrl", "phoneNumber.number"} {
		require.Contains(t, joined, want)
	}
}

func TestParseReportBookingAndNumbersAsStrings(t *testing.T) {
	t.Parallel()
	body := report(t, func(m map[string]any) {
		m["analysis"] = map[string]any{"structuredData": map[string]any{
			"nps_score": "10", "wants_booking": true, "booking_time": "2025-04-15T10:00:00-04:00",
		}}
	})
	sd := parseReport(t, body).StructuredData
	require.Equal(t, 10, *sd.NPSScore)
	require.True(t, sd.WantsBooking)
	require.Equal(t, time.Date(2025, 4, 15, 14, 0, 0, 0, time.UTC), *sd.BookingTime)
}

func TestParseReportInboundAndLegacyShapes(t *testing.T) {
	t.Parallel()
	body := report(t, func(m map[string]any) {
		m["call"] = map[string]any{"id": "in-1", "type": "inboundPhoneCall", "customer": map[string]any{"number": "+14155550999"}}
		m["assistant"] = map[string]any{"metadata": map[string]any{"organization_id": ourOrgID}}
		delete(m, "artifact")
		delete(m, "analysis")
		m["transcript"] = "AI: Hello\nUser: Hi\n"
		m["summary"] = "Legacy summary."
		m["recordingUrl"] = "https://example.com/r.wav"
		m["messages"] = []any{map[string]any{"role": "user", "message": "Hi", "secondsFromStart": 2}}
	})
	r := parseReport(t, body)
	require.Equal(t, voice.Inbound, r.Direction)
	require.Equal(t, uuid.Nil, r.CallID)
	require.Equal(t, uuid.MustParse(ourOrgID), r.OrganizationID)
	require.Equal(t, "+14155550999", r.FromNumber)
	require.Equal(t, "+13125550100", r.ToNumber)
	require.Equal(t, "Legacy summary.", r.Summary)
	require.Equal(t, "https://example.com/r.wav", r.RecordingURL)
	require.Equal(t, []voice.Turn{{Role: voice.RoleCustomer, Message: "Hi", StartMs: 2000, EndMs: 2000}}, r.Messages)
}

func TestParseReportBuildsTranscriptFromTurns(t *testing.T) {
	t.Parallel()
	body := report(t, func(m map[string]any) {
		delete(m["artifact"].(map[string]any), "transcript")
	})
	require.Equal(t, "AI: Hi Dana, this call is recorded.\nUser: I'd give it a 9.\n", parseReport(t, body).Transcript)
}

func TestParseReportCapsTurns(t *testing.T) {
	t.Parallel()
	turns := make([]any, 2500)
	for i := range turns {
		turns[i] = map[string]any{"role": "user", "message": "ok", "secondsFromStart": i}
	}
	turns[0] = map[string]any{"role": "bot", "message": strings.Repeat("é", 5000), "secondsFromStart": 0}
	body := report(t, func(m map[string]any) { m["artifact"].(map[string]any)["messages"] = turns })
	r := parseReport(t, body)
	require.Len(t, r.Messages, 2000)
	require.Equal(t, strings.Repeat("é", 4000), r.Messages[0].Message, "cut to 4000 characters, not bytes")
	require.Contains(t, strings.Join(r.Problems, "\n"), "more than 2000 turns")
}

func TestParseEventUnknownType(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"transcript", "speech-update", "conversation-update", "tool-calls", "assistant-request"} {
		_, err := vapi.ParseEvent([]byte(`{"message": {"type": "` + typ + `", "call": {"id": "c1"}}}`))
		require.ErrorIs(t, err, vapi.ErrUnknownType, typ)
		require.False(t, errors.Is(err, vapi.ErrMalformed), typ)
		require.Equal(t, fault.Internal, fault.CodeOf(err), "not a client error: the handler answers 2xx")
	}
}

func TestParseEventMalformed(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"empty":               ``,
		"not json":            `{"message": `,
		"array":               `[1, 2]`,
		"no message":          `{"type": "status-update"}`,
		"null message":        `{"message": null}`,
		"no type":             `{"message": {"status": "ringing", "call": {"id": "c1"}}}`,
		"type is a number":    `{"message": {"type": 7, "call": {"id": "c1"}}}`,
		"no call":             `{"message": {"type": "status-update", "status": "ringing"}}`,
		"call id missing":     `{"message": {"type": "status-update", "status": "ringing", "call": {}}}`,
		"call id blank":       `{"message": {"type": "status-update", "status": "ringing", "call": {"id": "  "}}}`,
		"call id a number":    `{"message": {"type": "status-update", "status": "ringing", "call": {"id": 12}}}`,
		"call id with spaces": `{"message": {"type": "status-update", "status": "ringing", "call": {"id": "a b"}}}`,
		"unknown status":      `{"message": {"type": "status-update", "status": "completed", "call": {"id": "c1"}}}`,
		"status a number":     `{"message": {"type": "status-update", "status": 3, "call": {"id": "c1"}}}`,
		"negative cost":       `{"message": {"type": "end-of-call-report", "cost": -1, "call": {"id": "c1"}}}`,
		"absurd cost":         `{"message": {"type": "end-of-call-report", "cost": 1e300, "call": {"id": "c1"}}}`,
		"cost an object":      `{"message": {"type": "end-of-call-report", "cost": {"total": 1}, "call": {"id": "c1"}}}`,
		"artifact a string":   `{"message": {"type": "end-of-call-report", "artifact": "x", "call": {"id": "c1"}}}`,
	}
	for name, body := range tests {
		_, err := vapi.ParseEvent([]byte(body))
		require.ErrorIs(t, err, vapi.ErrMalformed, name)
		require.Equal(t, fault.Invalid, fault.CodeOf(err), name)
	}
	huge := `{"message": {"type": "transcript", "pad": "` + strings.Repeat("x", vapi.MaxEventBytes) + `"}}`
	_, err := vapi.ParseEvent([]byte(huge))
	require.ErrorIs(t, err, vapi.ErrMalformed)
	require.Contains(t, err.Error(), "limit")
}

func TestParseReportCostRounding(t *testing.T) {
	t.Parallel()
	tests := map[string]int64{"0": 0, "0.004": 0, "0.005": 1, "0.0149": 1, "0.015": 2, "12.345": 1235, "1e-2": 1, "3": 300}
	for cost, cents := range tests {
		body := report(t, func(m map[string]any) { m["cost"] = json.Number(cost) })
		r := parseReport(t, body)
		require.Equal(t, cents, r.CostMinor, cost)
		require.Equal(t, cost, r.Cost)
	}
}
