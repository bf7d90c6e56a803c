package dispatch_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/voice"
)

// dialWorkers is the parallelism of both sides of the benchmark: the River
// workers of the dispatcher, and the goroutines of the baseline.
const dialWorkers = 8

// BenchmarkDialThroughput measures dial jobs per second against voicesim
// over HTTP with every rule on (the scheduler's batched decisions, the
// claim's re-check under the per-organization lock, the call row, the
// record-and-complete transaction), against a baseline measured in the
// same run: raw vapi.Client.Dial calls to the same simulator with the same
// parallelism and no database work. b.N targets are dialled; a goroutine
// stands in for the webhook side by ending placed calls, so the
// organization's concurrency limit (500) frees up as it would.
//
//	go test ./internal/dispatch -run '^$' -bench BenchmarkDialThroughput -benchtime 2000x
func BenchmarkDialThroughput(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	org := e.org(b, orgOpts{Limit: 500, Credit: 1 << 40})
	campaign := e.campaign(b, org, campaignOpts{})
	e.bulkTargets(b, org, campaign, b.N, 0)

	// Baseline: the same number of dials, straight to the simulator.
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range dialWorkers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				_, err := e.vapi.Dial(ctx, voice.DialRequest{
					CallID: uuid.Must(uuid.NewV7()), OrganizationID: org, ToNumber: "+13125550199",
					Disclosure: "This is an automated assistant; this call is recorded.", FirstMessage: "Hello!",
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	baseline := float64(b.N) / time.Since(start).Seconds()

	svc := e.service(nil)
	e.startRiver(b, svc)
	stop := make(chan struct{})
	var ender sync.WaitGroup
	ender.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			_, _ = e.db.Owner.Exec(ctx, `UPDATE calls SET status = 'ended' WHERE status IN ('dialing', 'queued') AND provider_call_id IS NOT NULL`)
		}
	})
	b.ResetTimer()
	start = time.Now()
	for {
		_, err := svc.Pass(ctx, e.clock.Now(), uuid.Nil)
		require.NoError(b, err)
		var placed int
		e.scalar(b, &placed, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`)
		if placed == b.N {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	ender.Wait()

	require.Equal(b, b.N, e.countWhere(b, `SELECT count(DISTINCT to_number) FROM calls WHERE provider_call_id IS NOT NULL`))
	dispatched := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(dispatched, "dials/s")
	b.ReportMetric(baseline, "baseline-dials/s")
	b.ReportMetric(dispatched/baseline, "ratio")
}
