package campaign_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
)

// baselineLaunchSQL is the launch's INSERT … SELECT written out by hand for
// the benchmark's audience (a service-date window), without the audience
// function, the tenant transaction, the row-level security policy, the
// campaign's status change, the audit row or the job: what the launch
// would cost if it were only the rows.
const baselineLaunchSQL = `
INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, service_record_id, phone, status,
                              next_attempt_at, skip_reason, last_decision, last_decision_rule, last_decision_at)
SELECT $1, uuid_v7(), $2, a.customer_id, a.service_record_id, a.phone,
       CASE WHEN a.skip_reason IS NULL THEN 'pending' ELSE 'skipped' END,
       CASE WHEN a.skip_reason IS NULL THEN now() END,
       a.skip_reason, CASE WHEN a.skip_reason IS NOT NULL THEN 'block' END, a.skip_reason,
       CASE WHEN a.skip_reason IS NOT NULL THEN now() END
FROM (
  SELECT l.customer_id, l.service_record_id, COALESCE(c.phone, '') AS phone,
         CASE WHEN c.phone IS NULL THEN 'no_phone'
              WHEN EXISTS (SELECT 1 FROM dnc_entries d WHERE d.organization_id = $1 AND d.phone = c.phone) THEN 'dnc'
              WHEN row_number() OVER (PARTITION BY c.phone ORDER BY l.service_date DESC, l.customer_id) > 1 THEN 'duplicate_phone'
         END AS skip_reason
  FROM (
    SELECT DISTINCT ON (sr.customer_id) sr.customer_id, sr.id AS service_record_id, sr.service_date
    FROM service_records sr
    WHERE sr.organization_id = $1 AND sr.customer_id IS NOT NULL AND sr.status <> 'void'
      AND COALESCE((sr.closed_at AT TIME ZONE 'America/Chicago')::date, sr.service_date) BETWEEN $3 AND $4
    ORDER BY sr.customer_id, sr.service_date DESC, sr.closed_at DESC NULLS LAST, sr.id DESC
  ) l
  JOIN customers c ON c.organization_id = $1 AND c.id = l.customer_id
) a`

// BenchmarkLaunch100k launches a campaign whose audience is 100,000
// customers (1% on the do-not-call list, 2% without a phone; a fifth with
// an older second visit), and in the same run the bare INSERT … SELECT of
// the same rows through pgx, reporting both rates and their ratio.
//
//	go test ./internal/campaign/ -run '^$' -bench Launch100k -benchtime 3x
func BenchmarkLaunch100k(b *testing.B) {
	const customers = 100_000
	f := setup(b)
	ctx := context.Background()
	seedAudience(b, f, customers)

	window := campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 0, Max: 365}}
	from, to := testNow.AddDate(0, 0, -365), testNow
	clean := func() {
		_, err := f.db.Owner.Exec(ctx, `TRUNCATE campaign_targets CASCADE`)
		require.NoError(b, err)
	}
	var launchTime, baseTime time.Duration
	var targets int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c := f.draft(b, func(in *campaign.Spec) { in.Audience = window })
		b.StartTimer()
		start := time.Now()
		l, err := f.svc.Launch(ctx, f.org, c.ID)
		launchTime += time.Since(start)
		b.StopTimer()
		require.NoError(b, err)
		rows := l.Audience.Targets + l.Audience.Skipped
		require.Equal(b, int64(customers), rows)
		targets += rows
		clean()

		base := f.draft(b, func(in *campaign.Spec) { in.Audience = window })
		start = time.Now()
		tag, err := f.db.Owner.Exec(ctx, baselineLaunchSQL, f.org, base.ID, from, to)
		baseTime += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, rows, tag.RowsAffected(), "the baseline inserts the same rows")
		clean()
		b.StartTimer()
	}
	b.StopTimer()
	launchRate := float64(targets) / launchTime.Seconds()
	baseRate := float64(targets) / baseTime.Seconds()
	b.ReportMetric(launchRate, "targets/s")
	b.ReportMetric(baseRate, "baseline-targets/s")
	b.ReportMetric(launchTime.Seconds()/baseTime.Seconds(), "launch/baseline")
}

// seedAudience loads n customers with service records and vehicles through
// COPY as the owner.
func seedAudience(b *testing.B, f *fixture, n int) {
	b.Helper()
	ctx := context.Background()
	makes := []string{"Toyota", "Honda", "Ford", "Chevrolet", "Nissan"}
	kinds := []string{"oil change", "brakes", "tires", "recall", "inspection"}
	var custRows, vehRows, recRows, dncRows [][]any
	for i := range n {
		cust := uuid.Must(uuid.NewV7())
		var phone any
		if i%50 != 7 { // 2% without a phone
			phone = fmt.Sprintf("+1212%07d", i)
			if i%100 == 3 { // 1% on the do-not-call list
				dncRows = append(dncRows, []any{f.org, uuid.Must(uuid.NewV7()), phone, "import"})
			}
		}
		custRows = append(custRows, []any{f.org, cust, "Casey", fmt.Sprintf("Driver %d", i), phone, []string{}})
		visits := 1
		if i%5 == 0 {
			visits = 2
		}
		for v := range visits {
			veh, rec := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
			vehRows = append(vehRows, []any{f.org, veh, cust, makes[i%len(makes)]})
			closed := testNow.Add(-time.Duration(24*(1+i%300+v*30)) * time.Hour)
			recRows = append(recRows, []any{f.org, rec, cust, veh, fmt.Sprintf("RO-%d-%d", i, v), closed.Truncate(24 * time.Hour), closed, kinds[i%len(kinds)]})
		}
	}
	// COPY cannot write through row-level security (which binds the owner
	// too, FORCE): copy into an unprotected temporary table, then move the
	// rows over in one INSERT, as the owner.
	conn, err := f.db.Owner.Acquire(ctx)
	require.NoError(b, err)
	defer conn.Release()
	copyRows := func(table string, cols []string, rows [][]any) {
		list := strings.Join(cols, ", ")
		_, err := conn.Exec(ctx, "CREATE TEMP TABLE staging AS SELECT "+list+" FROM "+table+" WITH NO DATA")
		require.NoError(b, err)
		_, err = conn.CopyFrom(ctx, pgx.Identifier{"staging"}, cols, pgx.CopyFromRows(rows))
		require.NoError(b, err)
		_, err = conn.Exec(ctx, "INSERT INTO "+table+" ("+list+") SELECT "+list+" FROM staging")
		require.NoError(b, err)
		_, err = conn.Exec(ctx, "DROP TABLE staging")
		require.NoError(b, err)
	}
	copyRows("customers", []string{"organization_id", "id", "first_name", "last_name", "phone", "tags"}, custRows)
	copyRows("vehicles", []string{"organization_id", "id", "customer_id", "make"}, vehRows)
	copyRows("service_records", []string{"organization_id", "id", "customer_id", "vehicle_id", "ro_number", "service_date", "closed_at", "service_type"}, recRows)
	copyRows("dnc_entries", []string{"organization_id", "id", "phone", "source"}, dncRows)
	_, err = f.db.Owner.Exec(ctx, `VACUUM ANALYZE customers, vehicles, service_records, dnc_entries, campaign_targets`)
	require.NoError(b, err)
}
