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

// Booking statuses.
const (
	BookingScheduled = "scheduled"
	BookingCompleted = "completed"
	BookingCanceled  = "canceled"
	BookingNoShow    = "no_show"
)

// bookingTransitions: a scheduled booking is completed, canceled or missed;
// the others are final.
var bookingTransitions = map[string][]string{
	BookingScheduled: {BookingCompleted, BookingCanceled, BookingNoShow},
}

// Booking is a service appointment, made on a call or by hand.
type Booking struct {
	ID            uuid.UUID  `json:"id"`
	CallID        *uuid.UUID `json:"call_id"`
	CustomerID    *uuid.UUID `json:"customer_id"`
	VehicleID     *uuid.UUID `json:"vehicle_id"`
	CampaignID    *uuid.UUID `json:"campaign_id"`
	CustomerName  string     `json:"customer_name"`
	CustomerPhone *string    `json:"customer_phone"`
	ScheduledAt   time.Time  `json:"scheduled_at"`
	ServiceType   *string    `json:"service_type"`
	Status        string     `json:"status" enum:"scheduled,completed,canceled,no_show"`
	Notes         string     `json:"notes"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// BookingInput creates a booking. It needs someone to serve: a customer,
// a phone number or a call.
type BookingInput struct {
	CustomerID    *uuid.UUID `json:"customer_id,omitempty" format:"uuid"`
	VehicleID     *uuid.UUID `json:"vehicle_id,omitempty" format:"uuid"`
	CampaignID    *uuid.UUID `json:"campaign_id,omitempty" format:"uuid"`
	CallID        *uuid.UUID `json:"call_id,omitempty" format:"uuid" doc:"A call has at most one booking"`
	CustomerName  string     `json:"customer_name,omitempty" maxLength:"200" doc:"Defaults to the customer's name"`
	CustomerPhone string     `json:"customer_phone,omitempty" pattern:"^\\+[1-9][0-9]{6,14}$" doc:"E.164; defaults to the customer's phone"`
	ScheduledAt   time.Time  `json:"scheduled_at"`
	ServiceType   string     `json:"service_type,omitempty" maxLength:"100"`
	Notes         string     `json:"notes,omitempty" maxLength:"4000"`
}

// BookingPatch changes a scheduled booking; absent fields are unchanged,
// and an empty service_type or customer_phone clears it.
type BookingPatch struct {
	ScheduledAt   *time.Time `json:"scheduled_at,omitempty"`
	ServiceType   *string    `json:"service_type,omitempty" maxLength:"100"`
	Notes         *string    `json:"notes,omitempty" maxLength:"4000"`
	VehicleID     *uuid.UUID `json:"vehicle_id,omitempty" format:"uuid"`
	CustomerName  *string    `json:"customer_name,omitempty" maxLength:"200"`
	CustomerPhone *string    `json:"customer_phone,omitempty" pattern:"^(\\+[1-9][0-9]{6,14})?$"`
}

// BookingFilter narrows ListBookings.
type BookingFilter struct {
	Status                     string
	CustomerID, CampaignID     *uuid.UUID
	CallID                     *uuid.UUID
	ScheduledFrom, ScheduledTo *time.Time
}

// CreateBooking adds a booking. A customer, vehicle, campaign or call of
// another organization is fault.Invalid; a call that already has a booking
// is fault.Conflict.
func (s *Service) CreateBooking(ctx context.Context, org uuid.UUID, in BookingInput) (Booking, error) {
	in.CustomerName, in.CustomerPhone = strings.TrimSpace(in.CustomerName), strings.TrimSpace(in.CustomerPhone)
	if in.ScheduledAt.IsZero() {
		return Booking{}, fault.InvalidField("body.scheduled_at", "is required")
	}
	if in.CustomerPhone != "" && !voice.ValidE164(in.CustomerPhone) {
		return Booking{}, fault.InvalidField("body.customer_phone", "must be an E.164 phone number")
	}
	if in.CustomerID == nil && in.CustomerPhone == "" && in.CallID == nil {
		return Booking{}, fault.InvalidField("body.customer_id", "give a customer_id, a customer_phone or a call_id")
	}
	var b Booking
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		p := db.BookingInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), CallID: in.CallID, CustomerID: in.CustomerID,
			VehicleID: in.VehicleID, CampaignID: in.CampaignID, ScheduledAt: in.ScheduledAt.UTC(),
			ServiceType: optional(strings.TrimSpace(in.ServiceType)), Notes: in.Notes,
			CustomerName: in.CustomerName, CustomerPhone: optional(in.CustomerPhone),
		}
		if in.CustomerID != nil && (p.CustomerName == "" || p.CustomerPhone == nil) {
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
		}
		row, err := tx.BookingInsert(ctx, p)
		if err != nil {
			return err
		}
		b = bookingOf(row)
		return audit.Record(ctx, tx, audit.Create, "booking", b.ID, nil, b)
	})
	return b, err
}

// GetBooking returns one booking.
func (s *Service) GetBooking(ctx context.Context, org, id uuid.UUID) (Booking, error) {
	var b Booking
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.BookingGet(ctx, org, id)
		b = bookingOf(row)
		return err
	})
	return b, err
}

// ListBookings returns bookings, newest first.
func (s *Service) ListBookings(ctx context.Context, org uuid.UUID, f BookingFilter, pr page.Request) ([]Booking, string, error) {
	if f.ScheduledFrom != nil && f.ScheduledTo != nil && !f.ScheduledTo.After(*f.ScheduledFrom) {
		return nil, "", fault.InvalidField("query.scheduled_to", "must be after scheduled_from")
	}
	var rows []db.Booking
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.BookingList(ctx, db.BookingListParams{
			OrganizationID: org, Status: optional(f.Status), CustomerID: f.CustomerID, CampaignID: f.CampaignID,
			CallID: f.CallID, ScheduledFrom: f.ScheduledFrom, ScheduledTo: f.ScheduledTo, After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.Booking) uuid.UUID { return r.ID }, bookingOf)
	return out, next, nil
}

// UpdateBooking changes a scheduled booking; one in another status is
// fault.Conflict.
func (s *Service) UpdateBooking(ctx context.Context, org, id uuid.UUID, p BookingPatch) (Booking, error) {
	if p.CustomerPhone != nil {
		*p.CustomerPhone = strings.TrimSpace(*p.CustomerPhone)
		if *p.CustomerPhone != "" && !voice.ValidE164(*p.CustomerPhone) {
			return Booking{}, fault.InvalidField("body.customer_phone", "must be an E.164 phone number, or empty to clear")
		}
	}
	if p.ScheduledAt != nil && p.ScheduledAt.IsZero() {
		return Booking{}, fault.InvalidField("body.scheduled_at", "must be a time")
	}
	var b Booking
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.BookingGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if old.Status != BookingScheduled {
			return fault.Errorf(fault.Conflict, "a %s booking cannot be changed", old.Status)
		}
		up := db.BookingUpdateParams{
			OrganizationID: org, ID: id, ScheduledAt: old.ScheduledAt, ServiceType: old.ServiceType, Notes: old.Notes,
			VehicleID: old.VehicleID, CustomerName: old.CustomerName, CustomerPhone: old.CustomerPhone,
		}
		if p.ScheduledAt != nil {
			up.ScheduledAt = p.ScheduledAt.UTC()
		}
		if p.ServiceType != nil {
			up.ServiceType = optional(strings.TrimSpace(*p.ServiceType))
		}
		if p.Notes != nil {
			up.Notes = *p.Notes
		}
		if p.VehicleID != nil {
			up.VehicleID = p.VehicleID
		}
		if p.CustomerName != nil {
			up.CustomerName = strings.TrimSpace(*p.CustomerName)
		}
		if p.CustomerPhone != nil {
			up.CustomerPhone = optional(*p.CustomerPhone)
		}
		row, err := tx.BookingUpdate(ctx, up)
		if err != nil {
			return err
		}
		b = bookingOf(row)
		return audit.Record(ctx, tx, audit.Update, "booking", id, bookingOf(old), b)
	})
	return b, err
}

// SetBookingStatus moves a scheduled booking to completed, canceled or
// no_show. Any other transition is fault.Conflict.
func (s *Service) SetBookingStatus(ctx context.Context, org, id uuid.UUID, status string) (Booking, error) {
	if !slices.Contains(bookingTransitions[BookingScheduled], status) {
		return Booking{}, fault.InvalidField("body.status", "must be completed, canceled or no_show")
	}
	var b Booking
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.BookingGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if !slices.Contains(bookingTransitions[old.Status], status) {
			return fault.Errorf(fault.Conflict, "a %s booking cannot become %s", old.Status, status)
		}
		row, err := tx.BookingSetStatus(ctx, db.BookingSetStatusParams{OrganizationID: org, ID: id, Status: status})
		if err != nil {
			return err
		}
		b = bookingOf(row)
		return audit.Record(ctx, tx, audit.Update, "booking", id, bookingOf(old), b)
	})
	return b, err
}

// DeleteBooking removes a booking.
func (s *Service) DeleteBooking(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.BookingDelete(ctx, org, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "booking", id, bookingOf(row), nil)
	})
}

func bookingOf(r db.Booking) Booking {
	return Booking{
		ID: r.ID, CallID: r.CallID, CustomerID: r.CustomerID, VehicleID: r.VehicleID, CampaignID: r.CampaignID,
		CustomerName: r.CustomerName, CustomerPhone: r.CustomerPhone, ScheduledAt: r.ScheduledAt, ServiceType: r.ServiceType,
		Status: r.Status, Notes: r.Notes, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
