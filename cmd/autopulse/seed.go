package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/demo"
	"github.com/autopulse/autopulse/internal/metrics"
)

// seed creates the platform administrator (from flags or
// AUTOPULSE_ADMIN_EMAIL / AUTOPULSE_ADMIN_PASSWORD) and, with --demo, the
// demo data. Both are idempotent.
func seed(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	email := fs.String("admin-email", cfg.AdminEmail, "platform administrator's email")
	password := fs.String("admin-password", cfg.AdminPassword, "platform administrator's password (prefer AUTOPULSE_ADMIN_PASSWORD_FILE)")
	withDemo := fs.Bool("demo", false, "also seed the demo organization")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" && !*withDemo {
		return errors.New("seed: nothing to do; give --admin-email and --admin-password, and/or --demo")
	}
	d, err := openDatabase(ctx, cfg, log, forServing)
	if err != nil {
		return err
	}
	defer d.close(log)
	svc := newServices(cfg, d)

	if *email != "" {
		if *password == "" {
			return errors.New("seed: --admin-password (or AUTOPULSE_ADMIN_PASSWORD) is required with --admin-email")
		}
		created, err := svc.identity.EnsurePlatformAdmin(ctx, *email, *password)
		if err != nil {
			return err
		}
		log.Info("platform administrator", "email", *email, "created", created)
	}
	if *withDemo {
		m := metrics.New(version)
		lp, err := newLoop(ctx, cfg, log, svc.db, m)
		if err != nil {
			return err
		}
		return demo.Seed(ctx, demo.Services{Identity: svc.identity, Tags: svc.tags, Records: lp.records, Campaigns: lp.campaigns}, log)
	}
	return nil
}
