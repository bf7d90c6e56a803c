package record

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// loadCSV loads a CSV file into org the way an import does, merging its
// records chunkLines lines at a time.
func loadCSV(t *testing.T, s *Service, org uuid.UUID, file string, chunkLines int64) loadResult {
	t.Helper()
	ctx := context.Background()
	rd, err := csvimport.NewReader(strings.NewReader(file), csvimport.Options{Location: time.UTC})
	require.NoError(t, err)
	issues := newIssueLog()
	var res loadResult
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		res, err = load(ctx, tx, org, csvRowSource(readerRows{rd}, issues), loadOptions{
			Source: SourceCSV, Currency: "USD", chunkLines: chunkLines,
		})
		return err
	})
	require.NoError(t, err)
	require.Empty(t, issues.errors)
	res.Phases = phases{}
	return res
}

// loadedState is what a load left in an organization, without ids or
// times: the records with their customer and vehicle, the customers and
// the vehicles with their owner.
func loadedState(t *testing.T, d *pgtest.DB, org uuid.UUID) []string {
	t.Helper()
	rows, err := d.Owner.Query(context.Background(), `
SELECT 'record ' || r.ro_number || ' ' || r.service_date || ' ' || COALESCE(r.service_type, '-') || ' '
       || COALESCE(c.dms_customer_id, '-') || '/' || COALESCE(c.phone, '-') || ' '
       || COALESCE(v.vin, '-') || '/' || COALESCE(v.make, '-') || '/' || COALESCE(v.model, '-') || '/' || COALESCE(v.year::text, '-')
FROM service_records r
LEFT JOIN customers c ON c.organization_id = r.organization_id AND c.id = r.customer_id
LEFT JOIN vehicles v ON v.organization_id = r.organization_id AND v.id = r.vehicle_id
WHERE r.organization_id = $1
UNION ALL
SELECT 'customer ' || COALESCE(c.dms_customer_id, '-') || ' ' || COALESCE(c.phone, '-') || ' ' || c.first_name || ' ' || c.last_name
       || ' ' || COALESCE(c.email, '-')
FROM customers c WHERE c.organization_id = $1
UNION ALL
SELECT 'vehicle ' || COALESCE(v.vin, '-') || ' ' || COALESCE(v.make, '-') || ' ' || COALESCE(v.model, '-') || ' '
       || COALESCE(v.year::text, '-') || ' owner ' || COALESCE(c.dms_customer_id, '-') || '/' || COALESCE(c.phone, '-')
FROM vehicles v
LEFT JOIN customers c ON c.organization_id = v.organization_id AND c.id = v.customer_id
WHERE v.organization_id = $1`, org)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

// chunkTestFile is a file whose customers, vehicles and duplicate RO
// numbers reach across lines far apart: a customer's latest record (by
// date, not by line) comes early, a vehicle changes hands, a household
// shares a phone, some vehicles have no VIN, and RO numbers repeat. edit
// changes the service type of every seventh row.
func chunkTestFile(edit bool) string {
	phones := benchPhones(6)
	var b strings.Builder
	b.WriteString("RONumber,OpenDate,ServiceType,CustNo,FirstName,LastName,CellPhone,Email,VIN,Year,Make,Model\n")
	for i := range 40 {
		ro := fmt.Sprintf("RO%03d", i%33) // 7 repeats, the later line wins
		day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*37)%90)
		typ := "Oil change"
		if edit && i%7 == 0 {
			typ = "Brakes"
		}
		cust, first, phone := "", "Pat", phones[i%3]
		if i%4 != 3 { // a quarter known by phone alone
			cust = fmt.Sprintf("C%02d", i%5)
			first = fmt.Sprintf("Name%d", i) // the latest row's name wins
			phone = phones[3+i%3]
		}
		vin, year, mk, model := benchVIN(i%6), 2015+i%3, "Honda", "Accord"
		if i%5 == 4 { // no VIN: matched by make, model and year
			vin, mk, model = "", "Toyota", fmt.Sprintf("Camry%d", i%2)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,Lee,%s,p%d@example.com,%s,%d,%s,%s\n",
			ro, day.Format("2006-01-02"), typ, cust, first, phone, i%5, vin, year, mk, model)
	}
	return b.String()
}

// Merging records in chunks of lines changes nothing of what a load does:
// the same records, customers and vehicles, the same counts, on a first
// load, a second (nothing changes) and an edited one.
func TestLoadInChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	ids := &identity.Service{DB: pdb, Tokens: &identity.Tokens{Secret: []byte("test-secret-of-at-least-32-bytes!!!"), TTL: time.Minute}}
	orgs := make([]uuid.UUID, 2)
	for i := range orgs {
		reg, err := ids.Register(ctx, identity.Registration{
			OrganizationName: fmt.Sprintf("Chunk Motors %d", i), FullName: "Owner", Email: fmt.Sprintf("chunk%d@example.com", i),
			Password: "correct-horse-battery",
		})
		require.NoError(t, err)
		orgs[i] = reg.Organization.ID
	}
	s := &Service{DB: pdb}
	whole, chunked := orgs[0], orgs[1]

	for _, step := range []struct {
		name              string
		file              string
		inserted, updated int
	}{
		{"first", chunkTestFile(false), 33, 0},
		{"again", chunkTestFile(false), 0, 0},
		{"edited", chunkTestFile(true), 0, 5},
	} {
		a := loadCSV(t, s, whole, step.file, 0)
		b := loadCSV(t, s, chunked, step.file, 3) // lines 2–41: 14 chunks
		require.Equal(t, a, b, step.name)
		require.Equal(t, step.inserted, b.Inserted, step.name)
		require.Equal(t, step.updated, b.Updated, step.name)
		require.Equal(t, 7, b.DuplicatesTotal, step.name)
		require.Equal(t, 40-7-step.inserted-step.updated, b.Unchanged, step.name)
		require.Equal(t, loadedState(t, d, whole), loadedState(t, d, chunked), step.name)
	}
}
