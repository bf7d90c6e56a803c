package httpapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
)

type auditLogListInput struct {
	ListParams
	Entity      string    `query:"entity" maxLength:"64" doc:"Entity type, e.g. user, tag, role"`
	EntityID    string    `query:"entity_id" maxLength:"64"`
	ActorUserID string    `query:"actor_user_id" format:"uuid"`
	Since       time.Time `query:"since" doc:"Entries at or after this time (RFC 3339)"`
	Until       time.Time `query:"until" doc:"Entries before this time (RFC 3339)"`
}

func (s *Server) auditLogList(ctx context.Context, in *auditLogListInput) (*body[list[audit.Entry]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	f := audit.Filter{Entity: in.Entity, EntityID: in.EntityID}
	if in.ActorUserID != "" {
		id, err := uuid.Parse(in.ActorUserID)
		if err != nil {
			return nil, fault.InvalidField("query.actor_user_id", "must be a UUID")
		}
		f.ActorUserID = &id
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	items, next, err := s.deps.Audit.List(ctx, org(ctx), f, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}
