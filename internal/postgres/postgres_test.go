package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// tenantTables lists every table with an organization_id column.
func tenantTables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.NewEmpty(t)

	m, err := postgres.NewMigrator(d.Owner, nil)
	require.NoError(t, err)
	defer m.Close()

	countTables := func() int {
		var n int
		require.NoError(t, d.Owner.QueryRow(ctx,
			`SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&n))
		return n
	}

	_, err = m.Up(ctx)
	require.NoError(t, err)
	current, latest, err := m.Versions(ctx)
	require.NoError(t, err)
	require.Equal(t, latest, current)
	require.Equal(t, postgres.LatestVersion(), current)
	tables := countTables()
	require.Greater(t, tables, 30, "our tables and River's")

	// One step down lands on the previous migration (versions may have gaps).
	statuses, err := m.Status(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(statuses), 2)
	previous := statuses[len(statuses)-2].Source.Version
	_, err = m.Down(ctx, 1)
	require.NoError(t, err)
	current, _, err = m.Versions(ctx)
	require.NoError(t, err)
	require.Equal(t, previous, current)

	_, err = m.DownAll(ctx)
	require.NoError(t, err)
	require.Zero(t, countTables(), "down --all leaves an empty schema")
	var funcs int
	require.NoError(t, d.Owner.QueryRow(ctx,
		`SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`).Scan(&funcs))
	require.Zero(t, funcs, "down --all drops every function")

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, tables, countTables())
}

func TestEveryTenantTableHasForcedRLS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	conn, err := pgx.Connect(ctx, d.OwnerDSN)
	require.NoError(t, err)
	defer conn.Close(ctx)

	tables := tenantTables(t, conn)
	require.GreaterOrEqual(t, len(tables), 24)
	for _, table := range tables {
		var enabled, forced bool
		var policies int
		require.NoError(t, conn.QueryRow(ctx, `
			SELECT c.relrowsecurity, c.relforcerowsecurity,
			       (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = 'tenant_isolation')
			FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace`, table).
			Scan(&enabled, &forced, &policies))
		require.True(t, enabled, "%s: row-level security enabled", table)
		require.True(t, forced, "%s: row-level security forced", table)
		require.Equal(t, 1, policies, "%s: tenant_isolation policy", table)
	}

	// The app role is no owner and cannot bypass the wall.
	var owner string
	var super, bypass bool
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, postgres.AppRole).Scan(&super, &bypass))
	require.False(t, super)
	require.False(t, bypass)
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, postgres.AppRole).Scan(&owner))
	require.Equal(t, "0", owner)
}

// seedTwoTenants writes a row into every tenant table for two organizations
// as the owner, and returns their ids.
func seedOrg(t *testing.T, d *pgtest.DB) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	org := uuid.Must(uuid.NewV7())
	_, err := d.Owner.Exec(ctx, `INSERT INTO organizations (id, name, slug) VALUES ($1, 'Org', $2)`, org, "org-"+org.String()[24:])
	require.NoError(t, err)
	_, err = d.Owner.Exec(ctx, `INSERT INTO tags (organization_id, name) VALUES ($1, 'vip')`, org)
	require.NoError(t, err)
	_, err = d.Owner.Exec(ctx, `INSERT INTO customers (organization_id, first_name, phone) VALUES ($1, 'Ann', '+15551234567')`, org)
	require.NoError(t, err)
	return org
}

func TestAppRoleSeesNothingWithoutTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	a, b := seedOrg(t, d), seedOrg(t, d)
	conn, err := pgx.Connect(ctx, d.AppDSN)
	require.NoError(t, err)
	defer conn.Close(ctx)

	tables := append(tenantTables(t, conn), "organizations")
	for _, table := range tables {
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
		require.Zero(t, n, "%s visible with no tenant set", table)
	}

	// With a tenant set, exactly that tenant's rows are visible, and only
	// for the transaction.
	app := &postgres.DB{Pool: d.App}
	require.NoError(t, app.InTenant(ctx, a, func(tx *postgres.Tx) error {
		var orgs, tags int
		require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&orgs))
		require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM tags WHERE organization_id = $1", b).Scan(&tags))
		require.Equal(t, 1, orgs)
		require.Zero(t, tags, "another tenant's tags")
		return nil
	}))
	var n int
	require.NoError(t, d.App.QueryRow(ctx, "SELECT count(*) FROM tags").Scan(&n))
	require.Zero(t, n, "the tenant setting must not outlive its transaction")
}

func TestInsertIntoAnotherTenantIsRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	a, b := seedOrg(t, d), seedOrg(t, d)
	app := &postgres.DB{Pool: d.App}

	err := app.InTenant(ctx, a, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tags (organization_id, name) VALUES ($1, 'stolen')`, b)
		return err
	})
	require.Error(t, err)
	require.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// Nor can a row be moved into another tenant.
	err = app.InTenant(ctx, a, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tags SET organization_id = $1`, b)
		return err
	})
	require.Error(t, err)

	var n int
	require.NoError(t, d.Owner.QueryRow(ctx, "SELECT count(*) FROM tags WHERE organization_id = $1", b).Scan(&n))
	require.Equal(t, 1, n)
}

func TestAuditLogIsAppendOnlyForApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	org := seedOrg(t, d)
	app := &postgres.DB{Pool: d.App}
	require.NoError(t, app.InTenant(ctx, org, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_logs (organization_id, action, entity, entity_id) VALUES ($1, 'create', 'tag', 'x')`, org)
		return err
	}))
	for _, stmt := range []string{"UPDATE audit_logs SET entity = 'y'", "DELETE FROM audit_logs"} {
		err := app.InTenant(ctx, org, func(tx *postgres.Tx) error {
			_, err := tx.Exec(ctx, stmt)
			return err
		})
		require.Error(t, err, stmt)
	}
}

func TestCheckAppRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	require.NoError(t, postgres.CheckAppRole(ctx, d.App))

	super, err := postgres.Open(ctx, pgtest.SuperuserDSN(t), 1)
	require.NoError(t, err)
	defer super.Close()
	err = postgres.CheckAppRole(ctx, super)
	require.ErrorIs(t, err, postgres.ErrPrivilegedRole)
	require.Contains(t, err.Error(), "superuser=true")
}

func TestUUIDv7Default(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	var id uuid.UUID
	require.NoError(t, d.Owner.QueryRow(context.Background(), "SELECT uuid_v7()").Scan(&id))
	require.Equal(t, uuid.Version(7), id.Version())
	require.Equal(t, uuid.RFC4122, id.Variant())
}
