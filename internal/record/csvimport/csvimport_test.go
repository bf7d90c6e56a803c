package csvimport_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// result is everything a reader produced for one input.
type result struct {
	rows   []csvimport.Row
	errs   []csvimport.RowError // row errors, in order
	failed []int                // lines of rejected rows
	fatal  error                // the error that stopped reading, nil at EOF
}

func readAll(t *testing.T, input string, opts csvimport.Options) (*csvimport.Reader, result) {
	t.Helper()
	r, err := csvimport.NewReader(strings.NewReader(input), opts)
	require.NoError(t, err)
	var res result
	for i := 0; ; i++ {
		require.Less(t, i, 10_000, "runaway reader")
		row, errs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.fatal = err
			// The error is sticky.
			_, _, again := r.Next()
			require.Equal(t, err, again)
			break
		}
		require.Positive(t, row.Line)
		if len(errs) > 0 {
			res.errs = append(res.errs, errs...)
			res.failed = append(res.failed, row.Line)
			continue
		}
		res.rows = append(res.rows, row)
	}
	return r, res
}

func headerError(t *testing.T, input string, opts csvimport.Options) string {
	t.Helper()
	_, err := csvimport.NewReader(strings.NewReader(input), opts)
	require.Error(t, err)
	require.True(t, fault.Is(err, fault.Invalid), "want fault.Invalid, got %v", err)
	return err.Error()
}

func TestReaderFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		input     string
		opts      csvimport.Options
		delim     rune
		rows      []int // lines of the loaded rows
		failed    []int // lines of the rejected rows
		errSubstr string
	}{
		{name: "plain", input: "ro_number,service_date,phone\nRO1,2026-01-02,2025550143\n", delim: ',', rows: []int{2}},
		{name: "BOM and CRLF", input: "\xEF\xBB\xBFro_number,service_date,phone\r\nRO1,2026-01-02,2025550143\r\nRO2,2026-01-03,2025550144\r\n", delim: ',', rows: []int{2, 3}},
		{name: "no final newline", input: "ro_number,service_date,phone\nRO1,2026-01-02,2025550143", delim: ',', rows: []int{2}},
		{name: "semicolon", input: "RO;Date;Phone;Total\nRO1;01/02/2026;202-555-0143;\"1,234.56\"\n", delim: ';', rows: []int{2}},
		{name: "tab", input: "RO#\tOpenDate\tCellPhone\nRO1\t1/2/2026\t(202) 555-0143\n", delim: '\t', rows: []int{2}},
		{name: "pipe", input: "RONumber|RODate|PhoneNumber\nRO1|2026-01-02|202.555.0143\n", delim: '|', rows: []int{2}},
		{name: "forced delimiter", input: "ro_number;service_date;phone\nRO1;2026-01-02;2025550143\n", opts: csvimport.Options{Delimiter: ';'}, delim: ';', rows: []int{2}},
		{name: "quoted delimiter and quote", input: "ro_number,service_date,phone,service_type\nRO1,2026-01-02,2025550143,\"Oil, filter, \"\"synthetic\"\"\"\n", delim: ',', rows: []int{2}},
		{name: "quoted newline keeps line numbers", input: "ro_number,service_date,phone,notes\nRO1,2026-01-02,2025550143,\"two\nlines\"\nRO2,2026-01-02,2025550143,x\n", delim: ',', rows: []int{2, 4}},
		{name: "blank lines and empty rows skipped", input: "\n\nro_number,service_date,phone\n\nRO1,2026-01-02,2025550143\n,,\n  ,  ,  \n\nRO2,2026-01-02,2025550143\n\n", delim: ',', rows: []int{5, 9}},
		{name: "ragged rows", input: "ro_number,service_date,phone\nRO1,2026-01-02\nRO2,2026-01-02,2025550143,extra\nRO3,2026-01-02,2025550143\n", delim: ',', rows: []int{4}, failed: []int{2, 3}, errSubstr: "values but the header has 3 columns"},
		{name: "unterminated quote at end", input: "ro_number,service_date,phone\nRO1,2026-01-02,2025550143\nRO2,2026-01-02,\"2025550143\n", delim: ',', rows: []int{2}, failed: []int{3}, errSubstr: "unterminated quoted value"},
		{name: "bare quote", input: "ro_number,service_date,phone,service_type\nRO1,2026-01-02,2025550143,12\" wheel\nRO2,2026-01-02,2025550143,ok\n", delim: ',', rows: []int{3}, failed: []int{2}, errSubstr: "unquoted value"},
		{name: "stray quote in quoted value", input: "ro_number,service_date,phone\nRO1,\"2026-01-02\"x,2025550143\nRO2,2026-01-02,2025550143\n", delim: ',', rows: []int{3}, failed: []int{2}, errSubstr: "quoted value"},
		{name: "header only", input: "ro_number,service_date,phone\n", delim: ','},
		{name: "header only without newline", input: "ro_number,service_date,phone", delim: ','},
		{name: "invalid UTF-8 value", input: "ro_number,service_date,phone,advisor\nRO1,2026-01-02,2025550143,Jos\xe9\nRO2,2026-01-02,2025550143,Jose\n", delim: ',', rows: []int{3}, failed: []int{2}, errSubstr: "not valid UTF-8"},
		{name: "oversized value", input: "ro_number,service_date,phone,notes\nRO1,2026-01-02,2025550143," + strings.Repeat("x", csvimport.DefaultMaxFieldBytes+1) + "\nRO2,2026-01-02,2025550143,ok\n", delim: ',', rows: []int{3}, failed: []int{2}, errSubstr: "the limit is 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, res := readAll(t, tt.input, tt.opts)
			require.NoError(t, res.fatal)
			require.Equal(t, tt.delim, r.Delimiter())
			var lines []int
			for _, row := range res.rows {
				lines = append(lines, row.Line)
				require.True(t, strings.HasPrefix(row.Customer.Phone, "+1202555014"), row.Customer.Phone)
			}
			require.Equal(t, tt.rows, lines, "loaded rows")
			require.Equal(t, tt.failed, res.failed, "rejected rows")
			if tt.errSubstr != "" {
				require.Contains(t, res.errs[0].Reason, tt.errSubstr)
			}
		})
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		opts  csvimport.Options
		want  string
	}{
		{name: "empty file", input: "", want: "the file is empty"},
		{name: "blank lines only", input: "\n\r\n  \n", want: "the file is empty"},
		{name: "BOM only", input: "\xEF\xBB\xBF", want: "the file is empty"},
		{name: "unknown delimiter", input: "ro_number:service_date:phone\nRO1:2026-01-02:2025550143\n", want: "no recognizable columns; is the delimiter ','?"},
		{name: "not a csv", input: "\x00\x01\x02garbage\n", want: "no recognizable columns"},
		{name: "forced wrong delimiter", input: "ro_number;service_date;phone\n", opts: csvimport.Options{Delimiter: ','}, want: "the header looks ';'-delimited"},
		{name: "forced delimiter, nothing known", input: "a,b,c\n", opts: csvimport.Options{Delimiter: ','}, want: "no recognizable columns with delimiter ','"},
		{name: "missing ro and phone", input: "service_date,vin\n", want: "missing required column(s): ro_number, phone"},
		{name: "missing date", input: "ro_number,phone\n", want: "service_date (or closed_at)"},
		{name: "duplicate field", input: "RO,RONumber,Date,Phone\n", want: `columns "RO" and "RONumber" both map to ro_number`},
		{name: "duplicate phone kind", input: "RO,Date,Cell,Mobile\n", want: "both the same kind of phone number"},
		{name: "duplicate unknown column", input: "RO,Date,Phone,Notes,Notes\n", want: `column "Notes" appears twice`},
		{name: "old Mac line ends", input: "ro_number,service_date,phone\rRO1,2026-01-02,2025550143\r", want: "carriage returns alone"},
		{name: "UTF-16", input: "\xFF\xFEr\x00o\x00", want: "UTF-16"},
		{name: "non-UTF-8 header", input: "ro_number,service_date,phone,Not\xe9s\n", want: "not valid UTF-8"},
		{name: "too many columns", input: "ro_number,service_date,phone" + strings.Repeat(",x", csvimport.DefaultMaxColumns) + "\n", want: "the limit is 256"},
		{name: "header line too long", input: "ro_number,service_date,phone," + strings.Repeat("x", 70<<10) + "\n", want: "longer than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, headerError(t, tt.input, tt.opts), tt.want)
		})
	}
}

func TestReaderRunawayRecord(t *testing.T) {
	t.Parallel()
	// An unterminated quote would make the csv package buffer the rest of
	// the file as one value; the record cap stops reading instead.
	input := "ro_number,service_date,phone\nRO1,2026-01-02,2025550143\nRO2,2026-01-02,\"2025550143\n" +
		strings.Repeat("RO3,2026-01-02,2025550143\n", 2000)
	_, res := readAll(t, input, csvimport.Options{MaxRecordBytes: 4 << 10})
	require.Len(t, res.rows, 1)
	require.Error(t, res.fatal)
	require.True(t, fault.Is(res.fatal, fault.Invalid))
	require.Contains(t, res.fatal.Error(), "after line 2")
}

func TestReaderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	src := io.MultiReader(strings.NewReader("ro_number,service_date,phone\nRO1,2026-01-02,2025550143\n"), errReader{boom})
	r, err := csvimport.NewReader(src, csvimport.Options{})
	require.NoError(t, err)
	_, errs, err := r.Next()
	require.NoError(t, err)
	require.Empty(t, errs)
	_, _, err = r.Next()
	require.ErrorIs(t, err, boom)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReaderRowValues(t *testing.T) {
	t.Parallel()
	input := "RO,Open Date,Closed Date,Status,OpDescription,OpCode,Writer,OdometerIn,Total,PayType,CustNo,Customer Name,Cell,Home Phone,E-mail,Address,City,ST,Zip,VIN,Year,Make,Model,Notes\n" +
		`R-1,03/02/2026,2026-03-03T10:30:00-05:00,C,Oil change,"LOF; ROT|LOF",Dana,"42,180",$1234.56,CP,C9,"SMITH, JOHN",,(202) 555-0143,John@Example.COM,1 Main St,Tampa,fl,2134,1hgcm82633a004352,2003,Honda,Accord,call after 5` + "\n"
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	_, res := readAll(t, input, csvimport.Options{Location: loc})
	require.Empty(t, res.errs)
	require.Len(t, res.rows, 1)
	row := res.rows[0]
	m, a, y := int32(42180), int64(123456), int32(2003)
	closed := time.Date(2026, 3, 3, 15, 30, 0, 0, time.UTC)
	require.True(t, closed.Equal(*row.ClosedAt))
	row.ClosedAt = nil
	require.Equal(t, csvimport.Row{
		Line:        2,
		RONumber:    "R-1",
		ServiceDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Status:      "closed",
		ServiceType: "Oil change",
		OpCodes:     []string{"LOF", "ROT"},
		AdvisorName: "Dana",
		Mileage:     &m,
		TotalAmount: &a,
		PayType:     "customer",
		Customer: csvimport.Customer{
			DMSCustomerID: "C9", FirstName: "JOHN", LastName: "SMITH", Phone: "+12025550143",
			Email: "John@example.com", Address: "1 Main St", City: "Tampa", State: "FL", PostalCode: "02134",
		},
		Vehicle: csvimport.Vehicle{VIN: "1HGCM82633A004352", Year: &y, Make: "Honda", Model: "Accord"},
		Raw:     map[string]string{"Notes": "call after 5"},
		Warnings: []csvimport.RowError{{Line: 2, Column: "Zip",
			Reason: `ZIP "2134" restored to 02134 (a spreadsheet dropped its leading zeros)`}},
	}, row)
}

func TestReaderRowErrors(t *testing.T) {
	t.Parallel()
	const header = "ro_number,service_date,closed_at,phone,vin,mileage,year,total_amount,email,state,postal_code,status\n"
	good := map[string]string{
		"ro_number": "R1", "service_date": "2026-01-02", "closed_at": "", "phone": "2025550143", "vin": "",
		"mileage": "", "year": "", "total_amount": "", "email": "", "state": "", "postal_code": "", "status": "",
	}
	cols := strings.Split(strings.TrimSpace(header), ",")
	line := func(over map[string]string) string {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = good[c]
			if v, ok := over[c]; ok {
				vals[i] = v
			}
		}
		return strings.Join(vals, ",") + "\n"
	}
	tests := []struct {
		name   string
		over   map[string]string
		column string
		reason string
	}{
		{name: "seven-digit phone", over: map[string]string{"phone": "555-0143"}, column: "phone", reason: "not a valid number"},
		{name: "letters phone", over: map[string]string{"phone": "call me"}, column: "phone", reason: "not a phone number"},
		{name: "555 area code", over: map[string]string{"phone": "(555) 555-5555"}, column: "phone", reason: "not a valid number"},
		{name: "zero phone", over: map[string]string{"phone": "000-000-0000"}, column: "phone", reason: "not a valid number"},
		{name: "missing phone", over: map[string]string{"phone": ""}, column: "phone", reason: "a phone number is required"},
		{name: "missing RO", over: map[string]string{"ro_number": " "}, column: "ro_number", reason: "RO number is required"},
		{name: "missing dates", over: map[string]string{"service_date": ""}, column: "service_date", reason: "service date (or closed date) is required"},
		{name: "bad date", over: map[string]string{"service_date": "13/45/2026"}, column: "service_date", reason: "unrecognized date"},
		{name: "day-first date", over: map[string]string{"service_date": "31/01/2026"}, column: "service_date", reason: "unrecognized date"},
		{name: "ancient date", over: map[string]string{"service_date": "1850-01-01"}, column: "service_date", reason: "out of range"},
		{name: "bad closed date", over: map[string]string{"closed_at": "yesterday"}, column: "closed_at", reason: "unrecognized date"},
		{name: "short VIN", over: map[string]string{"vin": "1HGCM82633A00435"}, column: "vin", reason: "must be 17 characters"},
		{name: "VIN with O", over: map[string]string{"vin": "1HGCM82633AO04352"}, column: "vin", reason: "never use"},
		{name: "VIN with dash", over: map[string]string{"vin": "1HGCM82633A-04352"}, column: "vin", reason: "only letters and digits"},
		{name: "negative mileage", over: map[string]string{"mileage": "-5"}, column: "mileage", reason: "negative"},
		{name: "decimal mileage", over: map[string]string{"mileage": "12.5"}, column: "mileage", reason: "not a whole number"},
		{name: "huge mileage", over: map[string]string{"mileage": "99999999"}, column: "mileage", reason: "implausible"},
		{name: "old year", over: map[string]string{"year": "1899"}, column: "year", reason: "out of range"},
		{name: "two-digit year", over: map[string]string{"year": "19"}, column: "year", reason: "four-digit"},
		{name: "decimal comma amount", over: map[string]string{"total_amount": "\"12,50\""}, column: "total_amount", reason: "not a number"},
		{name: "three decimals", over: map[string]string{"total_amount": "1.234"}, column: "total_amount", reason: "two decimals"},
		{name: "email without domain", over: map[string]string{"email": "jo@localhost"}, column: "email", reason: "no valid domain"},
		{name: "two emails", over: map[string]string{"email": "a@x.com; b@y.com"}, column: "email", reason: "one address per cell"},
		{name: "bad state", over: map[string]string{"state": "Fla"}, column: "state", reason: "two-letter state code"},
		{name: "bad zip", over: map[string]string{"postal_code": "ABCDE"}, column: "postal_code", reason: "not a US ZIP"},
		{name: "bad status", over: map[string]string{"status": "maybe"}, column: "status", reason: "not open, closed or void"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, res := readAll(t, header+line(nil)+line(tt.over)+line(nil), csvimport.Options{})
			require.Len(t, res.rows, 2, "the good rows around the bad one load")
			require.Equal(t, []int{3}, res.failed)
			require.Len(t, res.errs, 1, "%v", res.errs)
			require.Equal(t, 3, res.errs[0].Line)
			require.Equal(t, tt.column, res.errs[0].Column)
			require.Contains(t, res.errs[0].Reason, tt.reason)
		})
	}

	t.Run("several errors in one row", func(t *testing.T) {
		t.Parallel()
		_, res := readAll(t, header+line(map[string]string{"phone": "x", "vin": "short", "year": "3000"}), csvimport.Options{})
		require.Len(t, res.errs, 3)
		var cols []string
		for _, e := range res.errs {
			require.Equal(t, 2, e.Line)
			cols = append(cols, e.Column)
		}
		require.ElementsMatch(t, []string{"phone", "vin", "year"}, cols)
	})
}

func TestReaderAcceptedValues(t *testing.T) {
	t.Parallel()
	const header = "ro_number,service_date,closed_at,phone,total_amount,vin,customer_name,status\n"
	tests := []struct {
		name  string
		line  string
		check func(t *testing.T, row csvimport.Row)
	}{
		{name: "US date", line: "R,1/2/2026,,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), row.ServiceDate)
		}},
		{name: "two-digit year", line: "R,01/02/06,,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2006, 1, 2, 0, 0, 0, 0, time.UTC), row.ServiceDate)
		}},
		{name: "RFC 3339", line: "R,2026-01-02T23:30:00-08:00,,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), row.ServiceDate, "the date as written, not shifted to UTC")
		}},
		{name: "US date and time", line: "R,1/2/2026 3:04 PM,,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), row.ServiceDate)
		}},
		{name: "compact date", line: "R,20260102,,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), row.ServiceDate)
		}},
		{name: "closed date only", line: "R,,2026-02-03,2025550143,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), row.ServiceDate)
			require.Equal(t, time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), *row.ClosedAt)
		}},
		{name: "accounting negative", line: "R,2026-01-02,,2025550143,($12.50),,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, int64(-1250), *row.TotalAmount)
		}},
		{name: "amount one decimal", line: "R,2026-01-02,,2025550143,\"$1,000.5\",,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, int64(100050), *row.TotalAmount)
		}},
		{name: "VIN check digit warns", line: "R,2026-01-02,,2025550143,,1HGCM82634A004352,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "1HGCM82634A004352", row.Vehicle.VIN)
			require.Len(t, row.Warnings, 1)
			require.Contains(t, row.Warnings[0].Reason, "check digit")
		}},
		{name: "international phone", line: "R,2026-01-02,,+44 20 7946 0958,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "+442079460958", row.Customer.Phone)
		}},
		{name: "phone with extension", line: "R,2026-01-02,,202-555-0143 x12,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "+12025550143", row.Customer.Phone)
		}},
		{name: "Canadian phone", line: "R,2026-01-02,,+1 416 555 0100,,,,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "+14165550100", row.Customer.Phone)
		}},
		{name: "name first last", line: "R,2026-01-02,,2025550143,,,Mary Ann Smith Jr.,", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "Mary Ann", row.Customer.FirstName)
			require.Equal(t, "Smith Jr.", row.Customer.LastName)
		}},
		{name: "open status", line: "R,2026-01-02,,2025550143,,,,WIP", check: func(t *testing.T, row csvimport.Row) {
			require.Equal(t, "open", row.Status)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, res := readAll(t, header+tt.line+"\n", csvimport.Options{})
			require.Empty(t, res.errs)
			require.Len(t, res.rows, 1)
			tt.check(t, res.rows[0])
		})
	}
}

func TestReaderPhonePreference(t *testing.T) {
	t.Parallel()
	const header = "RO,Date,Home Phone,Cell Phone,Work Phone\n"
	tests := []struct {
		name     string
		line     string
		phone    string
		raw      map[string]string
		warnings int
		errs     int
	}{
		{name: "cell preferred", line: "R,2026-01-02,2025550143,3055550100,", phone: "+13055550100", raw: map[string]string{"Home Phone": "2025550143"}},
		{name: "bad cell falls back with a warning", line: "R,2026-01-02,2025550143,555-0100,", phone: "+12025550143", warnings: 1},
		{name: "empty cell falls back", line: "R,2026-01-02,,,2025550143", phone: "+12025550143"},
		{name: "all bad", line: "R,2026-01-02,123,456,", errs: 2},
		{name: "none", line: "R,2026-01-02,,,", errs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvimport.NewReader(strings.NewReader(header+tt.line+"\n"), csvimport.Options{})
			require.NoError(t, err)
			row, errs, err := r.Next()
			require.NoError(t, err)
			require.Len(t, errs, tt.errs)
			if tt.errs > 0 {
				return
			}
			require.Equal(t, tt.phone, row.Customer.Phone)
			require.Equal(t, tt.raw, row.Raw)
			require.Len(t, row.Warnings, tt.warnings)
		})
	}
}

func TestReaderEveryAlias(t *testing.T) {
	t.Parallel()
	aliases := csvimport.Aliases()
	require.Len(t, aliases, 25)
	for field, names := range aliases {
		for _, alias := range append([]string{field}, names...) {
			for _, spelling := range []string{alias, strings.ToUpper(alias), spaced(alias)} {
				// The required columns, but not the one the alias stands for.
				header := []string{spelling}
				for _, req := range []string{"ro_number", "service_date", "phone"} {
					satisfied := req == field || (req == "service_date" && field == "closed_at")
					if !satisfied {
						header = append(header, req)
					}
				}
				r, err := csvimport.NewReader(strings.NewReader(strings.Join(header, ",")+"\n"), csvimport.Options{})
				require.NoError(t, err, "header %q", header)
				require.Equal(t, csvimport.Column{Header: spelling, Field: field}, r.Columns()[0], "header %q", spelling)
			}
		}
	}
}

// spaced turns "ServiceDate" into "Service_Date" style variants.
func spaced(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestReaderNameColumns(t *testing.T) {
	t.Parallel()
	_, res := readAll(t, "RO,Date,Phone,First Name,Last Name,Customer Name\nR,2026-01-02,2025550143,Ann,Lee,\"LEE, ANN M\"\n", csvimport.Options{})
	require.Len(t, res.rows, 1)
	c := res.rows[0].Customer
	require.Equal(t, [2]string{"Ann", "Lee"}, [2]string{c.FirstName, c.LastName})
	require.Equal(t, map[string]string{"Customer Name": "LEE, ANN M"}, res.rows[0].Raw)
}

func TestReaderColumns(t *testing.T) {
	t.Parallel()
	_, err := csvimport.NewReader(strings.NewReader("RO #, Odometer In ,PHONE,Favorite Color,\n"+"x,1,2025550143,blue,\n"), csvimport.Options{})
	require.Error(t, err, "no date column")
	r, err := csvimport.NewReader(strings.NewReader("RO #, Odometer In ,PHONE,Date,Favorite Color,\nR,1,2025550143,2026-01-02,blue,extra\n"), csvimport.Options{})
	require.NoError(t, err)
	require.Equal(t, []csvimport.Column{
		{Header: "RO #", Field: "ro_number"},
		{Header: "Odometer In", Field: "mileage"},
		{Header: "PHONE", Field: "phone"},
		{Header: "Date", Field: "service_date"},
		{Header: "Favorite Color"},
		{Header: "column_6"},
	}, r.Columns())
	row, errs, err := r.Next()
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Equal(t, map[string]string{"Favorite Color": "blue", "column_6": "extra"}, row.Raw)
	_, _, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 1, r.Rows())
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	tpl := csvimport.Template()
	require.True(t, bytes.HasPrefix(tpl, []byte("ro_number,service_date,closed_at,")))
	r, err := csvimport.NewReader(bytes.NewReader(tpl), csvimport.Options{})
	require.NoError(t, err)
	for _, c := range r.Columns() {
		require.NotEmpty(t, c.Field, "template column %q must be canonical", c.Header)
		require.Equal(t, c.Header, c.Field)
	}
	row, errs, err := r.Next()
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Empty(t, row.Warnings)
	require.Nil(t, row.Raw)
	require.Equal(t, "RO-100234", row.RONumber)
	require.Equal(t, "+12025550143", row.Customer.Phone)
	require.Equal(t, "1HGCM82633A004352", row.Vehicle.VIN)
	require.NotNil(t, row.ClosedAt)
	require.NotNil(t, row.Mileage)
	require.NotNil(t, row.TotalAmount)
	require.NotNil(t, row.Vehicle.Year)
	_, _, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
}

func ExampleReader() {
	input := "RO#;Open Date;Cell Phone;Odometer In;Favorite Color\n" +
		"R-1;03/02/2026;(202) 555-0143;42,180;blue\n" +
		"R-2;03/02/2026;555-0143;;\n"
	r, err := csvimport.NewReader(strings.NewReader(input), csvimport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		row, errs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if len(errs) > 0 {
			fmt.Println(errs[0])
			continue
		}
		fmt.Println(row.RONumber, row.ServiceDate.Format(time.DateOnly), row.Customer.Phone, *row.Mileage, row.Raw)
	}
	// Output:
	// R-1 2026-03-02 +12025550143 42180 map[Favorite Color:blue]
	// line 3, column "Cell Phone": phone "555-0143" is not a valid number
}
