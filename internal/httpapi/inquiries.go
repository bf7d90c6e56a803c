package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/call"
)

type inquiryListInput struct {
	ListParams
	Status     string `query:"status" enum:"new,in_progress,responded,closed"`
	Topic      string `query:"topic" maxLength:"200"`
	AssignedTo string `query:"assigned_to" format:"uuid"`
	Unassigned bool   `query:"unassigned" doc:"Only inquiries assigned to nobody"`
	CustomerID string `query:"customer_id" format:"uuid"`
	CallID     string `query:"call_id" format:"uuid"`
}

func (s *Server) inquiryList(ctx context.Context, in *inquiryListInput) (*body[list[call.Inquiry]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	f := call.InquiryFilter{Status: in.Status, Topic: in.Topic, Unassigned: in.Unassigned}
	if f.AssignedTo, err = callQueryUUID(in.AssignedTo, "query.assigned_to"); err != nil {
		return nil, err
	}
	if f.CustomerID, err = callQueryUUID(in.CustomerID, "query.customer_id"); err != nil {
		return nil, err
	}
	if f.CallID, err = callQueryUUID(in.CallID, "query.call_id"); err != nil {
		return nil, err
	}
	items, next, err := s.deps.Calls.ListInquiries(ctx, org(ctx), f, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type inquiryCreateInput struct {
	Body call.InquiryInput
}

func (s *Server) inquiryCreate(ctx context.Context, in *inquiryCreateInput) (*body[call.Inquiry], error) {
	q, err := s.deps.Calls.CreateInquiry(ctx, org(ctx), in.Body)
	return bodyOf(q), err
}

func (s *Server) inquiryGet(ctx context.Context, in *IDPath) (*body[call.Inquiry], error) {
	q, err := s.deps.Calls.GetInquiry(ctx, org(ctx), in.id())
	return bodyOf(q), err
}

type inquiryUpdateInput struct {
	IDPath
	Body call.InquiryPatch
}

func (s *Server) inquiryUpdate(ctx context.Context, in *inquiryUpdateInput) (*body[call.Inquiry], error) {
	q, err := s.deps.Calls.UpdateInquiry(ctx, org(ctx), in.id(), in.Body)
	return bodyOf(q), err
}

type inquiryAssignBody struct {
	UserID *uuid.UUID `json:"user_id" format:"uuid" nullable:"true" doc:"An active user of the organization; null unassigns"`
}

type inquiryAssignInput struct {
	IDPath
	Body inquiryAssignBody
}

func (s *Server) inquiryAssign(ctx context.Context, in *inquiryAssignInput) (*body[call.Inquiry], error) {
	q, err := s.deps.Calls.AssignInquiry(ctx, org(ctx), in.id(), in.Body.UserID)
	return bodyOf(q), err
}

type inquiryStatusBody struct {
	Status string `json:"status" enum:"new,in_progress,responded,closed" doc:"new → in_progress → responded → closed; close from any open status; responded or closed back to in_progress"`
}

type inquiryStatusInput struct {
	IDPath
	Body inquiryStatusBody
}

func (s *Server) inquiryStatus(ctx context.Context, in *inquiryStatusInput) (*body[call.Inquiry], error) {
	q, err := s.deps.Calls.SetInquiryStatus(ctx, org(ctx), in.id(), in.Body.Status)
	return bodyOf(q), err
}

func (s *Server) inquiryDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Calls.DeleteInquiry(ctx, org(ctx), in.id())
}
