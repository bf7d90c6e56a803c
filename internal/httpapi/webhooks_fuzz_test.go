package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/autopulse/autopulse/internal/vapi"
)

// FuzzWebhookVapi posts arbitrary bodies, signed or not, through the whole
// receiving path (huma, verification, parsing, jsonb storage, enqueue) of a
// running API on a real database. Whatever arrives, the answer is a 2xx or
// a 4xx, never a 5xx, and the server never panics.
func FuzzWebhookVapi(f *testing.F) {
	seeds := []string{
		`{"message":{"type":"status-update","status":"ringing","call":{"id":"c1","type":"outboundPhoneCall","assistantOverrides":{"metadata":{"autopulse_call_id":"0190f0e0-0000-7000-8000-000000000001"}}}}}`,
		`{"message":{"type":"end-of-call-report","endedReason":"customer-ended-call","cost":0.1234,"durationSeconds":61.5,` +
			`"artifact":{"messages":[{"role":"bot","message":"Hi","secondsFromStart":0.4},{"role":"user","message":"Hello"}],"recordingUrl":"https://storage.vapi.ai/r.wav"},` +
			`"analysis":{"summary":"ok","structuredData":{"nps_score":9,"sentiment":"positive","booking_time":"2030-01-01T09:00:00Z"}},` +
			`"call":{"id":"c2","type":"inboundPhoneCall"},"phoneNumber":{"number":"+13125550100"},"customer":{"number":"+13125550142"}}}`,
		`{"message":{"type":"transcript","transcript":"hi"}}`,
		`{"message":{"type":"status-update","status":"ended","endedReason":"x\u0000y","call":{"id":"c3"}}}`,
		"{\"message\":{\"type\":\"status-update\",\"status\":\"queued\",\"call\":{\"id\":\"c4\",\"metadata\":{\"k\":\"\xff\xfe\"}}}}",
		`{"message":{"type":"status-update","status":"queued","call":{"id":"c5","metadata":{"k":"\ud800"}}}}`,
		`{"message":{"type":"end-of-call-report","cost":1e400,"call":{"id":"c6"}}}`,
		`{"message":{"type":"end-of-call-report","call":{"id":"c7","metadata":{"n":1e999999}}}}`,
		`{"message":{"type":"status-update","status":"queued","call":{"id":"c8","x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}}`,
		`{"message":null}`, `[]`, `null`, ``, `{`, `{"message":{"type":""}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	e := setup(f)
	client := e.srv.Client()
	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+"/api/v1/webhooks/vapi", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if sign {
			req.Header.Set(vapi.SignatureHeader, vapi.Sign([]byte(webhookSecret), body))
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 || res.StatusCode < 200 {
			t.Fatalf("status %d for body %q: %s", res.StatusCode, body, out)
		}
		if !sign && res.StatusCode != http.StatusUnauthorized && len(body) > 0 && len(body) <= 256<<10 {
			t.Fatalf("unsigned body answered %d: %s", res.StatusCode, out)
		}
	})
}
