package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestPoolStatistics(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	m := metrics.New("test")
	m.RegisterPool("app", d.App)
	_, err := db.New(d.App).SchemaVersion(context.Background())
	require.NoError(t, err)

	maxConns, ok := value(t, m.Registry(), "autopulse_db_pool_max_conns", map[string]string{"pool": "app"})
	require.True(t, ok)
	require.InDelta(t, float64(d.App.Config().MaxConns), maxConns, 0)
	acquires, ok := value(t, m.Registry(), "autopulse_db_pool_acquires_total", map[string]string{"pool": "app"})
	require.True(t, ok)
	require.GreaterOrEqual(t, acquires, 1.0)
	total, ok := value(t, m.Registry(), "autopulse_db_pool_total_conns", map[string]string{"pool": "app"})
	require.True(t, ok)
	require.GreaterOrEqual(t, total, 1.0)
	for _, name := range []string{
		"autopulse_db_pool_acquired_conns", "autopulse_db_pool_idle_conns", "autopulse_db_pool_acquire_duration_seconds_total",
		"autopulse_db_pool_empty_acquires_total", "autopulse_db_pool_empty_acquire_wait_seconds_total",
	} {
		_, ok := value(t, m.Registry(), name, map[string]string{"pool": "app"})
		require.True(t, ok, name)
	}

	// A second pool adds series to the same families.
	m.RegisterPool("owner", d.Owner)
	_, ok = value(t, m.Registry(), "autopulse_db_pool_max_conns", map[string]string{"pool": "owner"})
	require.True(t, ok)
}

type outcomeArgs struct {
	Outcome string `json:"outcome"`
}

func (outcomeArgs) Kind() string { return "test.outcome" }

type outcomeWorker struct {
	river.WorkerDefaults[outcomeArgs]
}

var errBoom = errors.New("boom")

func (w *outcomeWorker) Work(_ context.Context, job *river.Job[outcomeArgs]) error {
	switch job.Args.Outcome {
	case "fail":
		return errBoom
	case "panic":
		panic("kaboom")
	case "cancel":
		return river.JobCancel(errBoom)
	case "snooze":
		return river.JobSnooze(time.Hour)
	}
	return nil
}

func TestRiverQueueDepthAndJobOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	m := metrics.New("test")
	m.RegisterRiverQueues(d.App, river.QueueDefault, "idle")

	workers := river.NewWorkers()
	river.AddWorker(workers, &outcomeWorker{})
	rc, err := river.NewClient(riverpgxv5.New(d.App), &river.Config{
		Workers:    workers,
		Queues:     map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}},
		Middleware: []rivertype.Middleware{m.JobMiddleware()},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		TestOnly:   true,
	})
	require.NoError(t, err)

	// Depth, before any worker runs: four available, one scheduled.
	outcomes := []string{"complete", "fail", "panic", "cancel", "snooze"}
	for _, o := range outcomes {
		_, err := rc.Insert(ctx, outcomeArgs{Outcome: o}, &river.InsertOpts{MaxAttempts: 1})
		require.NoError(t, err)
	}
	_, err = rc.Insert(ctx, outcomeArgs{Outcome: "complete"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	depth := func(queue, state string) float64 {
		v, ok := value(t, m.Registry(), "autopulse_river_queue_jobs", map[string]string{"queue": queue, "state": state})
		require.True(t, ok, "%s/%s reported", queue, state)
		return v
	}
	require.InDelta(t, 5, depth(river.QueueDefault, "available"), 0)
	require.InDelta(t, 1, depth(river.QueueDefault, "scheduled"), 0)
	require.InDelta(t, 0, depth(river.QueueDefault, "running"), 0)
	require.InDelta(t, 0, depth("idle", "available"), 0, "a named queue is reported even when empty")
	oldest, ok := value(t, m.Registry(), "autopulse_river_queue_oldest_available_seconds", map[string]string{"queue": river.QueueDefault})
	require.True(t, ok)
	require.GreaterOrEqual(t, oldest, 0.0)

	// Outcomes: run them all and wait for River to report each.
	events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer cancel()
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() { _ = rc.Stop(context.Background()) })
	hang := time.After(time.Minute) // a guard against hanging, not a timing assertion
	for range outcomes {
		select {
		case <-events:
		case <-hang:
			t.Fatal("jobs did not finish")
		}
	}

	worked := func(outcome string) float64 {
		v, _ := value(t, m.Registry(), "autopulse_river_jobs_worked_total", map[string]string{"kind": "test.outcome", "outcome": outcome})
		return v
	}
	require.InDelta(t, 1, worked(metrics.JobCompleted), 0)
	require.InDelta(t, 2, worked(metrics.JobFailed), 0, "an error and a panic")
	require.InDelta(t, 1, worked(metrics.JobCancelled), 0)
	require.InDelta(t, 1, worked(metrics.JobSnoozed), 0)
	runs, ok := value(t, m.Registry(), "autopulse_river_job_duration_seconds", map[string]string{"kind": "test.outcome"})
	require.True(t, ok)
	require.InDelta(t, 5, runs, 0)

	require.InDelta(t, 0, depth(river.QueueDefault, "available"), 0)
	require.InDelta(t, 2, depth(river.QueueDefault, "scheduled"), 0, "the snoozed job waits again")
}

// The app role can read River's table through the generated query (the
// grant the queue metric depends on).
func TestRiverJobCountByStateAsAppRole(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	_, err := d.App.Exec(context.Background(), "INSERT INTO river_job (args, kind, max_attempts, queue, state) VALUES ('{}', 'k', 1, 'q', 'retryable')")
	require.NoError(t, err)
	rows, err := db.New(d.App).RiverJobCountByState(context.Background())
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, db.RiverJobCountByStateRow{Queue: "q", State: "retryable", Jobs: 1, OldestSeconds: rows[0].OldestSeconds}, rows[0])
}

// The worker's queue-depth log line has the shape deploy/cdk's CloudWatch
// metric filter reads: a numeric river_queue_depth per queue, empty named
// queues included.
func TestLogRiverQueues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	for _, stmt := range []string{
		"INSERT INTO river_job (args, kind, max_attempts, queue, state) VALUES ('{}', 'k', 1, 'default', 'available')",
		"INSERT INTO river_job (args, kind, max_attempts, queue, state) VALUES ('{}', 'k', 1, 'default', 'available')",
		"INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at) VALUES ('{}', 'k', 1, 'default', 'scheduled', now() + interval '1 day')",
	} {
		_, err := d.App.Exec(ctx, stmt)
		require.NoError(t, err)
	}
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		metrics.LogRiverQueues(ctx, d.App, log, time.Hour, "default", "idle")
	}()
	hang := time.After(time.Minute) // a guard against hanging, not a timing assertion
	for strings.Count(buf.String(), "\n") < 2 {
		select {
		case <-hang:
			t.Fatalf("no queue depth logged: %q", buf.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-done

	lines := map[string]map[string]any{}
	for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &line))
		require.Equal(t, "river queue depth", line["msg"])
		lines[line["queue"].(string)] = line
	}
	require.Len(t, lines, 2)
	require.InDelta(t, 2, lines["default"]["river_queue_depth"], 0, "available jobs only")
	require.InDelta(t, 1, lines["default"]["scheduled"], 0)
	require.InDelta(t, 0, lines["idle"]["river_queue_depth"], 0, "an empty named queue is reported")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
