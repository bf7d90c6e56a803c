package vapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// wait bounds every wait on the simulator. Calls take milliseconds at the
// speed the tests use; the margin is for loaded machines.
const wait = 20 * time.Second

const (
	simKey     = "sim-key-for-tests"
	simSecret  = "sim-webhook-secret-for-tests"
	simLineID  = "pn-test-line"
	simLine    = "+13125550142"
	simAssist  = "asst-test"
	customerNo = "+14155550123"
)

// receiver is AutoPulse's side of the webhook: it verifies and parses
// every delivery the way the real endpoint must.
type receiver struct {
	t        *testing.T
	secret   []byte
	requests atomic.Int64
	rejected atomic.Int64
	// answer, when set, picks the status for the nth request (1-based);
	// 0 means verify and accept.
	answer func(n int64) int
	events chan voice.Event
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := rc.requests.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, vapi.MaxEventBytes))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if rc.answer != nil {
		if code := rc.answer(n); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	if err := vapi.Verify(rc.secret, r.Header, body); err != nil {
		rc.rejected.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ev, err := vapi.ParseEvent(body)
	if err != nil {
		rc.t.Errorf("simulator sent a payload the parser refuses: %v\n%s", err, body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.events <- ev
	w.WriteHeader(http.StatusNoContent)
}

type env struct {
	sim    *voicesim.Server
	simURL string
	rec    *receiver
	client *vapi.Client
}

type option func(*voicesim.Config, *receiver)

func setup(t *testing.T, opts ...option) *env {
	t.Helper()
	rec := &receiver{t: t, secret: []byte(simSecret), events: make(chan voice.Event, 1000)}
	cfg := voicesim.Config{
		APIKey:         simKey,
		PhoneNumberID:  simLineID,
		PhoneNumber:    simLine,
		WebhookSecret:  simSecret,
		Speed:          2000,
		WebhookBackoff: 100 * time.Millisecond,
		Seed:           7,
	}
	for _, o := range opts {
		o(&cfg, rec)
	}
	recSrv := httptest.NewServer(rec)
	t.Cleanup(recSrv.Close)
	cfg.WebhookURL = recSrv.URL + "/api/v1/webhooks/vapi"
	sim, err := voicesim.New(cfg)
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	t.Cleanup(sim.Close) // runs first: no webhook outlives the test
	return &env{
		sim:    sim,
		simURL: simSrv.URL,
		rec:    rec,
		client: &vapi.Client{BaseURL: simSrv.URL, APIKey: simKey, AssistantID: simAssist, PhoneNumberID: simLineID},
	}
}

func dialRequest(campaign string) voice.DialRequest {
	return voice.DialRequest{
		CallID:         uuid.Must(uuid.NewV7()),
		OrganizationID: uuid.Must(uuid.NewV7()),
		CampaignType:   campaign,
		ToNumber:       customerNo,
		CustomerName:   "Dana Reyes",
		Disclosure:     "Hi, this is the virtual assistant of Acme Motors. This call is recorded.",
		FirstMessage:   "Do you have a minute?",
		Variables:      map[string]string{"dealership_name": "Acme Motors", "vehicle": "your 2021 Civic"},
	}
}

// collect gathers the first total events of providerCallID, in arrival order.
func (e *env) collect(t *testing.T, providerCallID string, total int) []voice.Event {
	t.Helper()
	var got []voice.Event
	deadline := time.After(wait)
	for {
		select {
		case ev := <-e.rec.events:
			if id, _ := ev.Call(); id == providerCallID {
				got = append(got, ev)
			}
			if len(got) >= total {
				return got
			}
		case <-deadline:
			t.Fatalf("waited %s for %d events of call %s; got %d: %v", wait, total, providerCallID, len(got), got)
		}
	}
}

// until gathers the events of a call up to and including its report.
func (e *env) until(t *testing.T, providerCallID string) (statuses []voice.Status, report *voice.EndOfCallReport) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev := <-e.rec.events:
			if id, _ := ev.Call(); id != providerCallID {
				continue
			}
			switch ev := ev.(type) {
			case *voice.StatusUpdate:
				statuses = append(statuses, ev.Status)
			case *voice.EndOfCallReport:
				return statuses, ev
			}
		case <-deadline:
			t.Fatalf("no end-of-call report for %s within %s (statuses %v)", providerCallID, wait, statuses)
		}
	}
}

func TestDialFeedbackCallEndToEnd(t *testing.T) {
	t.Parallel()
	e := setup(t)
	req := dialRequest(voice.CampaignPostServiceFeedback)
	e.sim.ScriptCall(req.CallID.String(), voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(10), OptOut: voicesim.Ptr(false)})

	res, err := e.client.Dial(context.Background(), req)
	require.NoError(t, err)
	require.NotEmpty(t, res.ProviderCallID)
	require.Equal(t, voice.StatusQueued, res.Status)
	require.False(t, res.CreatedAt.IsZero())

	statuses, r := e.until(t, res.ProviderCallID)
	require.Equal(t, []voice.Status{voice.StatusQueued, voice.StatusRinging, voice.StatusInProgress, voice.StatusEnded}, statuses)
	require.Empty(t, r.Problems)
	require.Equal(t, req.CallID, r.CallID, "our call id came back through the metadata")
	require.Equal(t, req.OrganizationID, r.OrganizationID)
	require.Equal(t, voice.CampaignPostServiceFeedback, r.Metadata[voice.MetaCampaignType])
	require.Equal(t, voice.Outbound, r.Direction)
	require.Equal(t, simLine, r.FromNumber)
	require.Equal(t, customerNo, r.ToNumber)
	require.Equal(t, simLineID, r.PhoneNumberID)
	require.Equal(t, voice.OutcomeCompleted, r.Outcome())
	require.Positive(t, r.DurationSeconds)
	require.Positive(t, r.CostMinor)
	require.False(t, r.StartedAt.IsZero())
	require.False(t, r.EndedAt.Before(r.StartedAt))
	require.NotEmpty(t, r.Summary)
	require.NotEmpty(t, r.Transcript)

	require.GreaterOrEqual(t, len(r.Messages), 4)
	require.Equal(t, voice.RoleAgent, r.Messages[0].Role)
	require.True(t, strings.HasPrefix(r.Messages[0].Message, req.Disclosure), "the call opens with the disclosure: %q", r.Messages[0].Message)
	require.Contains(t, r.Transcript, "zero to ten", "a feedback call asks for the NPS")
	for i := 1; i < len(r.Messages); i++ {
		require.GreaterOrEqual(t, r.Messages[i].StartMs, r.Messages[i-1].EndMs, "turns are in order")
	}

	sd := r.StructuredData
	require.NotNil(t, sd.NPSScore)
	require.Equal(t, 10, *sd.NPSScore)
	require.Equal(t, voice.SentimentPositive, sd.Sentiment)
	require.False(t, sd.OptOut)
	require.NotEmpty(t, sd.WentWell)

	// The recording is a valid WAV served by the simulator, with ranges.
	require.True(t, strings.HasPrefix(r.RecordingURL, e.simURL+"/recordings/"), r.RecordingURL)
	wav := get(t, r.RecordingURL, "", http.StatusOK)
	require.Equal(t, "RIFF", string(wav[0:4]))
	require.Equal(t, "WAVE", string(wav[8:12]))
	require.Equal(t, uint32(len(wav)-8), binary.LittleEndian.Uint32(wav[4:8]))
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(wav[20:22]), "PCM")
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(wav[22:24]), "mono")
	require.Equal(t, uint32(8000), binary.LittleEndian.Uint32(wav[24:28]), "8 kHz")
	require.Equal(t, uint16(16), binary.LittleEndian.Uint16(wav[34:36]), "16-bit")
	require.Equal(t, uint32(len(wav)-44), binary.LittleEndian.Uint32(wav[40:44]))
	part := get(t, r.RecordingURL, "bytes=0-43", http.StatusPartialContent)
	require.Equal(t, wav[:44], part)

	// GetCall now shows the ended call with the same report.
	st, err := e.client.GetCall(context.Background(), res.ProviderCallID)
	require.NoError(t, err)
	require.Equal(t, voice.StatusEnded, st.Status)
	require.Equal(t, req.CallID, st.CallID)
	require.NotNil(t, st.Report)
	require.Equal(t, r.CostMinor, st.Report.CostMinor)
	require.Equal(t, r.Messages, st.Report.Messages)
	require.Equal(t, 10, *st.Report.StructuredData.NPSScore)
}

func get(t *testing.T, url, rng string, want int) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, want, resp.StatusCode)
	require.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestScriptedOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		campaign string
		script   voicesim.Script
		statuses []voice.Status
		check    func(t *testing.T, r *voice.EndOfCallReport)
	}{
		{"no answer", voice.CampaignServiceReminder, voicesim.Script{Outcome: voice.OutcomeNoAnswer},
			[]voice.Status{"queued", "ringing", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, voice.OutcomeNoAnswer, r.Outcome())
				require.Empty(t, r.Messages)
				require.Empty(t, r.RecordingURL)
				require.Zero(t, r.CostMinor)
			}},
		{"busy", voice.CampaignRecall, voicesim.Script{Outcome: voice.OutcomeBusy},
			[]voice.Status{"queued", "ringing", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, voice.OutcomeBusy, r.Outcome())
			}},
		{"failed", voice.CampaignRecall, voicesim.Script{Outcome: voice.OutcomeFailed},
			[]voice.Status{"queued", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, voice.OutcomeFailed, r.Outcome())
			}},
		{"voicemail", voice.CampaignDeclinedService, voicesim.Script{Outcome: voice.OutcomeVoicemail},
			[]voice.Status{"queued", "ringing", "in-progress", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, voice.OutcomeVoicemail, r.Outcome())
				require.Len(t, r.Messages, 1)
				require.NotEmpty(t, r.RecordingURL)
			}},
		{"reminder books", voice.CampaignServiceReminder,
			voicesim.Script{Outcome: voice.OutcomeCompleted, Booking: voicesim.Ptr(true), OptOut: voicesim.Ptr(false)},
			[]voice.Status{"queued", "ringing", "in-progress", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, voice.OutcomeCompleted, r.Outcome())
				require.True(t, r.StructuredData.WantsBooking)
				require.NotNil(t, r.StructuredData.BookingTime)
				require.True(t, r.StructuredData.BookingTime.After(time.Now()))
				require.Contains(t, r.Transcript, "schedule")
			}},
		{"recall declines", voice.CampaignRecall,
			voicesim.Script{Outcome: voice.OutcomeCompleted, Booking: voicesim.Ptr(false), OptOut: voicesim.Ptr(false)},
			[]voice.Status{"queued", "ringing", "in-progress", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.False(t, r.StructuredData.WantsBooking)
				require.Nil(t, r.StructuredData.BookingTime)
				require.Contains(t, r.Transcript, "recall")
			}},
		{"opt-out", voice.CampaignServiceReminder,
			voicesim.Script{Outcome: voice.OutcomeCompleted, OptOut: voicesim.Ptr(true)},
			[]voice.Status{"queued", "ringing", "in-progress", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.True(t, r.StructuredData.OptOut)
				require.False(t, r.StructuredData.WantsBooking)
				require.Equal(t, "customer-ended-call", r.EndedReason)
				require.Contains(t, r.Transcript, "stop calling")
			}},
		{"detractor", voice.CampaignPostServiceFeedback,
			voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(3), OptOut: voicesim.Ptr(false)},
			[]voice.Status{"queued", "ringing", "in-progress", "ended"}, func(t *testing.T, r *voice.EndOfCallReport) {
				require.Equal(t, 3, *r.StructuredData.NPSScore)
				require.Equal(t, voice.Detractor, voice.CategoryOf(*r.StructuredData.NPSScore))
				require.Equal(t, voice.SentimentNegative, r.StructuredData.Sentiment)
				require.NotEmpty(t, r.StructuredData.InquiryTopic)
				require.True(t, r.StructuredData.CallbackAsked)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			number := "+1415555" + strings.Repeat("0", 4)
			e.sim.ScriptNumber(number, tt.script)
			req := dialRequest(tt.campaign)
			req.ToNumber = number
			res, err := e.client.Dial(context.Background(), req)
			require.NoError(t, err)
			statuses, r := e.until(t, res.ProviderCallID)
			require.Equal(t, tt.statuses, statuses)
			require.Equal(t, req.CallID, r.CallID)
			require.Empty(t, r.Problems)
			tt.check(t, r)
		})
	}
}

func TestSameSeedSameOutcomes(t *testing.T) {
	t.Parallel()
	outcomes := func() []voice.Outcome {
		e := setup(t, func(c *voicesim.Config, _ *receiver) {
			c.Rates = &voicesim.Rates{NoAnswer: 0.3, Busy: 0.2, Voicemail: 0.2, Promoter: 0.5, Booking: 0.5}
		})
		var ids []string
		for range 12 {
			res, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignServiceReminder))
			require.NoError(t, err)
			ids = append(ids, res.ProviderCallID)
		}
		got := map[string]voice.Outcome{}
		for len(got) < len(ids) {
			select {
			case ev := <-e.rec.events:
				if r, ok := ev.(*voice.EndOfCallReport); ok {
					got[r.ProviderCallID] = r.Outcome()
				}
			case <-time.After(wait):
				t.Fatalf("only %d of %d reports", len(got), len(ids))
			}
		}
		out := make([]voice.Outcome, len(ids))
		for i, id := range ids {
			out[i] = got[id]
		}
		return out
	}
	first, second := outcomes(), outcomes()
	require.Equal(t, first, second)
	distinct := map[voice.Outcome]bool{}
	for _, o := range first {
		distinct[o] = true
	}
	require.Greater(t, len(distinct), 1, "the rates produce a mix: %v", first)
}

func TestDuplicateAndOutOfOrderDelivery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	req := dialRequest(voice.CampaignRecall)
	e.sim.ScriptCall(req.CallID.String(), voicesim.Script{Outcome: voice.OutcomeNoAnswer, Duplicate: true, ReportFirst: true})
	res, err := e.client.Dial(context.Background(), req)
	require.NoError(t, err)

	// no-answer: queued, ringing, ended and the report, each twice.
	got := e.collect(t, res.ProviderCallID, 8)
	_, reportFirst := got[0].(*voice.EndOfCallReport)
	require.True(t, reportFirst, "the report arrives before any status update: %T", got[0])
	keys := map[string]int{}
	for _, ev := range got {
		keys[ev.DedupeKey()]++
	}
	require.Equal(t, map[string]int{
		res.ProviderCallID + ":end-of-call-report":    2,
		res.ProviderCallID + ":status-update:queued":  2,
		res.ProviderCallID + ":status-update:ringing": 2,
		res.ProviderCallID + ":status-update:ended":   2,
	}, keys)
}

func TestFaultRatesApplyToEveryCall(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *voicesim.Config, _ *receiver) {
		c.Faults = voicesim.Faults{DuplicateRate: 1}
		c.Scripts = map[string]voicesim.Script{customerNo: {Outcome: voice.OutcomeFailed}}
	})
	res, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignRecall))
	require.NoError(t, err)
	got := e.collect(t, res.ProviderCallID, 6) // queued, ended, report: twice each
	require.Len(t, got, 6)
	require.Equal(t, got[0].DedupeKey(), got[1].DedupeKey())
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *voicesim.Config, rc *receiver) {
		c.Scripts = map[string]voicesim.Script{customerNo: {Outcome: voice.OutcomeFailed}}
		rc.answer = func(n int64) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return 0
		}
	})
	res, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignRecall))
	require.NoError(t, err)
	statuses, _ := e.until(t, res.ProviderCallID)
	require.Equal(t, []voice.Status{voice.StatusQueued, voice.StatusEnded}, statuses, "the first message got through on its third attempt")
	require.Equal(t, int64(2), e.sim.Stats().Retries)
	require.Equal(t, int64(5), e.rec.requests.Load())
}

func TestWebhookGivesUpAfterBoundedAttempts(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *voicesim.Config, rc *receiver) {
		c.WebhookAttempts = 3
		c.Scripts = map[string]voicesim.Script{customerNo: {Outcome: voice.OutcomeFailed}}
		rc.answer = func(int64) int { return http.StatusInternalServerError }
	})
	_, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignRecall))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.sim.Stats().Failures == 3 }, wait, 5*time.Millisecond)
	require.Equal(t, int64(9), e.rec.requests.Load(), "three messages, three attempts each")
	require.Equal(t, int64(6), e.sim.Stats().Retries)
}

func TestWrongWebhookSecretIsRejectedAndNotRetried(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *voicesim.Config, rc *receiver) {
		c.WebhookSecret = "not-the-receivers-secret"
		c.Scripts = map[string]voicesim.Script{customerNo: {Outcome: voice.OutcomeFailed}}
	})
	_, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignRecall))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.sim.Stats().Failures == 3 }, wait, 5*time.Millisecond)
	require.Equal(t, int64(3), e.rec.rejected.Load())
	require.Zero(t, e.sim.Stats().Retries, "a 401 is final")
	require.Empty(t, e.rec.events)
}

func TestSecretHeaderMode(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *voicesim.Config, _ *receiver) {
		c.SendSecretHeader = true
		c.Scripts = map[string]voicesim.Script{customerNo: {Outcome: voice.OutcomeFailed}}
	})
	res, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignRecall))
	require.NoError(t, err)
	_, r := e.until(t, res.ProviderCallID)
	require.Equal(t, voice.OutcomeFailed, r.Outcome())
}

func TestInboundCalls(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := uuid.Must(uuid.NewV7())
	post := func(body string) string {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.simURL+"/simulate/inbound", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+simKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		var call struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&call))
		require.Equal(t, "inboundPhoneCall", call.Type)
		return call.ID
	}

	id := post(`{"from": "+14155550777", "intent": "booking", "organizationId": "` + org.String() + `"}`)
	statuses, r := e.until(t, id)
	require.Equal(t, []voice.Status{voice.StatusRinging, voice.StatusInProgress, voice.StatusEnded}, statuses)
	require.Equal(t, voice.Inbound, r.Direction)
	require.Equal(t, uuid.Nil, r.CallID, "nobody dialed it")
	require.Equal(t, org, r.OrganizationID)
	require.Equal(t, "+14155550777", r.FromNumber)
	require.Equal(t, simLine, r.ToNumber)
	require.True(t, r.StructuredData.WantsBooking)
	require.NotNil(t, r.StructuredData.BookingTime)
	require.Empty(t, r.Problems)

	id = post(`{"from": "+14155550778", "intent": "inquiry", "topic": "loaner vehicle"}`)
	_, r = e.until(t, id)
	require.False(t, r.StructuredData.WantsBooking)
	require.Equal(t, "loaner vehicle", r.StructuredData.InquiryTopic)
	require.True(t, r.StructuredData.CallbackAsked)
	require.Equal(t, uuid.Nil, r.OrganizationID)

	// The Go method does the same without HTTP.
	id, err := e.sim.Inbound(voicesim.InboundCall{From: "+14155550779", Booking: voicesim.Ptr(false)})
	require.NoError(t, err)
	_, r = e.until(t, id)
	require.NotEmpty(t, r.StructuredData.InquiryTopic)
}

func TestFindByCallIDReconciles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	since := time.Now().Add(-time.Minute)
	req := dialRequest(voice.CampaignServiceReminder)
	res, err := e.client.Dial(context.Background(), req)
	require.NoError(t, err)
	for range 3 { // other calls on the same line
		_, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignServiceReminder))
		require.NoError(t, err)
	}

	st, err := e.client.FindByCallID(context.Background(), req.CallID, since)
	require.NoError(t, err)
	require.Equal(t, res.ProviderCallID, st.ProviderCallID)
	require.Equal(t, req.CallID, st.CallID)
	require.Equal(t, req.OrganizationID, st.OrganizationID)

	_, err = e.client.FindByCallID(context.Background(), uuid.New(), since)
	require.ErrorIs(t, err, voice.ErrNotFound)
	_, err = e.client.FindByCallID(context.Background(), req.CallID, time.Now().Add(time.Hour))
	require.ErrorIs(t, err, voice.ErrNotFound, "calls created before since are not searched")

	_, err = e.client.GetCall(context.Background(), "no-such-call")
	require.ErrorIs(t, err, voice.ErrNotFound)
	require.NotErrorIs(t, err, voice.ErrRetryable)
}

func TestFindByCallIDPagesThroughTheList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	since := time.Now().Add(-time.Minute)
	req := dialRequest(voice.CampaignServiceReminder)
	res, err := e.client.Dial(context.Background(), req)
	require.NoError(t, err)
	for range 130 { // more than one page (100) of newer calls
		_, err := e.client.Dial(context.Background(), dialRequest(voice.CampaignServiceReminder))
		require.NoError(t, err)
	}
	st, err := e.client.FindByCallID(context.Background(), req.CallID, since)
	require.NoError(t, err)
	require.Equal(t, res.ProviderCallID, st.ProviderCallID)

	// A search that stops before the listing's end cannot say "not
	// placed": that would make the dispatcher dial again.
	short := *e.client
	short.FindLimit = 40
	_, err = short.FindByCallID(context.Background(), req.CallID, since)
	require.ErrorIs(t, err, voice.ErrUncertain)
	require.ErrorIs(t, err, voice.ErrRetryable)
	require.NotErrorIs(t, err, voice.ErrNotFound)
	_, err = short.FindByCallID(context.Background(), uuid.New(), since)
	require.NotErrorIs(t, err, voice.ErrNotFound)
	// A match among the calls read is an answer even then.
	newest := dialRequest(voice.CampaignServiceReminder)
	res, err = e.client.Dial(context.Background(), newest)
	require.NoError(t, err)
	st, err = short.FindByCallID(context.Background(), newest.CallID, since)
	require.NoError(t, err)
	require.Equal(t, res.ProviderCallID, st.ProviderCallID)
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	t.Run("wrong API key is permanent", func(t *testing.T) {
		t.Parallel()
		c := *e.client
		c.APIKey = "wrong"
		_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
		require.ErrorIs(t, err, voice.ErrUnauthorized)
		require.NotErrorIs(t, err, voice.ErrRetryable)
		require.NotErrorIs(t, err, voice.ErrUncertain)
		require.Contains(t, err.Error(), "Invalid Key")
	})
	t.Run("unknown phone number is invalid", func(t *testing.T) {
		t.Parallel()
		c := *e.client
		c.PhoneNumberID = "pn-other"
		_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
		require.ErrorIs(t, err, voice.ErrInvalidRequest)
		require.NotErrorIs(t, err, voice.ErrRetryable)
		require.Contains(t, err.Error(), "pn-other")
	})
	t.Run("invalid request never leaves the process", func(t *testing.T) {
		t.Parallel()
		req := dialRequest(voice.CampaignRecall)
		req.ToNumber = "555-0100"
		before := e.sim.Stats().Dialed
		_, err := e.client.Dial(ctx, req)
		require.ErrorIs(t, err, voice.ErrInvalidRequest)
		require.Equal(t, before, e.sim.Stats().Dialed)
	})
	t.Run("no assistant", func(t *testing.T) {
		t.Parallel()
		c := *e.client
		c.AssistantID = ""
		_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
		require.ErrorIs(t, err, voice.ErrInvalidRequest)
	})
	t.Run("inline assistant is accepted", func(t *testing.T) {
		t.Parallel()
		c := *e.client
		c.AssistantID = ""
		req := dialRequest(voice.CampaignRecall)
		req.Assistant = &voice.Assistant{Name: "Recall agent", SystemPrompt: "You call about recalls."}
		res, err := c.Dial(ctx, req)
		require.NoError(t, err)
		require.NotEmpty(t, res.ProviderCallID)
	})
}

// fakeVapi answers every request with a fixed status and records bodies.
func fakeVapi(t *testing.T, status int, header http.Header, body string) (*vapi.Client, *[][]byte) {
	t.Helper()
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &vapi.Client{BaseURL: srv.URL, APIKey: "k", AssistantID: "a", PhoneNumberID: "p"}, &bodies
}

func TestDialErrorMapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		retryable  bool
		uncertain  bool
		retryAfter time.Duration
		message    string
	}{
		{"503 is retryable and uncertain", 503, nil, `{"message":"Service Unavailable"}`, true, true, 0, "Service Unavailable"},
		{"500 with Retry-After", 500, http.Header{"Retry-After": {"3"}}, `oops`, true, true, 3 * time.Second, "oops"},
		{"429 is retryable, nothing was created", 429, http.Header{"Retry-After": {"7"}}, `{"message":"Too Many Requests"}`, true, false, 7 * time.Second, "Too Many"},
		{"400 lists problems", 400, nil, `{"message":["customer.number must be E.164","name too long"],"error":"Bad Request","statusCode":400}`, false, false, 0, "customer.number must be E.164; name too long"},
		{"402 is permanent", 402, nil, `{"message":"Insufficient credits"}`, false, false, 0, "Insufficient credits"},
		{"201 without an id is uncertain", 201, nil, `{"status":"queued"}`, true, true, 0, "no call id"},
		{"201 with garbage is uncertain", 201, nil, `<html>`, true, true, 0, "decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := fakeVapi(t, tt.status, tt.header, tt.body)
			_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
			require.Error(t, err)
			require.Equal(t, tt.retryable, voice.IsRetryable(err), err.Error())
			require.Equal(t, tt.uncertain, errors.Is(err, voice.ErrUncertain), err.Error())
			require.Equal(t, tt.retryAfter, voice.RetryAfter(err))
			require.Contains(t, err.Error(), tt.message)
		})
	}

	t.Run("503 on GET is retryable but not uncertain", func(t *testing.T) {
		t.Parallel()
		c, _ := fakeVapi(t, 503, nil, `{}`)
		_, err := c.GetCall(ctx, "c1")
		require.True(t, voice.IsRetryable(err))
		require.False(t, errors.Is(err, voice.ErrUncertain))
	})
	t.Run("connection refused: retryable, never sent", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c := &vapi.Client{BaseURL: url, APIKey: "k", AssistantID: "a", PhoneNumberID: "p"}
		_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
		require.True(t, voice.IsRetryable(err), err.Error())
		require.False(t, errors.Is(err, voice.ErrUncertain), "the request never reached the server")
	})
	t.Run("timeout after sending is uncertain", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		c := &vapi.Client{BaseURL: srv.URL, APIKey: "k", AssistantID: "a", PhoneNumberID: "p", HTTP: &http.Client{Timeout: 50 * time.Millisecond}}
		_, err := c.Dial(ctx, dialRequest(voice.CampaignRecall))
		require.True(t, voice.IsRetryable(err), err.Error())
		require.True(t, errors.Is(err, voice.ErrUncertain), "the call may have been created")
	})
}

func TestDialRequestBody(t *testing.T) {
	t.Parallel()
	c, bodies := fakeVapi(t, http.StatusCreated, nil, `{"id":"call-1","status":"queued","createdAt":"2025-04-11T09:49:33.624Z"}`)
	req := dialRequest(voice.CampaignPostServiceFeedback)
	req.Metadata = map[string]string{"target_id": "t-9", voice.MetaCallID: "spoofed"}
	res, err := c.Dial(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "call-1", res.ProviderCallID)
	require.Equal(t, time.Date(2025, 4, 11, 9, 49, 33, 624e6, time.UTC), res.CreatedAt)

	require.Len(t, *bodies, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal((*bodies)[0], &got))
	require.NotContains(t, got, "metadata", "CreateCallDTO has no metadata property")
	require.Equal(t, "a", got["assistantId"])
	require.Equal(t, "p", got["phoneNumberId"])
	require.Equal(t, map[string]any{"number": customerNo, "name": "Dana Reyes"}, got["customer"])
	over := got["assistantOverrides"].(map[string]any)
	require.Equal(t, req.Disclosure+" "+req.FirstMessage, over["firstMessage"])
	require.Equal(t, map[string]any{
		voice.MetaCallID:         req.CallID.String(),
		voice.MetaOrganizationID: req.OrganizationID.String(),
		voice.MetaCampaignType:   voice.CampaignPostServiceFeedback,
		"target_id":              "t-9",
	}, over["metadata"], "our keys cannot be overridden")
	require.Equal(t, map[string]any{"dealership_name": "Acme Motors", "vehicle": "your 2021 Civic", "customer_name": "Dana Reyes"}, over["variableValues"])

	req.Assistant = &voice.Assistant{SystemPrompt: "Be brief."}
	_, err = c.Dial(context.Background(), req)
	require.NoError(t, err)
	var inline struct {
		AssistantID string `json:"assistantId"`
		Assistant   struct {
			FirstMessage string `json:"firstMessage"`
			Model        struct {
				Provider string `json:"provider"`
				Messages []struct{ Role, Content string }
			} `json:"model"`
			AnalysisPlan struct {
				StructuredDataPlan struct {
					Enabled bool            `json:"enabled"`
					Schema  json.RawMessage `json:"schema"`
				} `json:"structuredDataPlan"`
			} `json:"analysisPlan"`
		} `json:"assistant"`
	}
	require.NoError(t, json.NewDecoder(bytes.NewReader((*bodies)[1])).Decode(&inline))
	require.Empty(t, inline.AssistantID, "assistantId and assistant are exclusive")
	require.Equal(t, "openai", inline.Assistant.Model.Provider)
	require.Equal(t, "Be brief.", inline.Assistant.Model.Messages[0].Content)
	require.True(t, strings.HasPrefix(inline.Assistant.FirstMessage, req.Disclosure))
	require.True(t, inline.Assistant.AnalysisPlan.StructuredDataPlan.Enabled)
	require.JSONEq(t, voice.StructuredDataSchema, string(inline.Assistant.AnalysisPlan.StructuredDataPlan.Schema))
}
