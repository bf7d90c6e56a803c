package record

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

func TestZZScratch(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	ctx := context.Background()
	d := pgtest.New(t)
	pdb := &postgres.DB{Pool: d.App}
	ids := &identity.Service{DB: pdb, Tokens: &identity.Tokens{Secret: []byte("bench-secret-of-at-least-32-bytes!!"), TTL: time.Minute}}
	reg, err := ids.Register(ctx, identity.Registration{OrganizationName: "Bench", FullName: "B", Email: "b-" + uuid.NewString()[:8] + "@example.com", Password: "correct-horse-battery"})
	if err != nil {
		t.Fatal(err)
	}
	org := reg.Organization.ID
	file := filepath.Join(t.TempDir(), "f.csv")
	b := &testing.B{}
	_ = b
	writeBenchFileT(t, file, 20000)
	sqlText, _ := os.ReadFile("../postgres/queries/record_staging.sql")
	merge := extract(string(sqlText), "RecordStagingMerge")
	err = pdb.InTenant(ctx, org, func(tx *postgres.Tx) error {
		f, _ := os.Open(file)
		defer f.Close()
		rd, err := csvimport.NewReader(f, csvimport.Options{})
		if err != nil {
			return err
		}
		t0 := time.Now()
		src := csvRowSource(readerRows{rd}, newIssueLog())
		if _, err := load(ctx, tx, org, func() (*stagedRow, error) { return src() }, loadOptions{Source: "csv", Currency: "USD"}); err != nil {
			return err
		}
		fmt.Println("first load", time.Since(t0))
		// second pass: explain the merge on re-staged data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pdb.InTenant(ctx, org, func(tx *postgres.Tx) error {
		f, _ := os.Open(file)
		defer f.Close()
		rd, _ := csvimport.NewReader(f, csvimport.Options{})
		src := csvRowSource(readerRows{rd}, newIssueLog())
		tx.RecordStagingSettings(ctx)
		if _, err := tx.Exec(ctx, "DELETE FROM service_records"); err != nil {
			return err
		}
		if err := tx.RecordStagingCreate(ctx); err != nil {
			return err
		}
		cs := &copySource{next: src}
		if _, err := tx.CopyFrom(ctx, []string{"service_record_staging"}, stagingColumns, cs); err != nil {
			return err
		}
		tx.RecordStagingAnalyze(ctx)
		tx.RecordStagingCustomersResolveByDMSID(ctx, org)
		q := strings.ReplaceAll(merge, "sqlc.arg(organization_id)", "'"+org.String()+"'::uuid")
		q = strings.ReplaceAll(q, "sqlc.arg(currency)", "'USD'")
		q = strings.ReplaceAll(q, "sqlc.arg(source)", "'csv'")
		q = strings.ReplaceAll(q, "sqlc.narg(dms_integration_id)", "NULL")
		// make all rows update: change mileage
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, VERBOSE) "+q)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l string
			rows.Scan(&l)
			fmt.Println(l)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func extract(s, name string) string {
	i := strings.Index(s, "-- name: "+name+" ")
	s = s[i:]
	j := strings.Index(s[10:], "-- name:")
	if j > 0 {
		s = s[:10+j]
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "; \n")
}

func BenchmarkZZParse(b *testing.B) {
	file := filepath.Join(b.TempDir(), "f.csv")
	writeBenchFileT(b, file, 100000)
	for b.Loop() {
		f, _ := os.Open(file)
		rd, _ := csvimport.NewReader(f, csvimport.Options{})
		src := csvRowSource(readerRows{rd}, newIssueLog())
		var vals []any
		n := 0
		for {
			r, err := src()
			if err != nil {
				break
			}
			vals = r.values(vals)
			n++
		}
		f.Close()
		if n != 100000 {
			b.Fatal(n)
		}
	}
}
