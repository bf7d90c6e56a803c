// Package postgres owns the database: the connection pool, tenant-scoped
// transactions, error translation, migrations and the embedded cluster.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Option adjusts a pool's configuration before Open connects it.
type Option func(*pgxpool.Config)

// WithTracer traces the pool's statements (a pgx.QueryTracer that may also
// implement pgx.BatchTracer, pgx.CopyFromTracer, pgx.ConnectTracer or
// pgxpool.AcquireTracer). A nil tracer leaves the pool untraced.
func WithTracer(t pgx.QueryTracer) Option {
	return func(cfg *pgxpool.Config) {
		if t != nil {
			cfg.ConnConfig.Tracer = t
		}
	}
}

// Open connects a pool and checks the connection.
func Open(ctx context.Context, dsn string, maxConns int32, opts ...Option) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// ErrPrivilegedRole means the server's role would bypass row-level security.
var ErrPrivilegedRole = errors.New("refusing to serve as a database role that bypasses row-level security")

// CheckAppRole refuses a role that is a superuser or has BYPASSRLS: with
// such a role the database's tenant wall would silently be down.
func CheckAppRole(ctx context.Context, pool *pgxpool.Pool) error {
	r, err := db.New(pool).SessionRole(ctx)
	if err != nil {
		return fmt.Errorf("read session role: %w", err)
	}
	if r.Rolsuper || r.Rolbypassrls {
		return fmt.Errorf("%w: role %q is superuser=%t bypassrls=%t; connect as the application role (%s), "+
			"which `autopulse migrate up` creates with NOSUPERUSER NOBYPASSRLS", ErrPrivilegedRole, r.Rolname, r.Rolsuper, r.Rolbypassrls, AppRole)
	}
	return nil
}

// DB runs queries as the application role.
type DB struct {
	Pool *pgxpool.Pool
}

// Tx is a transaction with its queries, scoped to one tenant (or none, for
// the named privileged functions).
type Tx struct {
	pgx.Tx
	*db.Queries
	Org uuid.UUID
}

// InTenant runs fn in a transaction whose row-level security tenant is org.
// fn's error rolls the transaction back; database errors are translated to
// fault codes.
func (d *DB) InTenant(ctx context.Context, org uuid.UUID, fn func(*Tx) error) error {
	if org == uuid.Nil {
		return errors.New("postgres: InTenant without a tenant")
	}
	return d.inTx(ctx, org, fn)
}

// InSystem runs fn in a transaction with no tenant set: every tenant table
// reads as empty, and only the privileged functions (auth lookups, platform
// administration, maintenance) reach across tenants.
func (d *DB) InSystem(ctx context.Context, fn func(*Tx) error) error {
	return d.inTx(ctx, uuid.Nil, fn)
}

func (d *DB) inTx(ctx context.Context, org uuid.UUID, fn func(*Tx) error) error {
	err := pgx.BeginTxFunc(ctx, d.Pool, tenantTxOptions(org), func(ptx pgx.Tx) error {
		return fn(&Tx{Tx: ptx, Queries: db.New(ptx), Org: org})
	})
	return Translate(err)
}

// tenantTxOptions begins a transaction and sets its tenant in one round
// trip: a tenant-scoped read costs three (begin+tenant, query, commit)
// rather than four. It is the one statement built in Go, because it must
// travel with BEGIN in a single simple-protocol message, which cannot carry
// parameters; the only value in it is a uuid.UUID's canonical text, so
// nothing from a request reaches the SQL.
func tenantTxOptions(org uuid.UUID) pgx.TxOptions {
	if org == uuid.Nil {
		return pgx.TxOptions{}
	}
	return pgx.TxOptions{BeginQuery: "BEGIN; SELECT set_config('app.current_org_id', '" + org.String() + "', true)"}
}

// Translate maps database errors onto fault codes in one place: no rows is
// NotFound, unique violations are Conflict, and so on. Errors that already
// carry a code, and nil, pass through.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fault.NotFoundf("not found")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return &fault.Error{Code: fault.Conflict, Message: conflictMessage(pe)}
	case "23503": // foreign_key_violation: the referenced row is absent in this tenant
		return &fault.Error{Code: fault.Invalid, Message: "a referenced resource does not exist"}
	case "23514", "23502", "22P02", "22001", "22003", "22007", "22008": // check, not null, bad input, too long, out of range, datetime
		return &fault.Error{Code: fault.Invalid, Message: "a value is not acceptable: " + pe.Message}
	case "42501": // insufficient_privilege, including row-level security WITH CHECK
		return fault.NotFoundf("not found")
	case "40001", "40P01": // serialization failure, deadlock
		return &fault.Error{Code: fault.Conflict, Message: "concurrent update; retry the request"}
	}
	return err
}

// conflictMessage names the constraint's columns but never the conflicting
// values, which could belong to someone else.
func conflictMessage(pe *pgconn.PgError) string {
	if pe.ConstraintName != "" {
		return "already exists (" + pe.ConstraintName + ")"
	}
	return "already exists"
}
