package identity

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// maxLoginPasswordLen caps what a login hashes. It is above MaxPasswordLen
// (which counts bytes of a new password) so a long wrong guess is just
// wrong, and far below what would make hashing costly.
const maxLoginPasswordLen = 1024

// hashSlots bounds concurrent argon2id computations. Each takes 19 MiB and
// a core for tens of milliseconds, so a flood of logins queues here rather
// than exhausting the process's memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func withHashSlot(ctx context.Context, fn func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hashSlots }()
	fn()
	return nil
}

// badCredentials is the one answer to a wrong email or password, word for
// word, so it does not tell whether the email is registered.
func badCredentials() error {
	return &fault.Error{Code: fault.Unauthorized, Message: "incorrect email or password"}
}

// loginCandidate is what a login attempt needs about the account an email
// names. hash is empty when there is no such account.
type loginCandidate struct {
	org       uuid.UUID
	user      uuid.UUID
	hash      string
	principal db.PrincipalForUserRow
}

// findLoginCandidate reads the account behind email. An unknown email runs
// the same reads against a tenant that does not exist, so neither the
// database work nor the password check that follows tells the two apart.
func (s *Service) findLoginCandidate(ctx context.Context, email string) (loginCandidate, error) {
	if !utf8.ValidString(email) || strings.ContainsRune(email, 0) {
		// No stored email looks like this, and Postgres text cannot hold it.
		return loginCandidate{}, nil
	}
	org, user, err := s.lookupEmail(ctx, email)
	switch {
	case fault.Is(err, fault.NotFound):
		org, user = uuid.Must(uuid.NewV7()), uuid.Nil
	case err != nil:
		return loginCandidate{}, err
	}
	c := loginCandidate{org: org, user: user}
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		u, err := tx.UserGet(ctx, org, user)
		switch {
		case err == nil:
			c.hash = u.PasswordHash
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		c.principal, err = tx.PrincipalForUser(ctx, org, user)
		if errors.Is(err, pgx.ErrNoRows) {
			c.hash = ""
			return nil
		}
		return err
	})
	return c, err
}

// Login signs a user in with email and password (the OAuth2 password
// grant) and starts a session: a new refresh-token family. It returns
// Unauthorized, with the same message whether or not the email exists, for
// wrong credentials; TooManyRequests while the account or the client
// address is throttled; and, once the password is proven right,
// Unauthorized for a deactivated user and Forbidden for a suspended
// organization.
func (s *Service) Login(ctx context.Context, email, password string) (TokenPair, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(password) > maxLoginPasswordLen {
		return TokenPair{}, fault.InvalidField("body.password", "must be at most 1024 bytes")
	}
	now := s.now()
	keys := loginThrottleKeys(email, access.RequestFrom(ctx).IP)
	if err := s.chargeLogin(ctx, keys, now); err != nil {
		return TokenPair{}, err
	}
	c, err := s.findLoginCandidate(ctx, email)
	if err != nil {
		return TokenPair{}, err
	}
	var ok bool
	if err := withHashSlot(ctx, func() { ok = VerifyPassword(password, c.hash) }); err != nil {
		return TokenPair{}, err
	}
	if !ok {
		return TokenPair{}, badCredentials()
	}

	// The password is right: the caller holds the account, and may be told
	// what stops it from signing in.
	if !c.principal.IsActive || orgStatusError(c.principal.OrgStatus) != nil {
		if err := s.settleLoginAlone(ctx, keys); err != nil {
			return TokenPair{}, err
		}
		if !c.principal.IsActive {
			return TokenPair{}, &fault.Error{Code: fault.Unauthorized, Message: "this account is deactivated"}
		}
		return TokenPair{}, orgStatusError(c.principal.OrgStatus)
	}
	var pair TokenPair
	err = s.DB.InTenant(ctx, c.org, func(tx *postgres.Tx) error {
		if err := settleLogin(ctx, tx, keys); err != nil {
			return err
		}
		if err := tx.UserTouchLogin(ctx, c.org, c.user); err != nil {
			return err
		}
		var err error
		pair, err = s.issuePair(ctx, tx, c.user, uuid.Must(uuid.NewV7()), c.principal.RoleKey, now)
		return err
	})
	return pair, err
}

// Me describes the caller: GET /auth/me.
type Me struct {
	User         *User               `json:"user" doc:"The signed-in user; null for an API key"`
	APIKeyID     *uuid.UUID          `json:"api_key_id" doc:"The API key in use; null for a user"`
	Organization Organization        `json:"organization"`
	Role         MeRole              `json:"role"`
	Permissions  []access.Permission `json:"permissions" doc:"What the role allows, sorted"`
}

// MeRole is the caller's role.
type MeRole struct {
	ID       uuid.UUID `json:"id"`
	Key      string    `json:"key" example:"owner"`
	Name     string    `json:"name" example:"Owner"`
	IsSystem bool      `json:"is_system"`
}

// Me returns the caller's user (for a user), organization, role and
// permissions.
func (s *Service) Me(ctx context.Context, p *access.Principal) (Me, error) {
	me := Me{Permissions: p.Permissions}
	if me.Permissions == nil {
		me.Permissions = []access.Permission{}
	}
	err := s.DB.InTenant(ctx, p.OrgID, func(tx *postgres.Tx) error {
		org, err := tx.OrganizationGet(ctx, p.OrgID)
		if err != nil {
			return err
		}
		me.Organization = OrganizationFromRow(org)
		role, err := tx.RoleGet(ctx, p.OrgID, p.RoleID)
		if err != nil {
			return err
		}
		me.Role = MeRole{ID: role.ID, Key: role.Key, Name: role.Name, IsSystem: role.IsSystem}
		if p.UserID == uuid.Nil {
			id := p.APIKeyID
			me.APIKeyID = &id
			return nil
		}
		u, err := tx.UserGet(ctx, p.OrgID, p.UserID)
		if err != nil {
			return err
		}
		user := UserFromRow(u, role.Key)
		me.User = &user
		return nil
	})
	return me, err
}

// PasswordChange is a user's change of their own password. The rules are
// checked in code, not in the schema, so a rejected value is never echoed
// in the error.
type PasswordChange struct {
	CurrentPassword string `json:"current_password" doc:"The password now in use"`
	NewPassword     string `json:"new_password" doc:"At least 12 characters, at most 256 bytes"`
	RefreshToken    string `json:"refresh_token,omitempty" doc:"The refresh token of the session to keep signed in; every other session ends"`
}

// passwordAudit is what the audit log shows of a password change: when,
// and how many refresh tokens it revoked; never a hash.
type passwordAudit struct {
	PasswordChangedAt    time.Time `json:"password_changed_at"`
	RefreshTokensRevoked *int64    `json:"refresh_tokens_revoked,omitempty"`
}

// ChangePassword changes the caller's password after checking the current
// one, and ends every session of the user except the one whose refresh
// token the change names. Access tokens issued before the change are
// refused from then on (PrincipalForUser). It returns Forbidden for an API
// key, Invalid for a wrong current password (body.current_password), a
// new password that breaks the rules or equals the current one
// (body.new_password), or a refresh token that is not a live session of the
// caller (body.refresh_token), and TooManyRequests while the account is
// throttled: wrong current passwords count like failed logins.
func (s *Service) ChangePassword(ctx context.Context, p *access.Principal, in PasswordChange) error {
	if p == nil || p.UserID == uuid.Nil {
		return &fault.Error{Code: fault.Forbidden, Message: "only a signed-in user has a password to change"}
	}
	if in.CurrentPassword == "" {
		return fault.InvalidField("body.current_password", "is required")
	}
	if len(in.CurrentPassword) > maxLoginPasswordLen {
		return fault.InvalidField("body.current_password", "must be at most 1024 bytes")
	}
	if err := CheckPassword("body.new_password", in.NewPassword); err != nil {
		return err
	}
	if in.NewPassword == in.CurrentPassword {
		return fault.InvalidField("body.new_password", "must differ from the current password")
	}
	org, userID, now := p.OrgID, p.UserID, s.now()

	var before db.User
	var keep *uuid.UUID
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		if before, err = tx.UserGet(ctx, org, userID); err != nil {
			return err
		}
		if in.RefreshToken == "" {
			return nil
		}
		rt, err := tx.RefreshTokenGetByHash(ctx, org, hashSecret(in.RefreshToken))
		switch {
		case err == nil && rt.UserID == userID && liveRefreshToken(rt, now):
			keep = &rt.FamilyID
			return nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return fault.InvalidField("body.refresh_token", "is not a live session of yours")
	})
	if err != nil {
		return err
	}

	keys := loginThrottleKeys(before.Email, access.RequestFrom(ctx).IP)
	if err := s.chargeLogin(ctx, keys, now); err != nil {
		return err
	}
	var ok bool
	var hash string
	var hashErr error
	err = withHashSlot(ctx, func() {
		if ok = VerifyPassword(in.CurrentPassword, before.PasswordHash); ok {
			hash, hashErr = HashPassword(in.NewPassword)
		}
	})
	switch {
	case err != nil:
		return err
	case !ok:
		return &fault.Error{Code: fault.Invalid, Message: "the current password is incorrect",
			Fields: []fault.FieldError{{Location: "body.current_password", Message: "is incorrect"}}}
	case hashErr != nil:
		return hashErr
	}

	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if err := settleLogin(ctx, tx, keys); err != nil {
			return err
		}
		err := tx.UserSetPassword(ctx, db.UserSetPasswordParams{OrganizationID: org, ID: userID, PasswordHash: hash})
		if err != nil {
			return err
		}
		revoked, err := tx.RefreshTokenRevokeUser(ctx, db.RefreshTokenRevokeUserParams{
			OrganizationID: org, UserID: userID, KeepFamily: keep, Now: now, Reason: revokedPasswordChange,
		})
		if err != nil {
			return err
		}
		after, err := tx.UserGet(ctx, org, userID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Update, "user", userID,
			passwordAudit{PasswordChangedAt: before.PasswordChangedAt},
			passwordAudit{PasswordChangedAt: after.PasswordChangedAt, RefreshTokensRevoked: &revoked})
	})
}
