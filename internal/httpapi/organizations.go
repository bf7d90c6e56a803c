package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/identity"
)

// nullable is a field of a JSON merge patch (RFC 7396): absent leaves the
// value unchanged, null clears it, anything else sets it. Its schema is
// T's, so validation tags on the field apply to the value.
type nullable[T any] struct {
	Sent  bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was sent, and whether as null.
func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Sent = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// Schema documents the field as T.
func (n nullable[T]) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[T](), true, "")
}

// present maps a field that cannot be cleared: nil when absent. null would
// remove the value, which such a field cannot lose, so it is refused
// rather than silently ignored.
func present[T any](n nullable[T], location string) (*T, error) {
	switch {
	case !n.Sent:
		return nil, nil
	case n.Null:
		return nil, fault.InvalidField(location, "cannot be null")
	}
	return &n.Value, nil
}

// clearable maps an optional text field onto the domain's convention: nil
// is unchanged, "" clears.
func clearable(n nullable[string]) *string {
	switch {
	case !n.Sent:
		return nil
	case n.Null:
		empty := ""
		return &empty
	}
	return &n.Value
}

// organizationPatch is the body of PATCH /organizations/current.
type organizationPatch struct {
	Name                 nullable[string] `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Timezone             nullable[string] `json:"timezone,omitempty" maxLength:"64" example:"America/Chicago" doc:"IANA time zone"`
	Phone                nullable[string] `json:"phone,omitempty" nullable:"true" maxLength:"32" example:"+13125550100" doc:"E.164; null clears"`
	Address              nullable[string] `json:"address,omitempty" nullable:"true" maxLength:"500" doc:"null clears"`
	PostalCode           nullable[string] `json:"postal_code,omitempty" nullable:"true" maxLength:"10" example:"60601" doc:"US ZIP code; null clears"`
	State                nullable[string] `json:"state,omitempty" nullable:"true" maxLength:"2" example:"IL" doc:"US state code; null clears"`
	GoogleReviewLink     nullable[string] `json:"google_review_link,omitempty" nullable:"true" maxLength:"2048" doc:"https URL sent to promoters; null clears"`
	CallConcurrencyLimit nullable[int32]  `json:"call_concurrency_limit,omitempty" minimum:"0" maximum:"500" doc:"Calls in flight at once"`
}

func (s *Server) organizationGet(ctx context.Context, _ *struct{}) (*body[identity.Organization], error) {
	o, err := s.deps.Identity.GetOrganization(ctx, org(ctx))
	return bodyOf(o), err
}

type organizationUpdateInput struct {
	Body organizationPatch
}

func (s *Server) organizationUpdate(ctx context.Context, in *organizationUpdateInput) (*body[identity.Organization], error) {
	b := in.Body
	p := identity.OrganizationPatch{
		Phone: clearable(b.Phone), Address: clearable(b.Address), PostalCode: clearable(b.PostalCode),
		State: clearable(b.State), GoogleReviewLink: clearable(b.GoogleReviewLink),
	}
	var err error
	if p.Name, err = present(b.Name, "body.name"); err != nil {
		return nil, err
	}
	if p.Timezone, err = present(b.Timezone, "body.timezone"); err != nil {
		return nil, err
	}
	if p.CallConcurrencyLimit, err = present(b.CallConcurrencyLimit, "body.call_concurrency_limit"); err != nil {
		return nil, err
	}
	o, err := s.deps.Identity.UpdateOrganization(ctx, org(ctx), p)
	return bodyOf(o), err
}

func (s *Server) organizationDelete(ctx context.Context, _ *struct{}) (*noContent, error) {
	return nil, s.deps.Identity.DeleteOrganization(ctx, org(ctx))
}

// Platform administration.

type adminOrganizationListInput struct {
	ListParams
	Status string `query:"status" enum:"active,suspended,deleted" doc:"Only organizations with this status"`
}

func (s *Server) adminOrganizationList(ctx context.Context, in *adminOrganizationListInput) (*body[list[identity.Organization]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Identity.ListOrganizations(ctx, in.Status, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type adminOrganizationCreateInput struct {
	Body identity.Registration
}

func (s *Server) adminOrganizationCreate(ctx context.Context, in *adminOrganizationCreateInput) (*body[identity.Registered], error) {
	r, err := s.deps.Identity.Register(ctx, in.Body)
	return bodyOf(r), err
}

func (s *Server) adminOrganizationGet(ctx context.Context, in *IDPath) (*body[identity.Organization], error) {
	o, err := s.deps.Identity.GetOrganization(ctx, in.id())
	return bodyOf(o), err
}

func (s *Server) adminOrganizationSuspend(ctx context.Context, in *IDPath) (*body[identity.Organization], error) {
	o, err := s.deps.Identity.SuspendOrganization(ctx, in.id())
	return bodyOf(o), err
}

func (s *Server) adminOrganizationReactivate(ctx context.Context, in *IDPath) (*body[identity.Organization], error) {
	o, err := s.deps.Identity.ReactivateOrganization(ctx, in.id())
	return bodyOf(o), err
}
