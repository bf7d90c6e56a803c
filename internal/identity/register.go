package identity

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Organization is a tenant as the API shows it.
type Organization struct {
	ID                   uuid.UUID `json:"id"`
	Name                 string    `json:"name"`
	Slug                 string    `json:"slug"`
	Timezone             string    `json:"timezone"`
	Phone                *string   `json:"phone"`
	Address              *string   `json:"address"`
	PostalCode           *string   `json:"postal_code"`
	State                *string   `json:"state"`
	GoogleReviewLink     *string   `json:"google_review_link"`
	CallConcurrencyLimit int32     `json:"call_concurrency_limit"`
	CreditBalance        int64     `json:"credit_balance"`
	Currency             string    `json:"currency"`
	Status               string    `json:"status" enum:"active,suspended,deleted"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// OrganizationFromRow converts a row.
func OrganizationFromRow(o db.Organization) Organization {
	return Organization{
		ID: o.ID, Name: o.Name, Slug: o.Slug, Timezone: o.Timezone, Phone: o.Phone, Address: o.Address,
		PostalCode: o.PostalCode, State: o.State, GoogleReviewLink: o.GoogleReviewLink,
		CallConcurrencyLimit: o.CallConcurrencyLimit, CreditBalance: o.CreditBalance, Currency: o.Currency,
		Status: o.Status, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
}

// User is a user as the API shows it (never the password hash).
type User struct {
	ID              uuid.UUID  `json:"id"`
	Email           string     `json:"email"`
	FullName        string     `json:"full_name"`
	RoleID          uuid.UUID  `json:"role_id"`
	Role            string     `json:"role"`
	IsActive        bool       `json:"is_active"`
	IsPlatformAdmin bool       `json:"is_platform_admin"`
	LastLoginAt     *time.Time `json:"last_login_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// UserFromRow converts a row; roleKey is the key of its role.
func UserFromRow(u db.User, roleKey string) User {
	return User{
		ID: u.ID, Email: u.Email, FullName: u.FullName, RoleID: u.RoleID, Role: roleKey, IsActive: u.IsActive,
		IsPlatformAdmin: u.IsPlatformAdmin, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// Registration creates an organization and its owner.
type Registration struct {
	OrganizationName string `json:"organization_name" minLength:"1" maxLength:"200"`
	FullName         string `json:"full_name" minLength:"1" maxLength:"200"`
	Email            string `json:"email" format:"email" maxLength:"254"`
	Password         string `json:"password" minLength:"12" maxLength:"256"`
	Timezone         string `json:"timezone,omitempty" example:"America/Chicago" doc:"IANA time zone; default America/New_York"`
	// PlatformAdmin is set only by `autopulse seed`, never from the API.
	PlatformAdmin bool `json:"-"`
}

// Registered is the outcome of Register.
type Registered struct {
	User         User         `json:"user"`
	Organization Organization `json:"organization"`
}

// Register creates an organization with its system roles and its owner, in
// one transaction. A taken email is a Conflict; TooManyRequests when the
// client address registered too many (RegisterFreePerIP).
func (s *Service) Register(ctx context.Context, r Registration) (Registered, error) {
	r.OrganizationName = strings.TrimSpace(r.OrganizationName)
	r.FullName = strings.TrimSpace(r.FullName)
	email, err := NormalizeEmail("body.email", r.Email)
	if err != nil {
		return Registered{}, err
	}
	if r.OrganizationName == "" {
		return Registered{}, fault.InvalidField("body.organization_name", "must not be blank")
	}
	if r.FullName == "" {
		return Registered{}, fault.InvalidField("body.full_name", "must not be blank")
	}
	if r.Timezone == "" {
		r.Timezone = "America/New_York"
	}
	if err := CheckTimezone("body.timezone", r.Timezone); err != nil {
		return Registered{}, err
	}
	if err := CheckPassword("body.password", r.Password); err != nil {
		return Registered{}, err
	}
	if err := s.chargeRegistration(ctx, access.RequestFrom(ctx).IP, s.now()); err != nil {
		return Registered{}, err
	}
	hash, err := HashPassword(r.Password)
	if err != nil {
		return Registered{}, err
	}

	orgID := uuid.Must(uuid.NewV7())
	var out Registered
	err = s.DB.InTenant(ctx, orgID, func(tx *postgres.Tx) error {
		org, err := insertOrganization(ctx, tx, db.OrganizationInsertParams{
			ID: orgID, Name: r.OrganizationName, Timezone: r.Timezone, IsPlatform: r.PlatformAdmin,
		})
		if err != nil {
			return err
		}
		roles, err := createSystemRoles(ctx, tx)
		if err != nil {
			return err
		}
		user, err := tx.UserInsert(ctx, db.UserInsertParams{
			OrganizationID: orgID, ID: uuid.Must(uuid.NewV7()), Email: email, FullName: r.FullName,
			PasswordHash: hash, RoleID: roles[access.RoleOwner], IsPlatformAdmin: r.PlatformAdmin,
		})
		if err != nil {
			if fault.Is(postgres.Translate(err), fault.Conflict) {
				return &fault.Error{Code: fault.Conflict, Message: "an account with this email already exists",
					Fields: []fault.FieldError{{Location: "body.email", Message: "is already registered"}}}
			}
			return err
		}
		out = Registered{User: UserFromRow(user, access.RoleOwner), Organization: OrganizationFromRow(org)}
		if err := audit.Record(ctx, tx, audit.Create, "organization", orgID, nil, out.Organization); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Create, "user", user.ID, nil, out.User)
	})
	return out, err
}

// createSystemRoles writes the read-only system role rows of a new
// organization and returns their ids by key.
func createSystemRoles(ctx context.Context, tx *postgres.Tx) (map[string]uuid.UUID, error) {
	ids := make(map[string]uuid.UUID, len(access.SystemRoles))
	for _, r := range access.SystemRoles {
		row, err := tx.RoleInsert(ctx, db.RoleInsertParams{
			OrganizationID: tx.Org, ID: uuid.Must(uuid.NewV7()), Key: r.Key, Name: r.Name,
			Description: r.Description, IsSystem: true, Permissions: []string{},
		})
		if err != nil {
			return nil, err
		}
		ids[r.Key] = row.ID
	}
	return ids, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// insertOrganization inserts an organization with a slug derived from its
// name. Other tenants' slugs are invisible here (row-level security), so a
// taken slug shows up as a unique violation, and the insert is retried in a
// savepoint with a random suffix.
func insertOrganization(ctx context.Context, tx *postgres.Tx, p db.OrganizationInsertParams) (db.Organization, error) {
	base := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(p.Name), "-"), "-")
	if len(base) > 48 {
		base = strings.TrimRight(base[:48], "-")
	}
	if base == "" {
		base = "org"
	}
	p.Slug = base
	for range 5 {
		var org db.Organization
		err := pgx.BeginFunc(ctx, tx.Tx, func(sp pgx.Tx) error {
			var err error
			org, err = tx.WithTx(sp).OrganizationInsert(ctx, p)
			return err
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.ConstraintName == "organizations_slug_key" {
			p.Slug = base + "-" + uuid.NewString()[:6]
			continue
		}
		return org, err
	}
	return db.Organization{}, &fault.Error{Code: fault.Conflict, Message: "could not find a free slug; try another name"}
}

// NormalizeEmail lower-cases and checks an email address.
func NormalizeEmail(location, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || len(e) > 254 || strings.ContainsAny(e, " \t\r\n<>") {
		return "", fault.InvalidField(location, "must be an email address")
	}
	return e, nil
}

// CheckTimezone checks an IANA time zone name.
func CheckTimezone(location, tz string) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || tz == "" {
		return fault.InvalidField(location, "must be an IANA time zone such as America/Chicago")
	}
	return nil
}
