package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/identity"
)

// roleIDOf returns the id of tn's role with key.
func (e *env) roleIDOf(t *testing.T, tn *tenant, key string) uuid.UUID {
	t.Helper()
	r, err := e.identity.GetRoleByKey(context.Background(), tn.OrgID, key)
	require.NoError(t, err)
	return r.ID
}

// createUser creates a user through the API as tok and returns it.
func (e *env) createUser(t *testing.T, tok string, roleID uuid.UUID) identity.User {
	t.Helper()
	res := e.do(t, http.MethodPost, "/api/v1/users", withToken(tok), withJSON(map[string]any{
		"email": "u-" + uuid.NewString()[:8] + "@example.com", "full_name": "New User", "password": testPassword, "role_id": roleID,
	}))
	requireStatus(t, http.StatusCreated, res)
	var u identity.User
	res.decode(t, &u)
	return u
}

func TestUsersCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/users", tok, withJSON(map[string]any{
		"email": " Sam.Service@Example.com ", "full_name": " Sam Service ", "password": testPassword,
		"role_id": e.roleIDOf(t, tn, access.RoleAgent),
	}))
	requireStatus(t, http.StatusCreated, res)
	require.NotContains(t, string(res.Body), "password")
	var u identity.User
	res.decode(t, &u)
	require.Equal(t, "sam.service@example.com", u.Email)
	require.Equal(t, "Sam Service", u.FullName)
	require.Equal(t, access.RoleAgent, u.Role)
	require.True(t, u.IsActive)

	// The new user's credentials work, with the role's permissions.
	samTok := e.token(t, tn.OrgID, u.ID, access.RoleAgent)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(samTok))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, "/api/v1/users", withToken(samTok), withJSON(map[string]any{}))
	requireStatus(t, http.StatusForbidden, res)

	res = e.do(t, http.MethodGet, "/api/v1/users", tok)
	requireStatus(t, http.StatusOK, res)
	var listed struct{ Items []identity.User }
	res.decode(t, &listed)
	require.Len(t, listed.Items, 2)
	require.Equal(t, u.ID, listed.Items[0].ID, "newest first")
	require.Equal(t, access.RoleOwner, listed.Items[1].Role)

	res = e.do(t, http.MethodPatch, "/api/v1/users/"+u.ID.String(), tok, withJSON(map[string]any{
		"full_name": "Samantha Service", "role_id": e.roleIDOf(t, tn, access.RoleManager),
	}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/users/"+u.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var got identity.User
	res.decode(t, &got)
	require.Equal(t, "Samantha Service", got.FullName)
	require.Equal(t, access.RoleManager, got.Role)
	// The new role applies at once, with the same token.
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(samTok), withJSON(map[string]any{"name": "Sam's"}))
	requireStatus(t, http.StatusCreated, res)

	// Deactivated: the token stops working at once.
	res = e.do(t, http.MethodPatch, "/api/v1/users/"+u.ID.String(), tok, withJSON(map[string]any{"is_active": false}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(samTok))
	requireStatus(t, http.StatusUnauthorized, res)
	res = e.do(t, http.MethodPatch, "/api/v1/users/"+u.ID.String(), tok, withJSON(map[string]any{"is_active": true}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(samTok))
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodDelete, "/api/v1/users/"+u.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/users/"+u.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(samTok))
	requireStatus(t, http.StatusUnauthorized, res)

	// Every change left an audit row with old and new API views, never a
	// password hash; the rows outlive the user.
	trail := e.auditTrail(t, tn.OrgID, "user", u.ID)
	require.Len(t, trail, 5)
	actions := make([]string, len(trail))
	for i, a := range trail {
		actions[i] = a.Action
		require.NotContains(t, string(a.OldValue)+string(a.NewValue), "argon2")
		require.NotContains(t, string(a.OldValue)+string(a.NewValue), "password")
		require.Equal(t, tn.Owner.ID, *a.ActorUserID)
	}
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Update, audit.Update, audit.Create}, actions)
	require.Equal(t, "agent", jsonObject(t, trail[3].OldValue)["role"])
	require.Equal(t, "manager", jsonObject(t, trail[3].NewValue)["role"])
	require.Equal(t, "Samantha Service", jsonObject(t, trail[0].OldValue)["full_name"])
	require.Nil(t, trail[0].NewValue)
}

func TestUserEmailIsUniqueEverywhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	agent := e.roleIDOf(t, tn, access.RoleAgent)

	for name, email := range map[string]string{
		"another tenant's owner": other.Owner.Email,
		"own owner, other case":  strings.ToUpper(tn.Owner.Email),
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, "/api/v1/users", withToken(tn.Owner.Token), withJSON(map[string]any{
				"email": email, "full_name": "Dup", "password": testPassword, "role_id": agent,
			}))
			requireStatus(t, http.StatusConflict, res)
			p := res.problem(t)
			require.Equal(t, "body.email", p.Errors[0].Location)
			// Nothing about the other tenant leaks: same message either way.
			require.Equal(t, "an account with this email already exists", p.Detail)
			require.NotContains(t, string(res.Body), other.OrgID.String())
		})
	}
}

func TestUserRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	admin := e.newUser(t, tn, access.RoleAdmin)
	owner2 := e.newUser(t, tn, access.RoleOwner)
	agent := e.newUser(t, tn, access.RoleAgent)
	roles := map[string]uuid.UUID{}
	for _, r := range access.SystemRoles {
		roles[r.Key] = e.roleIDOf(t, tn, r.Key)
	}
	// A custom role that may manage users but holds little else.
	res := e.do(t, http.MethodPost, "/api/v1/roles", withToken(tn.Owner.Token), withJSON(map[string]any{
		"name": "Front desk", "permissions": []string{"users:read", "users:manage", "tags:read"},
	}))
	requireStatus(t, http.StatusCreated, res)
	var desk identity.Role
	res.decode(t, &desk)
	deskUser := e.createUser(t, tn.Owner.Token, desk.ID)
	deskTok := e.token(t, tn.OrgID, deskUser.ID, desk.Key)

	patch := func(tok string, id uuid.UUID, body map[string]any) *response {
		return e.do(t, http.MethodPatch, "/api/v1/users/"+id.String(), withToken(tok), withJSON(body))
	}
	tests := []struct {
		name   string
		do     func() *response
		status int
		detail string
	}{
		{"admin cannot change own role", func() *response { return patch(admin.Token, admin.ID, map[string]any{"role_id": roles["viewer"]}) },
			http.StatusForbidden, "your own role"},
		{"owner cannot change own role", func() *response { return patch(tn.Owner.Token, tn.Owner.ID, map[string]any{"role_id": roles["admin"]}) },
			http.StatusForbidden, "your own role"},
		{"nobody deactivates themselves", func() *response { return patch(admin.Token, admin.ID, map[string]any{"is_active": false}) },
			http.StatusForbidden, "deactivate yourself"},
		{"nobody deletes themselves", func() *response {
			return e.do(t, http.MethodDelete, "/api/v1/users/"+admin.ID.String(), withToken(admin.Token))
		}, http.StatusForbidden, "delete yourself"},
		{"admin cannot promote to owner", func() *response { return patch(admin.Token, agent.ID, map[string]any{"role_id": roles["owner"]}) },
			http.StatusForbidden, "billing:manage, org:delete"},
		{"admin cannot create an owner", func() *response {
			return e.do(t, http.MethodPost, "/api/v1/users", withToken(admin.Token), withJSON(map[string]any{
				"email": "boss@example.com", "full_name": "Boss", "password": testPassword, "role_id": roles["owner"],
			}))
		}, http.StatusForbidden, "do not hold"},
		{"admin cannot demote an owner", func() *response { return patch(admin.Token, owner2.ID, map[string]any{"role_id": roles["viewer"]}) },
			http.StatusForbidden, "only an owner"},
		{"admin cannot deactivate an owner", func() *response { return patch(admin.Token, owner2.ID, map[string]any{"is_active": false}) },
			http.StatusForbidden, "only an owner"},
		{"admin cannot rename an owner", func() *response { return patch(admin.Token, owner2.ID, map[string]any{"full_name": "Renamed"}) },
			http.StatusForbidden, "only an owner"},
		{"admin cannot delete an owner", func() *response {
			return e.do(t, http.MethodDelete, "/api/v1/users/"+owner2.ID.String(), withToken(admin.Token))
		}, http.StatusForbidden, "only an owner"},
		{"narrow manager cannot grant agent", func() *response { return patch(deskTok, agent.ID, map[string]any{"role_id": roles["viewer"]}) },
			http.StatusForbidden, "do not hold"},
		{"narrow manager cannot change an agent", func() *response { return patch(deskTok, agent.ID, map[string]any{"full_name": "X"}) },
			http.StatusForbidden, "do not hold"},
		{"narrow manager cannot create a viewer", func() *response {
			return e.do(t, http.MethodPost, "/api/v1/users", withToken(deskTok), withJSON(map[string]any{
				"email": "v@example.com", "full_name": "V", "password": testPassword, "role_id": roles["viewer"],
			}))
		}, http.StatusForbidden, "calls:read"},
		{"agent cannot manage users", func() *response { return patch(agent.Token, agent.ID, map[string]any{"full_name": "Me"}) },
			http.StatusForbidden, "users:manage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.do()
			requireStatus(t, tt.status, res)
			require.Contains(t, res.problem(t).Detail, tt.detail)
		})
	}

	// What the rules allow: your own name (an unchanged role is no change),
	// admins making admins, owners making and unmaking owners, and the narrow
	// manager handing out their own role.
	res = patch(admin.Token, admin.ID, map[string]any{"full_name": "Ada Admin", "role_id": roles["admin"], "is_active": true})
	requireStatus(t, http.StatusOK, res)
	res = patch(admin.Token, agent.ID, map[string]any{"role_id": roles["admin"]})
	requireStatus(t, http.StatusOK, res)
	res = patch(tn.Owner.Token, agent.ID, map[string]any{"role_id": roles["owner"]})
	requireStatus(t, http.StatusOK, res)
	res = patch(tn.Owner.Token, agent.ID, map[string]any{"role_id": roles["agent"]})
	requireStatus(t, http.StatusOK, res)
	same := e.createUser(t, deskTok, desk.ID)
	require.Equal(t, desk.Key, same.Role)
	res = patch(tn.Owner.Token, owner2.ID, map[string]any{"is_active": false})
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodDelete, "/api/v1/users/"+owner2.ID.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusNoContent, res)

	// Nothing refused above changed anything.
	res = e.do(t, http.MethodGet, "/api/v1/users/"+tn.Owner.ID.String(), withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var o identity.User
	res.decode(t, &o)
	require.Equal(t, access.RoleOwner, o.Role)
	require.True(t, o.IsActive)
}

// Two owners demoting each other at about the same moment: whichever way
// the requests interleave, exactly one succeeds and an active owner stays.
// (The service test TestConcurrentOwnerDemotionKeepsAnOwner pins the
// interleaving where both pass authentication before either commits.)
func TestOwnersDemotingEachOther(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 3 {
		tn := e.newTenant(t)
		b := e.newUser(t, tn, access.RoleOwner)
		viewer := e.roleIDOf(t, tn, access.RoleViewer)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, pair := range [][2]string{{tn.Owner.Token, b.ID.String()}, {b.Token, tn.Owner.ID.String()}} {
			wg.Go(func() {
				res := e.do(t, http.MethodPatch, "/api/v1/users/"+pair[1], withToken(pair[0]), withJSON(map[string]any{"role_id": viewer}))
				statuses[i] = res.Status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		require.Equal(t, http.StatusOK, statuses[0], "one demotion succeeds")
		// The other either lost its owner role first (403) or met the
		// last-owner rule (409).
		require.Contains(t, []int{http.StatusForbidden, http.StatusConflict}, statuses[1])

		res := e.do(t, http.MethodGet, "/api/v1/users", withToken(tn.Owner.Token))
		requireStatus(t, http.StatusOK, res) // a demoted owner is a viewer, who can read users
		var users struct{ Items []identity.User }
		res.decode(t, &users)
		owners := 0
		for _, u := range users.Items {
			if u.Role == access.RoleOwner && u.IsActive {
				owners++
			}
		}
		require.Equal(t, 1, owners)
	}
}

func TestUsersBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	agent := e.roleIDOf(t, tn, access.RoleAgent).String()
	theirRole := e.roleIDOf(t, other, access.RoleAgent).String()
	mine := e.newUser(t, tn, access.RoleAgent).ID.String()
	theirs := e.newUser(t, other, access.RoleAgent).ID.String()
	valid := func(over map[string]any) reqOpt {
		b := map[string]any{"email": "x-" + uuid.NewString()[:6] + "@example.com", "full_name": "X", "password": testPassword, "role_id": agent}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return withJSON(b)
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   reqOpt
		status int
	}{
		{"malformed json", http.MethodPost, "/api/v1/users", withRaw("application/json", `{"email":`), http.StatusBadRequest},
		{"wrong type", http.MethodPost, "/api/v1/users", valid(map[string]any{"full_name": 7}), http.StatusUnprocessableEntity},
		{"missing password", http.MethodPost, "/api/v1/users", valid(map[string]any{"password": nil}), http.StatusUnprocessableEntity},
		{"missing role", http.MethodPost, "/api/v1/users", valid(map[string]any{"role_id": nil}), http.StatusUnprocessableEntity},
		{"unknown field", http.MethodPost, "/api/v1/users", valid(map[string]any{"is_platform_admin": true}), http.StatusUnprocessableEntity},
		{"bad email", http.MethodPost, "/api/v1/users", valid(map[string]any{"email": "not-an-email"}), http.StatusUnprocessableEntity},
		{"short password", http.MethodPost, "/api/v1/users", valid(map[string]any{"password": "short"}), http.StatusUnprocessableEntity},
		{"blank name", http.MethodPost, "/api/v1/users", valid(map[string]any{"full_name": "   "}), http.StatusUnprocessableEntity},
		{"role not a uuid", http.MethodPost, "/api/v1/users", valid(map[string]any{"role_id": "admin"}), http.StatusUnprocessableEntity},
		{"unknown role", http.MethodPost, "/api/v1/users", valid(map[string]any{"role_id": uuid.NewString()}), http.StatusUnprocessableEntity},
		{"another tenant's role", http.MethodPost, "/api/v1/users", valid(map[string]any{"role_id": theirRole}), http.StatusUnprocessableEntity},
		{"oversized body", http.MethodPost, "/api/v1/users", valid(map[string]any{"full_name": strings.Repeat("a", 70<<10)}), http.StatusRequestEntityTooLarge},
		{"bad uuid get", http.MethodGet, "/api/v1/users/not-a-uuid", nil, http.StatusUnprocessableEntity},
		{"bad uuid patch", http.MethodPatch, "/api/v1/users/123", withJSON(map[string]any{"full_name": "x"}), http.StatusUnprocessableEntity},
		{"bad uuid delete", http.MethodDelete, "/api/v1/users/xyz", nil, http.StatusUnprocessableEntity},
		{"unknown id", http.MethodGet, "/api/v1/users/" + uuid.NewString(), nil, http.StatusNotFound},
		{"foreign id get", http.MethodGet, "/api/v1/users/" + theirs, nil, http.StatusNotFound},
		{"foreign id patch", http.MethodPatch, "/api/v1/users/" + theirs, withJSON(map[string]any{"full_name": "mine"}), http.StatusNotFound},
		{"foreign id delete", http.MethodDelete, "/api/v1/users/" + theirs, nil, http.StatusNotFound},
		{"patch malformed", http.MethodPatch, "/api/v1/users/" + mine, withRaw("application/json", `{`), http.StatusBadRequest},
		{"patch wrong type", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"is_active": "yes"}), http.StatusUnprocessableEntity},
		{"patch unknown field", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"email": "a@b.c"}), http.StatusUnprocessableEntity},
		{"patch null name", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"full_name": nil}), http.StatusUnprocessableEntity},
		{"patch null role", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"role_id": nil}), http.StatusUnprocessableEntity},
		{"patch foreign role", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"role_id": theirRole}), http.StatusUnprocessableEntity},
		{"patch bad role uuid", http.MethodPatch, "/api/v1/users/" + mine, withJSON(map[string]any{"role_id": "x"}), http.StatusUnprocessableEntity},
		{"limit too large", http.MethodGet, "/api/v1/users?limit=500", nil, http.StatusUnprocessableEntity},
		{"bad cursor", http.MethodGet, "/api/v1/users?cursor=!!!", nil, http.StatusUnprocessableEntity},
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

	// Only the two users of each tenant exist, untouched.
	for _, tk := range []string{tn.Owner.Token, other.Owner.Token} {
		res := e.do(t, http.MethodGet, "/api/v1/users", withToken(tk))
		requireStatus(t, http.StatusOK, res)
		var users struct{ Items []identity.User }
		res.decode(t, &users)
		require.Len(t, users.Items, 2)
		for _, u := range users.Items {
			require.NotEqual(t, "mine", u.FullName)
		}
	}
}

func TestViewerReadsUsersButCannotWrite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)
	tok := withToken(viewer.Token)
	for _, path := range []string{"/api/v1/users", "/api/v1/users/" + tn.Owner.ID.String(), "/api/v1/roles", "/api/v1/organizations/current", "/api/v1/permissions"} {
		res := e.do(t, http.MethodGet, path, tok)
		requireStatus(t, http.StatusOK, res)
	}
	writes := []struct{ method, path, perm string }{
		{http.MethodPost, "/api/v1/users", "users:manage"},
		{http.MethodPatch, "/api/v1/users/" + tn.Owner.ID.String(), "users:manage"},
		{http.MethodDelete, "/api/v1/users/" + tn.Owner.ID.String(), "users:manage"},
		{http.MethodPost, "/api/v1/roles", "roles:manage"},
		{http.MethodPatch, "/api/v1/organizations/current", "org:write"},
		{http.MethodDelete, "/api/v1/organizations/current", "org:delete"},
		{http.MethodGet, "/api/v1/api-keys", "apikeys:manage"},
		{http.MethodPost, "/api/v1/api-keys", "apikeys:manage"},
	}
	for _, w := range writes {
		res := e.do(t, w.method, w.path, tok, withJSON(map[string]any{}))
		requireStatus(t, http.StatusForbidden, res)
		require.Contains(t, res.problem(t).Detail, w.perm)
	}
}
