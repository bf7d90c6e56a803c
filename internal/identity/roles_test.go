package identity_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/page"
)

func mustPage(t *testing.T) page.Request {
	t.Helper()
	pr, err := page.Parse(page.MaxLimit, "")
	require.NoError(t, err)
	return pr
}

// The catalog the API lists is access.Catalog, with which system roles hold
// each permission; owner-only permissions belong to the owner alone, and
// the owner holds everything.
func TestPermissionsDescribeTheCatalog(t *testing.T) {
	t.Parallel()
	perms := identity.Permissions()
	require.Len(t, perms, len(access.Catalog))
	owner, _ := access.SystemRoleByKey(access.RoleOwner)
	for i, p := range perms {
		require.Equal(t, access.Catalog[i].Permission, p.Permission)
		require.Contains(t, owner.Permissions, p.Permission, "the owner holds %s", p.Permission)
		require.Contains(t, p.SystemRoles, access.RoleOwner)
		if p.OwnerOnly {
			require.Equal(t, []string{access.RoleOwner}, p.SystemRoles, p.Permission)
		}
		for _, key := range p.SystemRoles {
			r, ok := access.SystemRoleByKey(key)
			require.True(t, ok)
			require.Contains(t, r.Permissions, p.Permission)
		}
	}
}
