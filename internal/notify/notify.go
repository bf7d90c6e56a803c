// Package notify is the notification outbox: the SMS and email messages
// that a call's outcome calls for (a review link to a promoter, an
// escalation about a detractor). They are written in the transaction that
// stores the outcome, so a message exists exactly when its outcome does,
// and sent later by the channel's adapter, which drains the pending rows
// (the SMS and email adapters land with a later issue).
//
// A message the rules hold back (SMS disabled, no review link, a number on
// the do-not-call list, no recipient) is still written, as suppressed and
// with the reason, so that "why did this customer get no link?" has an
// answer.
package notify

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Channels.
const (
	SMS   = "sms"
	Email = "email"
)

// Kinds of message.
const (
	KindReviewLink          = "review_link"          // SMS to a promoter with the review link
	KindDetractorEscalation = "detractor_escalation" // email about a detractor's inquiry
)

// Statuses. The outcome writes pending or suppressed; the adapter moves
// pending rows through sending to sent or failed.
const (
	StatusPending    = "pending"
	StatusSending    = "sending"
	StatusSent       = "sent"
	StatusFailed     = "failed"
	StatusSuppressed = "suppressed"
)

// Reasons a message is suppressed.
const (
	ReasonSMSDisabled  = "sms_disabled"   // the organization's sms_enabled setting is off
	ReasonNoReviewLink = "no_review_link" // neither review_link nor google_review_link is set
	ReasonNoRecipient  = "no_recipient"   // no phone number or address to send to
	ReasonDNC          = "dnc"            // the number is on the do-not-call list
	ReasonOptedOut     = "opted_out"      // the customer opted out on the call itself
)

// Message is one message to queue for a call.
type Message struct {
	Channel   string
	Kind      string
	Recipient string // E.164 number or email address; empty only when suppressed
	Subject   string // email only
	Body      string
	CallID    uuid.UUID
	// CustomerID and InquiryID link the message to what it is about.
	CustomerID *uuid.UUID
	InquiryID  *uuid.UUID
	// Suppressed, when set, is the reason the message is held back; it is
	// then written as suppressed rather than pending.
	Suppressed string
}

// Notification is a queued (or suppressed) message.
type Notification struct {
	ID               uuid.UUID  `json:"id"`
	Channel          string     `json:"channel" enum:"sms,email"`
	Kind             string     `json:"kind" enum:"review_link,detractor_escalation"`
	Status           string     `json:"status" enum:"pending,sending,sent,failed,suppressed"`
	Recipient        *string    `json:"recipient"`
	Subject          string     `json:"subject"`
	Body             string     `json:"body"`
	CallID           *uuid.UUID `json:"call_id"`
	CustomerID       *uuid.UUID `json:"customer_id"`
	InquiryID        *uuid.UUID `json:"inquiry_id"`
	SuppressedReason *string    `json:"suppressed_reason"`
	SentAt           *time.Time `json:"sent_at"`
	CreatedAt        time.Time  `json:"created_at"`
}

// QueueForCall writes m to the outbox in tx, for the tenant tx.Org. A call
// gets at most one message of a kind: when it already has one, QueueForCall
// writes nothing and returns false.
func QueueForCall(ctx context.Context, tx *postgres.Tx, m Message) (Notification, bool, error) {
	p := db.NotificationInsertForCallParams{
		OrganizationID: tx.Org,
		ID:             uuid.Must(uuid.NewV7()),
		Channel:        m.Channel,
		Kind:           m.Kind,
		Status:         StatusPending,
		Subject:        m.Subject,
		Body:           m.Body,
		CallID:         &m.CallID,
		CustomerID:     m.CustomerID,
		InquiryID:      m.InquiryID,
	}
	if m.Recipient != "" {
		p.Recipient = &m.Recipient
	}
	switch {
	case m.Suppressed != "":
		p.Status, p.SuppressedReason = StatusSuppressed, &m.Suppressed
	case m.Recipient == "":
		reason := ReasonNoRecipient
		p.Status, p.SuppressedReason = StatusSuppressed, &reason
	}
	rows, err := tx.NotificationInsertForCall(ctx, p)
	if err != nil || len(rows) == 0 {
		return Notification{}, false, err
	}
	return FromRow(rows[0]), true, nil
}

// ListForCall returns the messages queued for a call, oldest first.
func ListForCall(ctx context.Context, tx *postgres.Tx, callID uuid.UUID) ([]Notification, error) {
	rows, err := tx.NotificationListByCall(ctx, tx.Org, callID)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, len(rows))
	for i, r := range rows {
		out[i] = FromRow(r)
	}
	return out, nil
}

// FromRow is the API view of an outbox row.
func FromRow(r db.Notification) Notification {
	return Notification{
		ID: r.ID, Channel: r.Channel, Kind: r.Kind, Status: r.Status, Recipient: r.Recipient, Subject: r.Subject,
		Body: r.Body, CallID: r.CallID, CustomerID: r.CustomerID, InquiryID: r.InquiryID,
		SuppressedReason: r.SuppressedReason, SentAt: r.SentAt, CreatedAt: r.CreatedAt,
	}
}
