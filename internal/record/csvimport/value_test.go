package csvimport

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The NANP fast path must agree with libphonenumber: same verdict, same
// E.164, for random numbers across every area code, in every format the
// fast path accepts.
func TestNormalizePhoneMatchesLibrary(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	formats := []string{"%s%s%s", "(%s) %s-%s", "%s.%s.%s", "+1 %s %s %s", "1-%s-%s-%s"}
	n := 1000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		npa := fmt.Sprintf("%03d", 200+rng.IntN(800))
		nxx := fmt.Sprintf("%03d", rng.IntN(1000))
		line := fmt.Sprintf("%04d", rng.IntN(10000))
		input := fmt.Sprintf(formats[i%len(formats)], npa, nxx, line)
		_, ok := nanpDigits(input)
		require.True(t, ok, input)
		fast, fastErr := normalizePhone(input, "US")
		slow, slowErr := slowPhone(input, "US")
		require.Equal(t, slowErr == nil, fastErr == nil, "%s: fast %v, library %v", input, fastErr, slowErr)
		require.Equal(t, slow, fast, input)
	}
}

func TestNANPDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2025550143": "2025550143", "(202) 555-0143": "2025550143", "+1 202 555 0143": "2025550143",
		"1.202.555.0143": "2025550143", "12025550143": "2025550143",
	} {
		d, ok := nanpDigits(in)
		require.True(t, ok, in)
		require.Equal(t, want, string(d[:]), in)
	}
	for _, in := range []string{"+44 20 7946 0958", "202-555-0143 x1", "22025550143", "+2025550143", "5550143", "++12025550143", "202555014355", ""} {
		_, ok := nanpDigits(in)
		require.False(t, ok, in)
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	good := map[string]int64{
		"0": 0, "12": 1200, "12.5": 1250, "12.05": 1205, "$1,234.56": 123456, "-$3.10": -310, "$-3.10": -310,
		"(45.00)": -4500, "1,000,000": 100000000, ".99": 99, "$ 7": 700,
	}
	for in, want := range good {
		got, err := parseAmount(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "abc", "12,34", "1,2345", "1.234", "1.", "--1", "(-1)", "$", "1e5", "99999999999999999999"} {
		_, err := parseAmount(in)
		require.Error(t, err, in)
	}
}

func TestVINCheckDigit(t *testing.T) {
	t.Parallel()
	// Published valid VINs.
	for _, vin := range []string{"1HGCM82633A004352", "1M8GDM9AXKP042788", "11111111111111111"} {
		got, warning, err := parseVIN(vin)
		require.NoError(t, err)
		require.Equal(t, vin, got)
		require.Empty(t, warning, vin)
	}
	_, warning, err := parseVIN("1HGCM82643A004352")
	require.NoError(t, err)
	require.Contains(t, warning, "expected 3")
}

func TestSplitName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"SMITH, JOHN A": {"JOHN A", "SMITH"}, "John Smith": {"John", "Smith"}, "Cher": {"Cher", ""},
		"John Smith Jr.": {"John", "Smith Jr."}, "Jr Smith": {"Jr", "Smith"}, "  ": {"", ""},
	} {
		f, l := splitName(in)
		require.Equal(t, want, [2]string{f, l}, in)
	}
}

func TestSplitOpCodes(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"LOF", "ROT", "BRK"}, splitOpCodes(" LOF; ROT|BRK,LOF ;; "))
	require.Empty(t, splitOpCodes(";|,"))
}

// mayMatch only skips layouts that cannot parse: over ISO-shaped values,
// every layout it rules out fails time.Parse.
func TestMayMatchOnlySkipsFailures(t *testing.T) {
	t.Parallel()
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}
	values := []string{
		"2024-01-02", "2024-01-02T10:00:00Z", "2024-01-02T10:00:00.123456Z", "2024-01-02T10:00:00+01:00",
		"2024-01-02T10:00:00-05:00", "2024-01-02t10:00:00Z", "2024-01-02 10:00:00Z", "2024-01-02T10:00:00",
		"2024-01-02T10:00:00.5", "2024-01-02 10:00:00", "2024-01-02 10:00:00.25", "2024-01-02T10:00",
		"2024-01-02 10:00", "2024-01-02 9:04", "2024-01-02 9:04:05", "2024-01-02T9:04", "2024-01-02 10:00 Z",
		"2024-01-02 10:00-05:00", "2024-01-02T10:00:00+0100", "2024-01-02 10", "2024-01-02 10:00:00:00",
		"2024-01-02T", "2024-01-02  10:00",
	}
	for _, s := range values {
		for _, l := range layouts {
			if _, err := time.Parse(l, s); err == nil && !mayMatch(l, s) {
				t.Errorf("mayMatch(%q, %q) is false, but it parses", l, s)
			}
		}
	}
}
