package voice

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Event is a parsed provider webhook: *StatusUpdate or *EndOfCallReport.
type Event interface {
	// DedupeKey identifies the event for webhook_events: the same event
	// delivered twice has the same key, different events have different
	// keys. Providers that send no event id get a key built from the call
	// id and what the event says (Vapi sends none).
	DedupeKey() string
	// Call returns the provider's call id and ours (uuid.Nil when the
	// metadata did not carry one, as for inbound calls).
	Call() (providerCallID string, callID uuid.UUID)
}

// StatusUpdate reports a call's new status.
type StatusUpdate struct {
	ProviderCallID string
	CallID         uuid.UUID // ours, from the metadata; uuid.Nil when absent
	OrganizationID uuid.UUID // from the metadata; uuid.Nil when absent
	Direction      Direction
	Status         Status
	EndedReason    string    // set with StatusEnded when the provider says
	At             time.Time // when the provider sent it; zero when unknown
	Metadata       map[string]string
}

// DedupeKey implements Event.
func (e *StatusUpdate) DedupeKey() string {
	return e.ProviderCallID + ":status-update:" + string(e.Status)
}

// Call implements Event.
func (e *StatusUpdate) Call() (string, uuid.UUID) { return e.ProviderCallID, e.CallID }

// EndOfCallReport is the provider's final account of a call.
type EndOfCallReport struct {
	ProviderCallID string
	CallID         uuid.UUID // ours; uuid.Nil for inbound calls
	OrganizationID uuid.UUID // from the metadata; uuid.Nil when absent
	Direction      Direction
	FromNumber     string // E.164 when the provider gave one
	ToNumber       string
	PhoneNumberID  string // the provider's id of our line

	EndedReason string
	// Cost is the provider's charge as the decimal string it sent, in
	// dollars ("0.1234"); CostMinor is the same in cents, rounded half up.
	Cost      string
	CostMinor int64
	Currency  string // "USD"

	StartedAt       time.Time // zero when the call never connected
	EndedAt         time.Time
	DurationSeconds int

	Messages     []Turn // spoken turns, in order
	Transcript   string
	RecordingURL string // absolute http(s) URL, or empty
	Summary      string

	StructuredData    StructuredData
	SuccessEvaluation string // the rubric's verdict as text ("true", "8", …)

	Metadata map[string]string
	// Problems lists values the parser dropped because they were invalid
	// (an NPS of 11, a booking time that is not a time, a turn of the
	// wrong shape). The report is still usable; log them.
	Problems []string
}

// DedupeKey implements Event.
func (e *EndOfCallReport) DedupeKey() string { return e.ProviderCallID + ":end-of-call-report" }

// Call implements Event.
func (e *EndOfCallReport) Call() (string, uuid.UUID) { return e.ProviderCallID, e.CallID }

// Outcome classifies the report (see ClassifyEndedReason). An ended
// reason the table does not know counts as completed when the customer
// spoke, and as failed otherwise.
func (e *EndOfCallReport) Outcome() Outcome {
	o := ClassifyEndedReason(e.EndedReason)
	if o == OutcomeFailed && !isKnownFailure(e.EndedReason) {
		for _, t := range e.Messages {
			if t.Role == RoleCustomer {
				return OutcomeCompleted
			}
		}
	}
	return o
}

// Role says who spoke a turn.
type Role string

// Roles, matching transcripts.speaker.
const (
	RoleAgent    Role = "agent"
	RoleCustomer Role = "customer"
)

// Turn is one spoken turn of a call.
type Turn struct {
	Role    Role
	Message string
	StartMs int64 // from the start of the call
	EndMs   int64
}

// StructuredData is the call analysis AutoPulse asks the provider's model
// to extract (StructuredDataSchema). Fields the model left out or filled
// with an invalid value are zero (and listed in the report's Problems).
type StructuredData struct {
	NPSScore      *int       // 0–10
	Sentiment     Sentiment  // "" when absent
	WantsBooking  bool       // the customer asked for an appointment
	BookingTime   *time.Time // the time the customer agreed to, when one was
	OptOut        bool       // the customer asked not to be called again
	InquiryTopic  string     // what an inquiry is about (inbound calls, detractors)
	WentWell      string     // feedback calls: what the customer praised
	ToImprove     string     // feedback calls: what the customer criticized
	CallbackAsked bool       // the customer asked a person to call back
	// Raw is the structured data object as received, for calls.analysis.
	Raw json.RawMessage
}

// Sentiment of the customer over the call.
type Sentiment string

// Sentiments.
const (
	SentimentPositive Sentiment = "positive"
	SentimentNeutral  Sentiment = "neutral"
	SentimentNegative Sentiment = "negative"
)

// NPSCategory is the Net Promoter category of a 0–10 score.
type NPSCategory string

// NPS categories.
const (
	Promoter  NPSCategory = "promoter"  // 9–10
	Passive   NPSCategory = "passive"   // 7–8
	Detractor NPSCategory = "detractor" // 0–6
)

// CategoryOf returns the NPS category of score (0–10).
func CategoryOf(score int) NPSCategory {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	default:
		return Detractor
	}
}
