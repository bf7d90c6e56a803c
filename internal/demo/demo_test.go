package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/demo"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/tag"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSeedCreatesOneUserPerSystemRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	ids := &identity.Service{DB: pdb, Tokens: &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api", TTL: time.Minute}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	svc := demo.Services{Identity: ids, Tags: &tag.Service{DB: pdb}}
	require.NoError(t, demo.Seed(ctx, svc, log))
	require.NoError(t, demo.Seed(ctx, svc, log), "a second run changes nothing")

	pr, err := page.Parse(page.MaxLimit, "")
	require.NoError(t, err)
	orgs, _, err := ids.ListOrganizations(ctx, "", pr)
	require.NoError(t, err)
	require.Len(t, orgs, 2, "the dealership and the platform's own")
	var dealership identity.Organization
	for _, o := range orgs {
		if o.Name == demo.OrgName {
			dealership = o
		}
	}
	require.Equal(t, demo.OrgName, dealership.Name)

	// The platform administrator signs in with the demo password.
	pair, err := ids.Login(ctx, demo.PlatformAdminEmail, demo.OwnerPassword)
	require.NoError(t, err)
	staff, err := ids.Authenticate(ctx, pair.AccessToken)
	require.NoError(t, err)
	require.True(t, staff.PlatformAdmin)

	users, _, err := ids.ListUsers(ctx, dealership.ID, pr)
	require.NoError(t, err)

	byRole := map[string]identity.User{}
	for _, u := range users {
		byRole[u.Role] = u
	}
	require.Len(t, users, len(access.SystemRoles))
	require.Equal(t, demo.OwnerEmail, byRole[access.RoleOwner].Email)
	for role, email := range demo.StaffEmails {
		u, ok := byRole[role]
		require.True(t, ok, role)
		require.Equal(t, email, u.Email)
		require.True(t, u.IsActive)
		var hash string
		require.NoError(t, d.Owner.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1", u.ID).Scan(&hash))
		require.True(t, identity.VerifyPassword(demo.OwnerPassword, hash), "%s signs in with the demo password", email)
	}
}
