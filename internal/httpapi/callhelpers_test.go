package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

const webhookSecret = "test-webhook-secret"

// callEnv is the API with the call pipeline running: River workers on the
// test database, a file blob store, and voicesim as the provider, posting
// signed webhooks to the API over real HTTP.
type callEnv struct {
	*env
	calls   *call.Service
	metrics *metrics.Metrics
	store   *blob.FS
	sim     *voicesim.Server
	simURL  string
	dialer  *vapi.Client
}

type callOptions struct {
	// noWorkers inserts jobs without working them.
	noWorkers bool
	// recordingHosts overrides the allow-list (default: the simulator's host).
	recordingHosts []string
	faults         voicesim.Faults
	now            func() time.Time
}

func setupCalls(t testing.TB, opts callOptions) *callEnv {
	t.Helper()
	ctx := context.Background()
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	ids := &identity.Service{
		DB:         pdb,
		Tokens:     &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), Issuer: "autopulse", Audience: "autopulse-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour,
	}
	store, err := blob.NewFS(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New("test")
	calls := &call.Service{
		DB: pdb, Blob: store, WebhookSecret: []byte(webhookSecret), OrphanGrace: -1, Log: log, Now: opts.now,
		RecordingTimeout: 30 * time.Second, Metrics: m,
	}

	rcfg := &river.Config{Logger: log, TestOnly: true}
	if !opts.noWorkers {
		workers := river.NewWorkers()
		call.RegisterWorkers(workers, calls)
		rcfg.Workers = workers
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
		rcfg.FetchPollInterval = 100 * time.Millisecond
		rcfg.FetchCooldown = 20 * time.Millisecond
	}
	rc, err := river.NewClient(riverpgxv5.New(d.App), rcfg)
	require.NoError(t, err)
	calls.Jobs = rc
	if !opts.noWorkers {
		require.NoError(t, rc.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = rc.Stop(sctx)
		})
	}

	deps := httpapi.Deps{
		DB: pdb, Identity: ids, Tags: &tag.Service{DB: pdb}, Audit: &audit.Service{DB: pdb},
		Settings: &setting.Service{DB: pdb}, Idempotency: &idempotency.Store{DB: pdb, TTL: 24 * time.Hour}, Calls: calls,
	}
	api := httpapi.New(deps, httpapi.Options{Version: "test", MaxBodyBytes: 256 << 10}, log)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)

	sim, err := voicesim.New(voicesim.Config{
		WebhookURL: srv.URL + "/api/v1/webhooks/vapi", WebhookSecret: webhookSecret,
		Speed: 2000, Seed: 7, Faults: opts.faults, WebhookBackoff: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); simSrv.Close() })
	u, err := url.Parse(simSrv.URL)
	require.NoError(t, err)
	calls.RecordingHosts = []string{u.Host}
	if opts.recordingHosts != nil {
		calls.RecordingHosts = opts.recordingHosts
	}
	return &callEnv{
		env:   &env{db: d, pdb: pdb, identity: ids, api: api, srv: srv},
		calls: calls, metrics: m, store: store, sim: sim, simURL: simSrv.URL,
		dialer: &vapi.Client{BaseURL: simSrv.URL, APIKey: voicesim.DevAPIKey, PhoneNumberID: voicesim.DevPhoneNumberID, AssistantID: "asst-test"},
	}
}

// randomPhone returns a fictional North American number.
func randomPhone() string {
	return fmt.Sprintf("+1312555%04d", rand.IntN(10000)) //nolint:gosec // test data
}

// outbound is a call AutoPulse is about to place: the rows the dispatcher
// writes before dialing.
type outbound struct {
	Org, Campaign, Customer, Target, Call uuid.UUID
	Phone                                 string
}

type outboundOptions struct {
	campaignType string
	campaign     uuid.UUID // reuse a campaign
	attempts     int       // the target's attempts so far, this one included (default 1)
	maxAttempts  int       // default 3
	phone        string
}

// newOutbound inserts a customer, a campaign (unless given), a target being
// dialed and its call, through the application role in the tenant.
func (e *callEnv) newOutbound(t testing.TB, tn *tenant, o outboundOptions) outbound {
	t.Helper()
	ctx := context.Background()
	if o.campaignType == "" {
		o.campaignType = voice.CampaignPostServiceFeedback
	}
	if o.attempts == 0 {
		o.attempts = 1
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 3
	}
	if o.phone == "" {
		o.phone = randomPhone()
	}
	ob := outbound{Org: tn.OrgID, Campaign: o.campaign, Customer: uuid.Must(uuid.NewV7()), Target: uuid.Must(uuid.NewV7()), Call: uuid.Must(uuid.NewV7()), Phone: o.phone}
	require.NoError(t, e.pdb.InTenant(ctx, tn.OrgID, func(tx *postgres.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO customers (organization_id, id, first_name, last_name, phone, email)
			VALUES ($1, $2, 'Casey', 'Driver', $3, 'casey@example.com')`, tn.OrgID, ob.Customer, o.phone); err != nil {
			return err
		}
		if ob.Campaign == uuid.Nil {
			ob.Campaign = uuid.Must(uuid.NewV7())
			if _, err := tx.Exec(ctx, `INSERT INTO campaigns (organization_id, id, name, type, status, max_attempts, retry_gap)
				VALUES ($1, $2, 'Test campaign', $3, 'active', $4, '4 hours')`, tn.OrgID, ob.Campaign, o.campaignType, o.maxAttempts); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, phone, status, attempts)
			VALUES ($1, $2, $3, $4, $5, 'dialing', $6)`, tn.OrgID, ob.Target, ob.Campaign, ob.Customer, o.phone, o.attempts); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO calls (organization_id, id, campaign_id, target_id, customer_id, direction, from_number, to_number, status)
			VALUES ($1, $2, $3, $4, $5, 'outbound', $6, $7, 'dialing')`, tn.OrgID, ob.Call, ob.Campaign, ob.Target, ob.Customer, voicesim.DevPhoneNumber, o.phone)
		return err
	}))
	return ob
}

// dial places the call through the Vapi adapter against the simulator,
// after scripting its outcome, and returns the provider's call id.
func (e *callEnv) dial(t testing.TB, ob outbound, campaignType string, sc voicesim.Script) string {
	t.Helper()
	e.sim.ScriptCall(ob.Call.String(), sc)
	res, err := e.dialer.Dial(context.Background(), voice.DialRequest{
		CallID: ob.Call, OrganizationID: ob.Org, CampaignType: campaignType, ToNumber: ob.Phone, CustomerName: "Casey Driver",
		Disclosure: "Hi, this is an automated assistant calling for Test Motors. This call is recorded.",
		Variables:  map[string]string{"dealership_name": "Test Motors"},
	})
	require.NoError(t, err)
	return res.ProviderCallID
}

// waitSettled waits until the simulator's events for a provider call (want
// distinct ones) are all stored and settled.
func (e *callEnv) waitSettled(t testing.TB, providerCallID string, want int) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		var total, open int
		err := e.db.Owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'received')
			FROM webhook_events WHERE event_id LIKE $1 || ':%'`, providerCallID).Scan(&total, &open)
		return err == nil && total == want && open == 0
	}, 60*time.Second, 20*time.Millisecond, "events of %s did not settle", providerCallID)
}

// scalar runs a query through the owner role (which sees every tenant) and
// scans its one value.
func scalar[T any](t testing.TB, e *callEnv, query string, args ...any) T {
	t.Helper()
	var v T
	require.NoError(t, e.db.Owner.QueryRow(context.Background(), query, args...).Scan(&v), query)
	return v
}

// post signs body with the webhook secret and posts it.
func (e *callEnv) postWebhook(t *testing.T, body string, opts ...reqOpt) *response {
	t.Helper()
	all := append([]reqOpt{withRaw("application/json", body), withHeader(vapi.SignatureHeader, vapi.Sign([]byte(webhookSecret), []byte(body)))}, opts...)
	return e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", all...)
}

// settleAll waits until no stored event is still received.
func (e *callEnv) settleAll(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool {
		var open int
		err := e.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM webhook_events WHERE status = 'received'`).Scan(&open)
		return err == nil && open == 0
	}, 60*time.Second, 20*time.Millisecond)
}

// counter reads one counter of the call pipeline's metrics (0 when absent).
func (e *callEnv) counter(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := e.metrics.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
