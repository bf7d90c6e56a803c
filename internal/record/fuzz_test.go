package record

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/autopulse/autopulse/internal/record/csvimport"
)

var e164Re = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// checkStaged asserts what the staging table and the merge rely on: every
// value fits its column and its constraints, so COPY cannot fail on a row
// that passed the checks.
func checkStaged(t *testing.T, r *stagedRow) {
	t.Helper()
	vals, err := r.values(nil, newIDSource())
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(stagingColumns) {
		t.Fatalf("%d values for %d columns", len(vals), len(stagingColumns))
	}
	if r.roNumber == "" {
		t.Fatal("a staged row without an RO number")
	}
	if !e164Re.MatchString(r.phone) {
		t.Fatalf("phone %q is not E.164", r.phone)
	}
	if r.vin != "" && !vinRe.MatchString(r.vin) {
		t.Fatalf("vin %q breaks the vehicles constraint", r.vin)
	}
	switch r.status {
	case "open", "closed", "void":
	default:
		t.Fatalf("status %q breaks the constraint", r.status)
	}
	if r.mileage != nil && *r.mileage < 0 {
		t.Fatalf("negative mileage %d", *r.mileage)
	}
	if r.year != nil && (*r.year < 1900 || *r.year > 2100) {
		t.Fatalf("year %d breaks the constraint", *r.year)
	}
	if r.serviceDate.IsZero() {
		t.Fatal("no service date")
	}
	if r.hasNUL() {
		t.Fatal("a NUL character would fail the COPY")
	}
	for _, v := range vals {
		if s, ok := v.(*string); ok && s != nil && !utf8.ValidString(*s) {
			t.Fatalf("invalid UTF-8 %q", *s)
		}
	}
	if len(r.raw) > 0 {
		var m map[string]any
		if err := json.Unmarshal(r.raw, &m); err != nil {
			t.Fatalf("raw %q is not a JSON object: %v", r.raw, err)
		}
		if bytes.Contains(r.raw, []byte(`\u0000`)) {
			t.Fatalf("raw %q holds a NUL jsonb refuses", r.raw)
		}
	}
}

// FuzzImportRow feeds arbitrary files through the import path up to the
// staging table: the CSV reader, the conversion to staging rows and their
// COPY values. Whatever the file, nothing panics and every row that is
// staged satisfies the database's constraints.
func FuzzImportRow(f *testing.F) {
	f.Add([]byte(string(csvimport.Template())))
	f.Add([]byte("RONumber;ServiceDate;CustNo;Name;Cell;VIN;OdometerIn;Notes\nRO-1;03/02/2026;C1;LEE, JORDAN;202.555.0143;1hgcm82633a004352;42,180;x\n"))
	f.Add([]byte("\xEF\xBB\xBFro_number,service_date,phone,raw_extra\r\nA,2026-03-02,(202) 555-0143,\"q\"\"uoted\"\r\n"))
	f.Add([]byte("ro_number,service_date,phone,notes\nA,2026-03-02,(202) 555-0143,a\x00b\n"))
	f.Add([]byte("ro_number,service_date,phone\n\"A\n,2026-03-02,+44 20 7946 0958\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		rd, err := csvimport.NewReader(bytes.NewReader(file), csvimport.Options{MaxRecordBytes: 64 << 10})
		if err != nil {
			return
		}
		issues := newIssueLog()
		next := csvRowSource(readerRows{rd}, issues)
		for range 1000 {
			row, err := next()
			if err != nil { // the end, or a file unreadable from here on
				return
			}
			if row.line <= 0 {
				t.Fatalf("line %d", row.line)
			}
			checkStaged(t, row)
		}
	})
}

// FuzzStageInput feeds arbitrary JSON through a push record's decoding
// and checks: nothing panics, and an accepted record stages cleanly.
func FuzzStageInput(f *testing.F) {
	f.Add([]byte(`{"ro_number":"RO-1","service_date":"2026-03-02","customer":{"phone":"(202) 555-0143"}}`))
	f.Add([]byte(`{"ro_number":"RO-1","service_date":"2026-03-02","status":"void","op_codes":["LOF"," "],"mileage":-1,"customer":{"phone":"+442079460958","email":"a@b.co","state":"va"},"vehicle":{"vin":"1hgcm82633a004352","year":1899},"raw":{"k":[1,{"x":null}]}}`))
	f.Add([]byte(`{"ro_number":"A\u0000","service_date":"2026-03-02","customer":{"phone":"2025550143"},"raw":{"n":"\u0000"}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := decodeInput(raw)
		if err != nil {
			return
		}
		row, errs := in.stage(7, "body")
		if len(errs) > 0 {
			for _, e := range errs {
				if !strings.HasPrefix(e.Location, "body.") || e.Message == "" {
					t.Fatalf("field error %+v", e)
				}
			}
			return
		}
		if row.line != 7 {
			t.Fatalf("line %d", row.line)
		}
		checkStaged(t, &row)
	})
}
