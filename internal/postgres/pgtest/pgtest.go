// Package pgtest gives each test its own migrated PostgreSQL database.
//
// One server serves a whole `go test` run: `make test` starts an embedded
// cluster once and hands its superuser DSN to every package through
// AUTOPULSE_TEST_DATABASE_URL (CI may point it at a service container
// instead). A package run on its own starts a private ephemeral cluster.
// The schema is migrated once into a template database, named by a hash of
// the migrations, and every test gets CREATE DATABASE … TEMPLATE (≈0.1 s).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autopulse/autopulse/internal/postgres"
)

// EnvURL names the superuser connection string of a shared test server.
const EnvURL = "AUTOPULSE_TEST_DATABASE_URL"

// testPassword is set on the test roles so TCP servers (CI's service
// container) accept them; the embedded cluster trusts its private socket.
const testPassword = "autopulse-test"

var (
	once     sync.Once
	server   *testServer
	errStart error
	cluster  *postgres.Cluster
	tempDir  string
)

type testServer struct {
	superDSN string
	// dsn builds a connection string for role to database.
	dsn      func(role, database string) string
	template string
}

// Main runs a package's tests and stops the private cluster, if one was
// started. Use it as the package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			log.Printf("pgtest: %v", err)
		}
	}
	if tempDir != "" {
		_ = os.RemoveAll(tempDir)
	}
	os.Exit(code)
}

// DB is one test's database.
type DB struct {
	Name string
	// Owner connects as the owner role (migrations, fixtures that must
	// bypass the tenant wall). App connects as the application role, as the
	// server does.
	Owner, App       *pgxpool.Pool
	OwnerDSN, AppDSN string
}

// New returns a fresh, migrated database, dropped when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	return create(t, true)
}

// NewEmpty returns a fresh database with no schema (for migration tests).
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	return create(t, false)
}

// SuperuserDSN returns the shared server's superuser connection string.
func SuperuserDSN(t testing.TB) string {
	t.Helper()
	return start(t).superDSN
}

func start(t testing.TB) *testServer {
	t.Helper()
	once.Do(func() { server, errStart = startServer() })
	if errStart != nil {
		t.Fatalf("pgtest: %v", errStart)
	}
	return server
}

func create(t testing.TB, migrated bool) *DB {
	t.Helper()
	s := start(t)
	ctx := context.Background()
	name := "t_" + randomHex(8)

	conn, err := pgx.Connect(ctx, s.superDSN)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	stmt := "CREATE DATABASE " + name + " OWNER " + postgres.OwnerRole
	if migrated {
		stmt += " TEMPLATE " + s.template
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	d := &DB{Name: name, OwnerDSN: s.dsn(postgres.OwnerRole, name), AppDSN: s.dsn(postgres.AppRole, name)}
	if d.Owner, err = pgxpool.New(ctx, d.OwnerDSN); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	appCfg, err := pgxpool.ParseConfig(d.AppDSN)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	appCfg.MaxConns = 20 // as the server's default (AUTOPULSE_DB_MAX_CONNS)
	if d.App, err = pgxpool.NewWithConfig(ctx, appCfg); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		d.Owner.Close()
		d.App.Close()
		c, err := pgx.Connect(context.Background(), s.superDSN)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return d
}

func startServer() (*testServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &testServer{}
	if u := os.Getenv(EnvURL); u != "" {
		s.superDSN = u
		s.dsn = func(role, database string) string { return withUser(u, role, testPassword, database) }
		if err := postgres.Provision(ctx, u, "postgres", testPassword); err != nil {
			return nil, err
		}
	} else {
		var err error
		if tempDir, err = os.MkdirTemp("", "autopulse-pgtest-"); err != nil {
			return nil, err
		}
		cluster, err = postgres.StartCluster(ctx, postgres.ClusterOptions{Dir: tempDir, Ephemeral: true})
		if err != nil {
			return nil, err
		}
		s.superDSN = cluster.SuperuserDSN("postgres")
		s.dsn = cluster.DSN
		if err := postgres.Provision(ctx, s.superDSN, "postgres", ""); err != nil {
			return nil, err
		}
	}
	tmpl, err := ensureTemplate(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("template database: %w", err)
	}
	s.template = tmpl
	return s, nil
}

// ensureTemplate creates and migrates the template database unless a
// template of the same migrations already exists on this server.
func ensureTemplate(ctx context.Context, s *testServer) (string, error) {
	name := "tmpl_" + migrationsHash()
	conn, err := pgx.Connect(ctx, s.superDSN)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Test binaries of several packages start at once; one migrates.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7177002)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7177002)") //nolint:errcheck // released with the session anyway

	var ready bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&ready)
	if err != nil || ready {
		return name, err
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+postgres.OwnerRole); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, s.dsn(postgres.OwnerRole, name))
	if err != nil {
		return "", err
	}
	m, err := postgres.NewMigrator(pool, nil)
	if err == nil {
		_, err = m.Up(ctx)
		_ = m.Close()
	}
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	// Marked as a template only once migrated, so a half-built one is
	// never cloned.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(postgres.MigrationFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(postgres.MigrationFS(), path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	fmt.Fprint(h, postgres.LatestVersion())
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func withUser(raw, user, password, database string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %s is not a URL: %v", EnvURL, err))
	}
	u.User = url.UserPassword(user, password)
	u.Path = "/" + database
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
