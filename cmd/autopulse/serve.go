package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/demo"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/jobs"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
	"github.com/autopulse/autopulse/internal/telemetry"
)

// services are the domain services over one database.
type services struct {
	db          *postgres.DB
	identity    *identity.Service
	tags        *tag.Service
	audit       *audit.Service
	settings    *setting.Service
	idempotency *idempotency.Store
}

func newServices(cfg *config.Config, d *database) *services {
	pdb := &postgres.DB{Pool: d.app}
	return &services{
		db: pdb,
		identity: &identity.Service{
			DB: pdb,
			Tokens: &identity.Tokens{
				Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL,
			},
			RefreshTTL: cfg.RefreshTokenTTL,
		},
		tags:        &tag.Service{DB: pdb},
		audit:       &audit.Service{DB: pdb},
		settings:    &setting.Service{DB: pdb},
		idempotency: &idempotency.Store{DB: pdb, TTL: 24 * time.Hour},
	}
}

// serve runs the API (withAPI) and the workers (cfg.Workers, or always for
// `worker`) until ctx ends, then drains: the API listener closes at once,
// in-flight requests and running jobs get cfg.ShutdownTimeout to finish
// (side by side, not one after the other), the metrics listener closes,
// and the database connections and the embedded cluster close last.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, withAPI bool) error {
	started := time.Now()
	tel, err := telemetry.Setup(ctx, os.Getenv, version, log)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer flushTraces(context.WithoutCancel(ctx), tel, log)
	d, err := openDatabase(ctx, cfg, log, forServing, postgres.WithTracer(tel.QueryTracer()))
	if err != nil {
		return err
	}
	defer d.close(log)
	svc := newServices(cfg, d)

	m := metrics.New(version)
	m.RegisterPool("app", d.app)
	lp, err := newLoop(ctx, cfg, log, svc.db, m)
	if err != nil {
		return err
	}
	work := !withAPI || cfg.Workers
	rc, err := jobs.NewClient(d.app, svc.db, jobs.Config{
		Work: work, Log: log, MaxWorkers: cfg.JobWorkers,
		// Tracing outermost, so the job's span covers the metrics too.
		Middleware: append(tel.RiverMiddleware(), m.JobMiddleware()),
		Register:   lp.register,
		Periodic:   lp.periodic(),
	})
	if err != nil {
		return err
	}
	lp.useJobs(rc)

	if withAPI && cfg.SeedDemo {
		if err := demo.Seed(ctx, demo.Services{Identity: svc.identity, Tags: svc.tags, Records: lp.records, Campaigns: lp.campaigns}, log); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	if work {
		// Depth is global to the database; the processes that work the
		// queue report it, to /metrics and, once a minute, to the log
		// (CloudWatch's queue-depth metric is a filter on that line).
		m.RegisterRiverQueues(d.app, river.QueueDefault)
		go metrics.LogRiverQueues(ctx, d.app, log, time.Minute, river.QueueDefault)
	}
	msrv, err := startMetricsServer(ctx, cfg, m, log)
	if err != nil {
		return err
	}
	if work {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
	}

	var srv *http.Server
	errc := make(chan error, 1)
	if withAPI {
		jobsUI, err := httpapi.NewJobsUI(ctx, rc, log)
		if err != nil {
			return fmt.Errorf("river ui: %w", err)
		}
		api := httpapi.New(httpapi.Deps{
			DB: svc.db, Identity: svc.identity, Tags: svc.tags, Audit: svc.audit,
			Settings: svc.settings, Idempotency: svc.idempotency,
			Records: lp.records, Campaigns: lp.campaigns, Dispatch: lp.dispatch, Calls: lp.calls,
		},
			httpapi.Options{Version: version, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, ProxyHops: cfg.ProxyHops, Metrics: m, JobsUI: jobsUI}, log)
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
		if err != nil {
			return err
		}
		srv = &http.Server{
			Handler:           tel.HTTPHandler(api.Handler()),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       cfg.RequestTimeout,
			WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		go func() { errc <- srv.Serve(ln) }()
		lp.runSim(ctx, log)
		log.Info("serving", "url", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs",
			"startup", time.Since(started).Round(time.Millisecond), "version", version, "tracing", tel.Enabled())
	} else {
		log.Info("worker running", "startup", time.Since(started).Round(time.Millisecond), "version", version, "tracing", tel.Enabled())
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	}
	stopping := time.Now()
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var (
		wg               sync.WaitGroup
		httpErr, jobsErr error
	)
	if srv != nil {
		wg.Go(func() {
			// Shutdown closes the listener, then waits for every request in
			// flight; idle keep-alive connections are closed.
			if err := srv.Shutdown(drain); err != nil {
				httpErr = fmt.Errorf("drain http: %w", err)
				_ = srv.Close()
			}
		})
	}
	if work {
		wg.Go(func() { jobsErr = stopJobs(drain, rc, log) })
	}
	wg.Wait()
	errs := []error{httpErr, jobsErr, msrv.Shutdown(drain)}
	err = errors.Join(errs...)
	log.Info("stopped", "clean", err == nil, "took", time.Since(stopping).Round(time.Millisecond))
	return err
}
