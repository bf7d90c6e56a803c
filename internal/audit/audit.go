// Package audit writes and reads the audit log. Every create, update and
// delete in the product calls Record inside the transaction that makes the
// change, so the log and the data can never disagree.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Actions.
const (
	Create = "create"
	Update = "update"
	Delete = "delete"
)

// Record appends an audit row in tx, attributed to the request's principal.
// old and new are marshalled to JSON; pass nil for the side that does not
// exist. Values must not carry secrets (password hashes, key hashes): give
// Record the API view of a resource, not its row.
func Record(ctx context.Context, tx *postgres.Tx, action, entity string, entityID fmt.Stringer, old, new any) error {
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	p := access.PrincipalFrom(ctx)
	req := access.RequestFrom(ctx)
	params := db.AuditLogInsertParams{
		OrganizationID: tx.Org,
		ID:             id,
		Action:         action,
		Entity:         entity,
		EntityID:       entityID.String(),
		Ip:             optional(req.IP),
		UserAgent:      optional(req.UserAgent),
		RequestID:      optional(req.ID),
	}
	if p != nil {
		params.ActorUserID = optionalID(p.UserID)
		params.ActorApiKeyID = optionalID(p.APIKeyID)
	}
	if params.OldValue, err = marshal(old); err != nil {
		return err
	}
	if params.NewValue, err = marshal(new); err != nil {
		return err
	}
	return tx.AuditLogInsert(ctx, params)
}

// Entry is one audit row as the API shows it.
type Entry struct {
	ID            uuid.UUID       `json:"id"`
	ActorUserID   *uuid.UUID      `json:"actor_user_id"`
	ActorAPIKeyID *uuid.UUID      `json:"actor_api_key_id"`
	Action        string          `json:"action" enum:"create,update,delete"`
	Entity        string          `json:"entity"`
	EntityID      string          `json:"entity_id"`
	OldValue      json.RawMessage `json:"old_value,omitempty"`
	NewValue      json.RawMessage `json:"new_value,omitempty"`
	IP            *string         `json:"ip"`
	UserAgent     *string         `json:"user_agent"`
	RequestID     *string         `json:"request_id"`
	CreatedAt     time.Time       `json:"created_at"`
}

// Filter narrows List.
type Filter struct {
	Entity      string
	EntityID    string
	ActorUserID *uuid.UUID
	Since       *time.Time
	Until       *time.Time
}

// Service reads the audit log.
type Service struct {
	DB *postgres.DB
}

// List returns org's audit entries, newest first.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter, pr page.Request) (items []Entry, next string, err error) {
	var rows []db.AuditLog
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		rows, err = tx.AuditLogList(ctx, db.AuditLogListParams{
			OrganizationID: org,
			Entity:         optional(f.Entity),
			EntityID:       optional(f.EntityID),
			ActorUserID:    f.ActorUserID,
			Since:          f.Since,
			Until:          f.Until,
			After:          pr.After,
			Lim:            pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next = page.Result(pr, rows, func(r db.AuditLog) uuid.UUID { return r.ID })
	items = make([]Entry, len(rows))
	for i, r := range rows {
		items[i] = Entry{
			ID: r.ID, ActorUserID: r.ActorUserID, ActorAPIKeyID: r.ActorApiKeyID, Action: r.Action,
			Entity: r.Entity, EntityID: r.EntityID, OldValue: r.OldValue, NewValue: r.NewValue,
			IP: r.Ip, UserAgent: r.UserAgent, RequestID: r.RequestID, CreatedAt: r.CreatedAt,
		}
	}
	return items, next, nil
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
