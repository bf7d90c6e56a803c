// Package jobs defines AutoPulse's background jobs and builds the River
// client that runs them. Jobs are enqueued with InsertTx inside the
// transaction that makes them necessary.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/postgres"
)

// PruneArgs removes expired idempotency keys, refresh tokens and login
// throttles across all tenants (through a privileged function).
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "maintenance.prune" }

// PruneWorker runs PruneArgs.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	DB  *postgres.DB
	Log *slog.Logger
}

// Work deletes what has expired.
func (w *PruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	return w.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		n, err := tx.MaintenancePruneExpired(ctx, time.Now())
		if err != nil {
			return err
		}
		w.Log.InfoContext(ctx, "pruned expired rows", "idempotency_keys", n.IdempotencyKeys,
			"refresh_tokens", n.RefreshTokens, "login_throttles", n.LoginThrottles)
		return nil
	})
}

// DefaultMaxWorkers is Config.MaxWorkers's default.
const DefaultMaxWorkers = 25

// Config chooses what the River client does.
type Config struct {
	// Work runs workers; without it the client only inserts jobs.
	Work bool
	// MaxWorkers is how many jobs run at once when Work (default 25).
	MaxWorkers int
	Log        *slog.Logger
	// Middleware wraps every insert and job run (tracing, metrics), the
	// first outermost.
	Middleware []rivertype.Middleware
	// Register adds the features' workers (every process registers every
	// worker: inserting a job kind needs no worker, but working one does).
	Register func(*river.Workers) error
	// Periodic are the features' periodic jobs, run by the leader.
	Periodic []*river.PeriodicJob
}

// NewClient builds the River client over the application role's pool.
func NewClient(pool *pgxpool.Pool, database *postgres.DB, cfg Config) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &PruneWorker{DB: database, Log: cfg.Log})
	if cfg.Register != nil {
		if err := cfg.Register(workers); err != nil {
			return nil, err
		}
	}
	rc := &river.Config{
		// A job whose worker died is handed to another after this long
		// (River's default is an hour): a dial target would wait that long.
		// It must exceed JobTimeout (River's default, one minute).
		RescueStuckJobsAfter: 5 * time.Minute,
		Workers:              workers,
		Logger:               cfg.Log,
		Middleware:           cfg.Middleware,
	}
	if cfg.Work {
		n := cfg.MaxWorkers
		if n <= 0 {
			n = DefaultMaxWorkers
		}
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}
		rc.PeriodicJobs = append(rc.PeriodicJobs, cfg.Periodic...)
	}
	return river.NewClient(riverpgxv5.New(pool), rc)
}
