package call

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/voice"
)

// Inquiry statuses.
const (
	InquiryNew        = "new"
	InquiryInProgress = "in_progress"
	InquiryResponded  = "responded"
	InquiryClosed     = "closed"
)

// inquiryTransitions: new → in_progress → responded → closed, closing from
// any open status, back to in_progress when a responded customer answers,
// and reopening a closed inquiry.
var inquiryTransitions = map[string][]string{
	InquiryNew:        {InquiryInProgress, InquiryClosed},
	InquiryInProgress: {InquiryResponded, InquiryClosed},
	InquiryResponded:  {InquiryClosed, InquiryInProgress},
	InquiryClosed:     {InquiryInProgress},
}

// Inquiry is a customer question or escalation for the dealership's staff:
// from an inbound call, a detractor, a call-back request, or by hand.
type Inquiry struct {
	ID            uuid.UUID  `json:"id"`
	CallID        *uuid.UUID `json:"call_id"`
	CustomerID    *uuid.UUID `json:"customer_id"`
	CustomerName  string     `json:"customer_name"`
	CustomerPhone *string    `json:"customer_phone"`
	CustomerEmail *string    `json:"customer_email"`
	Topic         string     `json:"topic" doc:"e.g. nps_detractor, callback, pricing, general"`
	Message       string     `json:"message"`
	Status        string     `json:"status" enum:"new,in_progress,responded,closed"`
	AssignedTo    *uuid.UUID `json:"assigned_to"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// InquiryInput creates an inquiry.
type InquiryInput struct {
	CustomerID    *uuid.UUID `json:"customer_id,omitempty" format:"uuid"`
	CallID        *uuid.UUID `json:"call_id,omitempty" format:"uuid" doc:"A call has at most one inquiry"`
	CustomerName  string     `json:"customer_name,omitempty" maxLength:"200"`
	CustomerPhone string     `json:"customer_phone,omitempty" pattern:"^\\+[1-9][0-9]{6,14}$"`
	CustomerEmail string     `json:"customer_email,omitempty" format:"email" maxLength:"254"`
	Topic         string     `json:"topic,omitempty" maxLength:"200" default:"general"`
	Message       string     `json:"message" minLength:"1" maxLength:"8000"`
	AssignedTo    *uuid.UUID `json:"assigned_to,omitempty" format:"uuid" doc:"An active user of the organization"`
}

// InquiryPatch changes an inquiry's content; absent fields are unchanged,
// and an empty customer_phone or customer_email clears it.
type InquiryPatch struct {
	CustomerName  *string `json:"customer_name,omitempty" maxLength:"200"`
	CustomerPhone *string `json:"customer_phone,omitempty" pattern:"^(\\+[1-9][0-9]{6,14})?$"`
	CustomerEmail *string `json:"customer_email,omitempty" maxLength:"254"`
	Topic         *string `json:"topic,omitempty" minLength:"1" maxLength:"200"`
	Message       *string `json:"message,omitempty" minLength:"1" maxLength:"8000"`
}

// InquiryFilter narrows ListInquiries.
type InquiryFilter struct {
	Status, Topic string
	AssignedTo    *uuid.UUID
	Unassigned    bool
	CustomerID    *uuid.UUID
	CallID        *uuid.UUID
}

// CreateInquiry adds an inquiry. A customer or call of another
// organization is fault.Invalid, as is an assignee who is not an active
// user of the organization; a call that already has an inquiry is
// fault.Conflict.
func (s *Service) CreateInquiry(ctx context.Context, org uuid.UUID, in InquiryInput) (Inquiry, error) {
	in.Message, in.Topic = strings.TrimSpace(in.Message), strings.TrimSpace(in.Topic)
	if in.Message == "" {
		return Inquiry{}, fault.InvalidField("body.message", "must not be blank")
	}
	if in.Topic == "" {
		in.Topic = TopicGeneral
	}
	if in.CustomerPhone != "" && !voice.ValidE164(in.CustomerPhone) {
		return Inquiry{}, fault.InvalidField("body.customer_phone", "must be an E.164 phone number")
	}
	var out Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if in.AssignedTo != nil {
			if err := checkAssignee(ctx, tx, org, *in.AssignedTo, "body.assigned_to"); err != nil {
				return err
			}
		}
		p := db.InquiryInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), CallID: in.CallID, CustomerID: in.CustomerID,
			CustomerName: strings.TrimSpace(in.CustomerName), CustomerPhone: optional(in.CustomerPhone),
			CustomerEmail: optional(strings.TrimSpace(in.CustomerEmail)), Topic: in.Topic, Message: in.Message, AssignedTo: in.AssignedTo,
		}
		if in.CustomerID != nil {
			cu, err := tx.CallCustomerGet(ctx, org, *in.CustomerID)
			if isNoRows(err) {
				return fault.InvalidField("body.customer_id", "no such customer")
			}
			if err != nil {
				return err
			}
			if p.CustomerName == "" {
				p.CustomerName = strings.TrimSpace(cu.FirstName + " " + cu.LastName)
			}
			if p.CustomerPhone == nil {
				p.CustomerPhone = cu.Phone
			}
			if p.CustomerEmail == nil {
				p.CustomerEmail = cu.Email
			}
		}
		row, err := tx.InquiryInsert(ctx, p)
		if err != nil {
			return err
		}
		out = inquiryOf(row)
		return audit.Record(ctx, tx, audit.Create, "inquiry", out.ID, nil, out)
	})
	return out, err
}

// GetInquiry returns one inquiry.
func (s *Service) GetInquiry(ctx context.Context, org, id uuid.UUID) (Inquiry, error) {
	var out Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.InquiryGet(ctx, org, id)
		out = inquiryOf(row)
		return err
	})
	return out, err
}

// ListInquiries returns inquiries, newest first.
func (s *Service) ListInquiries(ctx context.Context, org uuid.UUID, f InquiryFilter, pr page.Request) ([]Inquiry, string, error) {
	if f.Unassigned && f.AssignedTo != nil {
		return nil, "", fault.InvalidField("query.unassigned", "cannot be combined with assigned_to")
	}
	var rows []db.Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.InquiryList(ctx, db.InquiryListParams{
			OrganizationID: org, Status: optional(f.Status), Topic: optional(f.Topic), AssignedTo: f.AssignedTo,
			Unassigned: f.Unassigned, CustomerID: f.CustomerID, CallID: f.CallID, After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.Inquiry) uuid.UUID { return r.ID }, inquiryOf)
	return out, next, nil
}

// UpdateInquiry changes an inquiry's content.
func (s *Service) UpdateInquiry(ctx context.Context, org, id uuid.UUID, p InquiryPatch) (Inquiry, error) {
	if p.CustomerPhone != nil {
		*p.CustomerPhone = strings.TrimSpace(*p.CustomerPhone)
		if *p.CustomerPhone != "" && !voice.ValidE164(*p.CustomerPhone) {
			return Inquiry{}, fault.InvalidField("body.customer_phone", "must be an E.164 phone number, or empty to clear")
		}
	}
	for loc, v := range map[string]*string{"body.topic": p.Topic, "body.message": p.Message} {
		if v != nil && strings.TrimSpace(*v) == "" {
			return Inquiry{}, fault.InvalidField(loc, "must not be blank")
		}
	}
	var out Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.InquiryGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		up := db.InquiryUpdateParams{
			OrganizationID: org, ID: id, CustomerName: old.CustomerName, CustomerPhone: old.CustomerPhone,
			CustomerEmail: old.CustomerEmail, Topic: old.Topic, Message: old.Message,
		}
		if p.CustomerName != nil {
			up.CustomerName = strings.TrimSpace(*p.CustomerName)
		}
		if p.CustomerPhone != nil {
			up.CustomerPhone = optional(*p.CustomerPhone)
		}
		if p.CustomerEmail != nil {
			up.CustomerEmail = optional(strings.TrimSpace(*p.CustomerEmail))
		}
		if p.Topic != nil {
			up.Topic = strings.TrimSpace(*p.Topic)
		}
		if p.Message != nil {
			up.Message = strings.TrimSpace(*p.Message)
		}
		row, err := tx.InquiryUpdate(ctx, up)
		if err != nil {
			return err
		}
		out = inquiryOf(row)
		return audit.Record(ctx, tx, audit.Update, "inquiry", id, inquiryOf(old), out)
	})
	return out, err
}

// AssignInquiry assigns an inquiry to a user of the organization, or
// unassigns it (nil). A user outside the organization, or inactive, is
// fault.Invalid.
func (s *Service) AssignInquiry(ctx context.Context, org, id uuid.UUID, user *uuid.UUID) (Inquiry, error) {
	var out Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.InquiryGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if user != nil {
			if err := checkAssignee(ctx, tx, org, *user, "body.user_id"); err != nil {
				return err
			}
		}
		row, err := tx.InquiryAssign(ctx, db.InquiryAssignParams{OrganizationID: org, ID: id, AssignedTo: user})
		if err != nil {
			return err
		}
		out = inquiryOf(row)
		return audit.Record(ctx, tx, audit.Update, "inquiry", id, inquiryOf(old), out)
	})
	return out, err
}

// SetInquiryStatus moves an inquiry along new → in_progress → responded →
// closed (closing from any open status, a responded one back to
// in_progress, a closed one reopened to in_progress). Any other transition
// is fault.Conflict.
func (s *Service) SetInquiryStatus(ctx context.Context, org, id uuid.UUID, status string) (Inquiry, error) {
	if _, known := inquiryTransitions[status]; !known {
		return Inquiry{}, fault.InvalidField("body.status", "must be new, in_progress, responded or closed")
	}
	var out Inquiry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.InquiryGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if !slices.Contains(inquiryTransitions[old.Status], status) {
			return fault.Errorf(fault.Conflict, "an inquiry that is %s cannot become %s", old.Status, status)
		}
		row, err := tx.InquirySetStatus(ctx, db.InquirySetStatusParams{OrganizationID: org, ID: id, Status: status})
		if err != nil {
			return err
		}
		out = inquiryOf(row)
		return audit.Record(ctx, tx, audit.Update, "inquiry", id, inquiryOf(old), out)
	})
	return out, err
}

// DeleteInquiry removes an inquiry.
func (s *Service) DeleteInquiry(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.InquiryDelete(ctx, org, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "inquiry", id, inquiryOf(row), nil)
	})
}

func checkAssignee(ctx context.Context, tx *postgres.Tx, org, user uuid.UUID, location string) error {
	u, err := tx.InquiryAssignee(ctx, org, user)
	switch {
	case isNoRows(err):
		return fault.InvalidField(location, "no such user in the organization")
	case err != nil:
		return err
	case !u.IsActive:
		return fault.InvalidField(location, "the user is deactivated")
	}
	return nil
}

func inquiryOf(r db.Inquiry) Inquiry {
	return Inquiry{
		ID: r.ID, CallID: r.CallID, CustomerID: r.CustomerID, CustomerName: r.CustomerName, CustomerPhone: r.CustomerPhone,
		CustomerEmail: r.CustomerEmail, Topic: r.Topic, Message: r.Message, Status: r.Status, AssignedTo: r.AssignedTo,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
