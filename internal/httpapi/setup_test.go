package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's running API over its own database.
type env struct {
	db       *pgtest.DB
	pdb      *postgres.DB
	identity *identity.Service
	api      *httpapi.Server
	srv      *httptest.Server
}

// setup starts the API on a fresh database.
func setup(t testing.TB) *env {
	t.Helper()
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	ids := &identity.Service{
		DB:         pdb,
		Tokens:     &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour,
	}
	deps := httpapi.Deps{
		DB:          pdb,
		Identity:    ids,
		Tags:        &tag.Service{DB: pdb},
		Audit:       &audit.Service{DB: pdb},
		Settings:    &setting.Service{DB: pdb},
		Idempotency: &idempotency.Store{DB: pdb, TTL: 24 * time.Hour},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(deps, httpapi.Options{Version: "test", MaxBodyBytes: 64 << 10}, log)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &env{db: d, pdb: pdb, identity: ids, api: api, srv: srv}
}

// testUser is a user with a ready access token.
type testUser struct {
	ID       uuid.UUID
	Email    string
	Password string
	Role     string
	Token    string
}

// tenant is a registered organization and its owner.
type tenant struct {
	OrgID uuid.UUID
	Owner testUser
}

const testPassword = "correct-horse-battery"

// newTenant registers an organization through the identity service.
func (e *env) newTenant(t testing.TB) *tenant {
	t.Helper()
	email := "owner-" + uuid.NewString()[:8] + "@example.com"
	reg, err := e.identity.Register(context.Background(), identity.Registration{
		OrganizationName: "Dealer " + email[6:14], FullName: "Olive Owner", Email: email, Password: testPassword,
	})
	require.NoError(t, err)
	owner := testUser{ID: reg.User.ID, Email: email, Password: testPassword, Role: access.RoleOwner}
	owner.Token = e.token(t, reg.Organization.ID, owner.ID, access.RoleOwner)
	return &tenant{OrgID: reg.Organization.ID, Owner: owner}
}

// newUser adds a user with a system role (or a custom role's key) to tn.
func (e *env) newUser(t testing.TB, tn *tenant, roleKey string) testUser {
	t.Helper()
	ctx := context.Background()
	u := testUser{ID: uuid.Must(uuid.NewV7()), Email: roleKey + "-" + uuid.NewString()[:8] + "@example.com", Password: testPassword, Role: roleKey}
	hash, err := identity.HashPassword(u.Password)
	require.NoError(t, err)
	require.NoError(t, e.pdb.InTenant(ctx, tn.OrgID, func(tx *postgres.Tx) error {
		role, err := tx.RoleGetByKey(ctx, tn.OrgID, roleKey)
		if err != nil {
			return err
		}
		_, err = tx.UserInsert(ctx, db.UserInsertParams{
			OrganizationID: tn.OrgID, ID: u.ID, Email: u.Email, FullName: "Test " + roleKey, PasswordHash: hash, RoleID: role.ID,
		})
		return err
	}))
	u.Token = e.token(t, tn.OrgID, u.ID, roleKey)
	return u
}

func (e *env) token(t testing.TB, org, user uuid.UUID, role string) string {
	t.Helper()
	tok, _, err := e.identity.Tokens.Issue(user, org, role)
	require.NoError(t, err)
	return tok
}

// response is a captured HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// problem decodes an RFC 9457 body and checks its content type.
func (r *response) problem(t *testing.T) problemBody {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	var p problemBody
	r.decode(t, &p)
	return p
}

type problemBody struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

type reqOpt func(*http.Request)

func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withHeader(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// withRaw sends body as-is with content type ctype.
func withRaw(ctype, body string) reqOpt {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", ctype)
	}
}

// withJSON sends v marshalled as JSON.
func withJSON(v any) reqOpt {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return withRaw("application/json", string(b))
}

// do sends a request to the test server.
func (e *env) do(t *testing.T, method, path string, opts ...reqOpt) *response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, http.NoBody)
	require.NoError(t, err)
	for _, o := range opts {
		o(req)
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &response{Status: res.StatusCode, Header: res.Header, Body: bytes.TrimSpace(b)}
}

// requireStatus fails with the body when the status differs.
func requireStatus(t *testing.T, want int, r *response) {
	t.Helper()
	require.Equal(t, want, r.Status, "body: %s", r.Body)
}
