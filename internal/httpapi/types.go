package httpapi

import (
	"context"
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/page"
)

// Input types that handlers embed are exported: huma reads only exported
// embedded fields.

// IDPath is the {id} of a resource path. A malformed id is rejected by
// validation (422); a well-formed one outside the tenant is a 404.
type IDPath struct {
	ID string `path:"id" format:"uuid" doc:"Resource id (UUID)"`
}

func (p IDPath) id() uuid.UUID {
	id, err := uuid.Parse(p.ID)
	if err != nil {
		return uuid.Nil
	}
	return id
}

// ListParams are the keyset pagination parameters of every list.
type ListParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Items per page (at most 200)"`
	Cursor string `query:"cursor" maxLength:"128" doc:"next_cursor of the previous page"`
}

func (p ListParams) page() (page.Request, error) { return page.Parse(p.Limit, p.Cursor) }

// list is the body of every list response.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor" doc:"Pass as ?cursor= for the next page; null on the last page"`
}

func listOf[T any](items []T, next string) *body[list[T]] {
	l := list[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return &body[list[T]]{Body: l}
}

// body wraps a response body.
type body[T any] struct {
	Body T
}

func bodyOf[T any](v T) *body[T] { return &body[T]{Body: v} }

// noContent is a 204 response.
type noContent struct{}

// principal returns the request's principal. Routes that reach a handler
// with a tenant permission always have one (the access middleware ensures
// it).
func principal(ctx context.Context) *access.Principal {
	return access.PrincipalFrom(ctx)
}

// org is the tenant of the request, always from the credential, never from
// the request's body or path.
func org(ctx context.Context) uuid.UUID {
	return access.PrincipalFrom(ctx).OrgID
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

var _ huma.StatusError = (*huma.ErrorModel)(nil)
