package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
)

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestRoleRouteMatrix walks every route of the route table with every
// system role, on the whole API (every service wired), and checks the
// access rule: a role without the route's permission gets the RBAC 403, a
// role with it never does, public routes never ask for a bearer credential
// (the webhook's is its signature), and platform routes refuse every tenant
// role. Whatever the role, the answer to an empty JSON object with random
// ids is never a 5xx: a handler that is reached must refuse such a request
// with a 4xx (or do nothing). Each role works in its own organization, so
// an owner deleting theirs affects no other row of the matrix.
func TestRoleRouteMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tokens := map[string]string{}
	for _, r := range access.SystemRoles {
		tn := e.newTenant(t)
		if r.Key == access.RoleOwner {
			tokens[r.Key] = tn.Owner.Token
			continue
		}
		tokens[r.Key] = e.newUser(t, tn, r.Key).Token
	}
	routes := e.api.Routes()
	require.NotEmpty(t, routes)
	// Deleting the organization goes last, so the owner's other rows run
	// against a live organization.
	for i, r := range routes {
		if r.Method == http.MethodDelete && r.Path == "/api/v1/organizations/current" {
			routes = append(append(routes[:i:i], routes[i+1:]...), r)
			break
		}
	}
	for _, rt := range routes {
		path := pathParam.ReplaceAllStringFunc(rt.Path, func(p string) string {
			if p == "{key}" {
				return "timezone"
			}
			return uuid.NewString()
		})
		for _, role := range access.SystemRoles {
			res := e.do(t, rt.Method, path, withToken(tokens[role.Key]), withRaw("application/json", "{}"))
			rbac403 := res.Status == http.StatusForbidden &&
				(strings.Contains(string(res.Body), "lacks the permission") || strings.Contains(string(res.Body), "platform administrators only"))
			name := rt.Method + " " + rt.Path + " as " + role.Key
			require.Less(t, res.Status, 500, "%s: %d %s", name, res.Status, res.Body)
			switch rt.Access {
			case "public":
				if rt.ID == "webhook-vapi" {
					// Public to bearer credentials, but signed: an
					// unsigned body is refused by the signature check.
					requireStatus(t, http.StatusUnauthorized, res)
					require.Contains(t, string(res.Body), "signature", name)
				} else {
					require.NotEqual(t, http.StatusUnauthorized, res.Status, name)
				}
				require.False(t, rbac403, name)
			case "authenticated":
				require.False(t, rbac403, name)
			case "platform_admin":
				require.True(t, rbac403, "%s: %d %s", name, res.Status, res.Body)
			default:
				held := false
				for _, p := range role.Permissions {
					if string(p) == rt.Access {
						held = true
					}
				}
				require.Equal(t, !held, rbac403, "%s (needs %s): %d %s", name, rt.Access, res.Status, res.Body)
			}
		}
	}
}
