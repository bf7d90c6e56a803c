package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is one test's identity service over its own database.
type fixture struct {
	db  *pgtest.DB
	svc *identity.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := pgtest.New(t)
	return &fixture{db: d, svc: &identity.Service{
		DB:         &postgres.DB{Pool: d.App},
		Tokens:     &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour,
	}}
}

// actor loads user's principal and returns it with a context carrying it,
// as the HTTP layer does.
func (f *fixture) actor(t *testing.T, u identity.User, org identity.Organization) (context.Context, *access.Principal) {
	t.Helper()
	p, err := f.svc.PrincipalForUser(context.Background(), org.ID, u.ID, time.Time{})
	require.NoError(t, err)
	return access.WithPrincipal(context.Background(), p), p
}
