package csvimport_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// generated is an io.Reader that produces a CSV export of n rows on the
// fly, so a test can stream a large file without holding it in memory.
type generated struct {
	n, next int
	buf     []byte
	off     int
}

const generatedHeader = "RO Number,Open Date,Closed Date,Cust No,Customer Name,Cell Phone,Email,Zip,VIN,Year,Make,Model,Odometer In,Total,Pay Type,Op Codes,Advisor,Notes\r\n"

var areaCodes = []string{"202", "305", "312", "415", "512", "602", "617", "713", "850", "907"}

// appendRow writes row i without fmt, so the generator itself does not
// allocate and the allocation count measures the reader alone.
func appendRow(b []byte, i int) []byte {
	pad := func(b []byte, n, width int) []byte {
		var d [20]byte
		s := strconv.AppendInt(d[:0], int64(n), 10)
		for k := len(s); k < width; k++ {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	day := 1 + i%28
	b = append(b, "RO"...)
	b = pad(b, i, 7)
	b = append(b, ",03/"...)
	b = pad(b, day, 2)
	b = append(b, "/2026,2026-03-"...)
	b = pad(b, day, 2)
	b = append(b, "T17:"...)
	b = pad(b, i%60, 2)
	b = append(b, ":00Z,C"...)
	b = pad(b, i%50000, 6)
	b = append(b, `,"DOE, JANE `...)
	b = pad(b, i, 1)
	b = append(b, `",(`...)
	b = append(b, areaCodes[i%len(areaCodes)]...)
	b = append(b, ") "...)
	b = pad(b, 200+i%700, 3)
	b = append(b, '-')
	b = pad(b, i%10000, 4)
	b = append(b, ",jane"...)
	b = pad(b, i, 1)
	b = append(b, "@example.com,"...)
	b = pad(b, 10000+i%89999, 5)
	b = append(b, `,1HGCM82633A004352,2003,Honda,Accord,"`...)
	b = pad(b, i%300000, 1)
	b = append(b, `",$`...)
	b = pad(b, i%2000, 1)
	b = append(b, '.')
	b = pad(b, i%100, 2)
	b = append(b, ",CP,LOF;ROT,Dana,note "...)
	b = pad(b, i, 1)
	return append(b, "\r\n"...)
}

func (g *generated) Read(p []byte) (int, error) {
	if g.off == len(g.buf) {
		if g.next > g.n {
			return 0, io.EOF
		}
		g.buf, g.off = g.buf[:0], 0
		if g.next == 0 {
			g.buf = append(g.buf, generatedHeader...)
		} else {
			g.buf = appendRow(g.buf, g.next)
		}
		g.next++
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestReaderStreamsInFlatMemory reads 200,000 rows and checks that the heap
// after them is no bigger than after the first 10,000: nothing accumulates
// per row. It also bounds allocations per row.
func TestReaderStreamsInFlatMemory(t *testing.T) {
	// Not parallel: it measures the heap.
	const total, warmup = 200_000, 10_000
	r, err := csvimport.NewReader(&generated{n: total}, csvimport.Options{})
	require.NoError(t, err)
	read := func(n int) {
		for i := 0; i < n; i++ {
			row, errs, err := r.Next()
			require.NoError(t, err)
			require.Empty(t, errs, "line %d", row.Line)
		}
	}
	read(warmup)
	before := heapInUse()

	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	read(total - warmup - 1001)
	after := heapInUse()
	_, _, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, total, r.Rows())

	growth := int64(after) - int64(before)
	t.Logf("heap in use: %d KiB after %d rows, %d KiB after %d rows; %.1f allocations per row", before>>10, warmup, after>>10, total, allocs)
	require.Less(t, growth, int64(2<<20), "the heap grew by %d bytes over %d rows", growth, total-warmup)
	require.LessOrEqual(t, allocs, 14.0, "allocations per row")
}

// FuzzReader: whatever the bytes, the reader never panics, never loops, and
// every row either loads (with its required values) or carries row errors
// whose line numbers lie within the file.
func FuzzReader(f *testing.F) {
	f.Add([]byte("ro_number,service_date,phone\nRO1,2026-01-02,2025550143\n"))
	f.Add([]byte("\xEF\xBB\xBFRO;Date;Phone;VIN\r\nR;1/2/26;(305) 555-0100;1HGCM82633A004352\r\n"))
	f.Add([]byte("RO\tOpenDate\tCell\tTotal\nR\t2026-01-02\t+1 202 555 0143\t\"$1,234.5\"\n\"unterminated\n"))
	f.Add([]byte("RO|Date|Phone|Name\n\"a\"\"b\"|2026-01-02|x|SMITH, J\n,,\n||\nR|20260102|2025550143|\"two\nlines\"\n"))
	f.Add(csvimport.Template())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := csvimport.NewReader(bytes.NewReader(data), csvimport.Options{MaxRecordBytes: 8 << 10, MaxFieldBytes: 1 << 10})
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("more rows than bytes: the reader loops")
			}
			row, errs, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					_, _, again := r.Next()
					if !errors.Is(again, err) && again.Error() != err.Error() {
						t.Fatalf("error not sticky: %v then %v", err, again)
					}
				}
				return
			}
			if row.Line < 2 || row.Line > lines || row.Line < last {
				t.Fatalf("row line %d outside 2..%d or before %d", row.Line, lines, last)
			}
			last = row.Line
			for _, e := range errs {
				if e.Line != row.Line || e.Reason == "" {
					t.Fatalf("row error %+v for row at line %d", e, row.Line)
				}
			}
			if len(errs) > 0 {
				continue
			}
			if row.RONumber == "" || !strings.HasPrefix(row.Customer.Phone, "+") || row.ServiceDate.IsZero() {
				t.Fatalf("row loaded without its required values: %+v", row)
			}
			for _, s := range []string{row.RONumber, row.Customer.FirstName, row.Customer.Email, row.ServiceType} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 passed through: %q", s)
				}
			}
		}
	})
}

// BenchmarkReader reads a 10,000-row export per iteration and reports rows/s.
// Phones repeat area code and exchange as a dealership's customers do.
func BenchmarkReader(b *testing.B) {
	const rows = 10_000
	data, err := io.ReadAll(&generated{n: rows})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := csvimport.NewReader(bytes.NewReader(data), csvimport.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, errs, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || len(errs) > 0 {
				b.Fatal(err, errs)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
