package dispatch_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/voice"
)

// faultyProvider wraps the real client and misbehaves for chosen numbers.
type faultyProvider struct {
	inner voice.Provider
	mu    sync.Mutex
	modes map[string]fault
	// reached gets a number each time a dial of a faulty number has done
	// its part (sent, or decided not to send) and begins to misbehave.
	reached chan string
}

type fault int

const (
	hangBeforeSend   fault = iota + 1 // the worker dies before the request leaves
	hangAfterSend                     // the worker dies after the provider accepted the call
	lostResponse                      // the provider placed the call; the answer never came
	uncertainNotSent                  // an uncertain error, but the request never arrived
	rejected                          // the provider refuses the request as invalid
	throttled                         // 429: certainly not placed
)

func (p *faultyProvider) mode(number string) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.modes[number]
	delete(p.modes, number) // misbehave once
	return m
}

func (p *faultyProvider) Dial(ctx context.Context, req voice.DialRequest) (voice.DialResult, error) {
	switch p.mode(req.ToNumber) {
	case hangBeforeSend:
		p.reached <- req.ToNumber
		<-ctx.Done()
		return voice.DialResult{}, ctx.Err()
	case hangAfterSend:
		if _, err := p.inner.Dial(ctx, req); err != nil {
			return voice.DialResult{}, err
		}
		p.reached <- req.ToNumber
		<-ctx.Done()
		return voice.DialResult{}, ctx.Err()
	case lostResponse:
		if _, err := p.inner.Dial(ctx, req); err != nil {
			return voice.DialResult{}, err
		}
		return voice.DialResult{}, &voice.Error{Op: "dial", Message: "connection reset", Retryable: true, Uncertain: true}
	case uncertainNotSent:
		return voice.DialResult{}, &voice.Error{Op: "dial", StatusCode: http.StatusBadGateway, Retryable: true, Uncertain: true}
	case rejected:
		return voice.DialResult{}, &voice.Error{Op: "dial", StatusCode: http.StatusBadRequest, Message: "customer.number must be a valid phone number"}
	case throttled:
		return voice.DialResult{}, &voice.Error{Op: "dial", StatusCode: http.StatusTooManyRequests, Retryable: true, RetryAfter: 2 * time.Minute}
	}
	return p.inner.Dial(ctx, req)
}

func (p *faultyProvider) GetCall(ctx context.Context, id string) (voice.CallState, error) {
	return p.inner.GetCall(ctx, id)
}

// callRow is a target's call as stored.
type callRow struct {
	ID             uuid.UUID
	Status         string
	ProviderCallID *string
	EndedReason    *string
}

func (e *env) callsOf(t testing.TB, target uuid.UUID) []callRow {
	t.Helper()
	rows, err := e.db.Owner.Query(context.Background(),
		`SELECT id, status, provider_call_id, ended_reason FROM calls WHERE target_id = $1 ORDER BY id`, target)
	require.NoError(t, err)
	defer rows.Close()
	var out []callRow
	for rows.Next() {
		var c callRow
		require.NoError(t, rows.Scan(&c.ID, &c.Status, &c.ProviderCallID, &c.EndedReason))
		out = append(out, c)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestDispatchKillWorker stops a worker hard in the middle of dispatch —
// one dial hung before its request left, one after the provider accepted
// the call and before the provider's id was recorded — then starts a fresh
// worker. No number is dialled twice and no target is lost.
func TestDispatchKillWorker(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.clock.ticking = true
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	const n = 12
	targets := make([]uuid.UUID, n)
	for i := range targets {
		targets[i] = e.target(t, org, campaign, targetOpts{Phone: phone(i)})
	}
	before, after := phone(3), phone(7)
	faulty := &faultyProvider{inner: e.vapi, modes: map[string]fault{before: hangBeforeSend, after: hangAfterSend}, reached: make(chan string, 2)}

	// The first worker: everything but the two hung dials goes through.
	first := e.service(faulty)
	firstClient := e.startRiver(t, first)
	_, err := first.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	hung := map[string]bool{<-faulty.reached: true, <-faulty.reached: true}
	require.Equal(t, map[string]bool{before: true, after: true}, hung)
	waitFor(t, "the other targets in call", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == n-2
	})
	require.Equal(t, 1, e.dials.count(after), "the provider has the hung call")
	require.Zero(t, e.dials.count(before))

	// Kill it: every job's context is cancelled mid-dial.
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, firstClient.StopAndCancel(stopCtx))
	require.Equal(t, 2, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'dialing'`),
		"the two hung targets stay claimed")
	require.Equal(t, 2, e.countWhere(t, `SELECT count(*) FROM calls WHERE provider_call_id IS NULL AND status = 'dialing'`))

	// A fresh worker with a healthy provider reconciles the two claims.
	second := e.service(nil)
	e.startRiver(t, second)
	waitFor(t, "every target in call", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == n
	})
	e.waitJobs(t)

	for i, id := range targets {
		require.Equal(t, 1, e.dials.count(phone(i)), "number %s dialled once", phone(i))
		calls := e.callsOf(t, id)
		require.Len(t, calls, 1)
		require.NotNil(t, calls[0].ProviderCallID)
		require.Equal(t, "queued", calls[0].Status)
		st := e.targetState(t, id)
		require.Equal(t, 1, st.Attempts)
	}
	// The call the provider already had was found by our id, not dialled
	// again: its provider id is the simulator's call for our call id.
	afterCall := e.callsOf(t, targets[7])[0]
	found, err := e.vapi.FindByCallID(context.Background(), afterCall.ID, tuesday.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, found.ProviderCallID, *afterCall.ProviderCallID)
	require.EqualValues(t, n, e.sim.Stats().Dialed)
}

// TestDispatchUncertainDialReconciles: a dial whose answer was lost is
// found at the provider by our call id and recorded without a second
// dial; one that never arrived is dialled once after the provider says it
// has no such call.
func TestDispatchUncertainDialReconciles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.clock.ticking = true
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	lost := e.target(t, org, campaign, targetOpts{Phone: phone(1)})
	notSent := e.target(t, org, campaign, targetOpts{Phone: phone(2)})
	faulty := &faultyProvider{inner: e.vapi, modes: map[string]fault{phone(1): lostResponse, phone(2): uncertainNotSent}}
	svc := e.service(faulty)
	e.startRiver(t, svc)
	_, err := svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	waitFor(t, "both targets in call", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == 2
	})
	e.waitJobs(t)
	require.Equal(t, 1, e.dials.count(phone(1)))
	require.Equal(t, 1, e.dials.count(phone(2)))
	for _, id := range []uuid.UUID{lost, notSent} {
		calls := e.callsOf(t, id)
		require.Len(t, calls, 1, "one call row: the redial reuses our call id")
		require.NotNil(t, calls[0].ProviderCallID)
	}
}

// TestDispatchProviderErrors: a request the provider refuses as invalid
// fails the target; a throttled one gives its attempt back and waits.
func TestDispatchProviderErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	bad := e.target(t, org, campaign, targetOpts{Phone: phone(1)})
	busy := e.target(t, org, campaign, targetOpts{Phone: phone(2)})
	faulty := &faultyProvider{inner: e.vapi, modes: map[string]fault{phone(1): rejected, phone(2): throttled}}
	svc := e.service(faulty)
	e.startRiver(t, svc)
	now := e.clock.Now()
	_, err := svc.Pass(context.Background(), now, uuid.Nil)
	require.NoError(t, err)
	e.waitJobs(t)

	st := e.targetState(t, bad)
	require.Equal(t, "failed", st.Status)
	require.Equal(t, dispatch.RuleDialRejected, *st.Rule)
	require.Equal(t, "block", *st.Verdict)
	require.Contains(t, *st.Reason, "valid phone number")

	st = e.targetState(t, busy)
	require.Equal(t, "pending", st.Status, "the attempt is given back")
	require.Zero(t, st.Attempts)
	require.Equal(t, dispatch.RuleDialProviderError, *st.Rule)
	require.Equal(t, now.Add(2*time.Minute), st.Next.UTC(), "the provider's Retry-After")
	calls := e.callsOf(t, busy)
	require.Len(t, calls, 1)
	require.Equal(t, "failed", calls[0].Status)
	require.Contains(t, *calls[0].EndedReason, "not-placed: ")

	// When the wait is over, the target is dialled (the failed row is no call).
	e.clock.Set(now.Add(2 * time.Minute))
	_, err = svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	e.waitJobs(t)
	st = e.targetState(t, busy)
	require.Equal(t, "in_call", st.Status)
	require.Equal(t, 1, st.Attempts)
	require.Equal(t, 1, e.dials.count(phone(2)))
	require.Zero(t, e.dials.count(phone(1)))
}

// TestDispatchClaimRechecksTheRules: a dial job that runs after the
// window closed does not dial; it stores the hold.
func TestDispatchClaimRechecksTheRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	late := time.Date(2026, 3, 11, 0, 30, 0, 0, time.UTC) // 20:30 in New York
	e.clock.Set(late)
	id := e.target(t, org, campaign, targetOpts{Phone: phone(1)})
	svc := e.service(nil)
	e.insertOnly(t, svc)
	res, err := svc.Pass(context.Background(), late, uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, 1, res.Allowed)

	// The job runs 45 minutes late, after 21:00.
	e.clock.Set(late.Add(45 * time.Minute))
	e.startRiver(t, svc)
	e.waitJobs(t)
	st := e.targetState(t, id)
	require.Equal(t, "pending", st.Status)
	require.Zero(t, st.Attempts)
	require.Equal(t, "window.federal", *st.Rule)
	require.Equal(t, time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC), st.Next.UTC(), "08:00 the next morning")
	require.Zero(t, e.dials.total())
}

// TestDispatchRequeuesLostClaims: targets left dialing by a dial job that
// is gone (discarded, or lost with a worker River never rescued) are
// picked up by the scheduler and reconciled: the one the provider has is
// recorded, the one it lacks is dialled, each once.
func TestDispatchRequeuesLostClaims(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	claimedAt := e.clock.Now().Add(-20 * time.Minute)
	lost := func(i int) (uuid.UUID, uuid.UUID) {
		id := e.target(t, org, campaign, targetOpts{Phone: phone(i), Status: "dialing", Attempts: 1, LastAttempt: &claimedAt})
		call := uuid.Must(uuid.NewV7())
		e.exec(t, `INSERT INTO calls (organization_id, id, campaign_id, target_id, to_number, status, dial_claimed_at, created_at)
			VALUES ($1, $2, $3, $4, $5, 'dialing', $6, $6)`, org, call, campaign, id, phone(i), claimedAt)
		return id, call
	}
	placed, placedCall := lost(1)
	unplaced, _ := lost(2)
	// The provider has the first call (its response was lost with the job).
	_, err := e.vapi.Dial(context.Background(), voice.DialRequest{
		CallID: placedCall, OrganizationID: org, ToNumber: phone(1), Disclosure: "This call is recorded.",
	})
	require.NoError(t, err)

	svc := e.service(nil)
	e.startRiver(t, svc)
	res, err := svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, 2, res.Requeued)
	e.waitJobs(t)
	for _, id := range []uuid.UUID{placed, unplaced} {
		require.Equal(t, "in_call", e.targetState(t, id).Status)
		calls := e.callsOf(t, id)
		require.Len(t, calls, 1)
		require.NotNil(t, calls[0].ProviderCallID)
	}
	require.Equal(t, 1, e.dials.count(phone(1)))
	require.Equal(t, 1, e.dials.count(phone(2)))

	// Nothing is left behind: a later pass requeues nothing.
	res, err = svc.Pass(context.Background(), e.clock.Now().Add(time.Hour), uuid.Nil)
	require.NoError(t, err)
	require.Zero(t, res.Requeued)
}

// allowedTargets makes an organization (limit 10) with n targets that a
// pass has allowed, their dial jobs waiting for a worker.
func (e *env) allowedTargets(t *testing.T, n int) (uuid.UUID, *dispatch.Service) {
	t.Helper()
	org := e.org(t, orgOpts{Limit: 10})
	e.bulkTargets(t, org, e.campaign(t, org, campaignOpts{}), n, 0)
	svc := e.service(nil)
	e.insertOnly(t, svc)
	res, err := svc.Pass(context.Background(), e.clock.Now(), uuid.Nil)
	require.NoError(t, err)
	require.Equal(t, n, res.Allowed)
	return org, svc
}

// TestDispatchConcurrencyLimitHoldsAtClaim: claims racing on many workers
// never exceed the organization's limit, even when the pass allowed more
// (the limit was lowered after it).
func TestDispatchConcurrencyLimitHoldsAtClaim(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org, svc := e.allowedTargets(t, 10)
	e.exec(t, `UPDATE organizations SET call_concurrency_limit = 3 WHERE id = $1`, org)
	e.startRiver(t, svc)
	e.waitJobs(t)
	require.Equal(t, 3, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`))
	require.Equal(t, 7, e.countWhere(t, `SELECT count(*) FROM campaign_targets
		WHERE status = 'pending' AND attempts = 0 AND last_decision_rule = 'concurrency'`))
	require.Equal(t, 3, e.countWhere(t, `SELECT count(*) FROM calls`), "an undone claim leaves no call row")
	require.Equal(t, 3, e.dials.total())
}

// TestDispatchOneCallPerNumberAtClaim: claims racing on many workers place
// one call to a number at a time, even when the pass allowed more (the
// targets' numbers changed after it).
func TestDispatchOneCallPerNumberAtClaim(t *testing.T) {
	t.Parallel()
	e := setup(t)
	org, svc := e.allowedTargets(t, 6)
	e.exec(t, `UPDATE campaign_targets SET phone = $2 WHERE organization_id = $1`, org, phone(9999))
	// Hold the organization's claim lock until every job has read its
	// facts and written its call row: then none has seen another's call
	// before the lock, and only the reading under it keeps them apart.
	ctx := context.Background()
	lock, err := e.db.Owner.Acquire(ctx)
	require.NoError(t, err)
	defer lock.Release()
	key := "autopulse.dispatch.claim:" + org.String()
	_, err = lock.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key)
	require.NoError(t, err)
	e.startRiver(t, svc)
	waitFor(t, "six claims waiting on the lock", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) == 6
	})
	_, err = lock.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key)
	require.NoError(t, err)
	e.waitJobs(t)
	require.Equal(t, 1, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`))
	require.Equal(t, 5, e.countWhere(t, `SELECT count(*) FROM campaign_targets
		WHERE status = 'pending' AND attempts = 0 AND last_decision_rule = 'number.busy'`))
	require.Equal(t, 1, e.dials.count(phone(9999)))
}
