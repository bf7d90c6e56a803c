package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/record"
)

func TestImportCommand(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	ids := &identity.Service{DB: &postgres.DB{Pool: d.App}, Tokens: &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!"), TTL: time.Minute}}
	reg, err := ids.Register(ctx, identity.Registration{
		OrganizationName: "Import Motors", FullName: "Olive Owner", Email: "owner-import@example.com", Password: "correct-horse-battery",
	})
	require.NoError(t, err)
	cfg := &config.Config{Env: config.Development, DatabaseURL: d.AppDSN}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	file := filepath.Join(t.TempDir(), "march.csv")
	var b strings.Builder
	b.WriteString("RONumber,ClosedDate,CustNo,CustomerName,CellPhone,VIN\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "RO-%d,03/0%d/2026,C-%d,\"LEE, JORDAN\",(202) 555-010%d,\n", i, i, i, i)
	}
	b.WriteString("RO-4,03/04/2026,C-4,Sam Poe,not a phone,\n")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o600))

	var stdout, stderr bytes.Buffer
	require.NoError(t, importCSV(ctx, cfg, log, []string{file, "--org", reg.Organization.Slug, "--errors", "5"}, &stdout, &stderr))
	out := stdout.String()
	require.Contains(t, out, "completed")
	require.Contains(t, out, "rows 4: inserted 3, updated 0, unchanged 0, duplicates 0, invalid 1")
	require.Contains(t, out, `line 5, column "CellPhone"`)
	require.Contains(t, stderr.String(), "march.csv", "the progress bar names the file")

	// Again, by id and with the flags first: nothing changes.
	stdout.Reset()
	require.NoError(t, importCSV(ctx, cfg, log, []string{"--org", reg.Organization.ID.String(), file}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "inserted 0, updated 0, unchanged 3")
	var n int
	require.NoError(t, d.Owner.QueryRow(ctx, `SELECT count(*) FROM service_records WHERE organization_id = $1`, reg.Organization.ID).Scan(&n))
	require.Equal(t, 3, n)

	// A file that cannot be loaded is a failed import and an error.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("a:b:c\n1:2:3\n"), 0o600))
	stdout.Reset()
	err = importCSV(ctx, cfg, log, []string{bad, "--org", reg.Organization.Slug}, &stdout, &stderr)
	require.ErrorContains(t, err, "CSV header")
	require.Contains(t, stdout.String(), "failed")

	for _, args := range [][]string{
		{file},
		{"--org", reg.Organization.Slug},
		{file, file, "--org", reg.Organization.Slug},
		{file, "--org", reg.Organization.Slug, "--bogus"},
	} {
		require.Error(t, importCSV(ctx, cfg, log, args, &stdout, &stderr), "%v", args)
	}
	require.ErrorContains(t, importCSV(ctx, cfg, log, []string{file, "--org", "no-such-dealer"}, &stdout, &stderr), "no-such-dealer")
	require.ErrorContains(t, importCSV(ctx, cfg, log, []string{filepath.Join(t.TempDir(), "missing.csv"), "--org", "x"}, &stdout, &stderr), "no such file")
}

func TestNewSealer(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := newSealer(&config.Config{Env: config.Development}, log)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "development key", "the fallback is said out loud")
	sealed, err := s.Seal([]byte("x"), nil)
	require.NoError(t, err)
	dev, err := record.NewSealer(record.DevelopmentKey())
	require.NoError(t, err)
	_, err = dev.Open(sealed, nil)
	require.NoError(t, err)

	_, err = newSealer(&config.Config{Env: config.Production}, log)
	require.Error(t, err)
	_, err = newSealer(&config.Config{Env: config.Production, EncryptionKey: "c2hvcnQ="}, log)
	require.ErrorContains(t, err, "AUTOPULSE_ENCRYPTION_KEY")
	_, err = newSealer(&config.Config{Env: config.Production, EncryptionKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, log)
	require.NoError(t, err)
}
