package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Provision makes a fresh server ready for AutoPulse, connecting as a
// superuser: the owner role (which runs migrations and owns the schema), the
// application role (NOSUPERUSER NOBYPASSRLS, owns nothing), and the
// database. It is idempotent. password, when set, is given to both roles for
// TCP logins; the embedded cluster's unix socket needs none.
func Provision(ctx context.Context, superuserDSN, database, password string) error {
	conn, err := pgx.Connect(ctx, superuserDSN)
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer conn.Close(ctx)

	// Roles are global to the server, so concurrent provisioning (parallel
	// test binaries) serializes on a lock.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7177001)"); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7177001)") //nolint:errcheck // released with the session anyway

	stmts := []string{
		createRoleIfMissing(OwnerRole, "LOGIN NOSUPERUSER CREATEROLE CREATEDB NOBYPASSRLS"),
		createRoleIfMissing(AppRole, "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS"),
		"ALTER ROLE " + AppRole + " LOGIN",
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("provision roles: %w", err)
		}
	}
	if password != "" {
		for _, role := range []string{OwnerRole, AppRole} {
			if err := SetRolePassword(ctx, conn, role, password); err != nil {
				return err
			}
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()+" OWNER "+OwnerRole); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// SetRolePassword gives role a login password. The statement is built by
// the server's format(), so the password is quoted as a literal there.
func SetRolePassword(ctx context.Context, conn execQuerier, role, password string) error {
	var stmt string
	if err := conn.QueryRow(ctx, "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)", role, password).Scan(&stmt); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("set password of %s: %w", role, err)
	}
	return nil
}

type execQuerier interface {
	QueryRow(context.Context, string, ...any) pgx.Row
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}

func createRoleIfMissing(role, attrs string) string {
	return fmt.Sprintf(`DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN
    CREATE ROLE %s %s;
  END IF;
END $$`, role, role, attrs)
}
