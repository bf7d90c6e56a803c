package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/page"
)

// newPlatformAdmin registers a platform organization whose owner is a
// platform administrator, as `autopulse seed --admin-email` does.
func (e *env) newPlatformAdmin(t *testing.T) testUser {
	t.Helper()
	email := "staff-" + uuid.NewString()[:8] + "@autopulse.example"
	reg, err := e.identity.Register(context.Background(), identity.Registration{
		OrganizationName: identity.PlatformOrgName, FullName: "Pat Platform", Email: email,
		Password: testPassword, Timezone: "UTC", PlatformAdmin: true,
	})
	require.NoError(t, err)
	u := testUser{ID: reg.User.ID, Email: email, Password: testPassword, Role: access.RoleOwner}
	u.Token = e.token(t, reg.Organization.ID, u.ID, access.RoleOwner)
	return u
}

// auditTrail reads org's audit rows about one entity, newest first, straight
// from the audit service (it works whatever the organization's status).
func (e *env) auditTrail(t *testing.T, org uuid.UUID, entity string, id uuid.UUID) []audit.Entry {
	t.Helper()
	pr, err := page.Parse(page.MaxLimit, "")
	require.NoError(t, err)
	items, _, err := (&audit.Service{DB: e.pdb}).List(context.Background(), org, audit.Filter{Entity: entity, EntityID: id.String()}, pr)
	require.NoError(t, err)
	return items
}

// jsonObject decodes an audit value.
func jsonObject(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "value: %s", raw)
	return m
}

func TestOrganizationGetAndPatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodGet, "/api/v1/organizations/current", tok)
	requireStatus(t, http.StatusOK, res)
	var o identity.Organization
	res.decode(t, &o)
	require.Equal(t, tn.OrgID, o.ID)
	require.Equal(t, identity.OrgActive, o.Status)
	require.Nil(t, o.Phone)

	res = e.do(t, http.MethodPatch, "/api/v1/organizations/current", tok, withJSON(map[string]any{
		"name": "  Sunrise Motors  ", "timezone": "America/Chicago", "phone": "+1 (312) 555-0100",
		"address": "1 Main St, Springfield", "postal_code": "62701", "state": "il",
		"google_review_link": "https://g.page/r/sunrise/review", "call_concurrency_limit": 12,
	}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &o)
	require.Equal(t, "Sunrise Motors", o.Name)
	require.Equal(t, "America/Chicago", o.Timezone)
	require.Equal(t, "+13125550100", *o.Phone, "normalized to E.164")
	require.Equal(t, "IL", *o.State)
	require.Equal(t, "62701", *o.PostalCode)
	require.Equal(t, int32(12), o.CallConcurrencyLimit)

	// Merge semantics: absent is unchanged, null clears.
	res = e.do(t, http.MethodPatch, "/api/v1/organizations/current", tok,
		withRaw("application/merge-patch+json", `{"phone":null,"call_concurrency_limit":0}`))
	requireStatus(t, http.StatusOK, res)
	var patched identity.Organization
	res.decode(t, &patched)
	require.Nil(t, patched.Phone)
	require.Equal(t, int32(0), patched.CallConcurrencyLimit)
	require.Equal(t, "Sunrise Motors", patched.Name)
	require.Equal(t, "1 Main St, Springfield", *patched.Address)
	require.Equal(t, "https://g.page/r/sunrise/review", *patched.GoogleReviewLink)

	// An empty patch changes nothing and writes no audit row.
	res = e.do(t, http.MethodPatch, "/api/v1/organizations/current", tok, withJSON(map[string]any{}))
	requireStatus(t, http.StatusOK, res)

	trail := e.auditTrail(t, tn.OrgID, "organization", tn.OrgID)
	require.Len(t, trail, 3, "registration and two effective patches")
	require.Equal(t, audit.Update, trail[0].Action)
	require.Equal(t, "+13125550100", jsonObject(t, trail[0].OldValue)["phone"])
	require.Nil(t, jsonObject(t, trail[0].NewValue)["phone"])
	require.Contains(t, jsonObject(t, trail[0].NewValue), "phone")
	require.Equal(t, tn.Owner.ID, *trail[0].ActorUserID)
}

func TestOrganizationPatchBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	const path = "/api/v1/organizations/current"

	tests := []struct {
		name     string
		body     reqOpt
		status   int
		location string
	}{
		{"malformed json", withRaw("application/json", `{"name":`), http.StatusBadRequest, ""},
		{"wrong type", withJSON(map[string]any{"name": 42}), http.StatusUnprocessableEntity, "body.name"},
		{"unknown field", withJSON(map[string]any{"title": "x"}), http.StatusUnprocessableEntity, ""},
		{"status is not patchable", withJSON(map[string]any{"status": "active"}), http.StatusUnprocessableEntity, ""},
		{"null name", withJSON(map[string]any{"name": nil}), http.StatusUnprocessableEntity, "body.name"},
		{"null timezone", withJSON(map[string]any{"timezone": nil}), http.StatusUnprocessableEntity, "body.timezone"},
		{"null concurrency", withJSON(map[string]any{"call_concurrency_limit": nil}), http.StatusUnprocessableEntity, "body.call_concurrency_limit"},
		{"no body", withRaw("application/json", ""), http.StatusBadRequest, ""},
		{"array body", withRaw("application/json", "[]"), http.StatusUnprocessableEntity, ""},
		{"blank name", withJSON(map[string]any{"name": "   "}), http.StatusUnprocessableEntity, "body.name"},
		{"bad timezone", withJSON(map[string]any{"timezone": "Mars/Olympus"}), http.StatusUnprocessableEntity, "body.timezone"},
		{"local timezone", withJSON(map[string]any{"timezone": "Local"}), http.StatusUnprocessableEntity, "body.timezone"},
		{"bad phone", withJSON(map[string]any{"phone": "555-0100"}), http.StatusUnprocessableEntity, "body.phone"},
		{"bad zip", withJSON(map[string]any{"postal_code": "ABCDE"}), http.StatusUnprocessableEntity, "body.postal_code"},
		{"bad state", withJSON(map[string]any{"state": "ZZ"}), http.StatusUnprocessableEntity, "body.state"},
		{"http review link", withJSON(map[string]any{"google_review_link": "http://g.page/x"}), http.StatusUnprocessableEntity, "body.google_review_link"},
		{"review link with credentials", withJSON(map[string]any{"google_review_link": "https://u:p@g.page/x"}), http.StatusUnprocessableEntity, "body.google_review_link"},
		{"not a url", withJSON(map[string]any{"google_review_link": "review me"}), http.StatusUnprocessableEntity, "body.google_review_link"},
		{"concurrency too high", withJSON(map[string]any{"call_concurrency_limit": 501}), http.StatusUnprocessableEntity, "body.call_concurrency_limit"},
		{"concurrency negative", withJSON(map[string]any{"call_concurrency_limit": -1}), http.StatusUnprocessableEntity, "body.call_concurrency_limit"},
		{"concurrency fractional", withJSON(map[string]any{"call_concurrency_limit": 1.5}), http.StatusUnprocessableEntity, "body.call_concurrency_limit"},
		{"oversized body", withRaw("application/json", `{"address":"`+strings.Repeat("a", 70<<10)+`"}`), http.StatusRequestEntityTooLarge, ""},
		{"not json", withRaw("text/plain", `name=x`), http.StatusUnsupportedMediaType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPatch, path, tok, tt.body)
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			require.Equal(t, tt.status, p.Status)
			if tt.location != "" {
				require.NotEmpty(t, p.Errors, "field errors")
				require.Equal(t, tt.location, p.Errors[0].Location)
			}
		})
	}

	// Nothing above changed the organization.
	res := e.do(t, http.MethodGet, path, tok)
	requireStatus(t, http.StatusOK, res)
	var o identity.Organization
	res.decode(t, &o)
	require.Equal(t, int32(2), o.CallConcurrencyLimit)
	require.Len(t, e.auditTrail(t, tn.OrgID, "organization", tn.OrgID), 1)
}

func TestOrganizationDelete(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	admin := e.newUser(t, tn, access.RoleAdmin)
	viewer := e.newUser(t, tn, access.RoleViewer)

	res := e.do(t, http.MethodDelete, "/api/v1/organizations/current", withToken(admin.Token))
	requireStatus(t, http.StatusForbidden, res)
	require.Contains(t, res.problem(t).Detail, "org:delete")

	res = e.do(t, http.MethodDelete, "/api/v1/organizations/current", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusNoContent, res)

	// Every later call of its users is refused, whatever the route.
	for _, tok := range []string{tn.Owner.Token, admin.Token, viewer.Token} {
		for _, path := range []string{"/api/v1/organizations/current", "/api/v1/tags", "/api/v1/users", "/api/v1/permissions"} {
			res = e.do(t, http.MethodGet, path, withToken(tok))
			requireStatus(t, http.StatusForbidden, res)
			require.Contains(t, res.problem(t).Detail, "deleted")
		}
	}

	trail := e.auditTrail(t, tn.OrgID, "organization", tn.OrgID)
	require.Equal(t, audit.Delete, trail[0].Action)
	require.Equal(t, "active", jsonObject(t, trail[0].OldValue)["status"])
	require.Equal(t, "deleted", jsonObject(t, trail[0].NewValue)["status"])
	require.Equal(t, tn.Owner.ID, *trail[0].ActorUserID)
}

func TestPlatformOrganizationCannotBeDeleted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	staff := e.newPlatformAdmin(t)
	res := e.do(t, http.MethodDelete, "/api/v1/organizations/current", withToken(staff.Token))
	requireStatus(t, http.StatusConflict, res)
	res = e.do(t, http.MethodGet, "/api/v1/admin/organizations", withToken(staff.Token))
	requireStatus(t, http.StatusOK, res)
}

func TestAdminOrganizations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	staff := e.newPlatformAdmin(t)
	tok := withToken(staff.Token)
	tn := e.newTenant(t)
	agent := e.newUser(t, tn, access.RoleAgent)

	// Create an organization with its owner.
	res := e.do(t, http.MethodPost, "/api/v1/admin/organizations", tok, withJSON(map[string]any{
		"organization_name": "Lakeside Auto", "full_name": "Lee Lakeside", "email": "Lee@Lakeside.example",
		"password": "a-long-enough-password", "timezone": "America/Denver",
	}))
	requireStatus(t, http.StatusCreated, res)
	var created identity.Registered
	res.decode(t, &created)
	require.Equal(t, "lee@lakeside.example", created.User.Email)
	require.Equal(t, access.RoleOwner, created.User.Role)
	require.False(t, created.User.IsPlatformAdmin)
	require.Equal(t, "lakeside-auto", created.Organization.Slug)
	newOwner := e.token(t, created.Organization.ID, created.User.ID, access.RoleOwner)
	res = e.do(t, http.MethodGet, "/api/v1/organizations/current", withToken(newOwner))
	requireStatus(t, http.StatusOK, res)
	trail := e.auditTrail(t, created.Organization.ID, "organization", created.Organization.ID)
	require.Len(t, trail, 1)
	require.Equal(t, staff.ID, *trail[0].ActorUserID, "the admin is the actor, in the new organization's log")

	// The same email again is a conflict.
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations", tok, withJSON(map[string]any{
		"organization_name": "Other", "full_name": "X", "email": "lee@lakeside.example", "password": "a-long-enough-password",
	}))
	requireStatus(t, http.StatusConflict, res)

	// List: newest first, every tenant, filterable by status.
	res = e.do(t, http.MethodGet, "/api/v1/admin/organizations", tok)
	requireStatus(t, http.StatusOK, res)
	var all struct{ Items []identity.Organization }
	res.decode(t, &all)
	require.Len(t, all.Items, 3)
	require.Equal(t, created.Organization.ID, all.Items[0].ID)
	require.Equal(t, tn.OrgID, all.Items[1].ID)

	res = e.do(t, http.MethodGet, "/api/v1/admin/organizations/"+tn.OrgID.String(), tok)
	requireStatus(t, http.StatusOK, res)

	// Suspend: the tenant's users get 403 everywhere.
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+tn.OrgID.String()+"/suspend", tok)
	requireStatus(t, http.StatusOK, res)
	var suspended identity.Organization
	res.decode(t, &suspended)
	require.Equal(t, identity.OrgSuspended, suspended.Status)
	for _, tk := range []string{tn.Owner.Token, agent.Token} {
		for _, path := range []string{"/api/v1/tags", "/api/v1/organizations/current", "/api/v1/users"} {
			res = e.do(t, http.MethodGet, path, withToken(tk))
			requireStatus(t, http.StatusForbidden, res)
			require.Contains(t, res.problem(t).Detail, "suspended")
		}
	}
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(tn.Owner.Token), withJSON(map[string]any{"name": "x"}))
	requireStatus(t, http.StatusForbidden, res)
	// Suspending again changes nothing.
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+tn.OrgID.String()+"/suspend", tok)
	requireStatus(t, http.StatusOK, res)

	res = e.do(t, http.MethodGet, "/api/v1/admin/organizations?status=suspended", tok)
	requireStatus(t, http.StatusOK, res)
	var onlySuspended struct{ Items []identity.Organization }
	res.decode(t, &onlySuspended)
	require.Len(t, onlySuspended.Items, 1)
	require.Equal(t, tn.OrgID, onlySuspended.Items[0].ID)

	// Reactivate: back to work.
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+tn.OrgID.String()+"/reactivate", tok)
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodGet, "/api/v1/tags", withToken(agent.Token))
	requireStatus(t, http.StatusOK, res)

	// One audit row per change, in the target organization, by the admin.
	trail = e.auditTrail(t, tn.OrgID, "organization", tn.OrgID)
	require.Len(t, trail, 3, "registration, suspend, reactivate")
	for _, a := range trail[:2] {
		require.Equal(t, audit.Update, a.Action)
		require.Equal(t, staff.ID, *a.ActorUserID)
	}
	require.Equal(t, "suspended", jsonObject(t, trail[1].NewValue)["status"])
	require.Equal(t, "active", jsonObject(t, trail[0].NewValue)["status"])

	// The platform organization itself cannot be suspended.
	res = e.do(t, http.MethodGet, "/api/v1/organizations/current", tok)
	requireStatus(t, http.StatusOK, res)
	var platform identity.Organization
	res.decode(t, &platform)
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+platform.ID.String()+"/suspend", tok)
	requireStatus(t, http.StatusConflict, res)

	// A deleted organization stays deleted.
	res = e.do(t, http.MethodDelete, "/api/v1/organizations/current", withToken(newOwner))
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodPost, "/api/v1/admin/organizations/"+created.Organization.ID.String()+"/reactivate", tok)
	requireStatus(t, http.StatusConflict, res)
}

func TestAdminOrganizationListPagination(t *testing.T) {
	t.Parallel()
	e := setup(t)
	staff := e.newPlatformAdmin(t)
	want := map[uuid.UUID]bool{}
	for range 4 {
		want[e.newTenant(t).OrgID] = true
	}
	var seen []uuid.UUID
	cursor := ""
	for range 5 {
		res := e.do(t, http.MethodGet, "/api/v1/admin/organizations?limit=2&cursor="+cursor, withToken(staff.Token))
		requireStatus(t, http.StatusOK, res)
		var pg struct {
			Items      []identity.Organization
			NextCursor *string `json:"next_cursor"`
		}
		res.decode(t, &pg)
		require.LessOrEqual(t, len(pg.Items), 2)
		for _, o := range pg.Items {
			seen = append(seen, o.ID)
		}
		if pg.NextCursor == nil {
			break
		}
		cursor = *pg.NextCursor
	}
	require.Len(t, seen, 5, "four tenants and the platform organization, each once")
	for i := 1; i < len(seen); i++ {
		require.Positive(t, strings.Compare(seen[i-1].String(), seen[i].String()), "newest first")
	}
	for id := range want {
		require.Contains(t, seen, id)
	}
}

func TestAdminRoutesRequirePlatformAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	staff := e.newPlatformAdmin(t)
	id := tn.OrgID.String()
	routes := []struct {
		method, path string
		body         reqOpt
	}{
		{http.MethodGet, "/api/v1/admin/organizations", nil},
		{http.MethodPost, "/api/v1/admin/organizations", withJSON(map[string]any{
			"organization_name": "Sneaky", "full_name": "S", "email": "s@sneaky.example", "password": "a-long-enough-password",
		})},
		{http.MethodGet, "/api/v1/admin/organizations/" + id, nil},
		{http.MethodPost, "/api/v1/admin/organizations/" + id + "/suspend", nil},
		{http.MethodPost, "/api/v1/admin/organizations/" + id + "/reactivate", nil},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			opts := []reqOpt{withToken(tn.Owner.Token)}
			if r.body != nil {
				opts = append(opts, r.body)
			}
			res := e.do(t, r.method, r.path, opts...)
			requireStatus(t, http.StatusForbidden, res)
			require.Contains(t, res.problem(t).Detail, "platform administrators")

			res = e.do(t, r.method, r.path)
			requireStatus(t, http.StatusUnauthorized, res)
		})
	}
	// Nothing happened: the organization is active and the email is free.
	res := e.do(t, http.MethodGet, "/api/v1/tags", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	registered, err := e.identity.EmailRegistered(context.Background(), "s@sneaky.example")
	require.NoError(t, err)
	require.False(t, registered)

	// Bad input on the admin routes.
	tok := withToken(staff.Token)
	bad := []struct {
		name, method, path string
		body               reqOpt
		status             int
	}{
		{"bad uuid", http.MethodPost, "/api/v1/admin/organizations/not-a-uuid/suspend", nil, http.StatusUnprocessableEntity},
		{"unknown org", http.MethodPost, "/api/v1/admin/organizations/" + uuid.NewString() + "/suspend", nil, http.StatusNotFound},
		{"unknown org get", http.MethodGet, "/api/v1/admin/organizations/" + uuid.NewString(), nil, http.StatusNotFound},
		{"bad status filter", http.MethodGet, "/api/v1/admin/organizations?status=gone", nil, http.StatusUnprocessableEntity},
		{"missing fields", http.MethodPost, "/api/v1/admin/organizations", withJSON(map[string]any{"organization_name": "X"}), http.StatusUnprocessableEntity},
		{"short password", http.MethodPost, "/api/v1/admin/organizations", withJSON(map[string]any{
			"organization_name": "X", "full_name": "X", "email": "x@x.example", "password": "short",
		}), http.StatusUnprocessableEntity},
		{"platform flag is not an input", http.MethodPost, "/api/v1/admin/organizations", withJSON(map[string]any{
			"organization_name": "X", "full_name": "X", "email": "x@x.example", "password": "a-long-enough-password", "platform_admin": true,
		}), http.StatusUnprocessableEntity},
		{"malformed json", http.MethodPost, "/api/v1/admin/organizations", withRaw("application/json", "{"), http.StatusBadRequest},
	}
	for _, tt := range bad {
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
}
