package csvimport

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Value parsers. Each returns the typed value or an error whose text is the
// Reason of a RowError: short, specific, and saying what was expected.

// parseDate reads the date formats DMS exports use. Values without an
// offset are read in loc; a date alone is midnight in loc.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	var layouts []string
	switch {
	case len(s) >= 10 && s[4] == '-' && s[7] == '-': // ISO 8601 family
		if len(s) == 10 {
			layouts = []string{"2006-01-02"}
		} else {
			layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}
		}
	case strings.IndexByte(s, '/') > 0: // US month/day/year
		layouts = []string{"1/2/2006", "1/2/06", "1/2/2006 15:04", "1/2/2006 15:04:05", "1/2/2006 3:04 PM", "1/2/2006 3:04:05 PM", "1/2/06 15:04", "1/2/06 3:04 PM"}
	case len(s) == 8 && isDigits(s): // 20060102
		layouts = []string{"20060102"}
	case len(s) >= 6 && isDigits(s[:1]) && strings.Count(s, "-") == 2 && !hasLetter(s):
		layouts = []string{"1-2-2006", "1-2-06"} // US month-day-year with dashes
	default:
		layouts = []string{"2-Jan-2006", "2-Jan-06", "Jan 2, 2006", "January 2, 2006", "2 Jan 2006"}
	}
	for _, l := range layouts {
		if !mayMatch(l, s) {
			continue
		}
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if y := t.Year(); y < 1900 || y > 2100 {
				return time.Time{}, fmt.Errorf("date %q is out of range (years 1900–2100)", s)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognized date %q; use YYYY-MM-DD or MM/DD/YYYY", s)
}

// mayMatch is a cheap necessary condition for time.Parse(layout, s) to
// succeed, for the ISO layouts of parseDate: a failed parse allocates its
// error, and trying five layouts per value showed in import profiles. A
// layout it rules out would have failed; the first layout that parses is
// the same with or without it.
func mayMatch(layout, s string) bool {
	if len(layout) <= 10 || layout[4] != '-' || len(s) <= 10 {
		return true
	}
	if s[10] != layout[10] { // the T or space between date and time
		return false
	}
	if layout == time.RFC3339Nano {
		return true
	}
	// The layouts without a zone: as many colons as the layout, no zone.
	return strings.Count(s, ":") == strings.Count(layout, ":") && !strings.ContainsAny(s[10:], "Z+-")
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// civilDate returns t's calendar date as midnight UTC, the form of a SQL
// date.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseGroupedInt reads a non-negative integer that may use thousands
// separators ("12,345"). Separators must group by three, so "12,34" (a
// decimal comma, perhaps) is rejected rather than misread.
func parseGroupedInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if strings.IndexByte(s, ',') >= 0 {
		parts := strings.Split(s, ",")
		if len(parts[0]) == 0 || len(parts[0]) > 3 {
			return 0, false
		}
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return 0, false
			}
		}
		s = strings.Join(parts, "")
	}
	if !isDigits(s) || len(s) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseMileage reads an odometer value: a whole number of miles. A ".0"
// tail, which spreadsheets add to numbers, is accepted.
func parseMileage(s string) (int32, error) {
	if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i]
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("mileage %q is negative", s)
	}
	n, ok := parseGroupedInt(s)
	if !ok {
		return 0, fmt.Errorf("mileage %q is not a whole number", s)
	}
	if n > 2_000_000 {
		return 0, fmt.Errorf("mileage %q is implausible (over 2,000,000)", s)
	}
	return int32(n), nil
}

// parseYear reads a four-digit model year in 1900–2100.
func parseYear(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || len(s) != 4 {
		return 0, fmt.Errorf("year %q is not a four-digit year", s)
	}
	if n < 1900 || n > 2100 {
		return 0, fmt.Errorf("year %d is out of range (1900–2100)", n)
	}
	return int32(n), nil
}

// parseAmount reads money such as "$1,234.56", "1234.5", "-12.00" or
// "(12.00)" (accounting negative) into minor units (cents).
func parseAmount(s string) (int64, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		if neg {
			return 0, fmt.Errorf("amount %q is not a number", orig)
		}
		neg, s = true, strings.TrimSpace(s[1:])
	}
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") && !neg {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && hasDot {
		whole = "0"
	}
	w, ok := parseGroupedInt(whole)
	if !ok {
		return 0, fmt.Errorf("amount %q is not a number; use 1234.56", orig)
	}
	if hasDot && (len(frac) == 0 || len(frac) > 2 || !isDigits(frac)) {
		return 0, fmt.Errorf("amount %q must have at most two decimals", orig)
	}
	var cents int64
	switch len(frac) {
	case 1:
		cents = int64(frac[0]-'0') * 10
	case 2:
		cents = int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	if w > (math.MaxInt64-99)/100 {
		return 0, fmt.Errorf("amount %q is too large", orig)
	}
	v := w*100 + cents
	if neg {
		v = -v
	}
	return v, nil
}

// VIN validation. The North American check digit (position 9) is computed
// from the transliterated characters and these weights.
var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

func vinValue(c byte) int {
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
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2
	}
	return -1
}

// vinCheckDigit returns the check digit a VIN should carry in position 9.
func vinCheckDigit(vin string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += vinValue(vin[i]) * vinWeights[i]
	}
	if r := sum % 11; r != 10 {
		return byte('0' + r)
	}
	return 'X'
}

// parseVIN upper-cases and checks a VIN. A bad length or character is an
// error; a wrong check digit is returned as warning, not error.
func parseVIN(s string) (vin, warning string, err error) {
	vin = strings.ToUpper(s)
	if len(vin) != 17 {
		return "", "", fmt.Errorf("VIN %q must be 17 characters, not %d", s, len(vin))
	}
	for i := 0; i < 17; i++ {
		c := vin[i]
		switch {
		case c == 'I' || c == 'O' || c == 'Q':
			return "", "", fmt.Errorf("VIN %q contains %q, which VINs never use (I, O and Q are excluded)", s, c)
		case vinValue(c) < 0:
			return "", "", fmt.Errorf("VIN %q contains %q; only letters and digits are allowed", s, c)
		}
	}
	if want := vinCheckDigit(vin); vin[8] != want {
		warning = fmt.Sprintf("VIN %s fails its check digit (position 9 is %c, expected %c): possibly a typo", vin, vin[8], want)
	}
	return vin, warning, nil
}

// parseEmail does a sanity check, not RFC 5322: one @, a plausible domain,
// no spaces.
func parseEmail(s string) (string, error) {
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case len(s) > 254:
		return "", errors.New("email is longer than 254 characters")
	case strings.ContainsAny(s, " \t,;<>\"()[]\\"):
		return "", fmt.Errorf("email %q contains a space or punctuation not allowed in addresses (one address per cell)", s)
	case !ok || local == "" || domain == "" || strings.ContainsAny(domain, "@"):
		return "", fmt.Errorf("email %q is not an address like name@example.com", s)
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("email %q has no valid domain", s)
	case len(local) > 64:
		return "", fmt.Errorf("email %q has a local part over 64 characters", s)
	}
	if lower := strings.ToLower(domain); lower != domain {
		return local + "@" + lower, nil
	}
	return s, nil
}

// regionCodes are the two-letter codes accepted in the state column: US
// states, DC, territories, military "states" and Canadian provinces
// (border dealerships serve Canadians).
var regionCodes = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
	"FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
	"IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
	"NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
	"PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
	"TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
	"WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
	"AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
	"VI": "U.S. Virgin Islands", "AA": "Armed Forces Americas", "AE": "Armed Forces Europe",
	"AP": "Armed Forces Pacific",
	"AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
	"NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
	"NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
	"SK": "Saskatchewan", "YT": "Yukon",
}

// regionByName maps a lower-cased full name to its code.
var regionByName = func() map[string]string {
	m := make(map[string]string, len(regionCodes))
	for code, name := range regionCodes {
		m[strings.ToLower(name)] = code
	}
	m["virgin islands"] = "VI"
	m["washington dc"] = "DC"
	m["washington d.c."] = "DC"
	return m
}()

// parseState accepts a two-letter code or a full name, in any case.
func parseState(s string) (string, error) {
	if len(s) == 2 {
		code := strings.ToUpper(s)
		if _, ok := regionCodes[code]; ok {
			return code, nil
		}
	} else if code, ok := regionByName[strings.ToLower(s)]; ok {
		return code, nil
	}
	return "", fmt.Errorf("state %q is not a two-letter state code such as FL", s)
}

// parsePostalCode accepts a US ZIP (5 digits, or ZIP+4 with or without the
// dash) or a Canadian postal code. A 3- or 4-digit ZIP is a ZIP whose
// leading zeros a spreadsheet dropped (New England, New Jersey, Puerto
// Rico): the zeros are restored with a warning.
func parsePostalCode(s string) (zip, warning string, err error) {
	switch {
	case isDigits(s) && len(s) == 5:
		return s, "", nil
	case isDigits(s) && len(s) == 9:
		return s[:5] + "-" + s[5:], "", nil
	case len(s) == 10 && s[5] == '-' && isDigits(s[:5]) && isDigits(s[6:]):
		return s, "", nil
	case isDigits(s) && (len(s) == 3 || len(s) == 4):
		zip = strings.Repeat("0", 5-len(s)) + s
		return zip, fmt.Sprintf("ZIP %q restored to %s (a spreadsheet dropped its leading zeros)", s, zip), nil
	}
	if ca, ok := canadianPostalCode(s); ok {
		return ca, "", nil
	}
	return "", "", fmt.Errorf("postal code %q is not a US ZIP (12345 or 12345-6789)", s)
}

func canadianPostalCode(s string) (string, bool) {
	c := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(c) != 6 {
		return "", false
	}
	for i := 0; i < 6; i++ {
		letter := c[i] >= 'A' && c[i] <= 'Z'
		digit := c[i] >= '0' && c[i] <= '9'
		if (i%2 == 0 && !letter) || (i%2 == 1 && !digit) {
			return "", false
		}
	}
	return c[:3] + " " + c[3:], true
}

// parseStatus maps DMS status words onto the service_records statuses.
func parseStatus(s string) (string, error) {
	switch strings.ToLower(s) {
	case "o", "open", "opened", "wip", "in progress":
		return "open", nil
	case "c", "closed", "close", "complete", "completed", "finalized", "posted", "invoiced":
		return "closed", nil
	case "v", "void", "voided", "cancelled", "canceled":
		return "void", nil
	}
	return "", fmt.Errorf("status %q is not open, closed or void", s)
}

// parsePayType maps the usual pay-type codes onto customer, warranty and
// internal. Other values (service contract, mixed "C/W" …) are kept,
// lower-cased, since the column has no fixed vocabulary in DMS exports.
func parsePayType(s string) string {
	switch l := strings.ToLower(s); l {
	case "c", "cp", "cust", "customer", "customer pay", "customer-pay", "retail":
		return "customer"
	case "w", "wp", "warr", "warranty":
		return "warranty"
	case "i", "int", "internal":
		return "internal"
	default:
		return l
	}
}

// splitOpCodes splits "LOF; ROT|BRK" on ; | and , and drops blanks and
// repeats.
func splitOpCodes(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
	out := parts[:0]
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || containsString(out, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitName splits a single customer-name cell. "SMITH, JOHN A" is
// last-name-first; otherwise the last word is the last name, keeping a
// generational suffix with it ("John Smith Jr." → "John", "Smith Jr.").
func splitName(s string) (first, last string) {
	if l, f, ok := strings.Cut(s, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	words := strings.Fields(s)
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return words[0], ""
	}
	cut := len(words) - 1
	if isNameSuffix(words[cut]) && cut >= 2 {
		cut--
	}
	return strings.Join(words[:cut], " "), strings.Join(words[cut:], " ")
}

func isNameSuffix(w string) bool {
	switch strings.ToLower(strings.TrimSuffix(w, ".")) {
	case "jr", "sr", "ii", "iii", "iv", "v":
		return true
	}
	return false
}

// Phones. phonenumbers.Parse and IsValidNumber cost tens of microseconds
// each (regular expressions over the metadata of every NANP region), which
// would dominate an import. Most DMS phones are plain NANP numbers written
// with punctuation, so those take a fast path: the digits are extracted by
// hand, and validity, which libphonenumber decides from the area code and
// exchange (the first six national digits) for +1 numbers, is computed by
// the library once per area code + exchange and remembered. A test checks
// the fast path against the library on random numbers.

// nanpMemo caches libphonenumber's verdict per NPA-NXX. Its size is bounded
// by the number of NPA-NXX pairs (at most 800×800).
var nanpMemo sync.Map // uint32 → bool

// nanpDigits extracts the ten national digits of a NANP number written only
// with digits and common punctuation: "(202) 555-0143", "202.555.0143",
// "+1 202 555 0143", "1-202-555-0143". ok is false for anything else
// (letters, extensions, other country codes), which goes the slow path.
func nanpDigits(s string) (d [10]byte, ok bool) {
	var buf [11]byte
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return d, false
			}
			buf[n] = c
			n++
		case c == '+' && n == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return d, false
		}
	}
	switch {
	case n == 11 && buf[0] == '1':
		copy(d[:], buf[1:])
	case n == 10 && !plus:
		copy(d[:], buf[:10])
	default:
		return d, false
	}
	return d, true
}

// normalizePhone returns the E.164 form of a valid phone number.
func normalizePhone(s, region string) (string, error) {
	if d, ok := nanpDigits(s); ok && region == "US" {
		key := uint32(0)
		for _, c := range d[:6] {
			key = key*10 + uint32(c-'0')
		}
		e164 := "+1" + string(d[:])
		valid, seen := nanpMemo.Load(key)
		if !seen {
			v, err := slowPhone(e164, region)
			valid = err == nil && v == e164
			nanpMemo.Store(key, valid)
		}
		if !valid.(bool) {
			return "", fmt.Errorf("phone %q is not a valid number (unassigned area code or exchange)", s)
		}
		return e164, nil
	}
	return slowPhone(s, region)
}

// slowPhone parses with libphonenumber.
func slowPhone(s, region string) (e164 string, err error) {
	defer func() {
		// The library is a port of a large Java codebase; an input it
		// mishandles must cost one row, not the import.
		if r := recover(); r != nil {
			e164, err = "", fmt.Errorf("phone %q cannot be parsed", s)
		}
	}()
	num, perr := phonenumbers.Parse(s, region)
	if perr != nil {
		return "", fmt.Errorf("phone %q is not a phone number", s)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("phone %q is not a valid number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
