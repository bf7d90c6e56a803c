package identity

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// apiKeyDisplayLen is how much of a key its prefix shows: enough to tell
// keys apart in a list, far too little to guess the rest.
const apiKeyDisplayLen = len(APIKeyPrefix) + 8

// APIKey is an API key as the API shows it: never the secret or its hash.
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The key's first characters, to recognize it"`
	RoleID     uuid.UUID  `json:"role_id"`
	Role       string     `json:"role"`
	CreatedBy  *uuid.UUID `json:"created_by" nullable:"true" doc:"The user who created it; null when another API key did"`
	LastUsedAt *time.Time `json:"last_used_at" doc:"Updated at most once a minute"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// CreatedAPIKey is a new key with its secret, shown this once.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key" doc:"The secret; send it as Authorization: Bearer <key>. It is shown only now."`
}

// APIKeyInput creates an API key.
type APIKeyInput struct {
	Name      string     `json:"name" minLength:"1" maxLength:"100"`
	RoleID    uuid.UUID  `json:"role_id" format:"uuid" doc:"The role whose permissions the key carries"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"When the key stops working (RFC 3339); never when absent"`
}

func apiKeyFromRow(k db.ApiKey, roleKey string) APIKey {
	return APIKey{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, RoleID: k.RoleID, Role: roleKey, CreatedBy: k.CreatedBy,
		LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
	}
}

// ListAPIKeys returns org's API keys, revoked ones included, newest first.
func (s *Service) ListAPIKeys(ctx context.Context, org uuid.UUID, pr page.Request) ([]APIKey, string, error) {
	var rows []db.APIKeyListRow
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.APIKeyList(ctx, db.APIKeyListParams{OrganizationID: org, After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	keys, next := page.Map(pr, rows, func(r db.APIKeyListRow) uuid.UUID { return r.ApiKey.ID }, func(r db.APIKeyListRow) APIKey { return apiKeyFromRow(r.ApiKey, r.RoleKey) })
	return keys, next, nil
}

// GetAPIKey returns one API key of org, or fault.NotFound.
func (s *Service) GetAPIKey(ctx context.Context, org, id uuid.UUID) (APIKey, error) {
	var k APIKey
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		r, err := tx.APIKeyGet(ctx, org, id)
		k = apiKeyFromRow(r.ApiKey, r.RoleKey)
		return err
	})
	return k, err
}

// CreateAPIKey issues a key for a machine client of actor's organization.
// The secret is returned this once; only its SHA-256 is stored. The key
// carries a role, which follows the rule for users: actor must hold all of
// its permissions (fault.Forbidden). A key never holds owner-only
// permissions (billing, deleting the organization): those are for people,
// so the owner role is refused (fault.Invalid), as is an expiry in the past.
func (s *Service) CreateAPIKey(ctx context.Context, actor *access.Principal, in APIKeyInput) (CreatedAPIKey, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return CreatedAPIKey{}, fault.InvalidField("body.name", "must be 1 to 100 characters")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return CreatedAPIKey{}, fault.InvalidField("body.expires_at", "must be in the future")
	}
	org := actor.OrgID
	secret, hash := newSecret(APIKeyPrefix)
	var out CreatedAPIKey
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		role, err := assignableRole(ctx, tx, actor, in.RoleID)
		if err != nil {
			return err
		}
		for _, p := range rolePermissions(role.Key, role.IsSystem, role.Permissions) {
			if access.OwnerOnly(p) {
				return fault.InvalidField("body.role_id", "an API key cannot hold the owner role; choose a role without owner-only permissions")
			}
		}
		var createdBy *uuid.UUID
		if actor.UserID != uuid.Nil {
			createdBy = &actor.UserID
		}
		var expires *time.Time
		if in.ExpiresAt != nil {
			t := in.ExpiresAt.UTC()
			expires = &t
		}
		row, err := tx.APIKeyInsert(ctx, db.APIKeyInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Name: name, Prefix: secret[:apiKeyDisplayLen],
			KeyHash: hash, RoleID: role.ID, CreatedBy: createdBy, ExpiresAt: expires,
		})
		if err != nil {
			return err
		}
		out = CreatedAPIKey{APIKey: apiKeyFromRow(row, role.Key), Key: secret}
		return audit.Record(ctx, tx, audit.Create, "api_key", row.ID, nil, out.APIKey)
	})
	if err != nil {
		return CreatedAPIKey{}, err
	}
	return out, nil
}

// RevokeAPIKey stops a key from working, at once. Revoking a revoked key
// changes nothing; an unknown key is fault.NotFound.
func (s *Service) RevokeAPIKey(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		cur, err := tx.APIKeyGet(ctx, org, id)
		if err != nil {
			return err
		}
		if cur.ApiKey.RevokedAt != nil {
			return nil
		}
		row, err := tx.APIKeyRevoke(ctx, org, id)
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			return nil // revoked concurrently
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "api_key", id, apiKeyFromRow(cur.ApiKey, cur.RoleKey), apiKeyFromRow(row, cur.RoleKey))
	})
}
