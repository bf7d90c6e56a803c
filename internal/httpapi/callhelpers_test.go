package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

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
func (e *env) newOutbound(t testing.TB, tn *tenant, o outboundOptions) outbound {
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
func (e *env) dial(t testing.TB, ob outbound, campaignType string, sc voicesim.Script) string {
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
func (e *env) waitSettled(t testing.TB, providerCallID string, want int) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		var total, open int
		err := e.db.Owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'received')
			FROM webhook_events WHERE event_id LIKE $1 || ':%'`, providerCallID).Scan(&total, &open)
		return err == nil && total == want && open == 0
	}, 60*time.Second, 20*time.Millisecond, "events of %s did not settle", providerCallID)
}

// post signs body with the webhook secret and posts it.
func (e *env) postWebhook(t *testing.T, body string, opts ...reqOpt) *response {
	t.Helper()
	all := append([]reqOpt{withRaw("application/json", body), withHeader(vapi.SignatureHeader, vapi.Sign([]byte(webhookSecret), []byte(body)))}, opts...)
	return e.do(t, http.MethodPost, "/api/v1/webhooks/vapi", all...)
}

// settleAll waits until no stored event is still received.
func (e *env) settleAll(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool {
		var open int
		err := e.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM webhook_events WHERE status = 'received'`).Scan(&open)
		return err == nil && open == 0
	}, 60*time.Second, 20*time.Millisecond)
}

// counter reads one counter of the call pipeline's metrics (0 when absent).
func (e *env) counter(t testing.TB, name string, labels map[string]string) float64 {
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
