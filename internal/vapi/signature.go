package vapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/autopulse/autopulse/internal/fault"
)

// Webhook authentication headers.
//
// SignatureHeader carries hex(HMAC-SHA256(secret, raw body)). In Vapi this
// is an "HMAC" custom credential attached to the server URL with: algorithm
// sha256, signature header x-vapi-signature, no timestamp header, payload
// format {body} (the body only), hex encoding. A "sha256=" prefix is
// accepted too (the credential's signature prefix option).
//
// SecretHeader is Vapi's older scheme: the server-URL secret sent as is on
// every request. It proves less (the header alone authorizes any body), so
// prefer the signature; VerifySignature accepts only the signature.
//
// Neither scheme carries a timestamp, so a captured request can be
// replayed; the webhook_events dedupe makes a replay a no-op.
const (
	SignatureHeader = "X-Vapi-Signature"
	SecretHeader    = "X-Vapi-Secret" //nolint:gosec // a header name, not a credential
)

var (
	// ErrBadSignature: the request is not authenticated by the webhook
	// secret (missing, garbled or wrong header). It is fault.Unauthorized;
	// wrapped errors say which for the log.
	ErrBadSignature = fault.Errorf(fault.Unauthorized, "invalid webhook signature")

	// ErrNoSecret: no webhook secret is configured, so nothing can be
	// verified. A server misconfiguration (not coded: answers 500).
	ErrNoSecret = errors.New("vapi: webhook secret is not configured")
)

// Sign returns the hex HMAC-SHA256 of body under secret, the value of
// SignatureHeader.
func Sign(secret, body []byte) string {
	return hex.EncodeToString(mac(secret, body))
}

// Verify authenticates a webhook request from its headers and its raw
// body: by SignatureHeader when present (it must then be right), else by
// SecretHeader. Comparisons are constant-time. A request with neither
// header fails. The error matches ErrBadSignature, or is ErrNoSecret.
func Verify(secret []byte, header http.Header, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if len(header.Values(SignatureHeader)) > 0 {
		return verifySignature(secret, header, body)
	}
	vals := header.Values(SecretHeader)
	switch {
	case len(vals) == 0:
		return badSignature("no %s or %s header", SignatureHeader, SecretHeader)
	case len(vals) > 1:
		return badSignature("%d %s headers", len(vals), SecretHeader)
	}
	// Hash both sides so the comparison takes the same time whatever the
	// lengths.
	got, want := sha256.Sum256([]byte(vals[0])), sha256.Sum256(secret)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return badSignature("%s does not match", SecretHeader)
	}
	return nil
}

// VerifySignature is Verify without the SecretHeader fallback.
func VerifySignature(secret []byte, header http.Header, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	return verifySignature(secret, header, body)
}

func verifySignature(secret []byte, header http.Header, body []byte) error {
	vals := header.Values(SignatureHeader)
	switch {
	case len(vals) == 0:
		return badSignature("no %s header", SignatureHeader)
	case len(vals) > 1:
		return badSignature("%d %s headers", len(vals), SignatureHeader)
	}
	sig := strings.TrimSpace(vals[0])
	sig = strings.TrimPrefix(sig, "sha256=")
	if len(sig) != 2*sha256.Size {
		return badSignature("%s is %d characters, want %d hex digits", SignatureHeader, len(sig), 2*sha256.Size)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return badSignature("%s is not hex", SignatureHeader)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return badSignature("%s does not match the body", SignatureHeader)
	}
	return nil
}

func mac(secret, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(nil)
}

func badSignature(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSignature, fmt.Sprintf(format, args...))
}
