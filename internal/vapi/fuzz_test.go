package vapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
)

// FuzzParseEvent: ParseEvent never panics, and what it returns is
// consistent: an event with a call id, or one of its two errors.
func FuzzParseEvent(f *testing.F) {
	for _, seed := range []string{
		statusUpdateJSON, reportJSON, ``, `{}`, `{"message":{}}`, `{"message":null}`,
		`{"message":{"type":"transcript"}}`,
		`{"message":{"type":"status-update","status":"ringing","call":{"id":"c1"},"timestamp":"x"}}`,
		`{"message":{"type":"end-of-call-report","call":{"id":"c1","assistantOverrides":{"metadata":[]}},"artifact":{"messages":{}}}}`,
		`{"message":{"type":"end-of-call-report","call":{"id":"c1"},"analysis":{"structuredData":{"nps_score":"1e400"}}}}`,
		`{"message":{"type":"end-of-call-report","call":{"id":"c1"},"cost":1e-400,"durationSeconds":-1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := vapi.ParseEvent(body)
		if err != nil {
			if ev != nil {
				t.Fatalf("event %T with error %v", ev, err)
			}
			if !errors.Is(err, vapi.ErrMalformed) && !errors.Is(err, vapi.ErrUnknownType) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		id, _ := ev.Call()
		if id == "" || len(id) > 128 || ev.DedupeKey() == "" {
			t.Fatalf("event without a usable call id: %q", id)
		}
		switch e := ev.(type) {
		case *voice.StatusUpdate:
			if _, err := voice.ParseStatus(string(e.Status)); err != nil {
				t.Fatalf("status %q", e.Status)
			}
		case *voice.EndOfCallReport:
			if e.CostMinor < 0 || e.DurationSeconds < 0 || len(e.Messages) > 2000 {
				t.Fatalf("out of bounds: cost %d, duration %d, %d turns", e.CostMinor, e.DurationSeconds, len(e.Messages))
			}
			if n := e.StructuredData.NPSScore; n != nil && (*n < 0 || *n > 10) {
				t.Fatalf("NPS %d", *n)
			}
			for _, turn := range e.Messages {
				if strings.ContainsRune(turn.Message, 0) || turn.Message == "" {
					t.Fatalf("turn %q", turn.Message)
				}
			}
		default:
			t.Fatalf("unexpected event type %T", ev)
		}
	})
}

// FuzzVerify: Verify never panics and never accepts a body that was not
// signed with the secret: a signature over another body, or under another
// secret, or a header that is not the secret, is refused.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("secret"), []byte(`{"message":{}}`), []byte(`{"message":{} }`), "", "other")
	f.Add([]byte("k"), []byte(""), []byte("x"), "sha256=00", "k")
	f.Add([]byte("s3cr3t"), []byte("body"), []byte("body"), strings.Repeat("a", 64), "s3cr3t ")
	f.Fuzz(func(t *testing.T, key, signed, sent []byte, rawSig, secretHeader string) {
		// Arbitrary headers never authenticate unless they carry the right
		// MAC or the secret itself.
		h := http.Header{}
		h.Set(vapi.SignatureHeader, rawSig)
		if err := vapi.Verify(key, h, sent); err == nil {
			sig := strings.TrimPrefix(strings.TrimSpace(rawSig), "sha256=")
			got, decErr := hex.DecodeString(sig)
			if decErr != nil || !hmac.Equal(got, mac(key, sent)) {
				t.Fatalf("accepted signature %q that is not the MAC of the body", rawSig)
			}
		}
		h = http.Header{}
		h.Set(vapi.SecretHeader, secretHeader)
		if err := vapi.Verify(key, h, sent); err == nil && secretHeader != string(key) {
			t.Fatalf("accepted secret header %q for secret %q", secretHeader, key)
		}

		// A signature made over one body does not authenticate another.
		h = http.Header{}
		h.Set(vapi.SignatureHeader, vapi.Sign(key, signed))
		err := vapi.Verify(key, h, sent)
		switch {
		case len(key) == 0:
			if !errors.Is(err, vapi.ErrNoSecret) {
				t.Fatalf("no secret: got %v", err)
			}
		case bytes.Equal(signed, sent):
			if err != nil {
				t.Fatalf("rejected a correct signature: %v", err)
			}
		case err == nil:
			t.Fatalf("accepted a signature of %q for body %q", signed, sent)
		}
		// Nor does a signature made under another secret.
		other := append(append([]byte(nil), key...), 'x')
		h.Set(vapi.SignatureHeader, vapi.Sign(other, sent))
		if vapi.Verify(key, h, sent) == nil {
			t.Fatal("accepted a signature made with another secret")
		}
	})
}

func mac(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}
