// Package identity owns organizations, users, roles, API keys and
// authentication: who someone is, which tenant they act in, and what their
// role lets them do.
package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Service is the identity service. Its methods return *fault.Error codes:
// Invalid for bad input, NotFound for ids outside the caller's tenant,
// Conflict for duplicates, Unauthorized for failed authentication, and
// Forbidden for a suspended organization or a disallowed change.
type Service struct {
	DB     *postgres.DB
	Tokens *Tokens
	// RefreshTTL is how long a refresh token lives.
	RefreshTTL time.Duration
	Now        func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Authenticate resolves a bearer credential (an access token or an API key)
// to a principal. Every request pays one tenant-scoped read, so a
// deactivated user, a changed role or a suspended organization takes effect
// at once rather than when the token expires.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*access.Principal, error) {
	if strings.HasPrefix(bearer, APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, bearer)
	}
	claims, err := s.Tokens.Parse(bearer)
	if err != nil {
		return nil, &fault.Error{Code: fault.Unauthorized, Message: "invalid or expired access token"}
	}
	user := uuid.MustParse(claims.Subject)
	return s.PrincipalForUser(ctx, claims.Org, user, claims.IssuedAt.Time)
}

// PrincipalForUser loads what authorization needs about user. issuedAt,
// when set, refuses tokens issued before the user's last password change.
func (s *Service) PrincipalForUser(ctx context.Context, org, user uuid.UUID, issuedAt time.Time) (*access.Principal, error) {
	var row db.PrincipalForUserRow
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		row, err = tx.PrincipalForUser(ctx, org, user)
		return err
	})
	unauthorized := &fault.Error{Code: fault.Unauthorized, Message: "invalid or expired access token"}
	switch {
	case fault.Is(err, fault.NotFound):
		return nil, unauthorized
	case err != nil:
		return nil, err
	case !row.IsActive:
		return nil, unauthorized
	case !issuedAt.IsZero() && issuedAt.Add(time.Second).Before(row.PasswordChangedAt):
		return nil, unauthorized
	}
	if err := orgStatusError(row.OrgStatus); err != nil {
		return nil, err
	}
	return &access.Principal{
		OrgID:         org,
		UserID:        row.UserID,
		Email:         row.Email,
		RoleID:        row.RoleID,
		RoleKey:       row.RoleKey,
		Permissions:   rolePermissions(row.RoleKey, row.IsSystem, row.Permissions),
		PlatformAdmin: row.IsPlatformAdmin,
	}, nil
}

// orgStatusError refuses every call of a suspended or deleted organization.
func orgStatusError(status string) error {
	switch status {
	case "active":
		return nil
	case "suspended":
		return &fault.Error{Code: fault.Forbidden, Message: "this organization is suspended; contact support"}
	default:
		return &fault.Error{Code: fault.Forbidden, Message: "this organization has been deleted"}
	}
}

// rolePermissions returns a role's permissions, sorted: from code for a
// system role, from the row for a custom one.
func rolePermissions(key string, system bool, stored []string) []access.Permission {
	var perms []access.Permission
	if system {
		r, _ := access.SystemRoleByKey(key)
		perms = slices.Clone(r.Permissions)
	} else {
		for _, p := range stored {
			perms = append(perms, access.Permission(p))
		}
	}
	slices.Sort(perms)
	return slices.Compact(perms)
}

// lookupEmail finds the tenant and id of the user with email, through the
// privileged auth_user_by_email function: the one read that crosses
// tenants, because a login names no tenant. It returns fault.NotFound.
func (s *Service) lookupEmail(ctx context.Context, email string) (org, user uuid.UUID, err error) {
	err = s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		row, err := tx.UserEmailOwner(ctx, strings.ToLower(strings.TrimSpace(email)))
		org, user = row.OrganizationID, row.UserID
		return err
	})
	return org, user, err
}

// EmailRegistered reports whether a user with email exists anywhere.
func (s *Service) EmailRegistered(ctx context.Context, email string) (bool, error) {
	_, _, err := s.lookupEmail(ctx, email)
	switch {
	case err == nil:
		return true, nil
	case fault.Is(err, fault.NotFound):
		return false, nil
	}
	return false, err
}
