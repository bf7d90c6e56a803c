package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is the dispatcher's clock in tests: set by hand, and optionally
// ticking with real time from the instant it was set.
type clock struct {
	mu      sync.Mutex
	at      time.Time
	since   time.Time
	ticking bool
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ticking {
		return c.at.Add(time.Since(c.since))
	}
	return c.at
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.since = t, time.Now()
}

// dialCounter counts the dial requests that reach the simulator, per
// customer number: a second request for a number is a double dial.
type dialCounter struct {
	mu       sync.Mutex
	byNumber map[string]int
}

func (d *dialCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/call" {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			var body struct {
				Customer struct {
					Number string `json:"number"`
				} `json:"customer"`
			}
			_ = json.Unmarshal(b, &body)
			d.mu.Lock()
			d.byNumber[body.Customer.Number]++
			d.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (d *dialCounter) count(number string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byNumber[number]
}

func (d *dialCounter) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.byNumber {
		n += c
	}
	return n
}

// env is one test's database, simulator and dispatcher.
type env struct {
	db    *pgtest.DB
	pdb   *postgres.DB
	clock *clock
	sim   *voicesim.Server
	vapi  *vapi.Client
	dials *dialCounter
}

// A Tuesday, 11:00 in New York: inside every continental window.
var tuesday = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

func setup(t testing.TB) *env {
	t.Helper()
	d := pgtest.New(t)
	sim, err := voicesim.New(voicesim.Config{WebhookURL: "off", Speed: 1e5, MaxCalls: 100000})
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	dials := &dialCounter{byNumber: map[string]int{}}
	srv := httptest.NewServer(dials.wrap(sim.Handler()))
	t.Cleanup(srv.Close)
	e := &env{
		db: d, pdb: &postgres.DB{Pool: d.App}, clock: &clock{}, sim: sim, dials: dials,
		vapi: &vapi.Client{
			BaseURL: srv.URL, APIKey: voicesim.DevAPIKey, PhoneNumberID: voicesim.DevPhoneNumberID,
			AssistantID: "asst-test", HTTP: srv.Client(),
		},
	}
	e.clock.Set(tuesday)
	return e
}

// service returns a dispatcher over the env with provider p (nil: the
// Vapi client).
func (e *env) service(p voice.Provider) *dispatch.Service {
	if p == nil {
		p = e.vapi
	}
	return &dispatch.Service{
		DB: e.pdb, Provider: p, Finder: e.vapi, Now: e.clock.Now,
		ReconcileGrace: 300 * time.Millisecond, DialRetryDelay: time.Minute,
	}
}

// startRiver runs svc's workers in-process until the test ends (or the
// client is stopped), and makes the client svc's job inserter.
func (e *env) startRiver(t testing.TB, svc *dispatch.Service, opts ...func(*river.Config)) *river.Client[pgx.Tx] {
	t.Helper()
	client := newRiver(t, e.db.App, svc, opts...)
	svc.Jobs = client
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = client.StopAndCancel(sctx)
		cancel()
	})
	return client
}

// newRiver builds a River client that runs svc's workers.
func newRiver(t testing.TB, pool *pgxpool.Pool, svc *dispatch.Service, opts ...func(*river.Config)) *river.Client[pgx.Tx] {
	t.Helper()
	workers := river.NewWorkers()
	require.NoError(t, dispatch.RegisterWorkers(workers, svc))
	cfg := &river.Config{
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Logger:            slog.New(slog.DiscardHandler),
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	}
	for _, o := range opts {
		o(cfg)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	require.NoError(t, err)
	return client
}

// insertOnly is a River client that only enqueues (no workers run).
func (e *env) insertOnly(t testing.TB, svc *dispatch.Service) {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(e.db.App), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	svc.Jobs = client
}

// exec runs fixture SQL as the owner (past the tenant wall).
func (e *env) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	_, err := e.db.Owner.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

func (e *env) scalar(t testing.TB, dst any, sql string, args ...any) {
	t.Helper()
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), sql, args...).Scan(dst), sql)
}

// orgOpts describe a test organization.
type orgOpts struct {
	Status string // default active
	Credit int64  // default 100000
	Limit  int    // call_concurrency_limit, default 50
	// Schedule is the organization default as "days start end" in
	// America/New_York; default every day 00:00–24:00 (legal windows only).
	Days       string
	Start, End string
}

func (e *env) org(t testing.TB, o orgOpts) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if o.Status == "" {
		o.Status = "active"
	}
	if o.Credit == 0 {
		o.Credit = 100000
	}
	if o.Limit == 0 {
		o.Limit = 50
	}
	if o.Days == "" {
		o.Days, o.Start, o.End = "{1,2,3,4,5,6,7}", "00:00", "24:00"
	}
	e.exec(t, `INSERT INTO organizations (id, name, slug, timezone, credit_balance, call_concurrency_limit, status)
		VALUES ($1, 'Dealer '||$2, 'd-'||$2, 'America/New_York', $3, $4, $5)`, id, id.String()[24:], o.Credit, o.Limit, o.Status)
	e.exec(t, `INSERT INTO schedule_configs (organization_id, timezone, active_days, start_time, end_time)
		VALUES ($1, 'America/New_York', $2::smallint[], $3::time, $4::time)`, id, o.Days, o.Start, o.End)
	return id
}

// campaignOpts describe a test campaign.
type campaignOpts struct {
	Status      string // default active
	MaxAttempts int    // default 3
	RetryGap    string // interval, default 4 hours
	EndsAt      *time.Time
}

func (e *env) campaign(t testing.TB, org uuid.UUID, o campaignOpts) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if o.Status == "" {
		o.Status = "active"
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	if o.RetryGap == "" {
		o.RetryGap = "4 hours"
	}
	e.exec(t, `INSERT INTO campaigns (organization_id, id, name, type, status, max_attempts, retry_gap, ends_at, launched_at, agent_config)
		VALUES ($1, $2, 'Feedback', 'post_service_feedback', $3, $4, $5::interval, $6, now(),
		        '{"prompt": "Ask for a 0-10 score.", "first_message": "How was your visit?", "disclosure": "This is an automated assistant; this call is recorded."}')`,
		org, id, o.Status, o.MaxAttempts, o.RetryGap, o.EndsAt)
	return id
}

// targetOpts describe a test target and its customer.
type targetOpts struct {
	Phone       string // required
	Postal      string // default 10001 (New York)
	State       string
	Status      string // default pending
	Attempts    int
	LastAttempt *time.Time
	Due         *time.Time // next_attempt_at, default the clock's now
}

func (e *env) target(t testing.TB, org, campaign uuid.UUID, o targetOpts) uuid.UUID {
	t.Helper()
	if o.Postal == "" && o.State == "" {
		o.Postal = "10001"
	}
	if o.Status == "" {
		o.Status = "pending"
	}
	due := e.clock.Now()
	if o.Due != nil {
		due = *o.Due
	}
	customer, record, id := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	e.exec(t, `INSERT INTO customers (organization_id, id, first_name, last_name, phone, postal_code, state)
		VALUES ($1, $2, 'Casey', 'Customer', $3, NULLIF($4, ''), NULLIF($5, ''))`, org, customer, o.Phone, o.Postal, o.State)
	e.exec(t, `INSERT INTO service_records (organization_id, id, customer_id, ro_number, service_date, service_type)
		VALUES ($1, $2, $3, 'RO-'||$4, '2026-03-08', 'oil change')`, org, record, customer, record.String())
	e.exec(t, `INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, service_record_id, phone,
		status, attempts, last_attempt_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		org, id, campaign, customer, record, o.Phone, o.Status, o.Attempts, o.LastAttempt, due)
	return id
}

// bulkTargets adds n due targets with generated customers and numbers
// (+1212 55x xxxx from offset on).
func (e *env) bulkTargets(t testing.TB, org, campaign uuid.UUID, n, offset int) {
	t.Helper()
	e.exec(t, `WITH c AS (
		INSERT INTO customers (organization_id, id, first_name, last_name, phone, postal_code)
		SELECT $1, uuid_v7(), 'Bulk', 'Customer', '+1212' || lpad((5500000 + $4 + g)::text, 7, '0'), '10001'
		FROM generate_series(1, $3) g
		RETURNING id, phone)
		INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, phone, status, next_attempt_at)
		SELECT $1, uuid_v7(), $2, c.id, c.phone, 'pending', $5 FROM c`, org, campaign, n, offset, e.clock.Now())
}

// waitJobs waits until no job waits or runs.
func (e *env) waitJobs(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		e.scalar(t, &n, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`)
		if n == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "%d jobs still waiting", n)
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
		time.Sleep(10 * time.Millisecond)
	}
}

// targetRow is a target's stored state.
type targetRow struct {
	Status   string
	Attempts int
	Next     *time.Time
	Verdict  *string
	Rule     *string
	Reason   *string
	Skip     *string
}

func (e *env) targetState(t testing.TB, id uuid.UUID) targetRow {
	t.Helper()
	var r targetRow
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), `SELECT status, attempts, next_attempt_at, last_decision,
		last_decision_rule, last_decision_reason, skip_reason FROM campaign_targets WHERE id = $1`, id).
		Scan(&r.Status, &r.Attempts, &r.Next, &r.Verdict, &r.Rule, &r.Reason, &r.Skip))
	return r
}

func (e *env) countWhere(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	e.scalar(t, &n, sql, args...)
	return n
}

func phone(i int) string { return fmt.Sprintf("+1212555%04d", i) }
