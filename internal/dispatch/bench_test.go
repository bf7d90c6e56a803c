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
// parallelism and no database work. The b.N targets are spread over
// organizations of at most 500 (the largest concurrency limit), so one
// pass allows them all; the time runs from the pass to the last target in
// call.
//
//	go test ./internal/dispatch -run '^$' -bench BenchmarkDialThroughput -benchtime 2000x
func BenchmarkDialThroughput(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	const perOrg = 500
	var first uuid.UUID
	for done := 0; done < b.N; done += perOrg {
		org := e.org(b, orgOpts{Limit: perOrg, Credit: 1 << 40})
		if first == uuid.Nil {
			first = org
		}
		e.bulkTargets(b, org, e.campaign(b, org, campaignOpts{}), min(perOrg, b.N-done), done)
	}

	// Baseline: the same number of dials, straight to the simulator.
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range dialWorkers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				_, err := e.vapi.Dial(ctx, voice.DialRequest{
					CallID: uuid.Must(uuid.NewV7()), OrganizationID: first, ToNumber: "+13125550199",
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
	b.ResetTimer()
	start = time.Now()
	res, err := svc.Pass(ctx, e.clock.Now(), uuid.Nil)
	require.NoError(b, err)
	require.Equal(b, b.N, res.Allowed)
	waitFor(b, "every target in call", func() bool {
		return e.countWhere(b, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == b.N
	})
	elapsed := time.Since(start)
	b.StopTimer()

	require.Equal(b, b.N, e.countWhere(b, `SELECT count(DISTINCT to_number) FROM calls WHERE provider_call_id IS NOT NULL`))
	dispatched := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(dispatched, "dials/s")
	b.ReportMetric(baseline, "baseline-dials/s")
	b.ReportMetric(dispatched/baseline, "ratio")
}
