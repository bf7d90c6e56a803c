package identity_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/identity"
)

// authClock is a settable clock, so tests move time instead of sleeping.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authAccount registers an organization and returns its owner's email, on
// a fixture whose service reads a fake clock.
func authAccount(t *testing.T) (*fixture, *authClock, identity.Registered) {
	t.Helper()
	f := newFixture(t)
	clock := &authClock{t: time.Now()}
	f.svc.Now = clock.Now
	reg, err := f.svc.Register(context.Background(), identity.Registration{
		OrganizationName: "Auth Motors", FullName: "Ada Auth", Email: "ada-" + uuid.NewString()[:8] + "@example.com", Password: password,
	})
	require.NoError(t, err)
	return f, clock, reg
}

// fromAddress is a request context from a client address.
func fromAddress(ip string) context.Context {
	return access.WithRequest(context.Background(), access.Request{ID: "test", IP: ip, UserAgent: "auth-test"})
}

func TestLoginDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempts, free int32
		want           time.Duration
	}{
		{1, 5, 0},
		{5, 5, 0},
		{6, 5, 2 * time.Second},
		{7, 5, 4 * time.Second},
		{10, 5, 32 * time.Second},
		{14, 5, 512 * time.Second},
		{15, 5, identity.LoginMaxDelay},
		{1000, 5, identity.LoginMaxDelay},
		{20, 20, 0},
		{21, 20, 2 * time.Second},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, identity.LoginDelay(tt.attempts, tt.free), "attempt %d with %d free", tt.attempts, tt.free)
	}
}

// A burst of parallel guesses cannot outrun the throttle: attempts are
// counted before the password is checked, under the row's lock, so exactly
// the free ones plus the one that starts the block get a verdict.
func TestLoginThrottleHoldsForParallelBurst(t *testing.T) {
	t.Parallel()
	f, _, reg := authAccount(t)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.svc.Login(fromAddress("198.51.100.7"), reg.User.Email, "wrong-password")
		})
	}
	wg.Wait()
	counts := map[fault.Code]int{}
	for _, err := range errs {
		counts[fault.CodeOf(err)]++
	}
	require.Equal(t, map[fault.Code]int{
		fault.Unauthorized:    identity.LoginFreeAttemptsPerAccount + 1,
		fault.TooManyRequests: n - identity.LoginFreeAttemptsPerAccount - 1,
	}, counts)
}

func TestLoginThrottleForgetsAfterAnHour(t *testing.T) {
	t.Parallel()
	f, clock, reg := authAccount(t)
	ctx := fromAddress("198.51.100.8")
	for range identity.LoginFreeAttemptsPerAccount + 1 {
		_, err := f.svc.Login(ctx, reg.User.Email, "wrong-password")
		require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	}
	_, err := f.svc.Login(ctx, reg.User.Email, "wrong-password")
	require.True(t, fault.Is(err, fault.TooManyRequests), "%v", err)

	// After an hour without attempts the count starts over. Had it not, the
	// next attempt would be the 7th and block the one after it.
	clock.Advance(time.Hour + time.Second)
	for range 2 {
		_, err := f.svc.Login(ctx, reg.User.Email, "wrong-password")
		require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	}
}

func TestLoginOddEmailsAreJustWrong(t *testing.T) {
	t.Parallel()
	f, _, _ := authAccount(t)
	for _, email := range []string{"a\x00b@example.com", "\xff\xfe@example.com", "", strings.Repeat("x", 300)} {
		_, err := f.svc.Login(fromAddress("198.51.100.9"), email, "whatever-password")
		require.True(t, fault.Is(err, fault.Unauthorized), "%q: %v", email, err)
	}
}

func TestRefreshConcurrentExactlyOneWins(t *testing.T) {
	t.Parallel()
	f, _, reg := authAccount(t)
	ctx := fromAddress("198.51.100.10")
	pair, err := f.svc.Login(ctx, reg.User.Email, password)
	require.NoError(t, err)

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Refresh(ctx, pair.RefreshToken)
		})
	}
	close(start)
	wg.Wait()
	var won int
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	}
	require.Equal(t, 1, won)
}

// Logout with a token that was already rotated still ends the session: the
// whole family goes, its live successor included.
func TestLogoutWithSpentTokenEndsTheSession(t *testing.T) {
	t.Parallel()
	f, clock, reg := authAccount(t)
	ctx := fromAddress("198.51.100.11")
	first, err := f.svc.Login(ctx, reg.User.Email, password)
	require.NoError(t, err)
	second, err := f.svc.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	other, err := f.svc.Login(ctx, reg.User.Email, password)
	require.NoError(t, err)

	require.NoError(t, f.svc.Logout(ctx, first.RefreshToken))
	clock.Advance(time.Second)
	_, err = f.svc.Refresh(ctx, second.RefreshToken)
	require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	_, err = f.svc.Refresh(ctx, other.RefreshToken)
	require.NoError(t, err, "another session is untouched")
}

func TestChangePasswordKeepsOnlyTheNamedSession(t *testing.T) {
	t.Parallel()
	f, _, reg := authAccount(t)
	ctx := fromAddress("198.51.100.12")
	keep, err := f.svc.Login(ctx, reg.User.Email, password)
	require.NoError(t, err)
	drop, err := f.svc.Login(ctx, reg.User.Email, password)
	require.NoError(t, err)
	actx, p := f.actor(t, reg.User, reg.Organization)

	err = f.svc.ChangePassword(actx, p, identity.PasswordChange{CurrentPassword: "wrong-password", NewPassword: "another-long-passphrase"})
	require.True(t, fault.Is(err, fault.Invalid), "%v", err)
	err = f.svc.ChangePassword(actx, p, identity.PasswordChange{CurrentPassword: password, NewPassword: "another-long-passphrase", RefreshToken: keep.RefreshToken})
	require.NoError(t, err)

	_, err = f.svc.Refresh(ctx, drop.RefreshToken)
	require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	_, err = f.svc.Refresh(ctx, keep.RefreshToken)
	require.NoError(t, err)
	_, err = f.svc.Login(ctx, reg.User.Email, password)
	require.True(t, fault.Is(err, fault.Unauthorized), "%v", err)
	_, err = f.svc.Login(ctx, reg.User.Email, "another-long-passphrase")
	require.NoError(t, err)
}

// fuzzTokens issues and parses at a fixed instant, so tokens in the corpus
// never expire.
func fuzzTokens() *identity.Tokens {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return &identity.Tokens{
		Secret: []byte("fuzz-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api",
		TTL: 15 * time.Minute, Now: func() time.Time { return at },
	}
}

// FuzzTokensParse: Parse never panics, and it accepts a string only if it
// is exactly what Issue produces for its claims with our secret: HS256, the
// canonical encoding, nothing added, nothing altered. (Issue's tokens differ
// only in their claims, so "produced by Issue" is checked by re-signing the
// claims and comparing byte for byte, which holds in every fuzz worker.)
func FuzzTokensParse(f *testing.F) {
	tokens := fuzzTokens()
	valid, _, err := tokens.Issue(uuid.New(), uuid.New(), access.RoleOwner)
	require.NoError(f, err)
	f.Add(valid)
	parts := strings.Split(valid, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + "." + parts[1])
	f.Add(valid + "=")
	f.Add(strings.TrimSuffix(valid, valid[len(valid)-1:]) + "B")
	other := *tokens
	other.Secret = []byte("another-secret-of-at-least-32-bytes")
	forged, _, err := other.Issue(uuid.New(), uuid.New(), access.RoleOwner)
	require.NoError(f, err)
	f.Add(forged)
	claims := jwt.MapClaims{"sub": uuid.NewString(), "org": uuid.NewString(), "typ": "access", "iss": "autopulse", "aud": "autopulse-api",
		"iat": tokens.Now().Unix(), "exp": tokens.Now().Add(time.Minute).Unix()}
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
		s, err := jwt.NewWithClaims(m, claims).SignedString(tokens.Secret)
		require.NoError(f, err)
		f.Add(s)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(f, err)
	f.Add(none)
	f.Add("")
	f.Add("rt_abcdef")

	f.Fuzz(func(t *testing.T, raw string) {
		c, err := tokens.Parse(raw)
		if err != nil {
			require.ErrorIs(t, err, identity.ErrBadToken)
			return
		}
		canonical, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(tokens.Secret)
		require.NoError(t, err)
		require.Equal(t, canonical, raw, "accepted a token Issue would not produce")
		require.Equal(t, "access", c.Typ)
	})
}

func TestTokensParseRefusesNonCanonicalEncoding(t *testing.T) {
	t.Parallel()
	tokens := fuzzTokens()
	valid, _, err := tokens.Issue(uuid.New(), uuid.New(), access.RoleOwner)
	require.NoError(t, err)
	_, err = tokens.Parse(valid)
	require.NoError(t, err)
	// The signature's last character carries 2 bits of padding: flipping
	// them leaves the decoded bytes the same under lenient base64.
	last := valid[len(valid)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	for j := range 4 {
		alt := alphabet[(i&^3)|j]
		if alt == last {
			continue
		}
		_, err := tokens.Parse(valid[:len(valid)-1] + string(alt))
		require.ErrorIs(t, err, identity.ErrBadToken, "variant %c", alt)
	}
}

// Registrations from one address beyond the free ones wait, with the
// sign-in throttle's growing delays; invalid ones do not count, and other
// addresses (and callers without one, like the seed) are not affected.
func TestRegisterThrottlePerAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := &authClock{t: time.Now()}
	f.svc.Now = clock.Now
	register := func(ctx context.Context) error {
		_, err := f.svc.Register(ctx, identity.Registration{
			OrganizationName: "Spam Motors", FullName: "Sam Spam", Email: "sam-" + uuid.NewString()[:8] + "@example.com", Password: password,
		})
		return err
	}
	ctx := fromAddress("203.0.113.40")
	_, err := f.svc.Register(ctx, identity.Registration{OrganizationName: "Bad", FullName: "Bad", Email: "not-an-email", Password: password})
	require.True(t, fault.Is(err, fault.Invalid), "%v", err)
	for range identity.RegisterFreePerIP + 1 { // the free ones, and the one that starts the block
		require.NoError(t, register(ctx))
	}
	err = register(ctx)
	require.True(t, fault.Is(err, fault.TooManyRequests), "%v", err)
	var fe *fault.Error
	require.ErrorAs(t, err, &fe)
	require.InDelta(t, float64(2*time.Second), float64(fe.RetryAfter), float64(time.Millisecond), "the first delay; the clock is stored to the microsecond")
	require.Contains(t, fe.Message, "registrations")

	require.NoError(t, register(fromAddress("203.0.113.41")))
	require.NoError(t, register(context.Background()))
	clock.Advance(2 * time.Second)
	require.NoError(t, register(ctx))
}
