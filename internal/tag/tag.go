// Package tag manages an organization's tags: labels for service types,
// focus areas, inquiry topics, or anything custom.
package tag

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Tag is a label within one organization; (type, name) is unique.
type Tag struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type" enum:"service_type,focus_area,inquiry_topic,custom"`
	Color     string    `json:"color" example:"#6b7280"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input creates or replaces a tag.
type Input struct {
	Name  string `json:"name" minLength:"1" maxLength:"64"`
	Type  string `json:"type,omitempty" enum:"service_type,focus_area,inquiry_topic,custom" default:"custom"`
	Color string `json:"color,omitempty" pattern:"^#[0-9a-fA-F]{6}$" default:"#6b7280"`
}

var colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func (in *Input) normalize() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return fault.InvalidField("body.name", "must not be blank")
	}
	if in.Type == "" {
		in.Type = "custom"
	}
	if in.Color == "" {
		in.Color = "#6b7280"
	}
	if !colorRe.MatchString(in.Color) {
		return fault.InvalidField("body.color", "must be a #rrggbb color")
	}
	return nil
}

// Service manages tags. Its methods return fault.NotFound for an id outside
// the organization, fault.Conflict for a duplicate (type, name), and
// fault.Invalid for bad input.
type Service struct {
	DB *postgres.DB
}

// Create adds a tag.
func (s *Service) Create(ctx context.Context, org uuid.UUID, in Input) (Tag, error) {
	if err := in.normalize(); err != nil {
		return Tag{}, err
	}
	var t Tag
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.TagInsert(ctx, db.TagInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Name: in.Name, Type: in.Type, Color: in.Color,
		})
		if err != nil {
			return err
		}
		t = fromRow(row)
		return audit.Record(ctx, tx, audit.Create, "tag", t.ID, nil, t)
	})
	return t, err
}

// Get returns one tag.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Tag, error) {
	var t Tag
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.TagGet(ctx, org, id)
		t = fromRow(row)
		return err
	})
	return t, err
}

// List returns tags, newest first, optionally of one type.
func (s *Service) List(ctx context.Context, org uuid.UUID, typ string, pr page.Request) ([]Tag, string, error) {
	var rows []db.Tag
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		var t *string
		if typ != "" {
			t = &typ
		}
		rows, err = tx.TagList(ctx, db.TagListParams{OrganizationID: org, Type: t, After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	tags, next := page.Map(pr, rows, func(r db.Tag) uuid.UUID { return r.ID }, fromRow)
	return tags, next, nil
}

// Update replaces a tag's name, type and color.
func (s *Service) Update(ctx context.Context, org, id uuid.UUID, in Input) (Tag, error) {
	if err := in.normalize(); err != nil {
		return Tag{}, err
	}
	var t Tag
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, err := tx.TagGet(ctx, org, id)
		if err != nil {
			return err
		}
		row, err := tx.TagUpdate(ctx, db.TagUpdateParams{OrganizationID: org, ID: id, Name: in.Name, Type: in.Type, Color: in.Color})
		if err != nil {
			return err
		}
		t = fromRow(row)
		return audit.Record(ctx, tx, audit.Update, "tag", id, fromRow(old), t)
	})
	return t, err
}

// Delete removes a tag.
func (s *Service) Delete(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.TagDelete(ctx, org, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "tag", id, fromRow(row), nil)
	})
}

func fromRow(r db.Tag) Tag {
	return Tag{ID: r.ID, Name: r.Name, Type: r.Type, Color: r.Color, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
