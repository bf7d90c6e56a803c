package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/jobs"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voicesim"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const webhookSecret = "test-webhook-secret"

// env is one test's running API over its own database, wired as
// cmd/autopulse serve wires it: every service of the core loop (records,
// campaigns, dispatch, calls) over a file blob store, one River client that
// every service enqueues through, and voicesim as the voice provider, a
// real HTTP peer that posts signed webhooks back to the API.
type env struct {
	db       *pgtest.DB
	pdb      *postgres.DB
	identity *identity.Service
	deps     httpapi.Deps
	opts     httpapi.Options
	log      *slog.Logger
	api      *httpapi.Server
	srv      *httptest.Server

	records *record.Service
	calls   *call.Service
	jobs    *river.Client[pgx.Tx]
	metrics *metrics.Metrics
	sealer  *record.Sealer
	blobDir string
	// sim is the voice provider; simURL its base URL, dialer a Vapi client
	// of it (the dispatcher's provider).
	sim    *voicesim.Server
	simURL string
	dialer *vapi.Client
}

// options are what tests vary about the harness; the zero value is the
// production wiring with jobs enqueued but not worked, the real clock and
// no River UI.
type options struct {
	workers        bool
	jobsUI         bool
	now            func() time.Time
	faults         voicesim.Faults
	recordingHosts []string
	dmsClient      *http.Client
	maxUploadBytes int64
}

type option func(*options)

// withWorkers works the jobs in-process (every worker of the production
// client; the periodic scheduler pass is left out, so nothing dials unless a
// test asks for it). Without it, jobs wait in river_job for the test to run
// or inspect.
func withWorkers() option { return func(o *options) { o.workers = true } }

// withJobsUI mounts the River UI at /admin/jobs.
func withJobsUI() option { return func(o *options) { o.jobsUI = true } }

// withLoopClock is the clock of the campaign, dispatch and call services.
func withLoopClock(now func() time.Time) option { return func(o *options) { o.now = now } }

// withSimFaults makes the simulator misbehave on purpose.
func withSimFaults(f voicesim.Faults) option { return func(o *options) { o.faults = f } }

// withRecordingHosts replaces the recording allow-list (default: the
// simulator's host).
func withRecordingHosts(hosts ...string) option {
	return func(o *options) { o.recordingHosts = hosts }
}

// withDMSClient is the record service's client for DMS endpoints (default:
// the production client, which refuses private addresses).
func withDMSClient(c *http.Client) option { return func(o *options) { o.dmsClient = c } }

// withMaxUpload caps a CSV upload (default 4 MiB).
func withMaxUpload(n int64) option { return func(o *options) { o.maxUploadBytes = n } }

// fixedClock is a clock that never moves.
func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

// setup starts the whole API on a fresh database.
func setup(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{maxUploadBytes: 4 << 20}
	for _, f := range opts {
		f(&o)
	}
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	log := slog.New(slog.DiscardHandler)
	m := metrics.New("test")

	// The API's listener comes first: the simulator needs its address.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	sim, err := voicesim.New(voicesim.Config{
		WebhookURL: "http://" + srv.Listener.Addr().String() + "/api/v1/webhooks/vapi", WebhookSecret: webhookSecret,
		Speed: 2000, Seed: 7, Faults: o.faults, WebhookBackoff: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); simSrv.Close() })
	simURL, err := url.Parse(simSrv.URL)
	require.NoError(t, err)
	provider := &vapi.Client{BaseURL: simSrv.URL, APIKey: voicesim.DevAPIKey, PhoneNumberID: voicesim.DevPhoneNumberID, AssistantID: "asst-test"}
	if o.recordingHosts == nil {
		o.recordingHosts = []string{simURL.Host}
	}

	blobDir := t.TempDir()
	store, err := blob.NewFS(blobDir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	key := make([]byte, record.KeySize)
	_, _ = rand.Read(key)
	sealer, err := record.NewSealer(key)
	require.NoError(t, err)

	ids := &identity.Service{
		DB:         pdb,
		Tokens:     &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour,
	}
	records := &record.Service{DB: pdb, Blob: store, Sealer: sealer, HTTPClient: o.dmsClient, MaxUploadBytes: o.maxUploadBytes, Log: log}
	campaigns := &campaign.Service{DB: pdb, Now: o.now}
	disp := &dispatch.Service{
		DB: pdb, Provider: provider, Finder: provider, Metrics: m, Log: log, Now: o.now,
		ActivateDue: campaign.ActivateDueTx, CompleteIfDone: campaign.CompleteIfDoneTx,
	}
	// OrphanGrace -1: an event for a call that does not exist fails at once
	// rather than waiting two minutes for the dial to commit.
	calls := &call.Service{
		DB: pdb, Blob: store, WebhookSecret: []byte(webhookSecret), RecordingHosts: o.recordingHosts, Metrics: m,
		Log: log, Now: o.now, OrphanGrace: -1, RecordingTimeout: 30 * time.Second, Provider: provider,
		CompleteIfDone: campaign.CompleteIfDoneTx,
	}

	// One River client, with every worker registered (as jobs.NewClient
	// does), handed to every service that enqueues.
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.PruneWorker{DB: pdb, Log: log})
	record.RegisterWorkers(workers, records)
	call.RegisterWorkers(workers, calls)
	require.NoError(t, dispatch.RegisterWorkers(workers, disp))
	rcfg := &river.Config{
		Logger: log, Workers: workers, TestOnly: true,
		Middleware: []rivertype.Middleware{m.JobMiddleware()},
	}
	if o.workers {
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
		rcfg.FetchPollInterval = 100 * time.Millisecond
		rcfg.FetchCooldown = 20 * time.Millisecond
	}
	rc, err := river.NewClient(riverpgxv5.New(d.App), rcfg)
	require.NoError(t, err)
	records.Jobs, campaigns.Jobs, disp.Jobs, calls.Jobs = rc, rc, rc, rc

	deps := httpapi.Deps{
		DB:          pdb,
		Identity:    ids,
		Tags:        &tag.Service{DB: pdb},
		Audit:       &audit.Service{DB: pdb},
		Settings:    &setting.Service{DB: pdb},
		Idempotency: &idempotency.Store{DB: pdb, TTL: 24 * time.Hour},
		Records:     records,
		Campaigns:   campaigns,
		Dispatch:    disp,
		Calls:       calls,
	}
	apiOpts := httpapi.Options{Version: "test", MaxBodyBytes: 64 << 10, Metrics: m}
	if o.jobsUI {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		apiOpts.JobsUI, err = httpapi.NewJobsUI(ctx, rc, log)
		require.NoError(t, err)
	}
	api := httpapi.New(deps, apiOpts, log)
	srv.Config.Handler = api.Handler()
	srv.Start()

	if o.workers {
		require.NoError(t, rc.Start(context.Background()))
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = rc.Stop(stop)
		})
	}
	return &env{
		db: d, pdb: pdb, identity: ids, deps: deps, opts: apiOpts, log: log, api: api, srv: srv,
		records: records, calls: calls, jobs: rc, metrics: m, sealer: sealer, blobDir: blobDir,
		sim: sim, simURL: simSrv.URL, dialer: provider,
	}
}

// withDeps returns e served by a second API over the same database and
// services, except what change adjusts (a clock, a broken service).
func (e *env) withDeps(t *testing.T, change func(*httpapi.Deps)) *env {
	t.Helper()
	deps := e.deps
	change(&deps)
	api := httpapi.New(deps, e.opts, e.log)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	c := *e
	c.deps, c.api, c.srv = deps, api, srv
	return &c
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

// ownerExec runs a statement through the owner role (which sees every
// tenant), for setting up what the API does not write.
func (e *env) ownerExec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := e.db.Owner.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

// scalar runs a query through the owner role and scans its one value.
func scalar[T any](t testing.TB, e *env, query string, args ...any) T {
	t.Helper()
	var v T
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), query, args...).Scan(&v), query)
	return v
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
