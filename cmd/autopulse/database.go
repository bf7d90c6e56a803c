package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/postgres"
)

// database is the process's connection to PostgreSQL.
type database struct {
	cluster *postgres.Cluster // nil with DATABASE_URL
	app     *pgxpool.Pool     // the application role; nil for migrate
	owner   *pgxpool.Pool     // the owner role; nil when serving an external database
}

// purpose says what a command needs of the database.
type purpose int

const (
	forServing   purpose = iota // the application role; the embedded cluster is also migrated
	forMigrating                // the owner role only
)

// openDatabase connects for purpose. With no DATABASE_URL it starts the
// embedded cluster (initializing it on first use) and provisions its roles;
// when serving, it also migrates, so `make run` needs nothing else. Against
// an external database, serving never migrates: that is a deploy step
// (`autopulse migrate up`), and /readyz fails until it has run. appOpts
// configure the application role's pool (tracing).
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger, p purpose, appOpts ...postgres.Option) (_ *database, err error) {
	d := &database{}
	defer func() {
		if err != nil {
			d.close(log)
		}
	}()
	start := time.Now()
	appURL, ownerURL := cfg.DatabaseURL, cfg.OwnerDatabaseURL
	if ownerURL == "" {
		ownerURL = appURL
	}
	if cfg.Embedded() {
		if d.cluster, err = postgres.StartCluster(ctx, postgres.ClusterOptions{Dir: filepath.Join(cfg.DataDir, "postgres"), Logger: log}); err != nil {
			return nil, err
		}
		if err = postgres.Provision(ctx, d.cluster.SuperuserDSN("postgres"), postgres.DatabaseName, ""); err != nil {
			return nil, err
		}
		appURL = d.cluster.DSN(postgres.AppRole, postgres.DatabaseName)
		ownerURL = d.cluster.DSN(postgres.OwnerRole, postgres.DatabaseName)
	}
	if p == forMigrating || cfg.Embedded() {
		if d.owner, err = postgres.Open(ctx, ownerURL, 4); err != nil {
			return nil, fmt.Errorf("owner connection: %w", err)
		}
	}
	if p == forMigrating {
		return d, nil
	}
	if cfg.Embedded() {
		if err = migrateUp(ctx, d.owner, cfg, log); err != nil {
			return nil, err
		}
	}
	if d.app, err = postgres.Open(ctx, appURL, cfg.DBMaxConns, appOpts...); err != nil {
		return nil, err
	}
	if err = postgres.CheckAppRole(ctx, d.app); err != nil {
		return nil, err
	}
	log.Info("database ready", "embedded", cfg.Embedded(), "took", time.Since(start).Round(time.Millisecond))
	return d, nil
}

func migrateUp(ctx context.Context, owner *pgxpool.Pool, cfg *config.Config, log *slog.Logger) error {
	m, err := postgres.NewMigrator(owner, log)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	if cfg.AppDBPassword != "" {
		if err := postgres.SetRolePassword(ctx, owner, postgres.AppRole, cfg.AppDBPassword); err != nil {
			return err
		}
		log.Info("application role password set", "role", postgres.AppRole)
	}
	return nil
}

func (d *database) close(log *slog.Logger) {
	if d.app != nil {
		d.app.Close()
	}
	if d.owner != nil {
		d.owner.Close()
	}
	if d.cluster != nil {
		if err := d.cluster.Stop(); err != nil {
			log.Error("stop embedded postgres", "err", err)
		}
	}
}
