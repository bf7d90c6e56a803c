package vapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/voice"
)

// Message types this package parses.
const (
	TypeStatusUpdate    = "status-update"
	TypeEndOfCallReport = "end-of-call-report"
)

// Bounds on what a webhook may carry. Larger bodies are refused whole;
// longer texts are cut (on a rune boundary) rather than refused, so a
// chatty call does not lose its report.
const (
	// MaxEventBytes bounds a webhook body. Read bodies through
	// http.MaxBytesReader with this limit before calling ParseEvent.
	MaxEventBytes = 4 << 20

	maxTurns          = 2000
	maxTurnChars      = 4000
	maxTranscriptLen  = 256 << 10
	maxSummaryChars   = 8000
	maxTopicChars     = 200
	maxFeedbackChars  = 2000
	maxEvalChars      = 1000
	maxReasonLen      = 200
	maxIDLen          = 128
	maxURLLen         = 2048
	maxStructuredRaw  = 64 << 10
	maxMetadataKeys   = 64
	maxMetadataKeyLen = 64
	maxMetadataValLen = 1024
	maxCostDollars    = 100000
	maxDurationSecs   = 7 * 24 * 3600
)

var (
	// ErrUnknownType: the payload is a well-formed server message of a type
	// AutoPulse does not handle (transcript, speech-update, …). Answer 2xx
	// and ignore it, so the provider does not retry.
	ErrUnknownType = errors.New("vapi: server message type not handled")

	// ErrMalformed: the payload is not a server message AutoPulse can use.
	// It is a fault.Invalid error; wrapped errors add the detail for logs.
	ErrMalformed = fault.Errorf(fault.Invalid, "malformed webhook payload")
)

// ParseEvent parses a server-message webhook body. It returns a
// *voice.StatusUpdate or a *voice.EndOfCallReport; an error matching
// ErrUnknownType for other message types; an error matching ErrMalformed
// otherwise. It never panics.
//
// Protocol fields are strict: the envelope, the type, the call id, the
// status and the cost must have the right JSON types and values. Fields a
// model produced (structured data) or that are only informative (turn
// shapes, timestamps, URLs, phone numbers) are checked one by one: an
// invalid value is dropped and named in the report's Problems.
func ParseEvent(body []byte) (voice.Event, error) {
	if len(body) > MaxEventBytes {
		return nil, malformed("body is %d bytes; the limit is %d", len(body), MaxEventBytes)
	}
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("%v", err)
	}
	m := env.Message
	if m == nil {
		return nil, malformed("no message object")
	}
	// Each case returns a nil interface on error, never a typed nil.
	switch m.Type {
	case TypeStatusUpdate:
		ev, err := parseStatusUpdate(m)
		if err != nil {
			return nil, err
		}
		return ev, nil
	case TypeEndOfCallReport:
		ev, err := parseReport(m)
		if err != nil {
			return nil, err
		}
		return ev, nil
	case "":
		return nil, malformed("message has no type")
	}
	if len(m.Type) > maxIDLen {
		return nil, malformed("message type is too long")
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownType, m.Type)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func parseStatusUpdate(m *wireMessage) (*voice.StatusUpdate, error) {
	callID, err := providerCallID(m.Call)
	if err != nil {
		return nil, err
	}
	st, err := voice.ParseStatus(m.Status)
	if err != nil {
		return nil, malformed("%v", err)
	}
	var p problems
	meta := mergedMetadata(m, m.Call)
	ev := &voice.StatusUpdate{
		ProviderCallID: callID,
		CallID:         p.uuid(meta, voice.MetaCallID),
		OrganizationID: p.uuid(meta, voice.MetaOrganizationID),
		Status:         st,
		At:             p.timestamp(m.Timestamp),
		Metadata:       meta,
	}
	ev.Direction = p.direction(m.Call.Type, ev.CallID)
	if st == voice.StatusEnded {
		ev.EndedReason = clip(m.EndedReason, maxReasonLen)
	}
	return ev, nil
}

func parseReport(m *wireMessage) (*voice.EndOfCallReport, error) {
	callID, err := providerCallID(m.Call)
	if err != nil {
		return nil, err
	}
	if m.Cost != nil {
		if _, err := parseCost(*m.Cost); err != nil {
			return nil, malformed("cost: %v", err)
		}
	}
	return buildReport(callID, m, m.Call), nil
}

func providerCallID(c *wireCall) (string, error) {
	if c == nil {
		return "", malformed("message has no call object")
	}
	id := strings.TrimSpace(c.ID)
	switch {
	case id == "":
		return "", malformed("call has no id")
	case len(id) > maxIDLen || !printable(id):
		return "", malformed("call id is not a plausible id")
	}
	return id, nil
}

// buildReport assembles a report from a message (may be empty, for GET
// /call) and its call object, preferring the message's fields.
func buildReport(callID string, m *wireMessage, c *wireCall) *voice.EndOfCallReport {
	var p problems
	meta := mergedMetadata(m, c)
	r := &voice.EndOfCallReport{
		ProviderCallID: callID,
		CallID:         p.uuid(meta, voice.MetaCallID),
		OrganizationID: p.uuid(meta, voice.MetaOrganizationID),
		EndedReason:    clip(first(m.EndedReason, c.EndedReason), maxReasonLen),
		Currency:       "USD",
		StartedAt:      p.time("startedAt", first(m.StartedAt, c.StartedAt)),
		EndedAt:        p.time("endedAt", first(m.EndedAt, c.EndedAt)),
		Metadata:       meta,
	}
	r.Direction = p.direction(c.Type, r.CallID)

	cost := m.Cost
	if cost == nil {
		cost = c.Cost
	}
	if cost != nil {
		if cents, err := parseCost(*cost); err != nil {
			p.add("cost: %v", err)
		} else {
			r.Cost, r.CostMinor = cost.String(), cents
		}
	}

	switch {
	case m.Duration != nil && *m.Duration >= 0 && *m.Duration <= maxDurationSecs:
		r.DurationSeconds = int(math.Round(*m.Duration))
	case m.Duration != nil:
		p.add("durationSeconds: %v is out of range", *m.Duration)
	case !r.StartedAt.IsZero() && r.EndedAt.After(r.StartedAt):
		r.DurationSeconds = int(math.Round(r.EndedAt.Sub(r.StartedAt).Seconds()))
	}

	line, customer := m.PhoneNumber, m.Customer
	if line == nil {
		line = c.PhoneNumber
	}
	if c.Customer != nil {
		customer = c.Customer
	}
	var lineNumber, customerNumber string
	if line != nil {
		lineNumber = p.phone("phoneNumber.number", line.Number)
		r.PhoneNumberID = clip(line.ID, maxIDLen)
	}
	if r.PhoneNumberID == "" {
		r.PhoneNumberID = clip(c.PhoneNumberID, maxIDLen)
	}
	if customer != nil {
		customerNumber = p.phone("customer.number", customer.Number)
	}
	if r.Direction == voice.Inbound {
		r.FromNumber, r.ToNumber = customerNumber, lineNumber
	} else {
		r.FromNumber, r.ToNumber = lineNumber, customerNumber
	}

	art := m.Artifact
	if art == nil {
		art = c.Artifact
	}
	if art == nil {
		art = &wireArtifact{}
	}
	turns := firstRaw(art.Messages, m.Messages, c.Messages)
	r.Messages = p.turns(turns)
	r.Transcript = clipBytes(clean(first(art.Transcript, m.Transcript, c.Transcript)), maxTranscriptLen)
	if r.Transcript == "" && len(r.Messages) > 0 {
		r.Transcript = transcriptOf(r.Messages)
	}
	rec := art.RecordingURL
	if rec == "" && art.Recording != nil && art.Recording.Mono != nil {
		rec = art.Recording.Mono.CombinedURL
	}
	r.RecordingURL = p.url("recordingUrl", first(rec, m.RecordingURL, c.RecordingURL))

	an := m.Analysis
	if an == nil {
		an = c.Analysis
	}
	if an == nil {
		an = &wireAnalysis{}
	}
	r.Summary = clip(clean(first(an.Summary, m.Summary, c.Summary)), maxSummaryChars)
	r.SuccessEvaluation = clip(scalarText(an.SuccessEvaluation), maxEvalChars)
	r.StructuredData = p.structured(an.StructuredData)
	r.Problems = p
	return r
}

// mergedMetadata collects the call's metadata from every place Vapi may
// echo it; later sources win: call.metadata, the assistant's metadata,
// then assistantOverrides.metadata (where the adapter puts it).
func mergedMetadata(m *wireMessage, c *wireCall) map[string]string {
	out := map[string]string{}
	add := func(raw json.RawMessage) {
		if len(raw) == 0 {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		for k, v := range obj {
			var s string
			if len(k) > maxMetadataKeyLen || json.Unmarshal(v, &s) != nil || len(s) > maxMetadataValLen {
				continue
			}
			if _, seen := out[k]; !seen && len(out) >= maxMetadataKeys {
				continue
			}
			out[k] = clean(s)
		}
	}
	if c != nil {
		add(c.Metadata)
		if c.Assistant != nil {
			add(c.Assistant.Metadata)
		}
	}
	if m.Assistant != nil {
		add(m.Assistant.Metadata)
	}
	if c != nil && c.AssistantOverrides != nil {
		add(c.AssistantOverrides.Metadata)
	}
	return out
}

// problems collects the values a parser dropped.
type problems []string

func (p *problems) add(format string, args ...any) {
	if len(*p) < 50 {
		*p = append(*p, fmt.Sprintf(format, args...))
	}
}

func (p *problems) uuid(meta map[string]string, key string) uuid.UUID {
	s, ok := meta[key]
	if !ok || s == "" {
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		p.add("metadata %s: %q is not a UUID", key, clip(s, 40))
		return uuid.Nil
	}
	return id
}

func (p *problems) direction(callType string, callID uuid.UUID) voice.Direction {
	switch callType {
	case "outboundPhoneCall":
		return voice.Outbound
	case "inboundPhoneCall":
		return voice.Inbound
	case "webCall":
		return voice.Web
	case "":
	default:
		p.add("call.type %q is unknown", clip(callType, 40))
	}
	if callID != uuid.Nil {
		return voice.Outbound // only calls AutoPulse placed carry its call id
	}
	return voice.Inbound
}

func (p *problems) time(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.add("%s: %q is not an RFC 3339 time", field, clip(s, 40))
		return time.Time{}
	}
	return t.UTC()
}

// timestamp reads message.timestamp: milliseconds since the epoch, or an
// RFC 3339 string in older payloads.
func (p *problems) timestamp(raw json.RawMessage) time.Time {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}
	}
	var ms float64
	if json.Unmarshal(raw, &ms) == nil {
		if ms <= 0 || ms > 1e14 {
			p.add("timestamp %v is out of range", ms)
			return time.Time{}
		}
		return time.UnixMilli(int64(ms)).UTC()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return p.time("timestamp", s)
	}
	p.add("timestamp is neither a number nor a string")
	return time.Time{}
}

func (p *problems) phone(field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !voice.ValidE164(s) {
		p.add("%s: %q is not E.164", field, clip(s, 40))
		return ""
	}
	return s
}

func (p *problems) url(field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURLLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		p.add("%s: not an absolute http(s) URL", field)
		return ""
	}
	return s
}

func (p *problems) turns(raw json.RawMessage) []voice.Turn {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.add("messages: not an array")
		return nil
	}
	var out []voice.Turn
	for i, item := range items {
		var w wireTurn
		if err := json.Unmarshal(item, &w); err != nil {
			p.add("messages[%d]: %v", i, err)
			continue
		}
		var role voice.Role
		switch w.Role {
		case "bot", "assistant":
			role = voice.RoleAgent
		case "user":
			role = voice.RoleCustomer
		default:
			continue // system prompt, tool calls and results are not spoken
		}
		text := clip(strings.TrimSpace(clean(w.Message)), maxTurnChars)
		if text == "" {
			continue
		}
		if len(out) == maxTurns {
			p.add("messages: more than %d turns; the rest were dropped", maxTurns)
			break
		}
		t := voice.Turn{Role: role, Message: text}
		if w.SecondsFromStart != nil && *w.SecondsFromStart >= 0 && *w.SecondsFromStart <= maxDurationSecs {
			t.StartMs = int64(math.Round(*w.SecondsFromStart * 1000))
		}
		t.EndMs = t.StartMs
		if w.Time != nil && w.EndTime != nil {
			if d := *w.EndTime - *w.Time; d > 0 && d <= maxDurationSecs*1000 {
				t.EndMs = t.StartMs + int64(math.Round(d))
			}
		}
		out = append(out, t)
	}
	return out
}

func (p *problems) structured(raw json.RawMessage) voice.StructuredData {
	var sd voice.StructuredData
	if len(raw) == 0 || string(raw) == "null" {
		return sd
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		p.add("analysis.structuredData: not an object")
		return sd
	}
	if len(raw) <= maxStructuredRaw {
		sd.Raw = bytes.Clone(raw)
	} else {
		p.add("analysis.structuredData: %d bytes; not kept raw", len(raw))
	}
	field := func(k string) (json.RawMessage, bool) {
		v, ok := obj[k]
		if !ok || string(v) == "null" {
			return nil, false
		}
		return v, true
	}
	if v, ok := field(voice.KeyNPSScore); ok {
		if n, good := npsScore(v); good {
			sd.NPSScore = &n
		} else {
			p.add("structuredData.%s: %s is not an integer 0-10", voice.KeyNPSScore, clip(string(v), 40))
		}
	}
	if v, ok := field(voice.KeySentiment); ok {
		var s string
		_ = json.Unmarshal(v, &s)
		switch st := voice.Sentiment(strings.ToLower(strings.TrimSpace(s))); st {
		case voice.SentimentPositive, voice.SentimentNeutral, voice.SentimentNegative:
			sd.Sentiment = st
		default:
			p.add("structuredData.%s: %s is not positive, neutral or negative", voice.KeySentiment, clip(string(v), 40))
		}
	}
	flag := func(key string, dst *bool) {
		if v, ok := field(key); ok {
			if b, good := boolean(v); good {
				*dst = b
			} else {
				p.add("structuredData.%s: %s is not a boolean", key, clip(string(v), 40))
			}
		}
	}
	flag(voice.KeyWantsBooking, &sd.WantsBooking)
	flag(voice.KeyOptOut, &sd.OptOut)
	flag(voice.KeyCallbackAsked, &sd.CallbackAsked)
	if v, ok := field(voice.KeyBookingTime); ok {
		var s string
		if json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) != "" {
			if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err == nil {
				t = t.UTC()
				sd.BookingTime = &t
			} else {
				p.add("structuredData.%s: %q is not an RFC 3339 time with offset", voice.KeyBookingTime, clip(s, 40))
			}
		} else if err := json.Unmarshal(v, &s); err != nil {
			p.add("structuredData.%s: not a string", voice.KeyBookingTime)
		}
	}
	text := func(key string, limit int) string {
		v, ok := field(key)
		if !ok {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			p.add("structuredData.%s: not a string", key)
			return ""
		}
		return clip(strings.TrimSpace(clean(s)), limit)
	}
	sd.InquiryTopic = text(voice.KeyInquiryTopic, maxTopicChars)
	sd.WentWell = text(voice.KeyWentWell, maxFeedbackChars)
	sd.ToImprove = text(voice.KeyToImprove, maxFeedbackChars)
	return sd
}

// npsScore accepts an integral JSON number or a numeric string, 0–10.
func npsScore(v json.RawMessage) (int, bool) {
	var f float64
	if json.Unmarshal(v, &f) != nil {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, false
		}
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, false
		}
	}
	if f != math.Trunc(f) || f < 0 || f > 10 {
		return 0, false
	}
	return int(f), true
}

// boolean accepts a JSON boolean or "true"/"false"/"yes"/"no".
func boolean(v json.RawMessage) (value, ok bool) {
	if json.Unmarshal(v, &value) == nil {
		return value, true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return true, true
	case "false", "no":
		return false, true
	}
	return false, false
}

// parseCost checks a decimal dollar amount and returns it in cents,
// rounded half up. Exact: no float arithmetic.
func parseCost(n json.Number) (int64, error) {
	s := n.String()
	if len(s) > 64 {
		return 0, errors.New("too long")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(maxCostDollars, 1)) > 0 {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	cents := new(big.Rat).Mul(r, big.NewRat(100, 1))
	num, den := cents.Num(), cents.Denom()
	// floor((2·num + den) / (2·den)) rounds half up for non-negative values.
	q := new(big.Int).Add(new(big.Int).Lsh(num, 1), den)
	q.Quo(q, new(big.Int).Lsh(den, 1))
	return q.Int64(), nil
}

// scalarText renders a JSON scalar as text: strings as themselves, numbers
// and booleans as written, anything else as empty.
func scalarText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return clean(strings.TrimSpace(s))
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func transcriptOf(turns []voice.Turn) string {
	var b strings.Builder
	for _, t := range turns {
		if t.Role == voice.RoleAgent {
			b.WriteString("AI: ")
		} else {
			b.WriteString("User: ")
		}
		b.WriteString(t.Message)
		b.WriteByte('\n')
		if b.Len() > maxTranscriptLen {
			break
		}
	}
	return clipBytes(b.String(), maxTranscriptLen)
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstRaw(rs ...json.RawMessage) json.RawMessage {
	for _, r := range rs {
		if len(r) > 0 && string(r) != "null" {
			return r
		}
	}
	return nil
}

// clean removes NUL characters, which PostgreSQL text cannot store.
func clean(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// clipBytes cuts s to at most n bytes without splitting a rune.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return false
		}
	}
	return true
}
