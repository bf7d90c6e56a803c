package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
)

// manualClock is a settable clock (the identity service's in throttling
// tests, the loop's in TestCoreLoop…), so tests move time instead of
// sleeping.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withClock makes e's identity service read time from a fake clock. Call it
// before the first request.
func (e *env) withClock() *manualClock {
	c := &manualClock{t: time.Now()}
	e.identity.Now = c.Now
	return c
}

func withForm(v url.Values) reqOpt { return withRaw("application/x-www-form-urlencoded", v.Encode()) }

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// passwordGrant posts a password grant and returns the response.
func (e *env) passwordGrant(t *testing.T, email, password string) *response {
	t.Helper()
	return e.do(t, http.MethodPost, "/api/v1/auth/token",
		withForm(url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}))
}

// refreshGrant posts a refresh_token grant and returns the response.
func (e *env) refreshGrant(t *testing.T, refresh string) *response {
	t.Helper()
	return e.do(t, http.MethodPost, "/api/v1/auth/token",
		withForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}))
}

// signIn logs in and returns the token pair.
func (e *env) signIn(t *testing.T, email, password string) tokenPair {
	t.Helper()
	res := e.passwordGrant(t, email, password)
	requireStatus(t, http.StatusOK, res)
	var p tokenPair
	res.decode(t, &p)
	return p
}

func (e *env) setOrgStatus(t *testing.T, org uuid.UUID, status string) {
	t.Helper()
	_, err := e.db.Owner.Exec(context.Background(), "UPDATE organizations SET status = $2 WHERE id = $1", org, status)
	require.NoError(t, err)
}

func TestAuthRegisterLoginMe(t *testing.T) {
	t.Parallel()
	e := setup(t)

	res := e.do(t, http.MethodPost, "/api/v1/auth/register", withJSON(map[string]any{
		"organization_name": "Lakeside Motors", "full_name": "Lena Lake", "email": "Lena@Lakeside.example",
		"password": testPassword, "timezone": "America/Chicago",
	}))
	requireStatus(t, http.StatusCreated, res)
	var reg identity.Registered
	res.decode(t, &reg)
	require.Equal(t, "lena@lakeside.example", reg.User.Email)
	require.Equal(t, access.RoleOwner, reg.User.Role)
	require.Equal(t, "America/Chicago", reg.Organization.Timezone)
	require.NotContains(t, string(res.Body), "argon2")

	res = e.passwordGrant(t, " LENA@lakeside.example ", testPassword)
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var pair tokenPair
	res.decode(t, &pair)
	require.Equal(t, "bearer", pair.TokenType)
	require.Equal(t, 900, pair.ExpiresIn)
	require.True(t, strings.HasPrefix(pair.RefreshToken, identity.RefreshTokenPrefix))

	res = e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(pair.AccessToken))
	requireStatus(t, http.StatusOK, res)
	var me identity.Me
	res.decode(t, &me)
	require.NotNil(t, me.User)
	require.Equal(t, reg.User.ID, me.User.ID)
	require.NotNil(t, me.User.LastLoginAt, "login records last_login_at")
	require.Nil(t, me.APIKeyID)
	require.Equal(t, reg.Organization.ID, me.Organization.ID)
	require.Equal(t, access.RoleOwner, me.Role.Key)
	require.Equal(t, "Owner", me.Role.Name)
	require.Contains(t, me.Permissions, access.OrgDelete)
	require.NotContains(t, string(res.Body), "password")

	// A viewer sees its own, smaller, permission set.
	tn := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)
	res = e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(viewer.Token))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &me)
	require.Equal(t, access.RoleViewer, me.Role.Key)
	require.NotContains(t, me.Permissions, access.TagsWrite)
	require.Contains(t, me.Permissions, access.TagsRead)

	res = e.do(t, http.MethodGet, "/api/v1/auth/me")
	requireStatus(t, http.StatusUnauthorized, res)
}

func TestAuthBadCredentialsLookAlike(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)

	wrongPassword := e.passwordGrant(t, tn.Owner.Email, "not-the-password")
	unknownEmail := e.passwordGrant(t, "nobody-"+uuid.NewString()[:8]+"@example.com", "not-the-password")
	for _, res := range []*response{wrongPassword, unknownEmail} {
		requireStatus(t, http.StatusUnauthorized, res)
		require.Equal(t, "incorrect email or password", res.problem(t).Detail)
		require.Equal(t, `Bearer realm="autopulse"`, res.Header.Get("WWW-Authenticate"))
	}
	require.Equal(t, string(wrongPassword.Body), string(unknownEmail.Body), "the body must not tell the cases apart")
}

// signJWT signs claims with method and key, for tokens the server must refuse.
func signJWT(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

func TestAuthRejectsBadAccessTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	secret := e.identity.Tokens.Secret
	now := time.Now()
	claims := func(change func(*identity.AccessClaims)) *identity.AccessClaims {
		c := &identity.AccessClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: e.identity.Tokens.Issuer, Subject: tn.Owner.ID.String(),
				Audience: jwt.ClaimStrings{e.identity.Tokens.Audience}, ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
				IssuedAt: jwt.NewNumericDate(now), ID: uuid.NewString(),
			},
			Org: tn.OrgID, Role: access.RoleOwner, Typ: "access",
		}
		if change != nil {
			change(c)
		}
		return c
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	valid := signJWT(t, jwt.SigningMethodHS256, secret, claims(nil))
	// Tampering: the payload says another role, the signature is the old one.
	parts := strings.Split(valid, ".")
	forged, err := json.Marshal(claims(func(c *identity.AccessClaims) { c.Role = "platform"; c.Subject = uuid.NewString() }))
	require.NoError(t, err)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	pair := e.signIn(t, tn.Owner.Email, tn.Owner.Password)

	res := e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(valid))
	requireStatus(t, http.StatusOK, res) // the control: every case below differs in one thing

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", signJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))},
		{"HS512", signJWT(t, jwt.SigningMethodHS512, secret, claims(nil))},
		{"RS256", signJWT(t, jwt.SigningMethodRS256, rsaKey, claims(nil))},
		{"wrong secret", signJWT(t, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes"), claims(nil))},
		{"expired", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(-20 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-5 * time.Minute))
		}))},
		{"no expiry", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) { c.ExpiresAt = nil }))},
		{"issued in the future", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour + 10*time.Minute))
		}))},
		{"not yet valid", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
		}))},
		{"wrong audience", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) {
			c.Audience = jwt.ClaimStrings{"someone-else"}
		}))},
		{"wrong issuer", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) { c.Issuer = "evil" }))},
		{"missing typ", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) { c.Typ = "" }))},
		{"refresh typ", signJWT(t, jwt.SigningMethodHS256, secret, claims(func(c *identity.AccessClaims) { c.Typ = "refresh" }))},
		{"tampered payload", tampered},
		{"refresh token as bearer", pair.RefreshToken},
		{"garbage", "not.a.jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(tt.token))
			requireStatus(t, http.StatusUnauthorized, res)
			require.Equal(t, http.StatusUnauthorized, res.problem(t).Status)
		})
	}
}

func TestAuthRefreshRotatesAndDetectsReuse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	clock := e.withClock()
	first := e.signIn(t, tn.Owner.Email, tn.Owner.Password)
	other := e.signIn(t, tn.Owner.Email, tn.Owner.Password) // a second session

	res := e.refreshGrant(t, first.RefreshToken)
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var second tokenPair
	res.decode(t, &second)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)
	requireStatus(t, http.StatusOK, e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(second.AccessToken)))

	// Replaying the spent token is reuse: refused, and the successor dies too.
	clock.Advance(time.Minute)
	res = e.refreshGrant(t, first.RefreshToken)
	requireStatus(t, http.StatusUnauthorized, res)
	require.Equal(t, "invalid, expired or revoked refresh token", res.problem(t).Detail)
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, second.RefreshToken))

	// The other session is another family and lives on.
	requireStatus(t, http.StatusOK, e.refreshGrant(t, other.RefreshToken))

	// The revocation is in the audit log.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=session", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 1)
	require.Contains(t, string(logs.Items[0].NewValue), "reuse_detected")

	// An expired token is refused.
	third := e.signIn(t, tn.Owner.Email, tn.Owner.Password)
	clock.Advance(e.identity.RefreshTTL + time.Second)
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, third.RefreshToken))
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, identity.RefreshTokenPrefix+"unknown"))
}

func TestAuthConcurrentRefreshOneWins(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	pair := e.signIn(t, tn.Owner.Email, tn.Owner.Password)

	const n = 2
	results := make([]*response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = e.refreshGrant(t, pair.RefreshToken)
		})
	}
	close(start)
	wg.Wait()

	var won []tokenPair
	for _, r := range results {
		switch r.Status {
		case http.StatusOK:
			var p tokenPair
			r.decode(t, &p)
			won = append(won, p)
		case http.StatusUnauthorized:
		default:
			t.Fatalf("unexpected status %d: %s", r.Status, r.Body)
		}
	}
	require.Len(t, won, 1, "exactly one concurrent refresh succeeds")
	// The loser presented a spent token, which is reuse: the family ends,
	// the winner's successor with it (clients must serialize refreshes).
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, won[0].RefreshToken))
}

func TestAuthLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	a := e.signIn(t, tn.Owner.Email, tn.Owner.Password)
	b := e.signIn(t, tn.Owner.Email, tn.Owner.Password)

	res := e.do(t, http.MethodPost, "/api/v1/auth/logout", withForm(url.Values{"refresh_token": {a.RefreshToken}}))
	requireStatus(t, http.StatusNoContent, res)
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, a.RefreshToken))

	// Idempotent, and silent about tokens that never existed.
	for _, tok := range []string{a.RefreshToken, identity.RefreshTokenPrefix + "never-issued", "junk"} {
		requireStatus(t, http.StatusNoContent, e.do(t, http.MethodPost, "/api/v1/auth/logout", withJSON(map[string]any{"refresh_token": tok})))
	}

	// Logging out one session leaves the other; JSON works as well as a form.
	res = e.refreshGrant(t, b.RefreshToken)
	requireStatus(t, http.StatusOK, res)
	var b2 tokenPair
	res.decode(t, &b2)
	requireStatus(t, http.StatusNoContent, e.do(t, http.MethodPost, "/api/v1/auth/logout", withJSON(map[string]any{"refresh_token": b2.RefreshToken})))
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, b2.RefreshToken))
}

func TestAuthPasswordChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	keep := e.signIn(t, tn.Owner.Email, tn.Owner.Password)
	other := e.signIn(t, tn.Owner.Email, tn.Owner.Password)
	// An access token from before the change. Access tokens carry whole
	// seconds, so this one is dated a few seconds back to be unambiguously
	// older than the change (and the account an hour back, to be older
	// than the token).
	_, err := e.db.Owner.Exec(context.Background(), "UPDATE users SET password_changed_at = now() - interval '1 hour' WHERE id = $1", tn.Owner.ID)
	require.NoError(t, err)
	past := *e.identity.Tokens
	past.Now = func() time.Time { return time.Now().Add(-5 * time.Second) }
	oldAccess, _, err := past.Issue(tn.Owner.ID, tn.OrgID, access.RoleOwner)
	require.NoError(t, err)
	requireStatus(t, http.StatusOK, e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(oldAccess)))

	const newPassword = "a-brand-new-passphrase"
	res := e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(oldAccess),
		withJSON(map[string]any{"current_password": "wrong-password!", "new_password": newPassword}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	p := res.problem(t)
	require.Len(t, p.Errors, 1)
	require.Equal(t, "body.current_password", p.Errors[0].Location)

	res = e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(oldAccess),
		withJSON(map[string]any{"current_password": testPassword, "new_password": "short"}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Equal(t, "body.new_password", res.problem(t).Errors[0].Location)
	require.NotContains(t, string(res.Body), "short", "a rejected password is not echoed")

	res = e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(oldAccess),
		withJSON(map[string]any{"current_password": testPassword, "new_password": newPassword, "refresh_token": keep.RefreshToken}))
	requireStatus(t, http.StatusNoContent, res)

	// Access tokens issued before the change are refused; other sessions
	// end; the kept one goes on.
	requireStatus(t, http.StatusUnauthorized, e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(oldAccess)))
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, other.RefreshToken))
	res = e.refreshGrant(t, keep.RefreshToken)
	requireStatus(t, http.StatusOK, res)
	var kept tokenPair
	res.decode(t, &kept)
	requireStatus(t, http.StatusOK, e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(kept.AccessToken)))

	// Only the new password signs in.
	requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, testPassword))
	fresh := e.signIn(t, tn.Owner.Email, newPassword)

	// Without refresh_token, every session ends, the fresh one included.
	res = e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(kept.AccessToken),
		withJSON(map[string]any{"current_password": newPassword, "new_password": testPassword}))
	requireStatus(t, http.StatusNoContent, res)
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, fresh.RefreshToken))

	// Both changes are audited, without any hash.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=user&entity_id="+tn.Owner.ID.String(), withToken(e.signIn(t, tn.Owner.Email, testPassword).AccessToken))
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	var changes int
	for _, it := range logs.Items {
		if it.Action == audit.Update && strings.Contains(string(it.NewValue), "password_changed_at") {
			changes++
		}
	}
	require.Equal(t, 2, changes)
	require.NotContains(t, string(res.Body), "argon2")
	require.NotContains(t, string(res.Body), "password_hash")
}

func TestAuthPasswordChangeRefusesAPIKeysAndForeignSessions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	theirs := e.signIn(t, other.Owner.Email, other.Owner.Password)

	res := e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(tn.Owner.Token),
		withJSON(map[string]any{"current_password": testPassword, "new_password": "a-brand-new-passphrase", "refresh_token": theirs.RefreshToken}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Equal(t, "body.refresh_token", res.problem(t).Errors[0].Location)
	// Nothing changed: the old password still works, their session too.
	e.signIn(t, tn.Owner.Email, testPassword)
	requireStatus(t, http.StatusOK, e.refreshGrant(t, theirs.RefreshToken))

	res = e.do(t, http.MethodPost, "/api/v1/auth/password", withJSON(map[string]any{"current_password": testPassword, "new_password": "a-brand-new-passphrase"}))
	requireStatus(t, http.StatusUnauthorized, res)

	// An API key has no password; /me describes it without a user.
	key := e.authAPIKey(t, tn, access.RoleViewer)
	res = e.do(t, http.MethodPost, "/api/v1/auth/password", withToken(key),
		withJSON(map[string]any{"current_password": testPassword, "new_password": "a-brand-new-passphrase"}))
	requireStatus(t, http.StatusForbidden, res)
	res = e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(key))
	requireStatus(t, http.StatusOK, res)
	var me identity.Me
	res.decode(t, &me)
	require.Nil(t, me.User)
	require.NotNil(t, me.APIKeyID)
	require.Equal(t, access.RoleViewer, me.Role.Key)
	require.Equal(t, tn.OrgID, me.Organization.ID)
}

// authAPIKey creates an API key with a system role in tn and returns it.
func (e *env) authAPIKey(t *testing.T, tn *tenant, roleKey string) string {
	t.Helper()
	ctx := context.Background()
	var roleID uuid.UUID
	require.NoError(t, e.pdb.InTenant(ctx, tn.OrgID, func(tx *postgres.Tx) error {
		role, err := tx.RoleGetByKey(ctx, tn.OrgID, roleKey)
		roleID = role.ID
		return err
	}))
	owner, err := e.identity.PrincipalForUser(ctx, tn.OrgID, tn.Owner.ID, time.Time{})
	require.NoError(t, err)
	k, err := e.identity.CreateAPIKey(access.WithPrincipal(ctx, owner), owner, identity.APIKeyInput{Name: "auth test", RoleID: roleID})
	require.NoError(t, err)
	return k.Key
}

func TestAuthLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	clock := e.withClock()

	for range identity.LoginFreeAttemptsPerAccount + 1 {
		requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, "wrong-password"))
	}
	// Blocked now, for 2 s: even the right password waits.
	res := e.passwordGrant(t, tn.Owner.Email, testPassword)
	requireStatus(t, http.StatusTooManyRequests, res)
	require.Equal(t, "2", res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, res.problem(t).Status)
	// Another account from the same address is not affected.
	other := e.newUser(t, tn, access.RoleAgent)
	e.signIn(t, other.Email, other.Password)

	// The delay grows: 2 s, then 4 s.
	clock.Advance(2 * time.Second)
	requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, "wrong-password"))
	res = e.passwordGrant(t, tn.Owner.Email, testPassword)
	requireStatus(t, http.StatusTooManyRequests, res)
	require.Equal(t, "4", res.Header.Get("Retry-After"))

	// Once it passes, the right password works and clears the account: had
	// it not, this success would be the 8th attempt and block the next.
	clock.Advance(4 * time.Second)
	e.signIn(t, tn.Owner.Email, testPassword)
	requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, "wrong-password"))
	requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, "wrong-password"))
}

func TestAuthLoginThrottlePerIP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	clock := e.withClock()

	// Guessing at many accounts from one address: each email stays under
	// its own limit, the address does not.
	for i := range identity.LoginFreeAttemptsPerIP + 1 {
		email := "guess-" + uuid.NewString()[:8] + "@example.com"
		requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, email, "password-"+string(rune('a'+i%26))))
	}
	res := e.passwordGrant(t, "guess-another@example.com", "whatever-password")
	requireStatus(t, http.StatusTooManyRequests, res)
	require.Equal(t, "2", res.Header.Get("Retry-After"))
	requireStatus(t, http.StatusTooManyRequests, e.passwordGrant(t, tn.Owner.Email, testPassword))

	clock.Advance(2 * time.Second)
	e.signIn(t, tn.Owner.Email, testPassword)
}

func TestAuthSuspendedOrganization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	pair := e.signIn(t, tn.Owner.Email, tn.Owner.Password)

	e.setOrgStatus(t, tn.OrgID, "suspended")
	for _, res := range []*response{
		e.passwordGrant(t, tn.Owner.Email, tn.Owner.Password),
		e.refreshGrant(t, pair.RefreshToken),
		e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(pair.AccessToken)),
	} {
		requireStatus(t, http.StatusForbidden, res)
		require.Contains(t, res.problem(t).Detail, "suspended")
	}
	// A wrong password still gets the plain 401: the 403 is only for whoever
	// proved the password.
	requireStatus(t, http.StatusUnauthorized, e.passwordGrant(t, tn.Owner.Email, "wrong-password"))

	// The refused refresh did not spend the token.
	e.setOrgStatus(t, tn.OrgID, "active")
	requireStatus(t, http.StatusOK, e.refreshGrant(t, pair.RefreshToken))
}

func TestAuthDeactivatedUser(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	agent := e.newUser(t, tn, access.RoleAgent)
	pair := e.signIn(t, agent.Email, agent.Password)

	_, err := e.db.Owner.Exec(context.Background(), "UPDATE users SET is_active = false WHERE id = $1", agent.ID)
	require.NoError(t, err)
	res := e.passwordGrant(t, agent.Email, agent.Password)
	requireStatus(t, http.StatusUnauthorized, res)
	require.Equal(t, "this account is deactivated", res.problem(t).Detail)
	requireStatus(t, http.StatusUnauthorized, e.refreshGrant(t, pair.RefreshToken))
	requireStatus(t, http.StatusUnauthorized, e.do(t, http.MethodGet, "/api/v1/auth/me", withToken(pair.AccessToken)))
}

func TestAuthBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	const form = "application/x-www-form-urlencoded"
	big := strings.Repeat("a", 70<<10)

	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
	}{
		// register
		{"register malformed json", http.MethodPost, "/api/v1/auth/register", []reqOpt{withRaw("application/json", `{"email":`)}, http.StatusBadRequest},
		{"register wrong type", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": "a@example.com", "password": 123456789012})}, http.StatusUnprocessableEntity},
		{"register missing field", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "email": "a@example.com", "password": testPassword})}, http.StatusUnprocessableEntity},
		{"register unknown field", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": "a@example.com", "password": testPassword, "role": "owner"})}, http.StatusUnprocessableEntity},
		{"register platform flag", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": "a@example.com", "password": testPassword, "PlatformAdmin": true})}, http.StatusUnprocessableEntity},
		{"register short password", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": "a@example.com", "password": "short"})}, http.StatusUnprocessableEntity},
		{"register bad timezone", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": "a@example.com", "password": testPassword, "timezone": "Mars/Olympus"})}, http.StatusUnprocessableEntity},
		{"register taken email", http.MethodPost, "/api/v1/auth/register", []reqOpt{withJSON(map[string]any{"organization_name": "A", "full_name": "B", "email": tn.Owner.Email, "password": testPassword})}, http.StatusConflict},
		{"register oversized", http.MethodPost, "/api/v1/auth/register", []reqOpt{withRaw("application/json", `{"organization_name":"`+big+`"}`)}, http.StatusRequestEntityTooLarge},
		// token
		{"token empty body", http.MethodPost, "/api/v1/auth/token", []reqOpt{withRaw(form, "")}, http.StatusBadRequest},
		{"token malformed form", http.MethodPost, "/api/v1/auth/token", []reqOpt{withRaw(form, "username=%zz&password=x")}, http.StatusBadRequest},
		{"token json body", http.MethodPost, "/api/v1/auth/token", []reqOpt{withJSON(map[string]any{"username": tn.Owner.Email, "password": testPassword})}, http.StatusUnsupportedMediaType},
		{"token multipart", http.MethodPost, "/api/v1/auth/token", []reqOpt{withRaw("multipart/form-data; boundary=x", "--x--")}, http.StatusUnsupportedMediaType},
		{"token unsupported grant", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"grant_type": {"client_credentials"}})}, http.StatusUnprocessableEntity},
		{"token missing password", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"grant_type": {"password"}, "username": {tn.Owner.Email}})}, http.StatusUnprocessableEntity},
		{"token missing username", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"password": {testPassword}})}, http.StatusUnprocessableEntity},
		{"token missing refresh_token", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"grant_type": {"refresh_token"}})}, http.StatusUnprocessableEntity},
		{"token repeated parameter", http.MethodPost, "/api/v1/auth/token", []reqOpt{withRaw(form, "username=a@example.com&username=b@example.com&password=x")}, http.StatusUnprocessableEntity},
		{"token username too long", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"username": {strings.Repeat("a", 300) + "@example.com"}, "password": {"x"}})}, http.StatusUnprocessableEntity},
		{"token password too long", http.MethodPost, "/api/v1/auth/token", []reqOpt{withForm(url.Values{"username": {tn.Owner.Email}, "password": {strings.Repeat("p", 2000)}})}, http.StatusUnprocessableEntity},
		{"token oversized", http.MethodPost, "/api/v1/auth/token", []reqOpt{withRaw(form, "username="+big)}, http.StatusRequestEntityTooLarge},
		// logout
		{"logout malformed json", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withRaw("application/json", `{"refresh_token":`)}, http.StatusBadRequest},
		{"logout wrong type", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withJSON(map[string]any{"refresh_token": 42})}, http.StatusUnprocessableEntity},
		{"logout missing field", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withJSON(map[string]any{})}, http.StatusUnprocessableEntity},
		{"logout unknown field", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withJSON(map[string]any{"refresh_token": "rt_x", "everywhere": true})}, http.StatusUnprocessableEntity},
		{"logout empty form", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withRaw(form, "refresh_token=")}, http.StatusUnprocessableEntity},
		{"logout text body", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withRaw("text/plain", "rt_x")}, http.StatusUnsupportedMediaType},
		{"logout oversized", http.MethodPost, "/api/v1/auth/logout", []reqOpt{withRaw("application/json", `{"refresh_token":"`+big+`"}`)}, http.StatusRequestEntityTooLarge},
		// password
		{"password malformed json", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withRaw("application/json", `{`)}, http.StatusBadRequest},
		{"password wrong type", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withJSON(map[string]any{"current_password": true, "new_password": "a-brand-new-passphrase"})}, http.StatusUnprocessableEntity},
		{"password missing field", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withJSON(map[string]any{"current_password": testPassword})}, http.StatusUnprocessableEntity},
		{"password unknown field", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withJSON(map[string]any{"current_password": testPassword, "new_password": "a-brand-new-passphrase", "user_id": tn.Owner.ID})}, http.StatusUnprocessableEntity},
		{"password same as current", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withJSON(map[string]any{"current_password": testPassword, "new_password": testPassword})}, http.StatusUnprocessableEntity},
		{"password oversized", http.MethodPost, "/api/v1/auth/password", []reqOpt{tok, withRaw("application/json", `{"current_password":"`+big+`"}`)}, http.StatusRequestEntityTooLarge},
		// me
		{"me unknown query", http.MethodGet, "/api/v1/auth/me?user=x", []reqOpt{tok}, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, tt.opts...)
			requireStatus(t, tt.status, res)
			require.Equal(t, tt.status, res.problem(t).Status)
		})
	}

	// None of it changed anything: the owner signs in with the old password.
	e.signIn(t, tn.Owner.Email, testPassword)
}

func TestAuthTokenAcceptsFastAPIStyleForms(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	// No grant_type (FastAPI's form defaults it), an ignored scope and
	// client credentials, an unknown parameter, and a charset parameter;
	// and a User-Agent that is not UTF-8, which the session row must still
	// be able to store.
	body := url.Values{"username": {tn.Owner.Email}, "password": {testPassword}, "scope": {"read write"},
		"client_id": {"cli"}, "client_secret": {"s"}, "extension": {"ignored"}}
	res := e.do(t, http.MethodPost, "/api/v1/auth/token", withRaw("application/x-www-form-urlencoded; charset=utf-8", body.Encode()),
		withHeader("User-Agent", "agent \xff\xfe"))
	requireStatus(t, http.StatusOK, res)
	var pair tokenPair
	res.decode(t, &pair)
	require.NotEmpty(t, pair.AccessToken)
}

func TestAuthOpenAPIDescribesForms(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res := e.do(t, http.MethodGet, "/openapi.json")
	requireStatus(t, http.StatusOK, res)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	res.decode(t, &doc)
	schemaOf := func(path, ctype string) (props []string, required []string) {
		t.Helper()
		content := doc.Paths[path]["post"].RequestBody.Content
		require.Contains(t, content, ctype, path)
		ref := content[ctype].Schema.Ref
		s, ok := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
		require.True(t, ok, "schema %q", ref)
		for name := range s.Properties {
			props = append(props, name)
		}
		return props, s.Required
	}
	props, _ := schemaOf("/api/v1/auth/token", "application/x-www-form-urlencoded")
	require.Subset(t, props, []string{"grant_type", "username", "password", "refresh_token", "scope"})
	require.NotContains(t, doc.Paths["/api/v1/auth/token"]["post"].RequestBody.Content, "application/octet-stream")
	for _, ctype := range []string{"application/x-www-form-urlencoded", "application/json"} {
		props, required := schemaOf("/api/v1/auth/logout", ctype)
		require.Equal(t, []string{"refresh_token"}, props)
		require.Equal(t, []string{"refresh_token"}, required)
	}
}
