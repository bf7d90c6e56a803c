package record

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The CSV import against raw COPY of the same file.
//
//	AUTOPULSE_BENCH_ROWS=1000000 go test ./internal/record -run '^$' -bench BenchmarkImportCSV -benchtime 1x
//
// AUTOPULSE_BENCH_ROWS is a comma-separated list of file sizes (default
// 100000,1000000). For each size the benchmark writes a realistic file
// (a customer per four visits, 80% with a VIN, a column that lands in raw),
// then runs two child processes, one after the other, on fresh databases:
//
//   - copy: COPY … FROM STDIN (FORMAT csv, HEADER) of the file into a plain
//     table of text columns, no indexes: the floor for moving the bytes
//     into PostgreSQL;
//   - import: record.Service.ImportFile, as `autopulse import` runs it:
//     parse and check every row, COPY into staging, merge into customers,
//     vehicles and service_records, in one transaction.
//
// Each child times its own work (not its start-up), and the parent reads
// the child's peak RSS from its rusage (ru_maxrss): client memory only, the
// database server's is not counted. Flat memory shows as the same peak at
// every size.
func BenchmarkImportCSV(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if v := os.Getenv("AUTOPULSE_BENCH_ROWS"); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				b.Fatalf("AUTOPULSE_BENCH_ROWS=%q: want row counts", v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, rows := range sizes {
		b.Run(strconv.Itoa(rows), func(b *testing.B) {
			file := filepath.Join(b.TempDir(), "records.csv")
			size := writeBenchFile(b, file, rows)
			for b.Loop() {
				cp := runBenchChild(b, "copy", file)
				im := runBenchChild(b, "import", file)
				cpRate, imRate := float64(rows)/cp.Seconds, float64(rows)/im.Seconds
				b.ReportMetric(imRate, "import-rows/s")
				b.ReportMetric(cpRate, "copy-rows/s")
				b.ReportMetric(float64(im.MaxRSSKiB)/1024, "import-peak-MiB")
				b.ReportMetric(float64(cp.MaxRSSKiB)/1024, "copy-peak-MiB")
				b.ReportMetric(im.Seconds/cp.Seconds, "import/copy-time")
				fmt.Printf("\n%d rows, %.1f MiB file\n", rows, float64(size)/(1<<20))
				fmt.Printf("  %-32s %8.1f s %10.0f rows/s  peak RSS %6.1f MiB\n", "raw COPY into a plain table", cp.Seconds, cpRate, float64(cp.MaxRSSKiB)/1024)
				fmt.Printf("  %-32s %8.1f s %10.0f rows/s  peak RSS %6.1f MiB\n", "CSV import (parse, check, merge)", im.Seconds, imRate, float64(im.MaxRSSKiB)/1024)
				fmt.Printf("  import/COPY: %.2fx the time, %.2fx the client memory; %s\n", im.Seconds/cp.Seconds, float64(im.MaxRSSKiB)/float64(cp.MaxRSSKiB), im.Detail)
			}
		})
	}
}

// benchResult is what a child reports.
type benchResult struct {
	Seconds   float64 `json:"seconds"`
	Detail    string  `json:"detail"`
	MaxRSSKiB int64   `json:"-"`
}

// runBenchChild runs TestBenchChild in a new process on a fresh database.
func runBenchChild(b *testing.B, mode, file string) benchResult {
	b.Helper()
	d := pgtest.New(b)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1") //nolint:gosec // G204: our own test binary
	cmd.Env = append(os.Environ(), "AUTOPULSE_BENCH_CHILD="+mode, "AUTOPULSE_BENCH_FILE="+file,
		"AUTOPULSE_BENCH_APP_DSN="+d.AppDSN, "AUTOPULSE_BENCH_OWNER_DSN="+d.OwnerDSN)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s child: %v\n%s", mode, err, out)
	}
	var res benchResult
	for line := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "BENCH "); ok {
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				b.Fatal(err)
			}
		}
	}
	if res.Seconds == 0 {
		b.Fatalf("%s child reported nothing:\n%s", mode, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSSKiB = ru.Maxrss // kilobytes on Linux
	}
	return res
}

// TestBenchChild is the child process of BenchmarkImportCSV; it does
// nothing in an ordinary test run.
func TestBenchChild(t *testing.T) {
	mode := os.Getenv("AUTOPULSE_BENCH_CHILD")
	if mode == "" {
		t.Skip("the child process of BenchmarkImportCSV")
	}
	ctx := context.Background()
	file := os.Getenv("AUTOPULSE_BENCH_FILE")
	var res benchResult
	switch mode {
	case "copy":
		conn, err := pgx.Connect(ctx, os.Getenv("AUTOPULSE_BENCH_OWNER_DSN"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		cols := make([]string, len(benchHeader))
		for i, h := range benchHeader {
			cols[i] = pgx.Identifier{h}.Sanitize() + " text"
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE bench_copy ("+strings.Join(cols, ", ")+")"); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file) //nolint:gosec // G304: the benchmark's own file
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		tag, err := conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 64<<10), "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)")
		if err != nil {
			t.Fatal(err)
		}
		res = benchResult{Seconds: time.Since(start).Seconds(), Detail: fmt.Sprintf("%d rows copied", tag.RowsAffected())}
	case "import":
		pool, err := pgxpool.New(ctx, os.Getenv("AUTOPULSE_BENCH_APP_DSN"))
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		pdb := &postgres.DB{Pool: pool}
		ids := &identity.Service{DB: pdb, Tokens: &identity.Tokens{Secret: []byte("bench-secret-of-at-least-32-bytes!!"), TTL: time.Minute}}
		reg, err := ids.Register(ctx, identity.Registration{
			OrganizationName: "Bench Motors", FullName: "Bench Owner", Email: "bench-" + uuid.NewString()[:8] + "@example.com", Password: "correct-horse-battery",
		})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file) //nolint:gosec // G304: the benchmark's own file
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		s := &Service{DB: pdb, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))} // the phases, on stderr
		start := time.Now()
		imp, err := s.ImportFile(ctx, reg.Organization.ID, f, "records.csv", info.Size(), 0)
		if err != nil {
			t.Fatal(err)
		}
		c := imp.Counts
		res = benchResult{Seconds: time.Since(start).Seconds(), Detail: fmt.Sprintf(
			"import: %d rows, %d inserted, %d invalid, %d customers and %d vehicles created",
			c.Rows, c.Inserted, c.Invalid, c.CustomersCreated, c.VehiclesCreated)}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	line, _ := json.Marshal(res)
	fmt.Printf("BENCH %s\n", line)
}

// benchHeader is the benchmark file's header: CDK-style names, mapped by
// the reader's aliases; Tech maps to nothing and lands in raw.
var benchHeader = []string{
	"RONumber", "OpenDate", "ClosedDate", "ServiceType", "OpCodes", "Advisor", "OdometerIn", "Total", "PayType",
	"CustNo", "FirstName", "LastName", "CellPhone", "Email", "Zip", "VIN", "Year", "Make", "Model", "Tech",
}

// writeBenchFile writes rows deterministic, valid service records: about a
// customer per four visits, each customer with one phone and one vehicle
// (a VIN for 80% of them). It returns the file's size.
func writeBenchFile(b testing.TB, path string, rows int) int64 {
	b.Helper()
	f, err := os.Create(path) //nolint:gosec // G304: a file in the benchmark's temp dir
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // G404: reproducible test data
	customers := max(rows/4, 1)
	phones := benchPhones(customers)
	types := []string{"Oil change", "Brakes", "Tire rotation", "Alignment", "Battery", "Recall", "Inspection"}
	advisors := []string{"Dana Reyes", "Sam Ortiz", "Kim Park", "Lee Chen"}
	makes := [][2]string{{"Honda", "Accord"}, {"Toyota", "Camry"}, {"Ford", "F-150"}, {"Chevrolet", "Equinox"}, {"Nissan", "Rogue"}}
	first := []string{"Jordan", "Avery", "Riley", "Casey", "Morgan", "Taylor"}
	last := []string{"Lee", "Garcia", "Smith", "Nguyen", "Patel", "Brown", "O'Neil"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	_, _ = w.WriteString(strings.Join(benchHeader, ",") + "\n")
	for i := range rows {
		c := rng.IntN(customers)
		day := base.AddDate(0, 0, rng.IntN(730))
		closed := day.Add(time.Duration(8+rng.IntN(10)) * time.Hour)
		mk := makes[c%len(makes)]
		vin := ""
		if c%5 != 0 {
			vin = benchVIN(c)
		}
		fmt.Fprintf(w, "%d,%s,%s,%s,LOF;ROT,%s,%d,%d.%02d,customer,C%07d,%s,%s,%s,c%d@example.com,%05d,%s,%d,%s,%s,T%d\n",
			1_000_000+i, day.Format("01/02/2006"), closed.Format("2006-01-02 15:04"), types[rng.IntN(len(types))],
			advisors[rng.IntN(len(advisors))], 5_000+rng.IntN(150_000), 50+rng.IntN(900), rng.IntN(100),
			c, first[c%len(first)], csvQuote(last[c%len(last)]), phones[c], c, 10_000+c%89_999, vin, 2010+c%15, mk[0], mk[1], rng.IntN(40))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, `,"`) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// benchPhones returns n distinct valid US numbers, written as DMSs do.
func benchPhones(n int) []string {
	areas := []int{202, 212, 305, 312, 404, 415, 503, 602, 617, 713, 206, 303, 512, 615, 704}
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		area := areas[i%len(areas)]
		exchange := 201 + (i/len(areas))%700
		line := (i / (len(areas) * 700)) % 10_000
		s := fmt.Sprintf("(%d) %d-%04d", area, exchange, line)
		if exchange%100 == 11 || exchange == 555 {
			continue
		}
		if _, err := normalizePhone(s); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// benchVIN is a VIN with a valid check digit, unique per n.
func benchVIN(n int) string {
	const alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	v := []byte("1HGCM8263" + "3A000000")
	for i, k := 16, n; i >= 11; i-- {
		v[i] = alphabet[k%len(alphabet)]
		k /= len(alphabet)
	}
	v[8] = vinCheck(v)
	return string(v)
}

func vinCheck(v []byte) byte {
	weights := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	value := func(c byte) int {
		switch {
		case c >= '0' && c <= '9':
			return int(c - '0')
		case c >= 'A' && c <= 'H':
			return int(c-'A') + 1
		case c >= 'J' && c <= 'N':
			return int(c-'J') + 1
		case c == 'P':
			return 7
		case c == 'R':
			return 9
		default: // S..Z
			return int(c-'S') + 2
		}
	}
	sum := 0
	for i, c := range v {
		sum += value(c) * weights[i]
	}
	r := sum % 11
	if r == 10 {
		return 'X'
	}
	return byte('0' + r)
}
