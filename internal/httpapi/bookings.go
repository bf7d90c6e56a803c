package httpapi

import (
	"context"
	"time"

	"github.com/autopulse/autopulse/internal/call"
)

type bookingListInput struct {
	ListParams
	Status        string    `query:"status" enum:"scheduled,completed,canceled,no_show"`
	CustomerID    string    `query:"customer_id" format:"uuid"`
	CampaignID    string    `query:"campaign_id" format:"uuid"`
	CallID        string    `query:"call_id" format:"uuid"`
	ScheduledFrom time.Time `query:"scheduled_from" doc:"Bookings scheduled at or after this time (RFC 3339)"`
	ScheduledTo   time.Time `query:"scheduled_to" doc:"Bookings scheduled before this time (RFC 3339)"`
}

func (s *Server) bookingList(ctx context.Context, in *bookingListInput) (*body[list[call.Booking]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	f := call.BookingFilter{Status: in.Status, ScheduledFrom: callQueryTime(in.ScheduledFrom), ScheduledTo: callQueryTime(in.ScheduledTo)}
	if f.CustomerID, err = callQueryUUID(in.CustomerID, "query.customer_id"); err != nil {
		return nil, err
	}
	if f.CampaignID, err = callQueryUUID(in.CampaignID, "query.campaign_id"); err != nil {
		return nil, err
	}
	if f.CallID, err = callQueryUUID(in.CallID, "query.call_id"); err != nil {
		return nil, err
	}
	items, next, err := s.deps.Calls.ListBookings(ctx, org(ctx), f, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type bookingCreateInput struct {
	Body call.BookingInput
}

func (s *Server) bookingCreate(ctx context.Context, in *bookingCreateInput) (*body[call.Booking], error) {
	b, err := s.deps.Calls.CreateBooking(ctx, org(ctx), in.Body)
	return bodyOf(b), err
}

func (s *Server) bookingGet(ctx context.Context, in *IDPath) (*body[call.Booking], error) {
	b, err := s.deps.Calls.GetBooking(ctx, org(ctx), in.id())
	return bodyOf(b), err
}

type bookingUpdateInput struct {
	IDPath
	Body call.BookingPatch
}

func (s *Server) bookingUpdate(ctx context.Context, in *bookingUpdateInput) (*body[call.Booking], error) {
	b, err := s.deps.Calls.UpdateBooking(ctx, org(ctx), in.id(), in.Body)
	return bodyOf(b), err
}

type bookingStatusBody struct {
	Status string `json:"status" enum:"completed,canceled,no_show" doc:"Only a scheduled booking changes status"`
}

type bookingStatusInput struct {
	IDPath
	Body bookingStatusBody
}

func (s *Server) bookingStatus(ctx context.Context, in *bookingStatusInput) (*body[call.Booking], error) {
	b, err := s.deps.Calls.SetBookingStatus(ctx, org(ctx), in.id(), in.Body.Status)
	return bodyOf(b), err
}

func (s *Server) bookingDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Calls.DeleteBooking(ctx, org(ctx), in.id())
}
