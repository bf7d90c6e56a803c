package setting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/setting"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testEnv struct {
	db  *pgtest.DB
	svc *setting.Service
	org uuid.UUID
}

// setup gives a service over a fresh database with one organization in
// Chicago that has a Google review link.
func setup(t *testing.T) *testEnv {
	t.Helper()
	d := pgtest.New(t)
	e := &testEnv{db: d, svc: &setting.Service{DB: &postgres.DB{Pool: d.App}}}
	e.org = e.newOrg(t)
	return e
}

func (e *testEnv) newOrg(t *testing.T) uuid.UUID {
	t.Helper()
	var org uuid.UUID
	slug := "dealer-" + uuid.NewString()[:8]
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		`INSERT INTO organizations (name, slug, timezone, google_review_link)
		 VALUES ($1, $1, 'America/Chicago', 'https://g.page/r/dealer/review') RETURNING id`, slug).Scan(&org))
	return org
}

func (e *testEnv) auditRows(t *testing.T, key string) []string {
	t.Helper()
	rows, err := e.db.Owner.Query(context.Background(),
		`SELECT action FROM audit_logs WHERE organization_id = $1 AND entity = 'setting' AND entity_id = $2 ORDER BY id`, e.org, key)
	require.NoError(t, err)
	var actions []string
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		actions = append(actions, a)
	}
	require.NoError(t, rows.Err())
	return actions
}

func change(v string) setting.Change { return setting.Change{Value: json.RawMessage(v)} }

func TestTypedReadsFallBackToDefaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	tz, err := setting.Get(ctx, e.svc, e.org, setting.KeyTimezone)
	require.NoError(t, err)
	require.Equal(t, "America/Chicago", tz, "the organization's own time zone")
	link, err := setting.Get(ctx, e.svc, e.org, setting.KeyReviewLink)
	require.NoError(t, err)
	require.Equal(t, "https://g.page/r/dealer/review", link, "the organization's review link")
	caller, err := setting.Get(ctx, e.svc, e.org, setting.KeyCallerID)
	require.NoError(t, err)
	require.Empty(t, caller, "no default")
	hours, err := e.svc.BusinessHours(ctx, e.org)
	require.NoError(t, err)
	require.Equal(t, setting.BusinessHours{Days: []int{1, 2, 3, 4, 5}, Start: "08:00", End: "18:00"}, hours)
	gap, err := e.svc.RetryGap(ctx, e.org)
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, gap)

	_, err = e.svc.Put(ctx, e.org, "business_hours", change(`{"days":[6,2],"start":"07:00","end":"12:30"}`))
	require.NoError(t, err)
	_, err = e.svc.Put(ctx, e.org, "timezone", change(`"America/Denver"`))
	require.NoError(t, err)
	_, err = e.svc.Put(ctx, e.org, "default_retry_gap_minutes", change(`90`))
	require.NoError(t, err)

	hours, err = e.svc.BusinessHours(ctx, e.org)
	require.NoError(t, err)
	require.Equal(t, setting.BusinessHours{Days: []int{2, 6}, Start: "07:00", End: "12:30"}, hours)
	loc, err := e.svc.Location(ctx, e.org)
	require.NoError(t, err)
	require.Equal(t, "America/Denver", loc.String())
	gap, err = e.svc.RetryGap(ctx, e.org)
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, gap)

	// Read works inside a caller's transaction.
	require.NoError(t, e.svc.DB.InTenant(ctx, e.org, func(tx *postgres.Tx) error {
		n, err := setting.Read(ctx, tx, setting.KeyDefaultMaxAttempts)
		require.Equal(t, 3, n)
		return err
	}))
}

func TestPutAuditsChangesOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	first, err := e.svc.Put(ctx, e.org, "locale", change(`"es-mx"`))
	require.NoError(t, err)
	require.JSONEq(t, `"es-MX"`, string(first.Value))
	require.False(t, first.IsDefault)
	// The same value in another spelling is no change: no write, no audit.
	same, err := e.svc.Put(ctx, e.org, "locale", change(`"ES-MX"`))
	require.NoError(t, err)
	require.Equal(t, first.UpdatedAt, same.UpdatedAt)
	require.Equal(t, []string{"create"}, e.auditRows(t, "locale"))

	_, err = e.svc.Put(ctx, e.org, "locale", change(`"en-CA"`))
	require.NoError(t, err)
	require.NoError(t, e.svc.Delete(ctx, e.org, "locale"))
	require.NoError(t, e.svc.Delete(ctx, e.org, "locale"), "already at the default")
	require.Equal(t, []string{"create", "update", "delete"}, e.auditRows(t, "locale"))

	got, err := e.svc.Get(ctx, e.org, "locale")
	require.NoError(t, err)
	require.True(t, got.IsDefault)
	require.JSONEq(t, `"en-US"`, string(got.Value))

	// The create records the default it replaced; the delete the default it
	// restored.
	var oldValue, newValue json.RawMessage
	require.NoError(t, e.db.Owner.QueryRow(ctx, `SELECT old_value, new_value FROM audit_logs
		WHERE organization_id = $1 AND entity_id = 'locale' AND action = 'create'`, e.org).Scan(&oldValue, &newValue))
	require.Contains(t, string(oldValue), `"en-US"`)
	require.Contains(t, string(oldValue), `"is_default": true`)
	require.Contains(t, string(newValue), `"es-MX"`)
}

func TestCustomSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	_, err := e.svc.Get(ctx, e.org, "custom.loaner")
	require.True(t, fault.Is(err, fault.NotFound))
	require.True(t, fault.Is(e.svc.Delete(ctx, e.org, "custom.loaner"), fault.NotFound))

	for i := range setting.MaxCustomSettings {
		_, err := e.svc.Put(ctx, e.org, fmt.Sprintf("custom.k%03d", i), change(`1`))
		require.NoError(t, err)
	}
	_, err = e.svc.Put(ctx, e.org, "custom.one_more", change(`1`))
	require.True(t, fault.Is(err, fault.Conflict), "err: %v", err)
	_, err = e.svc.Put(ctx, e.org, "custom.k000", change(`{"now":"an object"}`))
	require.NoError(t, err, "existing keys can still change")
	// Known keys do not count against the limit.
	_, err = e.svc.Put(ctx, e.org, "sms_enabled", change(`true`))
	require.NoError(t, err)

	// Another organization sees none of it.
	other := e.newOrg(t)
	_, err = e.svc.Get(ctx, other, "custom.k000")
	require.True(t, fault.Is(err, fault.NotFound))
	items, _, err := e.svc.List(ctx, other, setting.Filter{}, 200, "")
	require.NoError(t, err)
	require.Len(t, items, 9, "only the known keys' defaults")
	for _, it := range items {
		require.True(t, it.IsDefault)
	}
}

func TestListMergesDefaultsAcrossPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	// Stored keys sorting before, between and after the known ones.
	for _, k := range []string{"custom.a", "custom.b", "custom.c", "custom.d", "custom.e"} {
		_, err := e.svc.Put(ctx, e.org, k, change(`"x"`))
		require.NoError(t, err)
	}
	_, err := e.svc.Put(ctx, e.org, "timezone", change(`"UTC"`))
	require.NoError(t, err)
	_, err = e.svc.Put(ctx, e.org, "caller_id", change(`"+13125550100"`))
	require.NoError(t, err)

	want := []string{
		"business_hours", "caller_id", "custom.a", "custom.b", "custom.c", "custom.d", "custom.e",
		"default_max_attempts", "default_retry_gap_minutes", "escalation_email", "locale", "review_link", "sms_enabled", "timezone",
	}
	for _, limit := range []int{1, 2, 3, 5, 13, 14, 200} {
		var keys []string
		stored := map[string]bool{}
		cursor := ""
		for range 20 {
			items, next, err := e.svc.List(ctx, e.org, setting.Filter{}, limit, cursor)
			require.NoError(t, err)
			require.LessOrEqual(t, len(items), limit)
			for _, it := range items {
				keys = append(keys, it.Key)
				stored[it.Key] = !it.IsDefault
			}
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, want, keys, "limit %d: every key once, in order", limit)
		require.True(t, stored["timezone"] && stored["caller_id"] && stored["custom.c"], "limit %d", limit)
		require.False(t, stored["locale"], "limit %d", limit)
	}

	items, next, err := e.svc.List(ctx, e.org, setting.Filter{Category: setting.CategoryCalling}, 50, "")
	require.NoError(t, err)
	require.Empty(t, next)
	var keys []string
	for _, it := range items {
		keys = append(keys, it.Key)
	}
	require.Equal(t, []string{"business_hours", "caller_id", "default_max_attempts", "default_retry_gap_minutes"}, keys)
}
