package metrics

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Job outcomes, the values of autopulse_river_jobs_worked_total's outcome.
const (
	JobCompleted = "completed"
	JobFailed    = "failed" // River retries it, or discards it after the last attempt
	JobCancelled = "cancelled"
	JobSnoozed   = "snoozed"
)

// queueStates are the states counted as queue depth (see RiverJobCountByState).
var queueStates = []string{"available", "pending", "retryable", "running", "scheduled"}

var (
	queueJobsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "river", "queue_jobs"),
		"River jobs waiting or running, by queue and state. The figure is global to the database: "+
			"every process that works jobs reports the same value, so aggregate with max, not sum.",
		[]string{"queue", "state"}, nil)
	queueOldestDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "river", "queue_oldest_available_seconds"),
		"How long the oldest available (runnable, not yet picked up) job of a queue has waited.",
		[]string{"queue"}, nil)
)

// RegisterRiverQueues exports River's queue depth, read from river_job at
// scrape time through q (the application role can read River's tables).
// The named queues are always reported, with zeros when empty, so alerts on
// them see 0 rather than no data. Only the first call registers.
func (m *Metrics) RegisterRiverQueues(q db.DBTX, queues ...string) {
	if m == nil || q == nil {
		return
	}
	m.queueOnce.Do(func() {
		m.reg.MustRegister(&queueCollector{q: db.New(q), queues: queues, timeout: 5 * time.Second})
	})
}

type queueCollector struct {
	q       *db.Queries
	queues  []string
	timeout time.Duration
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueOldestDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.q.RiverJobCountByState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueJobsDesc, err)
		return
	}
	type key struct{ queue, state string }
	jobs := map[key]float64{}
	oldest := map[string]float64{}
	for _, q := range c.queues {
		for _, s := range queueStates {
			jobs[key{q, s}] = 0
		}
		oldest[q] = 0
	}
	for _, r := range rows {
		jobs[key{r.Queue, r.State}] = float64(r.Jobs)
		if r.State == "available" {
			oldest[r.Queue] = r.OldestSeconds
		} else if _, ok := oldest[r.Queue]; !ok {
			oldest[r.Queue] = 0
		}
	}
	for k, v := range jobs {
		ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, v, k.queue, k.state)
	}
	for q, v := range oldest {
		ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, v, q)
	}
}

// LogRiverQueues logs every queue's depth now and then every interval until
// ctx ends, one line per queue:
//
//	{"msg":"river queue depth","queue":"default","river_queue_depth":42,"running":3,…}
//
// river_queue_depth counts the jobs ready to run that no worker has picked
// up yet (state available): what grows when workers are down, stuck or too
// few. Jobs scheduled for later, waiting for a retry, or running are logged
// beside it, not in it, so that a campaign scheduling calls for tomorrow
// does not look like a backlog. The CloudWatch metric filter of deploy/cdk
// reads this field (docs/DEPLOY.md); the named queues are logged even when
// empty, because a silent worker counts as breaching there.
func LogRiverQueues(ctx context.Context, q db.DBTX, log *slog.Logger, interval time.Duration, queues ...string) {
	queries := db.New(q)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		logQueueDepth(ctx, queries, log, queues)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func logQueueDepth(ctx context.Context, q *db.Queries, log *slog.Logger, queues []string) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := q.RiverJobCountByState(qctx)
	if err != nil {
		if ctx.Err() == nil {
			log.WarnContext(ctx, "river queue depth", "err", err)
		}
		return
	}
	type depth struct {
		byState map[string]int64
		oldest  float64
	}
	byQueue := map[string]*depth{}
	for _, name := range queues {
		byQueue[name] = &depth{byState: map[string]int64{}}
	}
	for _, r := range rows {
		d := byQueue[r.Queue]
		if d == nil {
			d = &depth{byState: map[string]int64{}}
			byQueue[r.Queue] = d
		}
		d.byState[r.State] = r.Jobs
		if r.State == "available" {
			d.oldest = r.OldestSeconds
		}
	}
	names := make([]string, 0, len(byQueue))
	for name := range byQueue {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := byQueue[name]
		log.InfoContext(ctx, "river queue depth", "queue", name,
			"river_queue_depth", d.byState["available"],
			"oldest_available_seconds", math.Round(d.oldest),
			"running", d.byState["running"], "scheduled", d.byState["scheduled"],
			"retryable", d.byState["retryable"], "pending", d.byState["pending"])
	}
}

// JobMiddleware is River worker middleware that counts each job run by kind
// and outcome and times it. Install it in river.Config.Middleware.
func (m *Metrics) JobMiddleware() rivertype.WorkerMiddleware {
	return &jobMiddleware{m: m}
}

type jobMiddleware struct {
	river.MiddlewareDefaults
	m *Metrics
}

func (mw *jobMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	if mw.m == nil {
		return doInner(ctx)
	}
	start := time.Now()
	panicked := true
	defer func() {
		// A panic is recorded as a failure and keeps unwinding: River
		// recovers it and retries the job.
		outcome := JobFailed
		if !panicked {
			outcome = jobOutcome(err)
		}
		kind := label(job.Kind)
		mw.m.jobsWorked.WithLabelValues(kind, outcome).Inc()
		observe(ctx, mw.m.jobDuration.WithLabelValues(kind), time.Since(start).Seconds())
	}()
	err = doInner(ctx)
	panicked = false
	return err
}

func jobOutcome(err error) string {
	var (
		cancel *rivertype.JobCancelError
		snooze *rivertype.JobSnoozeError
	)
	switch {
	case err == nil:
		return JobCompleted
	case errors.As(err, &cancel):
		return JobCancelled
	case errors.As(err, &snooze):
		return JobSnoozed
	}
	return JobFailed
}
