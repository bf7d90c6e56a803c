package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/tag"
)

func withKey(key string) reqOpt { return withHeader("Idempotency-Key", key) }

// countTags returns how many tags tok's organization has.
func (e *env) countTags(t *testing.T, tok reqOpt) int {
	t.Helper()
	res := e.do(t, http.MethodGet, "/api/v1/tags?limit=200", tok)
	requireStatus(t, http.StatusOK, res)
	var l struct{ Items []tag.Tag }
	res.decode(t, &l)
	return len(l.Items)
}

// idempotencyRows counts the stored records of every tenant.
func (e *env) idempotencyRows(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM idempotency_keys`).Scan(&n))
	return n
}

func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	body := withJSON(map[string]any{"name": "Brakes", "type": "service_type"})

	first := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("create-brakes-1"), body)
	requireStatus(t, http.StatusCreated, first)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))
	var created tag.Tag
	first.decode(t, &created)

	for range 2 {
		again := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("create-brakes-1"), body)
		requireStatus(t, http.StatusCreated, again)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body), "the stored body, byte for byte")
		require.Equal(t, first.Header.Get("Content-Type"), again.Header.Get("Content-Type"))
		require.NotEqual(t, first.Header.Get("X-Request-Id"), again.Header.Get("X-Request-Id"), "the request id is the new request's")
	}

	require.Equal(t, 1, e.countTags(t, tok), "the handler ran once")
	res := e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=tag&entity_id="+created.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 1, "one create in the audit log")

	// A client error is stored and replayed too: the same request would fail
	// the same way.
	bad := withJSON(map[string]any{"name": "  "})
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("blank"), bad)
	requireStatus(t, http.StatusUnprocessableEntity, res)
	again := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("blank"), bad)
	requireStatus(t, http.StatusUnprocessableEntity, again)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(res.Body), string(again.Body))
	again.problem(t)
}

func TestIdempotencyMismatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	res := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("k"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)

	tests := []struct {
		name string
		path string
		body reqOpt
	}{
		{"other body", "/api/v1/tags", withJSON(map[string]any{"name": "Tires"})},
		{"same fields, other bytes", "/api/v1/tags", withRaw("application/json", `{ "name": "Brakes" }`)},
		{"other path", "/api/v1/tags?type=custom", withJSON(map[string]any{"name": "Brakes"})},
		{"unknown path", "/api/v1/nowhere", withJSON(map[string]any{"name": "Brakes"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, tt.path, tok, withKey("k"), tt.body)
			requireStatus(t, http.StatusUnprocessableEntity, res)
			p := res.problem(t)
			require.Contains(t, p.Detail, "different request")
		})
	}
	require.Equal(t, 1, e.countTags(t, tok))
}

func TestIdempotencyNewKeyRunsAgain(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	res := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("k1"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("k2"), withJSON(map[string]any{"name": "Tires"}))
	requireStatus(t, http.StatusCreated, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	// The same body under a new key runs again, and meets the tag's own
	// uniqueness rule rather than a replay.
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("k3"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusConflict, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 2, e.countTags(t, tok))
}

func TestIdempotencyConcurrentRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	const n = 12
	type result struct {
		status   int
		replayed bool
		body     string
		err      error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+"/api/v1/tags",
				strings.NewReader(`{"name":"Brakes"}`))
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+tn.Owner.Token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "same-key")
			res, err := e.srv.Client().Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			results[i] = result{status: res.StatusCode, replayed: res.Header.Get("Idempotent-Replayed") == "true", body: string(b), err: err}
		})
	}
	close(start)
	wg.Wait()

	var executed []string
	for _, r := range results {
		require.NoError(t, r.err)
		switch {
		case r.status == http.StatusCreated && !r.replayed:
			executed = append(executed, r.body)
		case r.status == http.StatusCreated && r.replayed:
		case r.status == http.StatusConflict:
			require.Contains(t, r.body, "in progress")
		default:
			t.Fatalf("unexpected answer %d: %s", r.status, r.body)
		}
	}
	require.Len(t, executed, 1, "exactly one request ran")
	for _, r := range results {
		if r.replayed {
			require.Equal(t, executed[0], r.body)
		}
	}
	require.Equal(t, 1, e.countTags(t, withToken(tn.Owner.Token)))
}

func TestIdempotencyServerErrorIsNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	// A tag service over a closed pool fails every call with a 500.
	closed, err := pgxpool.New(context.Background(), e.db.AppDSN)
	require.NoError(t, err)
	closed.Close()
	broken := e.withDeps(t, func(d *httpapi.Deps) { d.Tags = &tag.Service{DB: &postgres.DB{Pool: closed}} })

	body := withJSON(map[string]any{"name": "Brakes"})
	res := broken.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("retry-me"), body)
	requireStatus(t, http.StatusInternalServerError, res)
	require.Equal(t, 0, e.idempotencyRows(t), "the claim was released")

	// The retry runs for real.
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("retry-me"), body)
	requireStatus(t, http.StatusCreated, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 1, e.idempotencyRows(t))
}

func TestIdempotencyKeysArePerActor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	admin := e.newUser(t, tn, "admin")
	owner := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/tags", owner, withKey("shared"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)
	// Another user's same key with another body is not a mismatch…
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(admin.Token), withKey("shared"), withJSON(map[string]any{"name": "Tires"}))
	requireStatus(t, http.StatusCreated, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	// …and with the owner's body it runs afresh (meeting the unique name)
	// instead of replaying the owner's response.
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(admin.Token), withKey("shared-2"), withJSON(map[string]any{"name": "Oil"}))
	requireStatus(t, http.StatusCreated, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", owner, withKey("shared-2"), withJSON(map[string]any{"name": "Oil"}))
	requireStatus(t, http.StatusConflict, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))

	// Keys of another tenant's user are theirs alone as well.
	other := e.newTenant(t)
	res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(other.Owner.Token), withKey("shared"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 3, e.countTags(t, owner))
}

func TestIdempotencyBadKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	body := withJSON(map[string]any{"name": "Brakes"})
	tests := []struct {
		name string
		opts []reqOpt
	}{
		{"empty", []reqOpt{withKey("")}},
		{"too long", []reqOpt{withKey(strings.Repeat("k", 256))}},
		{"tab inside", []reqOpt{withKey("a\tb")}},
		{"non-ascii", []reqOpt{withKey("clé")}},
		{"two headers", []reqOpt{func(r *http.Request) {
			r.Header.Add("Idempotency-Key", "a")
			r.Header.Add("Idempotency-Key", "b")
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, "/api/v1/tags", append([]reqOpt{tok, body}, tt.opts...)...)
			requireStatus(t, http.StatusBadRequest, res)
			p := res.problem(t)
			require.Len(t, p.Errors, 1)
			require.Equal(t, "header.Idempotency-Key", p.Errors[0].Location)
		})
	}

	// Control characters cannot cross a real client; hand them to the
	// handler directly.
	for _, key := range []string{"a\x01b", "a\x7f", "\x00"} {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/v1/tags", strings.NewReader(`{"name":"Brakes"}`))
		req.Header.Set("Authorization", "Bearer "+tn.Owner.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header["Idempotency-Key"] = []string{key}
		rec := httptest.NewRecorder()
		e.api.Handler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code, "key %q: %s", key, rec.Body)
	}
	require.Equal(t, 0, e.countTags(t, tok), "nothing ran")
	require.Equal(t, 0, e.idempotencyRows(t))

	// The largest valid key works.
	res := e.do(t, http.MethodPost, "/api/v1/tags", tok, body, withKey(strings.Repeat("k", 255)))
	requireStatus(t, http.StatusCreated, res)
}

func TestIdempotencyPassThrough(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	// Without a principal the header is ignored: the route's own rule answers.
	res := e.do(t, http.MethodPost, "/api/v1/tags", withKey(""), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusUnauthorized, res)
	// Other methods ignore it.
	res = e.do(t, http.MethodGet, "/api/v1/tags", tok, withKey("\tnot even valid"))
	requireStatus(t, http.StatusOK, res)
	// Without the header, every POST runs.
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusConflict, res)
	require.Equal(t, 0, e.idempotencyRows(t))

	// A refusal decided before anything runs is not stored: once the role
	// is fixed, the same key must run.
	viewer := e.newUser(t, tn, access.RoleViewer)
	for range 2 {
		res = e.do(t, http.MethodPost, "/api/v1/tags", withToken(viewer.Token), withKey("v"), withJSON(map[string]any{"name": "Tires"}))
		requireStatus(t, http.StatusForbidden, res)
		require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	}
	require.Equal(t, 0, e.idempotencyRows(t))

	// An oversized body is refused before a key is claimed.
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("big"),
		withRaw("application/json", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`))
	requireStatus(t, http.StatusRequestEntityTooLarge, res)
	require.Equal(t, 0, e.idempotencyRows(t))
}

func TestIdempotencyExpiredKeyIsNew(t *testing.T) {
	t.Parallel()
	base := setup(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	e := base.withDeps(t, func(d *httpapi.Deps) {
		d.Idempotency = &idempotency.Store{DB: base.pdb, TTL: 24 * time.Hour, Now: clock}
	})
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	res := e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("daily"), withJSON(map[string]any{"name": "Brakes"}))
	requireStatus(t, http.StatusCreated, res)
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("daily"), withJSON(map[string]any{"name": "Tires"}))
	requireStatus(t, http.StatusUnprocessableEntity, res)

	mu.Lock()
	now = now.Add(24*time.Hour + time.Minute)
	mu.Unlock()

	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("daily"), withJSON(map[string]any{"name": "Tires"}))
	requireStatus(t, http.StatusCreated, res)
	require.Empty(t, res.Header.Get("Idempotent-Replayed"))
	res = e.do(t, http.MethodPost, "/api/v1/tags", tok, withKey("daily"), withJSON(map[string]any{"name": "Tires"}))
	requireStatus(t, http.StatusCreated, res)
	require.Equal(t, "true", res.Header.Get("Idempotent-Replayed"), "the new record replays in turn")
	require.Equal(t, 2, e.countTags(t, tok))
}
