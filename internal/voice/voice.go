// Package voice is the provider-neutral contract between AutoPulse's call
// pipeline and a voice-AI provider: placing a call (Provider.Dial), looking
// one up when a dial response was lost (Provider.GetCall, Finder), and the
// events a provider reports back by webhook (StatusUpdate, EndOfCallReport).
//
// Adapters live in their own packages (internal/vapi); the simulator that
// speaks Vapi's protocol is internal/voicesim. Nothing here does I/O.
package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Provider places calls and looks them up.
type Provider interface {
	// Dial asks the provider to place one outbound call. The request's
	// CallID travels in the call's metadata, so every webhook about the
	// call carries it even when the dial response is lost.
	//
	// Errors are *Error values: test them with errors.Is against
	// ErrRetryable, ErrUncertain, ErrInvalidRequest, ErrUnauthorized. After
	// an ErrUncertain failure the call may exist: reconcile (Finder,
	// webhooks) before dialing again, never dial blind.
	Dial(ctx context.Context, req DialRequest) (DialResult, error)

	// GetCall returns the provider's current view of a call. A call the
	// provider does not know gives an error matching ErrNotFound.
	GetCall(ctx context.Context, providerCallID string) (CallState, error)
}

// Finder is implemented by providers that can find a call by AutoPulse's
// own call id (the one sent in the metadata). The dial job uses it to
// reconcile a target claimed for dialing that has no provider call id yet.
type Finder interface {
	// FindByCallID returns the call placed for callID, searching calls
	// created at or after since (the claim time, minus a margin for clock
	// skew). ErrNotFound must mean the provider certainly has no such
	// call, since the dispatcher then dials again; a search that could
	// not finish answers an error matching ErrUncertain instead.
	FindByCallID(ctx context.Context, callID uuid.UUID, since time.Time) (CallState, error)
}

// Metadata keys AutoPulse puts on every call it places. Providers echo the
// metadata in their webhooks, which is how an event finds its call.
const (
	MetaCallID         = "autopulse_call_id"
	MetaOrganizationID = "organization_id"
	MetaCampaignType   = "campaign_type"
)

// Campaign types, as stored in campaigns.type. The provider only uses them
// to pick a script (the simulator) or to label the call.
const (
	CampaignPostServiceFeedback = "post_service_feedback"
	CampaignServiceReminder     = "service_reminder"
	CampaignRecall              = "recall"
	CampaignDeclinedService     = "declined_service"
	CampaignCustom              = "custom"
)

// Limits a DialRequest must respect. Providers reject larger values (Vapi
// caps names at 40 characters) and a runaway prompt costs money per call.
const (
	MaxNameLen         = 40
	MaxFirstMessageLen = 1000
	MaxPromptLen       = 32 << 10
	MaxVariables       = 64
	MaxMetadata        = 32
	MaxKeyLen          = 64
	MaxValueLen        = 1024
)

// DialRequest is one outbound call to place.
type DialRequest struct {
	CallID         uuid.UUID // ours; sent as metadata autopulse_call_id
	OrganizationID uuid.UUID // sent as metadata organization_id
	CampaignType   string    // one of the Campaign* constants; metadata campaign_type

	ToNumber     string // E.164, e.g. +14155550123
	CustomerName string // optional; the provider may greet by it

	// AssistantID selects an assistant configured at the provider. Empty
	// uses the adapter's default assistant, or Assistant when set.
	AssistantID string
	// Assistant is an inline (transient) assistant, used instead of a
	// configured one. Leave nil to use AssistantID.
	Assistant *Assistant

	// Disclosure identifies the caller and announces the recording. It is
	// required: every call starts with it (FCC 24-17; see DESIGN.md §1).
	Disclosure string
	// FirstMessage is what the agent says right after the disclosure.
	FirstMessage string

	// Variables fill the assistant's template variables ({{customer_name}},
	// {{dealership_name}}, {{vehicle}}, …).
	Variables map[string]string
	// Metadata is extra metadata to attach; the keys above are set by the
	// adapter from the typed fields and cannot be overridden here.
	Metadata map[string]string
}

// Assistant is an inline assistant configuration.
type Assistant struct {
	Name          string // ≤ 40 characters
	SystemPrompt  string
	ModelProvider string // e.g. "openai"; the adapter has a default
	Model         string // e.g. "gpt-4o"; the adapter has a default
	VoiceProvider string // optional
	VoiceID       string // optional
}

// OpeningLine is what the agent says first: the disclosure, then the first
// message unless it already starts with the disclosure.
func (r *DialRequest) OpeningLine() string {
	d, m := strings.TrimSpace(r.Disclosure), strings.TrimSpace(r.FirstMessage)
	switch {
	case m == "":
		return d
	case strings.HasPrefix(m, d):
		return m
	default:
		return d + " " + m
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidE164 reports whether s is a phone number in E.164 form.
func ValidE164(s string) bool { return e164.MatchString(s) }

// Validate checks the request. Its error matches ErrInvalidRequest.
func (r *DialRequest) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.CallID == uuid.Nil {
		bad("call id is required")
	}
	if r.OrganizationID == uuid.Nil {
		bad("organization id is required")
	}
	if !ValidE164(r.ToNumber) {
		bad("to number %q is not E.164", r.ToNumber)
	}
	if strings.TrimSpace(r.Disclosure) == "" {
		bad("disclosure is required")
	}
	if n := utf8.RuneCountInString(r.OpeningLine()); n > MaxFirstMessageLen {
		bad("disclosure and first message are %d characters; the limit is %d", n, MaxFirstMessageLen)
	}
	if utf8.RuneCountInString(r.CustomerName) > MaxValueLen {
		bad("customer name is too long")
	}
	if a := r.Assistant; a != nil {
		if strings.TrimSpace(a.SystemPrompt) == "" {
			bad("inline assistant needs a system prompt")
		}
		if len(a.SystemPrompt) > MaxPromptLen {
			bad("system prompt is %d bytes; the limit is %d", len(a.SystemPrompt), MaxPromptLen)
		}
		if utf8.RuneCountInString(a.Name) > MaxNameLen {
			bad("assistant name is longer than %d characters", MaxNameLen)
		}
	}
	checkMap := func(what string, m map[string]string, limit int) {
		if len(m) > limit {
			bad("%d %s; the limit is %d", len(m), what, limit)
		}
		for k, v := range m {
			if k == "" || len(k) > MaxKeyLen {
				bad("%s key %q is empty or longer than %d bytes", what, k, MaxKeyLen)
			}
			if len(v) > MaxValueLen {
				bad("%s %q is longer than %d bytes", what, k, MaxValueLen)
			}
		}
	}
	checkMap("variables", r.Variables, MaxVariables)
	checkMap("metadata", r.Metadata, MaxMetadata)
	if len(problems) == 0 {
		return nil
	}
	return &Error{Op: "dial", Message: strings.Join(problems, "; "), Invalid: true}
}

// DialResult is the provider's answer to a dial.
type DialResult struct {
	ProviderCallID string
	Status         Status
	CreatedAt      time.Time // zero when the provider did not say
}

// CallState is the provider's view of a call, from GetCall or FindByCallID.
type CallState struct {
	ProviderCallID string
	CallID         uuid.UUID // ours, from the metadata; uuid.Nil when absent
	OrganizationID uuid.UUID // from the metadata; uuid.Nil when absent
	Direction      Direction
	Status         Status // the provider's word; may be a value this package does not list
	EndedReason    string
	CreatedAt      time.Time
	Metadata       map[string]string
	// Report holds what an end-of-call report would carry when the call
	// has ended, so a reconciler can recover a report whose webhook was
	// lost. Nil while the call is live.
	Report *EndOfCallReport
}

// Status is a call's lifecycle status.
type Status string

// The statuses, in lifecycle order.
const (
	StatusQueued     Status = "queued"
	StatusRinging    Status = "ringing"
	StatusInProgress Status = "in-progress"
	StatusForwarding Status = "forwarding"
	StatusEnded      Status = "ended"
)

// ParseStatus accepts exactly the five statuses above.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusQueued, StatusRinging, StatusInProgress, StatusForwarding, StatusEnded:
		return st, nil
	}
	return "", fmt.Errorf("unknown call status %q", s)
}

// Rank orders statuses so a processor can ignore one that arrives after a
// later one (ended outranks everything; unknown statuses rank lowest).
func (s Status) Rank() int {
	switch s {
	case StatusQueued:
		return 1
	case StatusRinging:
		return 2
	case StatusInProgress:
		return 3
	case StatusForwarding:
		return 4
	case StatusEnded:
		return 5
	}
	return 0
}

// Direction says who placed the call.
type Direction string

// Directions.
const (
	Outbound Direction = "outbound"
	Inbound  Direction = "inbound"
	Web      Direction = "web" // a browser call; AutoPulse places none
)

// Sentinel errors. Provider errors are *Error values that match these with
// errors.Is.
var (
	// ErrRetryable: trying again later may succeed (timeouts, 5xx, 429).
	ErrRetryable = errors.New("voice: retryable provider error")
	// ErrUncertain: the request may have taken effect at the provider
	// (the response was lost or was a 5xx). For a dial, a call may exist.
	ErrUncertain = errors.New("voice: provider outcome unknown")
	// ErrNotFound: the provider does not know the call.
	ErrNotFound = errors.New("voice: call not found at provider")
	// ErrUnauthorized: the provider refused our credentials (401/403).
	ErrUnauthorized = errors.New("voice: provider refused credentials")
	// ErrInvalidRequest: the request was refused as invalid, by our own
	// validation or by the provider (400/422). Retrying will not help.
	ErrInvalidRequest = errors.New("voice: invalid request")
)

// Error is a failed provider operation.
type Error struct {
	Op         string        // "dial", "get call", "find call"
	StatusCode int           // HTTP status; 0 when no response arrived
	Message    string        // the provider's message, shortened; safe to log
	Retryable  bool          // see ErrRetryable
	Uncertain  bool          // see ErrUncertain
	Invalid    bool          // see ErrInvalidRequest; also implied by HTTP 400 and 422
	NotFound   bool          // see ErrNotFound; also implied by HTTP 404
	RetryAfter time.Duration // the provider's Retry-After, when it sent one
	Err        error         // the transport error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("voice: ")
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Uncertain {
		b.WriteString(" (outcome unknown)")
	}
	return b.String()
}

// Unwrap returns the transport error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRetryable:
		return e.Retryable
	case ErrUncertain:
		return e.Uncertain
	case ErrNotFound:
		return e.NotFound || e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrInvalidRequest:
		return e.Invalid || e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	}
	return false
}

// IsRetryable reports whether err is worth retrying later.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }

// RetryAfter returns the delay the provider asked for, or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
