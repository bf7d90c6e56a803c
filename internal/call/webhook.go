package call

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
)

// ProviderVapi names Vapi in webhook_events.provider and calls.provider.
const ProviderVapi = "vapi"

// Results of a webhook delivery.
const (
	ReceiptAccepted  = "accepted"  // stored and queued for processing
	ReceiptDuplicate = "duplicate" // already stored: nothing done
	ReceiptIgnored   = "ignored"   // a message type AutoPulse does not act on: not stored
)

// WebhookReceipt says what became of a webhook delivery.
type WebhookReceipt struct {
	Result string `json:"result" enum:"accepted,duplicate,ignored"`
	// EventID is the stored event (webhook_events.id) when it was accepted.
	EventID *uuid.UUID `json:"event_id,omitempty"`
}

// maxPayloadDepth bounds the nesting of a stored payload. Vapi's messages
// are a few levels deep; PostgreSQL's jsonb parser recurses per level.
const maxPayloadDepth = 64

// ReceiveVapi takes one Vapi webhook delivery: header and body exactly as
// received. It authenticates the raw bytes (vapi.Verify), parses them, and
// in one transaction stores the event in webhook_events, deduplicated on
// (provider, event key), and enqueues its processing job. It does nothing
// else, so the provider gets its answer at once.
//
// Errors: vapi.ErrBadSignature (fault.Unauthorized) for a missing or wrong
// signature, with no effect; vapi.ErrMalformed (fault.Invalid) for a
// payload AutoPulse cannot use; an uncoded error when no secret is
// configured or the database fails (the provider retries). Message types
// AutoPulse does not act on (transcript, speech-update, …) are answered
// ReceiptIgnored and not stored.
func (s *Service) ReceiveVapi(ctx context.Context, header http.Header, body []byte) (WebhookReceipt, error) {
	if err := vapi.Verify(s.WebhookSecret, header, body); err != nil {
		if errors.Is(err, vapi.ErrBadSignature) {
			s.Metrics.WebhookEvent(ProviderVapi, "unverified", metrics.WebhookRejected)
		}
		return WebhookReceipt{}, err
	}
	ev, err := vapi.ParseEvent(body)
	switch {
	case errors.Is(err, vapi.ErrUnknownType):
		s.Metrics.WebhookEvent(ProviderVapi, "unhandled", metrics.WebhookIgnored)
		return WebhookReceipt{Result: ReceiptIgnored}, nil
	case err != nil:
		s.Metrics.WebhookEvent(ProviderVapi, "malformed", metrics.WebhookRejected)
		return WebhookReceipt{}, err
	}
	typ := eventType(ev)
	payload, err := storablePayload(body)
	if err != nil {
		s.Metrics.WebhookEvent(ProviderVapi, typ, metrics.WebhookRejected)
		return WebhookReceipt{}, fmt.Errorf("%w: %w", vapi.ErrMalformed, err)
	}
	var stored []uuid.UUID
	err = s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		stored, err = tx.WebhookEventInsert(ctx, db.WebhookEventInsertParams{
			ID: uuid.Must(uuid.NewV7()), Provider: ProviderVapi, EventID: ev.DedupeKey(), EventType: typ, Payload: payload,
		})
		if err != nil || len(stored) == 0 {
			return err
		}
		if s.Jobs == nil {
			return errNoJobs
		}
		_, err = s.Jobs.InsertTx(ctx, tx.Tx, ProcessEventArgs{EventID: stored[0]}, nil)
		return err
	})
	switch {
	case err != nil && fault.CodeOf(err) == fault.Invalid:
		// The database refused a value of the payload (a number beyond
		// numeric's range, say): the provider sent something unusable.
		s.Metrics.WebhookEvent(ProviderVapi, typ, metrics.WebhookRejected)
		return WebhookReceipt{}, fmt.Errorf("%w: %w", vapi.ErrMalformed, err)
	case err != nil:
		s.Metrics.WebhookEvent(ProviderVapi, typ, metrics.WebhookFailed)
		return WebhookReceipt{}, err
	case len(stored) == 0:
		s.Metrics.WebhookEvent(ProviderVapi, typ, metrics.WebhookDuplicate)
		return WebhookReceipt{Result: ReceiptDuplicate}, nil
	}
	s.Metrics.WebhookEvent(ProviderVapi, typ, metrics.WebhookAccepted)
	return WebhookReceipt{Result: ReceiptAccepted, EventID: &stored[0]}, nil
}

var (
	errNoJobs      = errors.New("call: no job inserter configured")
	errNoBlobStore = errors.New("call: no blob store configured")
)

func eventType(ev voice.Event) string {
	switch ev.(type) {
	case *voice.StatusUpdate:
		return vapi.TypeStatusUpdate
	case *voice.EndOfCallReport:
		return vapi.TypeEndOfCallReport
	}
	return "other"
}

// storablePayload returns body in a form jsonb accepts. A body that parsed
// as JSON can still be refused by PostgreSQL: jsonb has no \u0000, no lone
// surrogate, and the database takes only valid UTF-8. Such bodies (rare) are
// re-encoded with those characters removed or replaced; the others are
// stored as sent. Bodies nested deeper than maxPayloadDepth are refused.
func storablePayload(body []byte) (json.RawMessage, error) {
	if d := depth(body); d > maxPayloadDepth {
		return nil, fmt.Errorf("payload is nested %d levels deep; the limit is %d", d, maxPayloadDepth)
	}
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(withoutNUL(v))
}

// withoutNUL drops NUL characters from every string and key of a decoded
// JSON value. Decoding already replaced invalid UTF-8 and lone surrogates
// with U+FFFD.
func withoutNUL(v any) any {
	switch t := v.(type) {
	case string:
		return strings.ReplaceAll(t, "\x00", "")
	case []any:
		for i := range t {
			t[i] = withoutNUL(t[i])
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[strings.ReplaceAll(k, "\x00", "")] = withoutNUL(val)
		}
		return out
	}
	return v
}

// depth returns the deepest nesting of arrays and objects in a JSON text.
func depth(b []byte) int {
	var d, deepest int
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}
