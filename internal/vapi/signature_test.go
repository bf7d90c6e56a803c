package vapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/vapi"
)

var (
	secret = []byte("whsec-test-0123456789")
	body   = []byte(`{"message":{"type":"status-update","status":"ringing","call":{"id":"c1"}}}`)
)

func headerWith(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
	require.Equal(t, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		vapi.Sign([]byte("Jefe"), []byte("what do ya want for nothing?")))
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	sig := vapi.Sign(secret, body)
	tests := map[string]http.Header{
		"signature":                    headerWith("X-Vapi-Signature", sig),
		"lower-case header name":       headerWith("x-vapi-signature", sig),
		"upper-case hex":               headerWith("X-Vapi-Signature", strings.ToUpper(sig)),
		"sha256= prefix":               headerWith("X-Vapi-Signature", "sha256="+sig),
		"surrounding spaces":           headerWith("X-Vapi-Signature", " "+sig+" "),
		"secret header":                headerWith("X-Vapi-Secret", string(secret)),
		"signature wins, both right":   headerWith("X-Vapi-Signature", sig, "X-Vapi-Secret", string(secret)),
		"signature wins, secret odd":   headerWith("X-Vapi-Signature", sig, "X-Vapi-Secret", "nope"),
		"canonicalized by net/http ok": func() http.Header { h := http.Header{}; h.Set("x-VAPI-signature", sig); return h }(),
	}
	for name, h := range tests {
		require.NoError(t, vapi.Verify(secret, h, body), name)
	}
	require.NoError(t, vapi.VerifySignature(secret, headerWith("X-Vapi-Signature", sig), body))
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	sig := vapi.Sign(secret, body)
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = 'X'
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		why    string
	}{
		{"tampered body", headerWith("X-Vapi-Signature", sig), tampered, "does not match"},
		{"body with trailing newline", headerWith("X-Vapi-Signature", sig), append(append([]byte(nil), body...), '\n'), "does not match"},
		{"wrong secret", headerWith("X-Vapi-Signature", vapi.Sign([]byte("other-secret"), body)), body, "does not match"},
		{"missing header", http.Header{}, body, "no X-Vapi-Signature"},
		{"empty signature", headerWith("X-Vapi-Signature", ""), body, "characters"},
		{"non-hex", headerWith("X-Vapi-Signature", strings.Repeat("zz", 32)), body, "not hex"},
		{"truncated", headerWith("X-Vapi-Signature", sig[:62]), body, "characters"},
		{"base64 instead of hex", headerWith("X-Vapi-Signature", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="), body, "characters"},
		{"two signatures", headerWith("X-Vapi-Signature", sig, "X-Vapi-Signature", sig), body, "2 X-Vapi-Signature"},
		{"bad signature, good secret header", headerWith("X-Vapi-Signature", vapi.Sign(secret, tampered), "X-Vapi-Secret", string(secret)), body, "does not match"},
		{"wrong secret header", headerWith("X-Vapi-Secret", "whsec-test-012345678"), body, "X-Vapi-Secret does not match"},
		{"empty secret header", headerWith("X-Vapi-Secret", ""), body, "does not match"},
		{"two secret headers", headerWith("X-Vapi-Secret", string(secret), "X-Vapi-Secret", string(secret)), body, "2 X-Vapi-Secret"},
	}
	for _, tt := range tests {
		err := vapi.Verify(secret, tt.header, tt.body)
		require.ErrorIs(t, err, vapi.ErrBadSignature, tt.name)
		require.Equal(t, fault.Unauthorized, fault.CodeOf(err), tt.name)
		require.Contains(t, err.Error(), tt.why, tt.name)
	}
}

func TestVerifySignatureIgnoresSecretHeader(t *testing.T) {
	t.Parallel()
	err := vapi.VerifySignature(secret, headerWith("X-Vapi-Secret", string(secret)), body)
	require.ErrorIs(t, err, vapi.ErrBadSignature)
}

func TestVerifyWithoutSecretFails(t *testing.T) {
	t.Parallel()
	h := headerWith("X-Vapi-Signature", vapi.Sign(nil, body), "X-Vapi-Secret", "")
	for _, err := range []error{vapi.Verify(nil, h, body), vapi.VerifySignature([]byte{}, h, body)} {
		require.ErrorIs(t, err, vapi.ErrNoSecret)
		require.False(t, errors.Is(err, vapi.ErrBadSignature))
		require.Equal(t, fault.Internal, fault.CodeOf(err), "a misconfiguration, not the caller's fault")
	}
}
