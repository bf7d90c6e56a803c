package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/demo"
	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/jobs"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
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
// `worker`) until ctx ends, then drains: the listener closes, in-flight
// requests and jobs get cfg.ShutdownTimeout to finish, and the embedded
// database stops last.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, withAPI bool) error {
	started := time.Now()
	d, err := openDatabase(ctx, cfg, log, forServing)
	if err != nil {
		return err
	}
	defer d.close(log)
	svc := newServices(cfg, d)

	if withAPI && cfg.SeedDemo {
		if err := demo.Seed(ctx, svc.identity, svc.tags, log); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}

	work := !withAPI || cfg.Workers
	rc, err := jobs.NewClient(d.app, svc.db, jobs.Config{Work: work, Log: log})
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
		api := httpapi.New(httpapi.Deps{
			DB: svc.db, Identity: svc.identity, Tags: svc.tags, Audit: svc.audit,
			Settings: svc.settings, Idempotency: svc.idempotency,
		},
			httpapi.Options{Version: version, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, ProxyHops: cfg.ProxyHops}, log)
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return err
		}
		srv = &http.Server{
			Handler:           api.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       cfg.RequestTimeout,
			WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		go func() { errc <- srv.Serve(ln) }()
		log.Info("serving", "url", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs",
			"startup", time.Since(started).Round(time.Millisecond), "version", version)
	} else {
		log.Info("worker running", "startup", time.Since(started).Round(time.Millisecond), "version", version)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	}
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(drain); err != nil {
			errs = append(errs, fmt.Errorf("drain http: %w", err))
		}
	}
	if work {
		if err := rc.Stop(drain); err != nil {
			errs = append(errs, fmt.Errorf("drain jobs: %w", err))
		}
	}
	log.Info("stopped", "clean", len(errs) == 0)
	return errors.Join(errs...)
}
