package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Refresh tokens are opaque random strings (256 bits after the prefix),
// stored as SHA-256 hashes. Each login starts a family (a session); every
// use spends the token and issues its successor in the same family.
//
// Spending is one conditional UPDATE, so of two concurrent uses of a token
// exactly one gets a successor. A spent token presented again is reuse:
// RFC 9700 §4.14.2 cannot tell the thief from the holder, so the whole
// family is revoked and both must sign in again. That includes a client
// that refreshes twice at once: its losing request revokes the winner's new
// token too, so clients must serialize refreshes.
const (
	RefreshTokenPrefix = "rt_"
	// maxRefreshTokenLen bounds what is hashed and looked up; real tokens
	// are 46 bytes.
	maxRefreshTokenLen = 128
	defaultRefreshTTL  = 30 * 24 * time.Hour
)

// Reasons stored in refresh_tokens.revoked_reason.
const (
	revokedLogout         = "logout"
	revokedReuse          = "reuse_detected"
	revokedPasswordChange = "password_change"
)

// TokenPair is a token endpoint response (RFC 6749 §5.1).
type TokenPair struct {
	AccessToken  string `json:"access_token" doc:"A JWT: send it as Authorization: Bearer <access_token>"`
	TokenType    string `json:"token_type" enum:"bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Seconds until the access token expires"`
	RefreshToken string `json:"refresh_token" doc:"Single use: trade it at this endpoint (grant_type=refresh_token) for a new pair"`
}

func invalidRefreshToken() error {
	return &fault.Error{Code: fault.Unauthorized, Message: "invalid, expired or revoked refresh token"}
}

func (s *Service) refreshTTL() time.Duration {
	if s.RefreshTTL > 0 {
		return s.RefreshTTL
	}
	return defaultRefreshTTL
}

// issuePair signs an access token and stores a new refresh token of family
// in tx.
func (s *Service) issuePair(ctx context.Context, tx *postgres.Tx, user, family uuid.UUID, role string, now time.Time) (TokenPair, error) {
	accessToken, _, err := s.Tokens.Issue(user, tx.Org, role)
	if err != nil {
		return TokenPair{}, err
	}
	secret, hash := newSecret(RefreshTokenPrefix)
	req := access.RequestFrom(ctx)
	_, err = tx.RefreshTokenInsert(ctx, db.RefreshTokenInsertParams{
		OrganizationID: tx.Org, ID: uuid.Must(uuid.NewV7()), UserID: user, FamilyID: family, TokenHash: hash,
		ExpiresAt: now.Add(s.refreshTTL()), ClientIp: optionalString(req.IP),
		// Headers may carry bytes that are not UTF-8, which text cannot hold.
		UserAgent: optionalString(strings.ToValidUTF8(req.UserAgent, "")),
	})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: accessToken, TokenType: "bearer", ExpiresIn: int(s.Tokens.TTL / time.Second), RefreshToken: secret}, nil
}

// refreshTokenOwner finds the tenant of a presented token through the
// privileged auth_refresh_token_owner function. It returns fault.NotFound
// for a token that is malformed or unknown.
func (s *Service) refreshTokenOwner(ctx context.Context, token string) (org uuid.UUID, hash []byte, err error) {
	if !strings.HasPrefix(token, RefreshTokenPrefix) || len(token) > maxRefreshTokenLen {
		return uuid.Nil, nil, fault.NotFoundf("no such refresh token")
	}
	hash = hashSecret(token)
	err = s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		row, err := tx.RefreshTokenOwner(ctx, hash)
		org = row.OrganizationID
		return err
	})
	return org, hash, err
}

// Refresh trades a refresh token for a new pair (RFC 6749 §6) and spends
// it. It returns Unauthorized for a token that is unknown, expired, revoked
// or already spent (and then revokes its family), Unauthorized for a
// deactivated user, and Forbidden for a suspended organization; those two
// leave the token unspent.
func (s *Service) Refresh(ctx context.Context, token string) (TokenPair, error) {
	org, hash, err := s.refreshTokenOwner(ctx, token)
	if fault.Is(err, fault.NotFound) {
		return TokenPair{}, invalidRefreshToken()
	}
	if err != nil {
		return TokenPair{}, err
	}
	now := s.now()
	var pair TokenPair
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		spent, err := tx.RefreshTokenRotate(ctx, db.RefreshTokenRotateParams{OrganizationID: org, TokenHash: hash, Now: now})
		if errors.Is(err, pgx.ErrNoRows) {
			// Commit what revokeOnReuse did; the caller still gets a 401.
			return revokeOnReuse(ctx, tx, hash, now)
		}
		if err != nil {
			return err
		}
		row, err := tx.PrincipalForUser(ctx, org, spent.UserID)
		if err != nil {
			return err
		}
		if !row.IsActive {
			return invalidRefreshToken()
		}
		if err := orgStatusError(row.OrgStatus); err != nil {
			return err
		}
		pair, err = s.issuePair(ctx, tx, spent.UserID, spent.FamilyID, row.RoleKey, now)
		return err
	})
	switch {
	case fault.Is(err, fault.NotFound): // deleted since the lookup, with its user
		return TokenPair{}, invalidRefreshToken()
	case err != nil:
		return TokenPair{}, err
	case pair.AccessToken == "":
		return TokenPair{}, invalidRefreshToken()
	}
	return pair, nil
}

// revokeOnReuse handles a token that could not be spent. If it had been
// spent before, someone replays it: its family ends, and the first time
// that happens is written to the audit log. An expired or revoked token is
// merely refused.
func revokeOnReuse(ctx context.Context, tx *postgres.Tx, hash []byte, now time.Time) error {
	rt, err := tx.RefreshTokenGetByHash(ctx, tx.Org, hash)
	if err != nil {
		return err
	}
	if rt.UsedAt == nil {
		return nil
	}
	n, err := tx.RefreshTokenRevokeFamily(ctx, db.RefreshTokenRevokeFamilyParams{
		OrganizationID: tx.Org, FamilyID: rt.FamilyID, Now: now, Reason: revokedReuse,
	})
	if err != nil || n == 0 {
		return err
	}
	type session struct {
		UserID uuid.UUID `json:"user_id"`
		Status string    `json:"status"`
		Reason string    `json:"reason,omitempty"`
	}
	return audit.Record(ctx, tx, audit.Update, "session", rt.FamilyID,
		session{UserID: rt.UserID, Status: "active"},
		session{UserID: rt.UserID, Status: "revoked", Reason: revokedReuse})
}

// Logout ends the session of a refresh token: the token and its whole
// family, so a successor issued by a concurrent refresh dies with it. The
// user's other sessions are untouched, and access tokens already issued
// live until they expire. It returns nil whether or not the token existed,
// so it tells a caller nothing about tokens it does not hold.
func (s *Service) Logout(ctx context.Context, token string) error {
	org, hash, err := s.refreshTokenOwner(ctx, token)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		rt, err := tx.RefreshTokenGetByHash(ctx, org, hash)
		if errors.Is(err, pgx.ErrNoRows) { // deleted since the lookup
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.RefreshTokenRevokeFamily(ctx, db.RefreshTokenRevokeFamilyParams{
			OrganizationID: org, FamilyID: rt.FamilyID, Now: now, Reason: revokedLogout,
		})
		return err
	})
}

// liveRefreshToken reports whether rt can still be spent at now.
func liveRefreshToken(rt db.RefreshToken, now time.Time) bool {
	return rt.UsedAt == nil && rt.RevokedAt == nil && rt.ExpiresAt.After(now)
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
