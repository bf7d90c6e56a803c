package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// APIKeyPrefix starts every API key, so a bearer credential says which kind
// it is and secret scanners can recognize leaked keys.
const APIKeyPrefix = "apk_"

// newSecret returns a random secret with prefix and its SHA-256 hash. The
// secrets carry 256 bits of entropy, so a fast hash is the right one: there
// is nothing to brute-force.
func newSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func (s *Service) authenticateAPIKey(ctx context.Context, key string) (*access.Principal, error) {
	unauthorized := &fault.Error{Code: fault.Unauthorized, Message: "invalid, revoked or expired API key"}
	if len(key) > 128 {
		return nil, unauthorized
	}
	var owner db.APIKeyOwnerRow
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		owner, err = tx.APIKeyOwner(ctx, hashSecret(key))
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, err
	}
	org, id := owner.OrganizationID, owner.ApiKeyID
	var row db.PrincipalForAPIKeyRow
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		if row, err = tx.PrincipalForAPIKey(ctx, org, id); err != nil {
			return err
		}
		return tx.APIKeyTouch(ctx, org, id)
	})
	if err != nil {
		return nil, err
	}
	if row.RevokedAt != nil || (row.ExpiresAt != nil && !row.ExpiresAt.After(s.now())) {
		return nil, unauthorized
	}
	if err := orgStatusError(row.OrgStatus); err != nil {
		return nil, err
	}
	return &access.Principal{
		OrgID:       org,
		APIKeyID:    id,
		RoleID:      row.RoleID,
		RoleKey:     row.RoleKey,
		Permissions: rolePermissions(row.RoleKey, row.IsSystem, row.Permissions),
	}, nil
}
