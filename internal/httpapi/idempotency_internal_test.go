package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

// TestIdempotentSettlesEveryOutcome drives the middleware with handlers
// that fail in each way a real one can, and checks which outcomes are
// replayed and which leave the key free for a real retry.
func TestIdempotentSettlesEveryOutcome(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	var org uuid.UUID
	require.NoError(t, d.Owner.QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('Dealer', $1) RETURNING id`,
		"dealer-"+uuid.NewString()[:8]).Scan(&org))
	s := &Server{
		deps: Deps{Idempotency: &idempotency.Store{DB: &postgres.DB{Pool: d.App}}},
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	p := &access.Principal{OrgID: org, UserID: uuid.New()}
	rows := func() int {
		var n int
		require.NoError(t, d.Owner.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n))
		return n
	}

	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		status  int
		replay  bool
	}{
		{"created", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", "/api/v1/tags/1")
			w.Header().Set("X-Other", "not replayed")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":1}`)
		}, http.StatusCreated, true},
		{"implicit 200", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "ok") }, http.StatusOK, true},
		{"empty 204", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }, http.StatusNoContent, true},
		{"client error", func(w http.ResponseWriter) { w.WriteHeader(http.StatusConflict) }, http.StatusConflict, true},
		{"server error", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, http.StatusServiceUnavailable, false},
		{"throttled", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }, http.StatusTooManyRequests, false},
		{"secret shown once", func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "private, no-store")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"key":"apk_secret"}`)
		}, http.StatusCreated, false},
		{"panic", func(http.ResponseWriter) { panic("boom") }, http.StatusInternalServerError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			h := s.recoverer(s.idempotent(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				require.NoError(t, err)
				require.Equal(t, `{"a":1}`, string(b), "the handler reads the body the middleware read")
				calls.Add(1)
				tt.handler(w)
			})))
			key := "key-" + tt.name
			send := func() *httptest.ResponseRecorder {
				req := httptest.NewRequestWithContext(access.WithPrincipal(ctx, p), http.MethodPost, "/x", strings.NewReader(`{"a":1}`))
				req.Header.Set(idempotencyKeyHeader, key)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			before := rows()
			first := send()
			require.Equal(t, tt.status, first.Code)
			second := send()
			require.Equal(t, tt.status, second.Code)
			if tt.replay {
				require.Equal(t, int32(1), calls.Load(), "replayed, not run")
				require.Equal(t, "true", second.Header().Get(replayedHeader))
				require.Equal(t, first.Body.String(), second.Body.String())
				require.Equal(t, first.Header().Get("Location"), second.Header().Get("Location"))
				require.Equal(t, first.Header().Get("Content-Type"), second.Header().Get("Content-Type"))
				require.Empty(t, second.Header().Get("X-Other"))
				require.Equal(t, before+1, rows())
				return
			}
			require.Equal(t, int32(2), calls.Load(), "not stored: the retry ran")
			require.Empty(t, second.Header().Get(replayedHeader))
			require.Equal(t, before, rows(), "the claim was released")
		})
	}
}

func TestNoStore(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"no-store": true, "private, No-Store": true, "no-cache": false, "": false, "no-storex": false} {
		h := http.Header{}
		if v != "" {
			h.Set("Cache-Control", v)
		}
		require.Equal(t, want, noStore(h), "%q", v)
	}
}
