package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/identity"
)

func TestRolesCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	// Every organization starts with the five system roles, whose
	// permissions come from code.
	res := e.do(t, http.MethodGet, "/api/v1/roles", tok)
	requireStatus(t, http.StatusOK, res)
	var roles struct{ Items []identity.Role }
	res.decode(t, &roles)
	require.Len(t, roles.Items, len(access.SystemRoles))
	for _, r := range roles.Items {
		require.True(t, r.IsSystem)
		sys, ok := access.SystemRoleByKey(r.Key)
		require.True(t, ok, r.Key)
		require.ElementsMatch(t, sys.Permissions, r.Permissions, r.Key)
	}

	res = e.do(t, http.MethodPost, "/api/v1/roles", tok, withJSON(map[string]any{
		"name": " Service Desk ", "description": "Answers the phone",
		"permissions": []string{"tags:read", "calls:write", "calls:read", "tags:read"},
	}))
	requireStatus(t, http.StatusCreated, res)
	var desk identity.Role
	res.decode(t, &desk)
	require.Equal(t, "service-desk", desk.Key)
	require.Equal(t, "Service Desk", desk.Name)
	require.False(t, desk.IsSystem)
	require.Equal(t, []access.Permission{access.CallsRead, access.CallsWrite, access.TagsRead}, desk.Permissions, "sorted, deduplicated")

	// A user holding the role gets exactly its permissions, and an edit of
	// the role applies on their next request.
	u := e.createUser(t, tn.Owner.Token, desk.ID)
	require.Equal(t, "service-desk", u.Role)
	uTok := withToken(e.token(t, tn.OrgID, u.ID, desk.Key))
	res = e.do(t, http.MethodGet, "/api/v1/tags", uTok)
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", uTok, withJSON(map[string]any{"name": "x"}))
	requireStatus(t, http.StatusForbidden, res)

	res = e.do(t, http.MethodPatch, "/api/v1/roles/"+desk.ID.String(), tok, withJSON(map[string]any{
		"permissions": []string{"tags:read", "tags:write"}, "description": nil,
	}))
	requireStatus(t, http.StatusOK, res)
	var edited identity.Role
	res.decode(t, &edited)
	require.Equal(t, []access.Permission{access.TagsRead, access.TagsWrite}, edited.Permissions)
	require.Equal(t, "Service Desk", edited.Name, "absent is unchanged")
	require.Empty(t, edited.Description, "null clears")
	res = e.do(t, http.MethodPost, "/api/v1/tags", uTok, withJSON(map[string]any{"name": "x"}))
	requireStatus(t, http.StatusCreated, res)

	res = e.do(t, http.MethodGet, "/api/v1/roles/"+desk.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)

	// In use: it cannot go until nobody holds it.
	res = e.do(t, http.MethodDelete, "/api/v1/roles/"+desk.ID.String(), tok)
	requireStatus(t, http.StatusConflict, res)
	require.Contains(t, res.problem(t).Detail, "in use by 1 user(s)")
	res = e.do(t, http.MethodPatch, "/api/v1/users/"+u.ID.String(), tok, withJSON(map[string]any{"is_active": false}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodDelete, "/api/v1/roles/"+desk.ID.String(), tok)
	requireStatus(t, http.StatusConflict, res) // an inactive user still holds it
	res = e.do(t, http.MethodPatch, "/api/v1/users/"+u.ID.String(), tok, withJSON(map[string]any{"role_id": e.roleIDOf(t, tn, access.RoleViewer)}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodDelete, "/api/v1/roles/"+desk.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/roles/"+desk.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)

	trail := e.auditTrail(t, tn.OrgID, "role", desk.ID)
	require.Len(t, trail, 3)
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Create}, []string{trail[0].Action, trail[1].Action, trail[2].Action})
	require.Equal(t, []any{"calls:read", "calls:write", "tags:read"}, jsonObject(t, trail[1].OldValue)["permissions"])
	require.Equal(t, []any{"tags:read", "tags:write"}, jsonObject(t, trail[1].NewValue)["permissions"])
	require.Equal(t, "Answers the phone", jsonObject(t, trail[1].OldValue)["description"])
}

func TestSystemRolesAreReadOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	for _, r := range access.SystemRoles {
		id := e.roleIDOf(t, tn, r.Key).String()
		res := e.do(t, http.MethodPatch, "/api/v1/roles/"+id, tok, withJSON(map[string]any{"name": "Renamed"}))
		requireStatus(t, http.StatusConflict, res)
		require.Contains(t, res.problem(t).Detail, "system roles are read-only")
		res = e.do(t, http.MethodDelete, "/api/v1/roles/"+id, tok)
		requireStatus(t, http.StatusConflict, res)
		require.Contains(t, res.problem(t).Detail, "system roles are read-only")
		res = e.do(t, http.MethodGet, "/api/v1/roles/"+id, tok)
		requireStatus(t, http.StatusOK, res)
		var got identity.Role
		res.decode(t, &got)
		require.Equal(t, r.Name, got.Name)
	}
}

func TestRolePermissionRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	admin := e.newUser(t, tn, access.RoleAdmin)
	owner := withToken(tn.Owner.Token)

	// A role manager who holds little: they cannot grant what they lack.
	res := e.do(t, http.MethodPost, "/api/v1/roles", owner, withJSON(map[string]any{
		"name": "Role clerk", "permissions": []string{"roles:manage", "users:read", "tags:read"},
	}))
	requireStatus(t, http.StatusCreated, res)
	var clerkRole identity.Role
	res.decode(t, &clerkRole)
	clerk := e.createUser(t, tn.Owner.Token, clerkRole.ID)
	clerkTok := withToken(e.token(t, tn.OrgID, clerk.ID, clerkRole.Key))

	res = e.do(t, http.MethodPost, "/api/v1/roles", owner, withJSON(map[string]any{
		"name": "Taggers", "permissions": []string{"tags:read", "tags:write"},
	}))
	requireStatus(t, http.StatusCreated, res)
	var taggers identity.Role
	res.decode(t, &taggers)

	tests := []struct {
		name     string
		tok      reqOpt
		method   string
		path     string
		body     map[string]any
		status   int
		location string
		detail   string
	}{
		{"unknown permission", owner, http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "X", "permissions": []string{"tags:read", "tags:destroy"}}, http.StatusUnprocessableEntity, "body.permissions[1]", ""},
		{"owner-only permission", owner, http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "X", "permissions": []string{"billing:manage"}}, http.StatusUnprocessableEntity, "body.permissions[0]", ""},
		{"owner-only on edit", owner, http.MethodPatch, "/api/v1/roles/" + taggers.ID.String(),
			map[string]any{"permissions": []string{"org:delete"}}, http.StatusUnprocessableEntity, "body.permissions[0]", ""},
		{"clerk grants what they lack", clerkTok, http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "X", "permissions": []string{"tags:read", "tags:write"}}, http.StatusForbidden, "", "tags:write"},
		{"clerk edits a role above them", clerkTok, http.MethodPatch, "/api/v1/roles/" + taggers.ID.String(),
			map[string]any{"permissions": []string{"tags:read"}}, http.StatusForbidden, "", "tags:write"},
		{"clerk escalates own role", clerkTok, http.MethodPatch, "/api/v1/roles/" + clerkRole.ID.String(),
			map[string]any{"permissions": []string{"roles:manage", "users:read", "tags:read", "users:manage"}}, http.StatusForbidden, "", "users:manage"},
		{"duplicate derived key", withToken(admin.Token), http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "Taggers", "permissions": []string{}}, http.StatusConflict, "body.name", ""},
		{"duplicate key", owner, http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "Other", "key": "taggers", "permissions": []string{}}, http.StatusConflict, "body.key", ""},
		{"system key taken", owner, http.MethodPost, "/api/v1/roles",
			map[string]any{"name": "Owner", "permissions": []string{}}, http.StatusConflict, "body.name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, tt.tok, withJSON(tt.body))
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			if tt.location != "" {
				require.NotEmpty(t, p.Errors)
				require.Equal(t, tt.location, p.Errors[0].Location)
			}
			require.Contains(t, p.Detail, tt.detail)
		})
	}

	// The clerk may create and edit roles within their own permissions.
	res = e.do(t, http.MethodPost, "/api/v1/roles", clerkTok, withJSON(map[string]any{"name": "Readers", "permissions": []string{"tags:read"}}))
	requireStatus(t, http.StatusCreated, res)
	res = e.do(t, http.MethodPatch, "/api/v1/roles/"+clerkRole.ID.String(), clerkTok, withJSON(map[string]any{"permissions": []string{"roles:manage", "users:read"}}))
	requireStatus(t, http.StatusOK, res)
	// Taggers is unchanged.
	res = e.do(t, http.MethodGet, "/api/v1/roles/"+taggers.ID.String(), owner)
	requireStatus(t, http.StatusOK, res)
	var got identity.Role
	res.decode(t, &got)
	require.Equal(t, []access.Permission{access.TagsRead, access.TagsWrite}, got.Permissions)
}

func TestRoleHeldByAPIKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	res := e.do(t, http.MethodPost, "/api/v1/roles", tok, withJSON(map[string]any{"name": "DMS push", "permissions": []string{"records:write"}}))
	requireStatus(t, http.StatusCreated, res)
	var role identity.Role
	res.decode(t, &role)
	key := e.createAPIKey(t, tn.Owner.Token, role.ID, nil)

	res = e.do(t, http.MethodDelete, "/api/v1/roles/"+role.ID.String(), tok)
	requireStatus(t, http.StatusConflict, res)
	require.Contains(t, res.problem(t).Detail, "1 active API key(s)")

	// Revoked keys do not hold a role back; they go with it.
	res = e.do(t, http.MethodDelete, "/api/v1/api-keys/"+key.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodDelete, "/api/v1/roles/"+role.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/api-keys/"+key.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)
	require.Len(t, e.auditTrail(t, tn.OrgID, "api_key", key.ID), 2, "the key's history stays")
}

func TestPermissionCatalog(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)

	res := e.do(t, http.MethodGet, "/api/v1/permissions", withToken(viewer.Token))
	requireStatus(t, http.StatusOK, res)
	var cat struct{ Items []identity.PermissionInfo }
	res.decode(t, &cat)
	require.Len(t, cat.Items, len(access.Catalog))
	for i, c := range access.Catalog {
		p := cat.Items[i]
		require.Equal(t, c.Permission, p.Permission)
		require.NotEmpty(t, p.Description)
		require.Equal(t, c.OwnerOnly, p.OwnerOnly)
		require.Contains(t, p.SystemRoles, access.RoleOwner, "the owner holds everything")
		if c.OwnerOnly {
			require.Equal(t, []string{access.RoleOwner}, p.SystemRoles)
		}
	}

	res = e.do(t, http.MethodGet, "/api/v1/permissions")
	requireStatus(t, http.StatusUnauthorized, res)
	res = e.do(t, http.MethodGet, "/api/v1/permissions", withToken("garbage"))
	requireStatus(t, http.StatusUnauthorized, res)
}

func TestRolesBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	res := e.do(t, http.MethodPost, "/api/v1/roles", withToken(other.Owner.Token), withJSON(map[string]any{"name": "Theirs", "permissions": []string{"tags:read"}}))
	requireStatus(t, http.StatusCreated, res)
	var theirs identity.Role
	res.decode(t, &theirs)
	res = e.do(t, http.MethodPost, "/api/v1/roles", tok, withJSON(map[string]any{"name": "Mine", "permissions": []string{"tags:read"}}))
	requireStatus(t, http.StatusCreated, res)
	var mine identity.Role
	res.decode(t, &mine)
	many := make([]string, 65)
	for i := range many {
		many[i] = "tags:read"
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   reqOpt
		status int
	}{
		{"malformed json", http.MethodPost, "/api/v1/roles", withRaw("application/json", `{"name":"x",`), http.StatusBadRequest},
		{"wrong type", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x", "permissions": "tags:read"}), http.StatusUnprocessableEntity},
		{"wrong item type", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x", "permissions": []any{1}}), http.StatusUnprocessableEntity},
		{"missing name", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"permissions": []string{}}), http.StatusUnprocessableEntity},
		{"missing permissions", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x"}), http.StatusUnprocessableEntity},
		{"unknown field", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x", "permissions": []string{}, "is_system": true}), http.StatusUnprocessableEntity},
		{"bad key", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x", "key": "Bad Key!", "permissions": []string{}}), http.StatusUnprocessableEntity},
		{"too many permissions", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "x", "permissions": many}), http.StatusUnprocessableEntity},
		{"blank name", http.MethodPost, "/api/v1/roles", withJSON(map[string]any{"name": "  ", "permissions": []string{}}), http.StatusUnprocessableEntity},
		{"oversized body", http.MethodPost, "/api/v1/roles", withRaw("application/json", `{"name":"`+strings.Repeat("a", 70<<10)+`","permissions":[]}`), http.StatusRequestEntityTooLarge},
		{"bad uuid", http.MethodGet, "/api/v1/roles/nope", nil, http.StatusUnprocessableEntity},
		{"unknown id", http.MethodGet, "/api/v1/roles/" + uuid.NewString(), nil, http.StatusNotFound},
		{"foreign id get", http.MethodGet, "/api/v1/roles/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"foreign id patch", http.MethodPatch, "/api/v1/roles/" + theirs.ID.String(), withJSON(map[string]any{"name": "Mine now"}), http.StatusNotFound},
		{"foreign id delete", http.MethodDelete, "/api/v1/roles/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"patch null name", http.MethodPatch, "/api/v1/roles/" + mine.ID.String(), withJSON(map[string]any{"name": nil}), http.StatusUnprocessableEntity},
		{"patch null permissions", http.MethodPatch, "/api/v1/roles/" + mine.ID.String(), withJSON(map[string]any{"permissions": nil}), http.StatusUnprocessableEntity},
		{"patch key", http.MethodPatch, "/api/v1/roles/" + mine.ID.String(), withJSON(map[string]any{"key": "new-key"}), http.StatusUnprocessableEntity},
		{"patch wrong type", http.MethodPatch, "/api/v1/roles/" + mine.ID.String(), withJSON(map[string]any{"name": true}), http.StatusUnprocessableEntity},
		{"limit zero", http.MethodGet, "/api/v1/roles?limit=0", nil, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []reqOpt{tok}
			if tt.body != nil {
				opts = append(opts, tt.body)
			}
			res := e.do(t, tt.method, tt.path, opts...)
			requireStatus(t, tt.status, res)
			require.Equal(t, tt.status, res.problem(t).Status)
		})
	}

	// The other tenant's role is untouched.
	res = e.do(t, http.MethodGet, "/api/v1/roles/"+theirs.ID.String(), withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var still identity.Role
	res.decode(t, &still)
	require.Equal(t, "Theirs", still.Name)
}

// Every identity route against every system role: a role without the
// route's permission gets 403, a role with it never does, and nothing
// answers 5xx. Ids are random (404), bodies empty (422): no call changes
// anything, except that the owner's organization delete is left to
// TestOrganizationDelete.
func TestIdentityRoutesRoleMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	users := map[string]testUser{access.RoleOwner: tn.Owner}
	for _, r := range access.SystemRoles[1:] {
		users[r.Key] = e.newUser(t, tn, r.Key)
	}
	prefixes := []string{"/api/v1/organizations", "/api/v1/admin/", "/api/v1/users", "/api/v1/roles", "/api/v1/permissions", "/api/v1/api-keys"}
	covered := 0
	for _, rt := range e.api.Routes() {
		mine := false
		for _, p := range prefixes {
			mine = mine || strings.HasPrefix(rt.Path, p)
		}
		if !mine {
			continue
		}
		covered++
		path := strings.ReplaceAll(rt.Path, "{id}", uuid.NewString())
		for _, r := range access.SystemRoles {
			if rt.ID == "organization-delete" && r.Key == access.RoleOwner {
				continue
			}
			u := users[r.Key]
			t.Run(r.Key+" "+rt.ID, func(t *testing.T) {
				opts := []reqOpt{withToken(u.Token)}
				if rt.Method == http.MethodPost || rt.Method == http.MethodPatch {
					opts = append(opts, withJSON(map[string]any{}))
				}
				res := e.do(t, rt.Method, path, opts...)
				require.Less(t, res.Status, 500, "body: %s", res.Body)
				var allowed bool
				switch rt.Access {
				case "platform_admin":
					allowed = false
				case "authenticated":
					allowed = true
				default:
					allowed = slices.Contains(r.Permissions, access.Permission(rt.Access))
				}
				if allowed {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, res.Status, "body: %s", res.Body)
				} else {
					requireStatus(t, http.StatusForbidden, res)
				}
			})
		}
	}
	require.Equal(t, 23, covered, "every identity route is in the matrix")
}
