package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/identity"
)

// createAPIKey creates a key through the API as tok.
func (e *env) createAPIKey(t *testing.T, tok string, roleID uuid.UUID, expires *time.Time) identity.CreatedAPIKey {
	t.Helper()
	body := map[string]any{"name": "Key " + uuid.NewString()[:6], "role_id": roleID}
	if expires != nil {
		body["expires_at"] = expires.Format(time.RFC3339)
	}
	res := e.do(t, http.MethodPost, "/api/v1/api-keys", withToken(tok), withJSON(body))
	requireStatus(t, http.StatusCreated, res)
	var k identity.CreatedAPIKey
	res.decode(t, &k)
	return k
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/api-keys", tok, withJSON(map[string]any{
		"name": " DMS bridge ", "role_id": e.roleIDOf(t, tn, access.RoleAgent),
	}))
	requireStatus(t, http.StatusCreated, res)
	var k identity.CreatedAPIKey
	res.decode(t, &k)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"), "the secret is never cached or stored for replay")
	require.True(t, strings.HasPrefix(k.Key, identity.APIKeyPrefix))
	require.Greater(t, len(k.Key), 40)
	require.Equal(t, k.Key[:12], k.Prefix)
	require.Equal(t, "DMS bridge", k.Name)
	require.Equal(t, access.RoleAgent, k.Role)
	require.Equal(t, tn.Owner.ID, *k.CreatedBy)
	require.Nil(t, k.ExpiresAt)
	require.Nil(t, k.LastUsedAt)

	// The secret is shown once: never in a list, a get or the audit log,
	// and only its hash is stored.
	res = e.do(t, http.MethodGet, "/api/v1/api-keys", tok)
	requireStatus(t, http.StatusOK, res)
	require.NotContains(t, string(res.Body), k.Key)
	require.NotContains(t, string(res.Body), `"key"`)
	res = e.do(t, http.MethodGet, "/api/v1/api-keys/"+k.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	require.NotContains(t, string(res.Body), k.Key)
	var stored int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		"SELECT count(*) FROM api_keys WHERE id = $1 AND key_hash = sha256(convert_to($2, 'UTF8')) AND position($3 in prefix) = 0",
		k.ID, k.Key, k.Key[12:]).Scan(&stored))
	require.Equal(t, 1, stored)

	// The key authenticates with its role's permissions.
	key := withToken(k.Key)
	res = e.do(t, http.MethodGet, "/api/v1/tags", key)
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/users", key)
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", key, withJSON(map[string]any{"name": "x"}))
	requireStatus(t, http.StatusForbidden, res)
	require.Contains(t, res.problem(t).Detail, "tags:write")
	res = e.do(t, http.MethodGet, "/api/v1/api-keys/"+k.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var used identity.APIKey
	res.decode(t, &used)
	require.NotNil(t, used.LastUsedAt)

	// Revoked: refused at once. Revoking again is harmless.
	res = e.do(t, http.MethodDelete, "/api/v1/api-keys/"+k.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", key)
	requireStatus(t, http.StatusUnauthorized, res)
	require.Equal(t, `Bearer realm="autopulse"`, res.Header.Get("WWW-Authenticate"))
	res = e.do(t, http.MethodDelete, "/api/v1/api-keys/"+k.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/api-keys/"+k.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var revoked identity.APIKey
	res.decode(t, &revoked)
	require.NotNil(t, revoked.RevokedAt)

	// A made-up key of the right shape is refused the same way.
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(identity.APIKeyPrefix+strings.Repeat("A", 43)))
	requireStatus(t, http.StatusUnauthorized, res)

	trail := e.auditTrail(t, tn.OrgID, "api_key", k.ID)
	require.Len(t, trail, 2, "create and one revoke")
	require.Equal(t, []string{audit.Delete, audit.Create}, []string{trail[0].Action, trail[1].Action})
	require.Nil(t, jsonObject(t, trail[0].OldValue)["revoked_at"])
	require.NotNil(t, jsonObject(t, trail[0].NewValue)["revoked_at"])
	for _, a := range trail {
		require.NotContains(t, string(a.OldValue)+string(a.NewValue), k.Key[12:], "no secret in the audit log")
		require.NotContains(t, string(a.NewValue), "hash")
	}
}

// A retried key creation never replays a stored secret: the response is
// no-store, so the retry runs again and issues a fresh key.
func TestAPIKeyCreateIsNeverReplayed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	body := withJSON(map[string]any{"name": "retry", "role_id": e.roleIDOf(t, tn, access.RoleViewer)})
	idem := withHeader("Idempotency-Key", "create-key-"+uuid.NewString())
	var keys []string
	for range 2 {
		res := e.do(t, http.MethodPost, "/api/v1/api-keys", withToken(tn.Owner.Token), idem, body)
		requireStatus(t, http.StatusCreated, res)
		require.Empty(t, res.Header.Get("Idempotent-Replayed"))
		var k identity.CreatedAPIKey
		res.decode(t, &k)
		keys = append(keys, k.Key)
	}
	require.NotEqual(t, keys[0], keys[1])
	var stored int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		"SELECT count(*) FROM idempotency_keys WHERE position($1 in convert_from(coalesce(response_body, ''), 'UTF8')) > 0", keys[0][12:]).Scan(&stored))
	require.Zero(t, stored, "no secret at rest in the idempotency store")
}

func TestAPIKeyExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	k := e.createAPIKey(t, tn.Owner.Token, e.roleIDOf(t, tn, access.RoleViewer), &expires)
	require.True(t, expires.Equal(*k.ExpiresAt))

	res := e.do(t, http.MethodGet, "/api/v1/tags", withToken(k.Key))
	requireStatus(t, http.StatusOK, res)

	// Time passes.
	_, err := e.db.Owner.Exec(context.Background(), "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", k.ID)
	require.NoError(t, err)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(k.Key))
	requireStatus(t, http.StatusUnauthorized, res)
	require.Contains(t, res.problem(t).Detail, "expired")

	// An expiry in the past is refused up front.
	res = e.do(t, http.MethodPost, "/api/v1/api-keys", withToken(tn.Owner.Token), withJSON(map[string]any{
		"name": "stale", "role_id": e.roleIDOf(t, tn, access.RoleViewer), "expires_at": time.Now().Add(-time.Minute).Format(time.RFC3339),
	}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Equal(t, "body.expires_at", res.problem(t).Errors[0].Location)
}

func TestAPIKeyRoleRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	admin := e.newUser(t, tn, access.RoleAdmin)
	owner := e.roleIDOf(t, tn, access.RoleOwner)
	adminRole := e.roleIDOf(t, tn, access.RoleAdmin)

	// A custom role that may issue keys but holds little else.
	res := e.do(t, http.MethodPost, "/api/v1/roles", withToken(tn.Owner.Token), withJSON(map[string]any{
		"name": "Integrator", "permissions": []string{"apikeys:manage", "records:write"},
	}))
	requireStatus(t, http.StatusCreated, res)
	var integrator identity.Role
	res.decode(t, &integrator)
	iu := e.createUser(t, tn.Owner.Token, integrator.ID)
	iTok := e.token(t, tn.OrgID, iu.ID, integrator.Key)

	tests := []struct {
		name   string
		tok    string
		role   uuid.UUID
		status int
		detail string
	}{
		{"owner role never goes to a key", tn.Owner.Token, owner, http.StatusUnprocessableEntity, "owner role"},
		{"admin cannot issue an owner key", admin.Token, owner, http.StatusForbidden, "do not hold"},
		{"integrator cannot issue an admin key", iTok, adminRole, http.StatusForbidden, "do not hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, "/api/v1/api-keys", withToken(tt.tok), withJSON(map[string]any{"name": "k", "role_id": tt.role}))
			requireStatus(t, tt.status, res)
			require.Contains(t, res.problem(t).Detail+string(res.Body), tt.detail)
		})
	}

	// Within their permissions, both may issue keys.
	e.createAPIKey(t, admin.Token, adminRole, nil)
	mine := e.createAPIKey(t, iTok, integrator.ID, nil)
	require.Equal(t, iu.ID, *mine.CreatedBy)

	// An admin-role key acts like an admin, and the audit log names the key.
	k := e.createAPIKey(t, tn.Owner.Token, adminRole, nil)
	u := e.createUser(t, k.Key, e.roleIDOf(t, tn, access.RoleAgent))
	trail := e.auditTrail(t, tn.OrgID, "user", u.ID)
	require.Len(t, trail, 1)
	require.Nil(t, trail[0].ActorUserID)
	require.Equal(t, k.ID, *trail[0].ActorAPIKeyID)
	// A key-made key has no creating user.
	byKey := e.createAPIKey(t, k.Key, e.roleIDOf(t, tn, access.RoleViewer), nil)
	require.Nil(t, byKey.CreatedBy)

	res = e.do(t, http.MethodGet, "/api/v1/api-keys", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var keys struct{ Items []identity.APIKey }
	res.decode(t, &keys)
	require.Len(t, keys.Items, 4)
}

func TestAPIKeyOfSuspendedOrganization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	staff := e.newPlatformAdmin(t)
	tn := e.newTenant(t)
	k := e.createAPIKey(t, tn.Owner.Token, e.roleIDOf(t, tn, access.RoleViewer), nil)
	res := e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+tn.OrgID.String()+"/suspend", withToken(staff.Token))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(k.Key))
	requireStatus(t, http.StatusForbidden, res)
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+tn.OrgID.String()+"/reactivate", withToken(staff.Token))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(k.Key))
	requireStatus(t, http.StatusOK, res)
}

func TestAPIKeysBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	viewer := e.roleIDOf(t, tn, access.RoleViewer).String()
	theirs := e.createAPIKey(t, other.Owner.Token, e.roleIDOf(t, other, access.RoleViewer), nil)

	tests := []struct {
		name   string
		method string
		path   string
		body   reqOpt
		status int
	}{
		{"malformed json", http.MethodPost, "/api/v1/api-keys", withRaw("application/json", `{"name"`), http.StatusBadRequest},
		{"wrong type", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": []int{1}, "role_id": viewer}), http.StatusUnprocessableEntity},
		{"missing role", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": "k"}), http.StatusUnprocessableEntity},
		{"missing name", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"role_id": viewer}), http.StatusUnprocessableEntity},
		{"blank name", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": " ", "role_id": viewer}), http.StatusUnprocessableEntity},
		{"unknown field", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": "k", "role_id": viewer, "key": "apk_mine"}), http.StatusUnprocessableEntity},
		{"bad expiry", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": "k", "role_id": viewer, "expires_at": "tomorrow"}), http.StatusUnprocessableEntity},
		{"role not a uuid", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": "k", "role_id": "viewer"}), http.StatusUnprocessableEntity},
		{"another tenant's role", http.MethodPost, "/api/v1/api-keys", withJSON(map[string]any{"name": "k", "role_id": e.roleIDOf(t, other, access.RoleViewer)}), http.StatusUnprocessableEntity},
		{"oversized body", http.MethodPost, "/api/v1/api-keys", withRaw("application/json", `{"name":"`+strings.Repeat("k", 70<<10)+`"}`), http.StatusRequestEntityTooLarge},
		{"bad uuid get", http.MethodGet, "/api/v1/api-keys/123", nil, http.StatusUnprocessableEntity},
		{"bad uuid delete", http.MethodDelete, "/api/v1/api-keys/123", nil, http.StatusUnprocessableEntity},
		{"unknown id", http.MethodDelete, "/api/v1/api-keys/" + uuid.NewString(), nil, http.StatusNotFound},
		{"foreign id get", http.MethodGet, "/api/v1/api-keys/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"foreign id delete", http.MethodDelete, "/api/v1/api-keys/" + theirs.ID.String(), nil, http.StatusNotFound},
		{"bad cursor", http.MethodGet, "/api/v1/api-keys?cursor=abc", nil, http.StatusUnprocessableEntity},
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

	// The other tenant's key still works; ours has none.
	res := e.do(t, http.MethodGet, "/api/v1/tags", withToken(theirs.Key))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/api-keys", tok)
	requireStatus(t, http.StatusOK, res)
	var keys struct{ Items []identity.APIKey }
	res.decode(t, &keys)
	require.Empty(t, keys.Items)
}
