package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/vapi"
)

// BenchmarkUserListVsPgx measures GET /api/v1/users (authentication, RBAC,
// tenant transaction with RLS, JSON) at 64 concurrent connections against
// a baseline measured in the same run: the same list query sent through raw
// pgx by the owner role, with no transaction and no RLS, over a pool of the
// same size as the API's. b.N requests run in each phase; p50/p99 of each
// and their ratios are reported.
//
//	go run ./cmd/pgrun -- go test -run '^$' -bench UserListVsPgx -benchtime 20000x ./internal/httpapi/
func BenchmarkUserListVsPgx(b *testing.B) {
	const conns = 64
	ctx := context.Background()
	e := setup(b)
	tn := e.newTenant(b)
	for range 49 { // 50 users with the owner: one full default page
		e.newUser(b, tn, access.RoleAgent)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	req := func() error {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/api/v1/users", http.NoBody)
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+tn.Owner.Token)
		res, err := client.Do(r)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var buf [32 << 10]byte
		for {
			if _, err := res.Body.Read(buf[:]); err != nil {
				break
			}
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}

	pcfg, err := pgxpool.ParseConfig(e.db.OwnerDSN)
	require.NoError(b, err)
	// The same pool size as the API's, so the ratio is the API's cost.
	pcfg.MaxConns = e.db.App.Config().MaxConns
	owner, err := pgxpool.NewWithConfig(ctx, pcfg)
	require.NoError(b, err)
	defer owner.Close()
	const listSQL = `SELECT u.*, r.key AS role_key FROM users u
		JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
		WHERE u.organization_id = $1 ORDER BY u.id DESC LIMIT 51`
	raw := func() error {
		rows, err := owner.Query(ctx, listSQL, tn.OrgID)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 50 {
			return fmt.Errorf("got %d rows", n)
		}
		return rows.Err()
	}
	require.NoError(b, req())
	require.NoError(b, raw())

	b.ResetTimer()
	apiP50, apiP99, apiRate := measure(b, conns, b.N, req)
	rawP50, rawP99, rawRate := measure(b, conns, b.N, raw)
	b.StopTimer()

	b.ReportMetric(ms(apiP50), "api-p50-ms")
	b.ReportMetric(ms(apiP99), "api-p99-ms")
	b.ReportMetric(apiRate, "api-req/s")
	b.ReportMetric(ms(rawP50), "pgx-p50-ms")
	b.ReportMetric(ms(rawP99), "pgx-p99-ms")
	b.ReportMetric(rawRate, "pgx-req/s")
	b.ReportMetric(float64(apiP50)/float64(rawP50), "p50-ratio")
	b.ReportMetric(float64(apiP99)/float64(rawP99), "p99-ratio")
}

// measure runs n calls of f on conns goroutines and returns the latency
// percentiles and the throughput.
func measure(b *testing.B, conns, n int, f func() error) (p50, p99 time.Duration, perSec float64) {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := f(); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	return lat[n/2], lat[n*99/100], float64(n) / elapsed.Seconds()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWebhookAck measures POST /api/v1/webhooks/vapi as Vapi sees it:
// signature check on the raw body, dedupe insert and job enqueue in one
// transaction, 2xx — at 64 concurrent connections, each request a distinct
// signed status update (so none is a duplicate). The baseline in the same
// run is GET /healthz through the same server and middleware: what the
// HTTP stack costs without the webhook's work. Jobs are inserted, not
// worked, so processing does not compete with acknowledgement.
//
//	go run ./cmd/pgrun -- go test -run '^$' -bench WebhookAck -benchtime 20000x ./internal/httpapi/
func BenchmarkWebhookAck(b *testing.B) {
	const conns = 64
	ctx := context.Background()
	e := setup(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var seq atomic.Int64
	send := func(method, path string, body []byte, sign bool) error {
		r, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		if sign {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(vapi.SignatureHeader, vapi.Sign([]byte(webhookSecret), body))
		}
		res, err := client.Do(r)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: status %d", method, path, res.StatusCode)
		}
		return nil
	}
	webhook := func() error {
		n := seq.Add(1)
		body := fmt.Appendf(nil, `{"message":{"type":"status-update","status":"ringing","timestamp":%d,"call":{"id":"bench-call-%d"}}}`,
			time.Now().UnixMilli(), n)
		return send(http.MethodPost, "/api/v1/webhooks/vapi", body, true)
	}
	healthz := func() error { return send(http.MethodGet, "/healthz", nil, false) }
	require.NoError(b, webhook())
	require.NoError(b, healthz())

	b.ResetTimer()
	p50, p99, rate := measure(b, conns, b.N, webhook)
	hp50, hp99, hrate := measure(b, conns, b.N, healthz)
	b.StopTimer()

	b.ReportMetric(rate, "acks/s")
	b.ReportMetric(ms(p50), "ack-p50-ms")
	b.ReportMetric(ms(p99), "ack-p99-ms")
	b.ReportMetric(hrate, "healthz-req/s")
	b.ReportMetric(ms(hp50), "healthz-p50-ms")
	b.ReportMetric(ms(hp99), "healthz-p99-ms")
	b.ReportMetric(float64(p99)/float64(hp99), "p99-ratio")
}
