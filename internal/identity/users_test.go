package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/identity"
)

const password = "correct-horse-battery"

// orgWithTwoOwners registers an organization and adds a second owner.
func orgWithTwoOwners(t *testing.T, f *fixture) (org identity.Organization, a, b identity.User, roles map[string]uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	reg, err := f.svc.Register(ctx, identity.Registration{
		OrganizationName: "Two Owners Motors", FullName: "Ann Owner", Email: "ann-" + uuid.NewString()[:8] + "@example.com", Password: password,
	})
	require.NoError(t, err)
	roles = map[string]uuid.UUID{}
	for _, r := range access.SystemRoles {
		role, err := f.svc.GetRoleByKey(ctx, reg.Organization.ID, r.Key)
		require.NoError(t, err)
		roles[r.Key] = role.ID
	}
	actx, ap := f.actor(t, reg.User, reg.Organization)
	b, err = f.svc.CreateUser(actx, ap, identity.UserInput{
		Email: "bob-" + uuid.NewString()[:8] + "@example.com", FullName: "Bob Owner", Password: password, RoleID: roles[access.RoleOwner],
	})
	require.NoError(t, err)
	return reg.Organization, reg.User, b, roles
}

// Both owners pass authentication, then demote each other while the owner
// role is locked, so both reach the last-owner check before either
// commits. The lock in the check serializes them: one demotion succeeds and
// the other meets the rule. Without that lock both would succeed and the
// organization would have no owner.
func TestConcurrentOwnerDemotionKeepsAnOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	org, a, b, roles := orgWithTwoOwners(t, f)
	actx, ap := f.actor(t, a, org)
	bctx, bp := f.actor(t, b, org)
	viewer := roles[access.RoleViewer]

	hold, err := f.db.Owner.Begin(ctx)
	require.NoError(t, err)
	defer hold.Rollback(ctx) //nolint:errcheck // released below; a no-op then
	_, err = hold.Exec(ctx, "SELECT 1 FROM roles WHERE organization_id = $1 AND key = 'owner' FOR NO KEY UPDATE", org.ID)
	require.NoError(t, err)

	errs := make(chan error, 2)
	go func() {
		_, err := f.svc.UpdateUser(actx, ap, b.ID, identity.UserPatch{RoleID: &viewer})
		errs <- err
	}()
	go func() {
		_, err := f.svc.UpdateUser(bctx, bp, a.ID, identity.UserPatch{RoleID: &viewer})
		errs <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := f.db.Owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0`).Scan(&waiting)
		return err == nil && waiting == 2
	}, 20*time.Second, 10*time.Millisecond, "both demotions wait on the owner role")
	require.NoError(t, hold.Rollback(ctx))

	first, second := <-errs, <-errs
	if first != nil {
		first, second = second, first
	}
	require.NoError(t, first)
	require.True(t, fault.Is(second, fault.Conflict), "got %v", second)

	users, _, err := f.svc.ListUsers(ctx, org.ID, mustPage(t))
	require.NoError(t, err)
	owners := 0
	for _, u := range users {
		if u.Role == access.RoleOwner && u.IsActive {
			owners++
		}
	}
	require.Equal(t, 1, owners)
}

// The last active owner stays whoever asks. Through the API only another
// owner could try (the subset rule stops everyone else, and nobody changes
// themselves), so an API-key principal with every permission stands in.
func TestLastActiveOwnerStays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	org, a, b, roles := orgWithTwoOwners(t, f)
	actx, ap := f.actor(t, a, org)
	inactive := false
	_, err := f.svc.UpdateUser(actx, ap, b.ID, identity.UserPatch{IsActive: &inactive})
	require.NoError(t, err, "two active owners: one may go")

	all, _ := access.SystemRoleByKey(access.RoleOwner)
	root := &access.Principal{OrgID: org.ID, APIKeyID: uuid.Must(uuid.NewV7()), Permissions: slices.Sorted(slices.Values(all.Permissions))}
	ctx := access.WithPrincipal(context.Background(), root)
	viewer, active := roles[access.RoleViewer], true

	_, err = f.svc.UpdateUser(ctx, root, a.ID, identity.UserPatch{RoleID: &viewer})
	require.True(t, fault.Is(err, fault.Conflict), "demote: %v", err)
	_, err = f.svc.UpdateUser(ctx, root, a.ID, identity.UserPatch{IsActive: &inactive})
	require.True(t, fault.Is(err, fault.Conflict), "deactivate: %v", err)
	err = f.svc.DeleteUser(ctx, root, a.ID)
	require.True(t, fault.Is(err, fault.Conflict), "delete: %v", err)

	// Renaming the last owner is fine; reactivating the other owner frees
	// the first.
	name := "Ann Renamed"
	_, err = f.svc.UpdateUser(ctx, root, a.ID, identity.UserPatch{FullName: &name})
	require.NoError(t, err)
	_, err = f.svc.UpdateUser(ctx, root, b.ID, identity.UserPatch{IsActive: &active})
	require.NoError(t, err)
	_, err = f.svc.UpdateUser(ctx, root, a.ID, identity.UserPatch{RoleID: &viewer})
	require.NoError(t, err)
	got, err := f.svc.GetUser(ctx, org.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, access.RoleViewer, got.Role)
}
