package identity

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Organization statuses. Users and API keys of an organization that is not
// active get 403 on every call (see Authenticate).
const (
	OrgActive    = "active"
	OrgSuspended = "suspended"
	OrgDeleted   = "deleted"
)

// Bounds of an organization's concurrent-call limit.
const (
	MinCallConcurrency = 0
	MaxCallConcurrency = 500
)

// OrganizationPatch changes an organization's profile. A nil field is left
// unchanged. For the optional contact fields (phone, address, postal code,
// state, review link) a pointer to "" clears the value.
type OrganizationPatch struct {
	Name                 *string
	Timezone             *string
	Phone                *string
	Address              *string
	PostalCode           *string
	State                *string
	GoogleReviewLink     *string
	CallConcurrencyLimit *int32
}

var (
	e164Re     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	phoneNoise = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")
	usZIPRe    = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
)

// usStates are the USPS codes of the states, DC and the territories: the
// places whose calling rules AutoPulse knows.
var usStates = []string{
	"AK", "AL", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "GU", "HI", "IA", "ID", "IL", "IN",
	"KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MP", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM",
	"NV", "NY", "OH", "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI",
	"WV", "WY",
}

// apply validates p and merges it into o, the current row.
func (p OrganizationPatch) apply(o *db.Organization) error {
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		if name == "" || utf8.RuneCountInString(name) > 200 {
			return fault.InvalidField("body.name", "must be 1 to 200 characters")
		}
		o.Name = name
	}
	if p.Timezone != nil {
		if err := CheckTimezone("body.timezone", *p.Timezone); err != nil {
			return err
		}
		o.Timezone = *p.Timezone
	}
	if p.CallConcurrencyLimit != nil {
		n := *p.CallConcurrencyLimit
		if n < MinCallConcurrency || n > MaxCallConcurrency {
			return fault.InvalidField("body.call_concurrency_limit", "must be between 0 and 500")
		}
		o.CallConcurrencyLimit = n
	}
	fields := []struct {
		in       *string
		out      **string
		location string
		check    func(string) (string, string) // normalized value, or a problem
	}{
		{p.Phone, &o.Phone, "body.phone", checkPhone},
		{p.Address, &o.Address, "body.address", checkAddress},
		{p.PostalCode, &o.PostalCode, "body.postal_code", checkPostalCode},
		{p.State, &o.State, "body.state", checkState},
		{p.GoogleReviewLink, &o.GoogleReviewLink, "body.google_review_link", checkReviewLink},
	}
	for _, f := range fields {
		if f.in == nil {
			continue
		}
		v := strings.TrimSpace(*f.in)
		if v == "" {
			*f.out = nil
			continue
		}
		v, problem := f.check(v)
		if problem != "" {
			return fault.InvalidField(f.location, problem)
		}
		*f.out = &v
	}
	return nil
}

func checkPhone(v string) (string, string) {
	v = phoneNoise.Replace(v)
	if !e164Re.MatchString(v) {
		return "", "must be an E.164 phone number such as +13125550100"
	}
	return v, ""
}

func checkAddress(v string) (string, string) {
	if utf8.RuneCountInString(v) > 500 {
		return "", "must be at most 500 characters"
	}
	return v, ""
}

func checkPostalCode(v string) (string, string) {
	if !usZIPRe.MatchString(v) {
		return "", "must be a US ZIP code (12345 or 12345-6789)"
	}
	return v, ""
}

func checkState(v string) (string, string) {
	v = strings.ToUpper(v)
	if !slices.Contains(usStates, v) {
		return "", "must be a two-letter US state code such as IL"
	}
	return v, ""
}

func checkReviewLink(v string) (string, string) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > 2048 {
		return "", "must be an https:// URL without credentials, at most 2048 characters"
	}
	return v, ""
}

// GetOrganization returns org. It returns fault.NotFound if it does not
// exist.
func (s *Service) GetOrganization(ctx context.Context, org uuid.UUID) (Organization, error) {
	var o Organization
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.OrganizationGet(ctx, org)
		o = OrganizationFromRow(row)
		return err
	})
	return o, err
}

// UpdateOrganization applies p to org's profile, with an audit row when
// anything changed. It returns fault.Invalid for a bad value.
func (s *Service) UpdateOrganization(ctx context.Context, org uuid.UUID, p OrganizationPatch) (Organization, error) {
	var o Organization
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.OrganizationGetForUpdate(ctx, org)
		if err != nil {
			return err
		}
		old := OrganizationFromRow(row)
		if err := p.apply(&row); err != nil {
			return err
		}
		if o = OrganizationFromRow(row); organizationProfileEqual(old, o) {
			o = old
			return nil
		}
		row, err = tx.OrganizationUpdate(ctx, db.OrganizationUpdateParams{
			ID: org, Name: row.Name, Timezone: row.Timezone, Phone: row.Phone, Address: row.Address,
			PostalCode: row.PostalCode, State: row.State, GoogleReviewLink: row.GoogleReviewLink,
			CallConcurrencyLimit: row.CallConcurrencyLimit,
		})
		if err != nil {
			return err
		}
		o = OrganizationFromRow(row)
		return audit.Record(ctx, tx, audit.Update, "organization", org, old, o)
	})
	return o, err
}

func organizationProfileEqual(a, b Organization) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Name == b.Name && a.Timezone == b.Timezone && a.CallConcurrencyLimit == b.CallConcurrencyLimit &&
		eq(a.Phone, b.Phone) && eq(a.Address, b.Address) && eq(a.PostalCode, b.PostalCode) &&
		eq(a.State, b.State) && eq(a.GoogleReviewLink, b.GoogleReviewLink)
}

// DeleteOrganization marks org deleted: from then on every call of its
// users and API keys is refused with 403. The data stays for support and
// for the retention policy to purge. The platform organization cannot be
// deleted (fault.Conflict), since that would lock out every platform
// administrator.
func (s *Service) DeleteOrganization(ctx context.Context, org uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.OrganizationGetForUpdate(ctx, org)
		if err != nil {
			return err
		}
		if row.IsPlatform {
			return fault.Errorf(fault.Conflict, "the platform organization cannot be deleted")
		}
		_, err = setOrgStatus(ctx, tx, row, OrgDeleted, audit.Delete)
		return err
	})
}

// ListOrganizations lists every organization, newest first, optionally of
// one status. It is the platform administrators' view across tenants and
// reads through the privileged admin_organization_list function.
func (s *Service) ListOrganizations(ctx context.Context, status string, pr page.Request) ([]Organization, string, error) {
	var rows []db.Organization
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		var st *string
		if status != "" {
			st = &status
		}
		rows, err = tx.AdminOrganizationList(ctx, db.AdminOrganizationListParams{After: pr.After, Lim: pr.Fetch(), Status: st})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	orgs, next := page.Map(pr, rows, func(r db.Organization) uuid.UUID { return r.ID }, OrganizationFromRow)
	return orgs, next, nil
}

// SuspendOrganization suspends org on behalf of a platform administrator:
// its users and API keys get 403 until it is reactivated. It works inside
// the target tenant, so the audit row lands in that organization, with the
// administrator as its actor. Suspending a suspended organization changes
// nothing. It returns fault.NotFound for an unknown id and fault.Conflict
// for a deleted organization or the platform organization.
func (s *Service) SuspendOrganization(ctx context.Context, org uuid.UUID) (Organization, error) {
	return s.changeOrgStatus(ctx, org, OrgSuspended)
}

// ReactivateOrganization lifts a suspension (see SuspendOrganization).
// Reactivating an active organization changes nothing; a deleted one is a
// fault.Conflict.
func (s *Service) ReactivateOrganization(ctx context.Context, org uuid.UUID) (Organization, error) {
	return s.changeOrgStatus(ctx, org, OrgActive)
}

func (s *Service) changeOrgStatus(ctx context.Context, org uuid.UUID, status string) (Organization, error) {
	var o Organization
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.OrganizationGetForUpdate(ctx, org)
		if err != nil {
			return err
		}
		switch {
		case row.Status == OrgDeleted:
			return fault.Errorf(fault.Conflict, "the organization has been deleted; its status cannot change")
		case row.IsPlatform:
			return fault.Errorf(fault.Conflict, "the platform organization cannot be suspended")
		case row.Status == status:
			o = OrganizationFromRow(row)
			return nil
		}
		o, err = setOrgStatus(ctx, tx, row, status, audit.Update)
		return err
	})
	return o, err
}

// setOrgStatus changes an organization's status with an audit row of the
// old and new views.
func setOrgStatus(ctx context.Context, tx *postgres.Tx, row db.Organization, status, action string) (Organization, error) {
	updated, err := tx.OrganizationSetStatus(ctx, status, row.ID)
	if err != nil {
		return Organization{}, err
	}
	o := OrganizationFromRow(updated)
	return o, audit.Record(ctx, tx, action, "organization", row.ID, OrganizationFromRow(row), o)
}
