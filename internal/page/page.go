// Package page implements keyset pagination: a list returns at most Limit
// items and an opaque cursor that resumes after the last one. Cursors encode
// the last item's id (UUIDv7, so id order is creation order); they are not
// signed, since a forged cursor only moves within the caller's own tenant.
package page

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
)

// Limits for ?limit=.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Request is a decoded ?limit=&cursor= pair.
type Request struct {
	Limit int
	// After is the id the page starts after; nil for the first page.
	After *uuid.UUID
}

// Fetch is how many rows to ask the database for: one more than the limit,
// to learn whether another page exists.
func (r Request) Fetch() int32 { return int32(r.Limit) + 1 }

type cursor struct {
	After uuid.UUID `json:"a"`
}

// Parse validates limit and cursor. A zero limit means the default.
func Parse(limit int, raw string) (Request, error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return Request{}, fault.InvalidField("query.limit", "must be between 1 and 200")
	}
	r := Request{Limit: limit}
	if raw == "" {
		return r, nil
	}
	after, err := Decode(raw)
	if err != nil {
		return Request{}, err
	}
	r.After = &after
	return r, nil
}

// Encode returns the cursor that resumes after id.
func Encode(id uuid.UUID) string {
	b, _ := json.Marshal(cursor{After: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode.
func Decode(raw string) (uuid.UUID, error) {
	bad := fault.InvalidField("query.cursor", "is not a cursor returned by this API")
	if len(raw) > 128 {
		return uuid.Nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return uuid.Nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.After == uuid.Nil {
		return uuid.Nil, bad
	}
	return c.After, nil
}

// Map is Result, with the kept rows converted by conv: the usual end of a
// list method, from database rows to the API's items.
func Map[T, U any](r Request, rows []T, id func(T) uuid.UUID, conv func(T) U) (items []U, next string) {
	kept, next := Result(r, rows, id)
	items = make([]U, len(kept))
	for i, row := range kept {
		items[i] = conv(row)
	}
	return items, next
}

// Result trims rows fetched with Request.Fetch to the limit and computes the
// next cursor from the last kept row's id.
func Result[T any](r Request, rows []T, id func(T) uuid.UUID) (items []T, next string) {
	if len(rows) <= r.Limit {
		return rows, ""
	}
	items = rows[:r.Limit]
	return items, Encode(id(items[len(items)-1]))
}
