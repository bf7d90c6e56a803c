package voicesim

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/voice"
)

func TestMakeWAV(t *testing.T) {
	t.Parallel()
	b := recording()
	require.Len(t, b, 44+wavSeconds*wavRate*2)
	le := binary.LittleEndian
	require.Equal(t, "RIFF", string(b[0:4]))
	require.Equal(t, uint32(len(b)-8), le.Uint32(b[4:]))
	require.Equal(t, "WAVEfmt ", string(b[8:16]))
	require.Equal(t, uint32(16), le.Uint32(b[16:]))
	require.Equal(t, uint16(1), le.Uint16(b[20:]), "PCM")
	require.Equal(t, uint16(1), le.Uint16(b[22:]), "mono")
	require.Equal(t, uint32(8000), le.Uint32(b[24:]))
	require.Equal(t, uint32(16000), le.Uint32(b[28:]), "byte rate")
	require.Equal(t, uint16(2), le.Uint16(b[32:]), "block align")
	require.Equal(t, uint16(16), le.Uint16(b[34:]))
	require.Equal(t, "data", string(b[36:40]))
	require.Equal(t, uint32(len(b)-44), le.Uint32(b[40:]))
	var loud int
	for i := 44; i < len(b); i += 2 {
		if v := int16(le.Uint16(b[i:])); v > 1000 || v < -1000 {
			loud++
		}
	}
	require.Greater(t, loud, len(b)/8, "not silence")
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file\n"), 0o600))
	env := map[string]string{
		"AUTOPULSE_VOICESIM_LISTEN":              "127.0.0.1:9999",
		"AUTOPULSE_VOICESIM_API_KEY":             "k",
		"AUTOPULSE_VOICESIM_WEBHOOK_SECRET_FILE": secretFile,
		"AUTOPULSE_VOICESIM_WEBHOOK_URL":         "http://127.0.0.1:8080/hook",
		"AUTOPULSE_VOICESIM_SPEED":               "20",
		"AUTOPULSE_VOICESIM_SEED":                "42",
		"AUTOPULSE_VOICESIM_RATE_NO_ANSWER":      "0.5",
		"AUTOPULSE_VOICESIM_DUPLICATE_RATE":      "0.1",
		"AUTOPULSE_VOICESIM_WEBHOOK_BACKOFF":     "250ms",
		"AUTOPULSE_VOICESIM_SECRET_HEADER":       "true",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", c.Listen)
	require.Equal(t, "k", c.APIKey)
	require.Equal(t, "from-file", c.WebhookSecret)
	require.Equal(t, 20.0, c.Speed)
	require.Equal(t, int64(42), c.Seed)
	require.Equal(t, 0.5, c.Rates.NoAnswer)
	require.Equal(t, DefaultRates.Booking, c.Rates.Booking)
	require.Equal(t, 0.1, c.Faults.DuplicateRate)
	require.Equal(t, 250*time.Millisecond, c.WebhookBackoff)
	require.True(t, c.SendSecretHeader)
	require.Equal(t, DevPhoneNumberID, c.PhoneNumberID)

	defaults, err := FromEnv(func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, DefaultWebhookURL, defaults.WebhookURL)
	require.Equal(t, DevAPIKey, defaults.APIKey)
	require.Equal(t, 1.0, defaults.Speed)

	bad := map[string]string{
		"AUTOPULSE_VOICESIM_SPEED":          "fast",
		"AUTOPULSE_VOICESIM_RATE_BUSY":      "2",
		"AUTOPULSE_VOICESIM_API_KEY":        "a",
		"AUTOPULSE_VOICESIM_API_KEY_FILE":   secretFile,
		"AUTOPULSE_VOICESIM_WEBHOOK_URL":    "ftp://x",
		"AUTOPULSE_VOICESIM_RATE_NO_ANSWER": "0.9",
	}
	_, err = FromEnv(func(k string) string { return bad[k] })
	require.ErrorContains(t, err, "AUTOPULSE_VOICESIM_SPEED")
	require.ErrorContains(t, err, "AUTOPULSE_VOICESIM_API_KEY_FILE")
	delete(bad, "AUTOPULSE_VOICESIM_SPEED")
	delete(bad, "AUTOPULSE_VOICESIM_API_KEY_FILE")
	_, err = FromEnv(func(k string) string { return bad[k] })
	require.ErrorContains(t, err, "busy rate 2")
	require.ErrorContains(t, err, "webhook URL")
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Config{
		"speed":        {Speed: -1},
		"rates sum":    {Rates: &Rates{NoAnswer: 0.6, Busy: 0.6}},
		"phone number": {PhoneNumber: "555"},
		"script":       {Scripts: map[string]Script{"+14155550123": {NPS: Ptr(11)}}},
		"script key":   {Scripts: map[string]Script{"555": {}}},
		"outcome":      {Scripts: map[string]Script{"+14155550123": {Outcome: "ghosted"}}},
	} {
		_, err := New(c)
		require.Error(t, err, name)
	}
}

// newTest starts a simulator with webhooks off and returns its URL.
func newTest(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.WebhookURL = "off"
	if cfg.Speed == 0 {
		cfg.Speed = 5000
	}
	s, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return s, srv.URL
}

func request(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

const goodBody = `{"assistantId": "a", "phoneNumberId": "` + DevPhoneNumberID + `",
  "customer": {"number": "+14155550123", "name": "Dana"},
  "assistantOverrides": {"firstMessage": "Hi, recorded call.", "metadata": {"autopulse_call_id": "x", "campaign_type": "recall"}, "variableValues": {"vehicle": "your Civic"}}}`

func TestCreateCallValidation(t *testing.T) {
	t.Parallel()
	_, url := newTest(t, Config{})
	tests := []struct {
		name   string
		key    string
		body   string
		status int
		says   string
	}{
		{"ok", DevAPIKey, goodBody, http.StatusCreated, ""},
		{"no key", "", goodBody, http.StatusUnauthorized, "Invalid Key"},
		{"wrong key", "nope", goodBody, http.StatusUnauthorized, "Invalid Key"},
		{"not json", DevAPIKey, `{`, http.StatusBadRequest, "JSON object"},
		{"top-level metadata", DevAPIKey, strings.Replace(goodBody, `"assistantId"`, `"metadata": {}, "assistantId"`, 1), http.StatusBadRequest, "property metadata should not exist"},
		{"squad", DevAPIKey, strings.Replace(goodBody, `"assistantId": "a"`, `"squadId": "s"`, 1), http.StatusBadRequest, "not simulated"},
		{"no assistant", DevAPIKey, strings.Replace(goodBody, `"assistantId": "a", `, ``, 1), http.StatusBadRequest, "assistantId or assistant is required"},
		{"both assistants", DevAPIKey, strings.Replace(goodBody, `"assistantId": "a"`, `"assistantId": "a", "assistant": {"firstMessage": "x"}`, 1), http.StatusBadRequest, "not both"},
		{"unknown line", DevAPIKey, strings.Replace(goodBody, DevPhoneNumberID, "pn-x", 1), http.StatusBadRequest, "pn-x not found"},
		{"bad number", DevAPIKey, strings.Replace(goodBody, "+14155550123", "4155550123", 1), http.StatusBadRequest, "E.164"},
		{"number type", DevAPIKey, strings.Replace(goodBody, `"+14155550123"`, `4155550123`, 1), http.StatusBadRequest, "wrong type"},
		{"name too long", DevAPIKey, strings.Replace(goodBody, `"Dana"`, `"`+strings.Repeat("D", 41)+`"`, 1), http.StatusBadRequest, "customer.name"},
		{"overrides not an object", DevAPIKey, strings.Replace(goodBody, `"assistantOverrides": {`, `"assistantOverrides": 5, "x": {`, 1), http.StatusBadRequest, "assistantOverrides"},
	}
	for _, tt := range tests {
		status, body := request(t, http.MethodPost, url+"/call", tt.key, tt.body)
		require.Equal(t, tt.status, status, tt.name)
		if tt.says != "" {
			msg, _ := json.Marshal(body["message"])
			require.Contains(t, string(msg), tt.says, tt.name)
			require.Equal(t, float64(tt.status), body["statusCode"], tt.name)
		} else {
			require.Equal(t, "queued", body["status"], tt.name)
			require.Equal(t, "outboundPhoneCall", body["type"], tt.name)
			require.NotEmpty(t, body["id"], tt.name)
		}
	}
}

func TestCallLifecycleOverGET(t *testing.T) {
	t.Parallel()
	s, url := newTest(t, Config{Scripts: map[string]Script{"+14155550123": {Outcome: voice.OutcomeNoAnswer}}})
	status, created := request(t, http.MethodPost, url+"/call", DevAPIKey, goodBody)
	require.Equal(t, http.StatusCreated, status)
	id := created["id"].(string)
	require.Eventually(t, func() bool {
		_, c := request(t, http.MethodGet, url+"/call/"+id, DevAPIKey, "")
		return c["analysis"] != nil
	}, 20*time.Second, 5*time.Millisecond)
	_, c := request(t, http.MethodGet, url+"/call/"+id, DevAPIKey, "")
	require.Equal(t, "ended", c["status"])
	require.Equal(t, "customer-did-not-answer", c["endedReason"])
	require.Equal(t, 0.0, c["cost"])
	require.JSONEq(t, `{"firstMessage": "Hi, recorded call.", "metadata": {"autopulse_call_id": "x", "campaign_type": "recall"}, "variableValues": {"vehicle": "your Civic"}}`,
		mustJSON(t, c["assistantOverrides"]), "the overrides are echoed as sent")

	status, _ = request(t, http.MethodGet, url+"/recordings/"+id+".wav", "", "")
	require.Equal(t, http.StatusNotFound, status, "an unanswered call has no recording")
	status, _ = request(t, http.MethodGet, url+"/call/"+id, "", "")
	require.Equal(t, http.StatusUnauthorized, status)
	status, _ = request(t, http.MethodGet, url+"/call/nope", DevAPIKey, "")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, int64(1), s.Stats().Dialed)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestListCalls(t *testing.T) {
	t.Parallel()
	_, url := newTest(t, Config{Speed: 1})
	for range 3 {
		status, _ := request(t, http.MethodPost, url+"/call", DevAPIKey, goodBody)
		require.Equal(t, http.StatusCreated, status)
	}
	list := func(query string) []map[string]any {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/call?"+query, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+DevAPIKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out []map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	all := list("phoneNumberId=" + DevPhoneNumberID)
	require.Len(t, all, 3)
	require.GreaterOrEqual(t, all[0]["createdAt"], all[2]["createdAt"], "newest first")
	require.Len(t, list("limit=2"), 2)
	require.Empty(t, list("phoneNumberId=other"))
	require.Empty(t, list("createdAtGe="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	require.Len(t, list("createdAtLt="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), 3)
	status, _ := request(t, http.MethodGet, url+"/call?limit=0", DevAPIKey, "")
	require.Equal(t, http.StatusBadRequest, status)
}

func TestCloseStopsCallsAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	s, url := newTest(t, Config{Speed: 1})
	status, _ := request(t, http.MethodPost, url+"/call", DevAPIKey, goodBody)
	require.Equal(t, http.StatusCreated, status)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a call still ringing in real time")
	}
	status, _ = request(t, http.MethodPost, url+"/call", DevAPIKey, goodBody)
	require.Equal(t, http.StatusServiceUnavailable, status)
	_, err := s.Inbound(InboundCall{From: "+14155550123"})
	require.Error(t, err)
}

func TestMaxCallsForgetsOldEndedCalls(t *testing.T) {
	t.Parallel()
	s, url := newTest(t, Config{MaxCalls: 2, Scripts: map[string]Script{"+14155550123": {Outcome: voice.OutcomeFailed}}})
	var ids []string
	for range 4 {
		_, c := request(t, http.MethodPost, url+"/call", DevAPIKey, goodBody)
		ids = append(ids, c["id"].(string))
		require.Eventually(t, func() bool {
			_, got := request(t, http.MethodGet, url+"/call/"+ids[len(ids)-1], DevAPIKey, "")
			return got["analysis"] != nil
		}, 20*time.Second, 5*time.Millisecond)
	}
	s.mu.Lock()
	n := len(s.calls)
	s.mu.Unlock()
	require.Equal(t, 2, n)
	for _, id := range ids[:2] {
		status, _ := request(t, http.MethodGet, url+"/call/"+id, DevAPIKey, "")
		require.Equal(t, http.StatusNotFound, status)
	}
	status, _ := request(t, http.MethodGet, url+"/call/"+ids[2], DevAPIKey, "")
	require.Equal(t, http.StatusOK, status)
	status, _ = request(t, http.MethodGet, url+"/call/"+ids[3], DevAPIKey, "")
	require.Equal(t, http.StatusOK, status)
}

func TestConversationsFitTheCampaign(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 4, 11, 15, 0, 0, 0, time.UTC) // a Friday
	tests := []struct {
		campaign string
		booking  bool
		says     string
	}{
		{voice.CampaignPostServiceFeedback, false, "zero to ten"},
		{voice.CampaignServiceReminder, true, "is due for"},
		{voice.CampaignRecall, true, "safety recall"},
		{voice.CampaignDeclinedService, false, "chose to postpone"},
		{voice.CampaignCustom, false, "checking in"},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(1, 2))
		sc := &Script{Outcome: voice.OutcomeCompleted, NPS: Ptr(8), Booking: Ptr(tt.booking), OptOut: Ptr(false)}
		d := draw(rng, &DefaultRates, Faults{}, sc)
		f := factsFrom(tt.campaign, "Dana Reyes", "Disclosure first.", DevPhoneNumber, map[string]string{"dealership_name": "Acme"})
		p := planOutbound(d, f, now)
		require.Equal(t, "Disclosure first.", p.lines[0].text, tt.campaign)
		require.True(t, p.lines[0].bot)
		var all strings.Builder
		for i, l := range p.lines {
			all.WriteString(l.text + "\n")
			if i > 0 {
				require.Greater(t, l.start, p.lines[i-1].end, "turns do not overlap")
			}
		}
		require.Contains(t, all.String(), tt.says, tt.campaign)
		require.Positive(t, p.cost)
		require.Equal(t, "assistant-ended-call", p.endedReason)
		if tt.campaign == voice.CampaignPostServiceFeedback {
			require.Equal(t, 8, p.data[voice.KeyNPSScore])
			require.Equal(t, string(voice.SentimentNeutral), p.data[voice.KeySentiment])
		} else {
			require.Equal(t, tt.booking, p.data[voice.KeyWantsBooking], tt.campaign)
		}
		if tt.booking {
			when, err := time.Parse(time.RFC3339, p.data[voice.KeyBookingTime].(string))
			require.NoError(t, err)
			require.True(t, when.After(now))
			require.NotEqual(t, time.Saturday, when.Weekday())
			require.NotEqual(t, time.Sunday, when.Weekday())
		}
	}
}

func TestScriptOverridesDrawsWithoutShiftingOthers(t *testing.T) {
	t.Parallel()
	seq := func(script bool) []voice.Outcome {
		rng := rand.New(rand.NewPCG(9, 9))
		var out []voice.Outcome
		for i := range 20 {
			var sc *Script
			if script && i == 3 {
				sc = &Script{Outcome: voice.OutcomeBusy}
			}
			out = append(out, draw(rng, &DefaultRates, Faults{}, sc).outcome)
		}
		return out
	}
	plain, scripted := seq(false), seq(true)
	require.Equal(t, voice.OutcomeBusy, scripted[3])
	plain[3] = voice.OutcomeBusy
	require.Equal(t, plain, scripted)
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Listen: "127.0.0.1:0", WebhookURL: "off"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	_, err = s.Inbound(InboundCall{From: "+14155550123"})
	require.Error(t, err, "closed with Run")

	var lc net.ListenConfig
	taken, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	busy, err := New(Config{Listen: taken.Addr().String(), WebhookURL: "off"})
	require.NoError(t, err)
	require.ErrorContains(t, busy.Run(context.Background()), "address already in use")
}

func TestInboundScriptTopic(t *testing.T) {
	t.Parallel()
	s, url := newTest(t, Config{Scripts: map[string]Script{"+14155550100": {Booking: Ptr(false), Topic: "tire rotation"}}})
	id, err := s.Inbound(InboundCall{From: "+14155550100"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, c := request(t, http.MethodGet, url+"/call/"+id, DevAPIKey, "")
		return c["analysis"] != nil
	}, 20*time.Second, 5*time.Millisecond)
	_, c := request(t, http.MethodGet, url+"/call/"+id, DevAPIKey, "")
	require.Equal(t, "inboundPhoneCall", c["type"])
	data := c["analysis"].(map[string]any)["structuredData"].(map[string]any)
	require.Equal(t, "tire rotation", data[voice.KeyInquiryTopic])
	require.Equal(t, false, data[voice.KeyWantsBooking])
}
