package idempotency_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestValidateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"uuid", uuid.NewString(), true},
		{"one char", "a", true},
		{"max length", strings.Repeat("k", 255), true},
		{"printable punctuation and space", `a b~!"#$%&'()*+,-./:;<=>?@[\]^_{|}`, true},
		{"empty", "", false},
		{"too long", strings.Repeat("k", 256), false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"nul", "a\x00b", false},
		{"del", "a\x7fb", false},
		{"non-ascii", "clé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := idempotency.ValidateKey(tt.key)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.True(t, fault.Is(err, fault.Invalid), "err: %v", err)
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := idempotency.Fingerprint("POST", "/api/v1/tags", []byte(`{"name":"a"}`))
	require.Len(t, base, 32)
	require.Equal(t, base, idempotency.Fingerprint("POST", "/api/v1/tags", []byte(`{"name":"a"}`)))
	require.NotEqual(t, base, idempotency.Fingerprint("POST", "/api/v1/tags", []byte(`{"name":"b"}`)))
	require.NotEqual(t, base, idempotency.Fingerprint("POST", "/api/v1/tag", []byte(`{"name":"a"}`)))
	require.NotEqual(t, base, idempotency.Fingerprint("PUT", "/api/v1/tags", []byte(`{"name":"a"}`)))
	// Moving bytes between the parts changes the fingerprint.
	require.NotEqual(t, idempotency.Fingerprint("POST", "/ab", nil), idempotency.Fingerprint("POST", "/a", []byte("b")))
	require.NotEqual(t, idempotency.Fingerprint("POST/", "a", nil), idempotency.Fingerprint("POST", "/a", nil))
}

func TestStorable(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{200: true, 201: true, 204: true, 400: true, 404: true, 409: true, 422: true,
		401: false, 403: false, 408: false, 429: false, 499: false, 500: false, 503: false} {
		require.Equal(t, want, idempotency.Storable(status), "status %d", status)
	}
}

// FuzzIdempotencyKey drives key validation and fingerprinting with arbitrary
// input: it never panics, rejects every key that is not 1-255 printable
// ASCII characters, and fingerprints the same request the same way.
func FuzzIdempotencyKey(f *testing.F) {
	f.Add("9f1c7a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "/api/v1/tags", []byte(`{"name":"Brakes"}`))
	f.Add("", "/", []byte{})
	f.Add("a\x00b", "/api/v1/tags?x=1", []byte{0xff})
	f.Add(strings.Repeat("k", 256), "", []byte(nil))
	f.Add("clé", "/api/v1/users", []byte("{}"))
	org, actor := uuid.New(), uuid.New()
	f.Fuzz(func(t *testing.T, key, path string, body []byte) {
		req, err := idempotency.NewRequest(org, actor, key, http.MethodPost, path, body)
		valid := len(key) >= 1 && len(key) <= 255
		for i := range len(key) {
			valid = valid && key[i] >= 0x20 && key[i] <= 0x7e
		}
		if !valid {
			require.Error(t, err, "key %q accepted", key)
			require.True(t, fault.Is(err, fault.Invalid))
			return
		}
		require.NoError(t, err)
		require.Equal(t, key, req.Key)
		again, err := idempotency.NewRequest(org, actor, key, http.MethodPost, path, bytes.Clone(body))
		require.NoError(t, err)
		require.Equal(t, req.Fingerprint, again.Fingerprint)
		other := idempotency.Fingerprint(http.MethodPost, path, append(bytes.Clone(body), 'x'))
		require.NotEqual(t, req.Fingerprint, other)
	})
}

// storeEnv is a store over a fresh database with one organization, and a
// clock the test moves.
type storeEnv struct {
	store *idempotency.Store
	org   uuid.UUID
	clock *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func setupStore(t *testing.T) *storeEnv {
	t.Helper()
	d := pgtest.New(t)
	var org uuid.UUID
	slug := "dealer-" + uuid.NewString()[:8]
	require.NoError(t, d.Owner.QueryRow(context.Background(),
		`INSERT INTO organizations (name, slug) VALUES ($1, $1) RETURNING id`, slug).Scan(&org))
	c := &clock{now: time.Now()}
	return &storeEnv{
		store: &idempotency.Store{DB: &postgres.DB{Pool: d.App}, TTL: 24 * time.Hour, Lease: time.Minute, Now: c.Now},
		org:   org,
		clock: c,
	}
}

func (e *storeEnv) request(t *testing.T, actor uuid.UUID, key, body string) idempotency.Request {
	t.Helper()
	req, err := idempotency.NewRequest(e.org, actor, key, http.MethodPost, "/api/v1/tags", []byte(body))
	require.NoError(t, err)
	return req
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	e := setupStore(t)
	ctx := context.Background()
	actor := uuid.New()
	req := e.request(t, actor, "k1", `{"name":"a"}`)

	claim, err := e.store.Begin(ctx, req)
	require.NoError(t, err)
	require.Nil(t, claim.Replay, "a new key runs")

	_, err = e.store.Begin(ctx, req)
	require.True(t, fault.Is(err, fault.Conflict), "in progress: %v", err)
	_, err = e.store.Begin(ctx, e.request(t, actor, "k1", `{"name":"b"}`))
	require.True(t, fault.Is(err, fault.Mismatch), "another body: %v", err)

	res := idempotency.Response{Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "Location": {"/x"}}, Body: []byte(`{"id":1}`)}
	require.NoError(t, e.store.Complete(ctx, claim, res))

	again, err := e.store.Begin(ctx, req)
	require.NoError(t, err)
	require.NotNil(t, again.Replay)
	require.Equal(t, res, *again.Replay)

	_, err = e.store.Begin(ctx, e.request(t, actor, "k1", `{"name":"b"}`))
	require.True(t, fault.Is(err, fault.Mismatch), "another body after completion: %v", err)

	// Another actor's key of the same name is another record.
	other, err := e.store.Begin(ctx, e.request(t, uuid.New(), "k1", `{"name":"b"}`))
	require.NoError(t, err)
	require.Nil(t, other.Replay)

	// Past the TTL, the key is new again, whatever the body.
	e.clock.advance(24*time.Hour + time.Second)
	fresh, err := e.store.Begin(ctx, e.request(t, actor, "k1", `{"name":"c"}`))
	require.NoError(t, err)
	require.Nil(t, fresh.Replay)
}

func TestStoreRelease(t *testing.T) {
	t.Parallel()
	e := setupStore(t)
	ctx := context.Background()
	req := e.request(t, uuid.New(), "k", `{}`)
	claim, err := e.store.Begin(ctx, req)
	require.NoError(t, err)
	require.NoError(t, e.store.Release(ctx, claim))
	again, err := e.store.Begin(ctx, req)
	require.NoError(t, err, "a released key runs again")
	require.Nil(t, again.Replay)
}

func TestStoreStaleClaimIsTakenOver(t *testing.T) {
	t.Parallel()
	e := setupStore(t)
	ctx := context.Background()
	req := e.request(t, uuid.New(), "k", `{}`)
	dead, err := e.store.Begin(ctx, req)
	require.NoError(t, err)

	e.clock.advance(30 * time.Second)
	_, err = e.store.Begin(ctx, req)
	require.True(t, fault.Is(err, fault.Conflict), "within the lease: %v", err)

	e.clock.advance(31 * time.Second)
	live, err := e.store.Begin(ctx, req)
	require.NoError(t, err, "past the lease the claim is abandoned")
	require.Nil(t, live.Replay)

	// The dead execution finishing late does not overwrite the live one.
	require.NoError(t, e.store.Complete(ctx, dead, idempotency.Response{Status: 201, Body: []byte("dead")}))
	require.NoError(t, e.store.Release(ctx, dead))
	_, err = e.store.Begin(ctx, req)
	require.True(t, fault.Is(err, fault.Conflict), "the live claim still holds: %v", err)
	require.NoError(t, e.store.Complete(ctx, live, idempotency.Response{Status: 201, Body: []byte("live")}))
	got, err := e.store.Begin(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "live", string(got.Replay.Body))
}

func TestStoreConcurrentBegin(t *testing.T) {
	t.Parallel()
	e := setupStore(t)
	req := e.request(t, uuid.New(), "race", `{}`)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	claims := make([]*idempotency.Claim, n)
	for i := range n {
		wg.Go(func() { claims[i], errs[i] = e.store.Begin(context.Background(), req) })
	}
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] == nil {
			require.Nil(t, claims[i].Replay)
			won++
			continue
		}
		require.True(t, fault.Is(errs[i], fault.Conflict), "err: %v", errs[i])
	}
	require.Equal(t, 1, won, "exactly one request claims the key")
}
