package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// riverMigrationVersion is our migration that installs River's job tables.
// River's own schema version is pinned here, so that upgrading the library
// never changes the schema behind our back: a later River schema is a new
// migration of ours with a new target.
const (
	riverMigrationVersion = 2
	riverSchemaVersion    = 8
)

// Migrator applies the schema. It must connect as the owner role.
type Migrator struct {
	provider *goose.Provider
	sqlDB    *sql.DB
}

// NewMigrator prepares migrations over pool. Close it when done.
func NewMigrator(pool *pgxpool.Pool, log *slog.Logger) (*Migrator, error) {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	opts := []goose.ProviderOption{
		goose.WithGoMigrations(riverMigration()),
		goose.WithDisableGlobalRegistry(true),
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, opts...)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{provider: p, sqlDB: sqlDB}, nil
}

// Close releases the migrator's connection handle (not the pool).
func (m *Migrator) Close() error { return m.sqlDB.Close() }

// Up applies all pending migrations.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.provider.Up(ctx)
}

// Down rolls back the given number of migrations.
func (m *Migrator) Down(ctx context.Context, steps int) ([]*goose.MigrationResult, error) {
	var results []*goose.MigrationResult
	for range steps {
		r, err := m.provider.Down(ctx)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// DownAll rolls back every migration, leaving an empty schema.
func (m *Migrator) DownAll(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.provider.DownTo(ctx, 0)
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.provider.Status(ctx)
}

// Versions returns the applied and the latest known version.
func (m *Migrator) Versions(ctx context.Context) (current, latest int64, err error) {
	return m.provider.GetVersions(ctx)
}

// LatestVersion is the newest migration compiled into this binary.
func LatestVersion() int64 {
	sub, _ := fs.Sub(migrationFS, "migrations")
	entries, _ := fs.ReadDir(sub, ".")
	latest := int64(riverMigrationVersion)
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// riverMigration installs River's schema. River's own steps cannot share
// one transaction (a later step uses an enum value an earlier one adds), so
// this migration runs outside goose's transaction and River applies each of
// its steps in a transaction of its own.
func riverMigration() *goose.Migration {
	up := func(ctx context.Context, sqlDB *sql.DB) error {
		m, err := rivermigrate.New(riverdatabasesql.New(sqlDB), nil)
		if err != nil {
			return err
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: riverSchemaVersion}); err != nil {
			return fmt.Errorf("river schema: %w", err)
		}
		// The application role runs the queue: it reads and writes River's
		// tables but owns none of them.
		_, err = sqlDB.ExecContext(ctx, riverGrants)
		return err
	}
	down := func(ctx context.Context, sqlDB *sql.DB) error {
		m, err := rivermigrate.New(riverdatabasesql.New(sqlDB), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
		return err
	}
	return goose.NewGoMigration(riverMigrationVersion, &goose.GoFunc{RunDB: up}, &goose.GoFunc{RunDB: down})
}

const riverGrants = `
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relname LIKE 'river\_%' AND c.relkind IN ('r', 'S', 'p')
  LOOP
    IF r.relkind = 'S' THEN
      EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO autopulse_app', r.relname);
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO autopulse_app', r.relname);
    END IF;
  END LOOP;
END
$$`

// MigrationFS exposes the embedded SQL migrations (for tests and linters).
func MigrationFS() fs.FS { return migrationFS }
