// Package csvimport reads service records from a dealership's CSV export,
// one row at a time, into typed rows ready for COPY into staging.
//
// The reader streams: it holds one record (capped in size) and a small
// buffer, never the file, so memory is flat however large the upload.
// It understands the exports DMSs actually produce: a UTF-8 byte-order
// mark, CRLF or LF line ends, comma, semicolon, tab or pipe delimiters
// (detected from the header), quoted fields, blank lines, and the header
// spellings of CDK, Reynolds, Dealertrack and Tekion (see Aliases).
//
// Problems come back at three levels:
//   - NewReader returns a *fault.Error (fault.Invalid) when the header is
//     unusable: empty file, unknown delimiter, missing required columns,
//     two columns for one field.
//   - Next returns RowErrors for a row that must not be loaded (a bad
//     phone, date, VIN, …), each with its 1-based file line and column,
//     and carries on with the next row.
//   - Next returns an error when the file cannot be read any further: a
//     record over Options.MaxRecordBytes (typically an unterminated quote
//     swallowing the rest of the file; fault.Invalid) or an I/O error.
//
// Every value that does not parse is an error and its row is not loaded.
// The only warnings (Row.Warnings; the row is loaded) are a VIN whose check
// digit fails (real VINs occasionally do, and a typo in the vehicle should
// not stop a customer's call), a ZIP whose leading zeros a spreadsheet
// dropped, and an invalid secondary phone when another phone column was
// valid.
package csvimport

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/autopulse/autopulse/internal/fault"
)

// Limits applied when Options leaves them zero.
const (
	DefaultMaxFieldBytes  = 64 << 10 // one value
	DefaultMaxRecordBytes = 1 << 20  // one record, quoted newlines included
	DefaultMaxColumns     = 256
	headerBufferBytes     = 64 << 10 // the header line must fit in it
)

// Options tunes a Reader. The zero value is ready to use.
type Options struct {
	// Delimiter forces the field delimiter; 0 detects it from the header
	// among ',', ';', '\t' and '|'.
	Delimiter rune
	// Region is the phone region for numbers written without a country
	// code (ISO 3166 alpha-2); default "US".
	Region string
	// Location reads dates and times that carry no offset, typically the
	// organization's time zone; default UTC.
	Location *time.Location
	// MaxFieldBytes caps one value (a row error beyond it).
	MaxFieldBytes int
	// MaxRecordBytes caps one record (reading stops beyond it: the file is
	// malformed past that point).
	MaxRecordBytes int
	// MaxColumns caps the header width.
	MaxColumns int
}

func (o *Options) fill() {
	if o.Region == "" {
		o.Region = "US"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
}

// Row is one service record as read from the file, shaped after the
// service_records, customers and vehicles columns. Empty strings mean the
// value was absent (NULL); pointers are nil when absent.
type Row struct {
	Line int // 1-based file line where the record starts

	// service_records
	RONumber    string
	ServiceDate time.Time  // a calendar date, at midnight UTC
	ClosedAt    *time.Time // date-only values are midnight in Options.Location
	Status      string     // open | closed | void; "closed" when the file has no status
	ServiceType string
	OpCodes     []string
	AdvisorName string
	Mileage     *int32
	TotalAmount *int64 // minor units (cents); the currency is the organization's
	PayType     string // customer | warranty | internal, or the file's word lower-cased

	Customer Customer
	Vehicle  Vehicle

	// Raw holds the non-empty values of columns that map to no field, by
	// their header as written in the file (nil when there are none).
	Raw map[string]string
	// Warnings are problems that did not stop the row from loading.
	Warnings []RowError
}

// Customer is the customer part of a row.
type Customer struct {
	DMSCustomerID string
	FirstName     string
	LastName      string
	Phone         string // E.164
	Email         string
	Address       string
	City          string
	State         string // two-letter code
	PostalCode    string // 12345, 12345-6789 or a Canadian "A1A 1A1"
}

// Vehicle is the vehicle part of a row.
type Vehicle struct {
	VIN   string // 17 characters, upper case
	Year  *int32
	Make  string
	Model string
	Trim  string
}

// RowError explains why one row (or one value of it) was not accepted.
type RowError struct {
	Line   int    `json:"line"`             // 1-based file line
	Column string `json:"column,omitempty"` // header as written in the file; empty for the whole row
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %q: %s", e.Line, e.Column, e.Reason)
}

// errRecordTooLarge trips when one record exceeds MaxRecordBytes.
var errRecordTooLarge = errors.New("record too large")

// budgetReader sits under the bufio.Reader that the csv package reads from.
// It fails once the current record has consumed more than its limit, so a
// runaway record (an unterminated quote, a file without newlines) cannot
// make the csv package buffer the whole upload. "Consumed" is what left the
// bufio buffer since the last reset: bytes read from the source minus those
// still buffered.
type budgetReader struct {
	r       io.Reader
	buf     *bufio.Reader
	total   int64 // bytes read from r
	base    int64 // bytes consumed from buf at the last reset
	limit   int64
	tripped bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if !b.tripped && b.consumed()-b.base > b.limit {
		b.tripped = true
	}
	if b.tripped {
		return 0, errRecordTooLarge
	}
	n, err := b.r.Read(p)
	b.total += int64(n)
	return n, err
}

func (b *budgetReader) consumed() int64 {
	if b.buf == nil {
		return b.total
	}
	return b.total - int64(b.buf.Buffered())
}

func (b *budgetReader) reset() { b.base = b.consumed() }

// Reader reads rows from a CSV stream. It is not safe for concurrent use.
type Reader struct {
	opts       Options
	budget     *budgetReader
	cr         *csv.Reader
	cols       []column
	delim      rune
	lineOffset int // file lines before the csv reader's first line
	hasFirst   bool
	hasLast    bool
	rows       int
	lastLine   int   // file line of the last record read
	err        error // sticky
}

// NewReader reads and checks the header. It returns a *fault.Error with
// code fault.Invalid when the header is unusable, or the read error.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts.fill()
	if opts.Delimiter != 0 && !validDelimiter(opts.Delimiter) {
		return nil, fault.InvalidField("delimiter", "must be a single character other than a quote or a newline")
	}
	budget := &budgetReader{r: r, limit: int64(opts.MaxRecordBytes)}
	br := bufio.NewReaderSize(budget, headerBufferBytes)
	budget.buf = br

	line, skipped, err := readHeaderLine(br)
	if err != nil {
		return nil, err
	}
	cols, delim, err := parseHeader(line, opts.Delimiter, opts.MaxColumns)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(br) // reuses br: it is a large enough *bufio.Reader
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // ragged rows are row errors, reported by us
	cr.ReuseRecord = true
	rd := &Reader{opts: opts, budget: budget, cr: cr, cols: cols, delim: delim, lineOffset: skipped + 1, lastLine: skipped + 1}
	for _, c := range cols {
		rd.hasFirst = rd.hasFirst || c.field == fieldFirstName
		rd.hasLast = rd.hasLast || c.field == fieldLastName
	}
	return rd, nil
}

func validDelimiter(d rune) bool {
	return d != '"' && d != '\r' && d != '\n' && d != utf8.RuneError && utf8.ValidRune(d)
}

// readHeaderLine returns the first non-blank line without its line end or
// byte-order mark, and the number of blank lines before it.
func readHeaderLine(br *bufio.Reader) (line []byte, skipped int, err error) {
	if head, _ := br.Peek(2); len(head) == 2 && (head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF) {
		return nil, 0, headerErr("the file is UTF-16; save it as \"CSV UTF-8\"")
	}
	first := true
	for {
		line, err = br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, 0, headerErr("the header line is longer than %d KiB; is this a CSV file?", headerBufferBytes>>10)
		case errors.Is(err, errRecordTooLarge):
			return nil, 0, headerErr("the header is too large")
		case err != nil && !errors.Is(err, io.EOF):
			return nil, 0, fmt.Errorf("csvimport: read header: %w", err)
		}
		if first {
			line = trimBOM(line)
			first = false
		}
		trimmed := strings.TrimRight(string(line), "\r\n")
		if strings.Contains(trimmed, "\r") {
			return nil, 0, headerErr("the file uses carriage returns alone as line ends (\"CSV (Macintosh)\"); save it as \"CSV UTF-8\"")
		}
		if strings.TrimSpace(trimmed) != "" {
			return []byte(trimmed), skipped, nil
		}
		if err != nil { // EOF with nothing but blank lines
			return nil, 0, headerErr("the file is empty")
		}
		skipped++
	}
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// Columns reports how each header cell was understood.
func (r *Reader) Columns() []Column {
	out := make([]Column, len(r.cols))
	for i, c := range r.cols {
		out[i] = Column{Header: c.header, Field: fieldNames[c.field]}
	}
	return out
}

// Delimiter returns the delimiter in use.
func (r *Reader) Delimiter() rune { return r.delim }

// Next returns the next row. When errs is non-empty the row must not be
// loaded: errs says why, and row holds what did parse (Row.Line is always
// set). At the end of the file Next returns io.EOF; any other error means
// the rest of the file cannot be read, and Next keeps returning it.
func (r *Reader) Next() (row Row, errs []RowError, err error) {
	for {
		if r.err != nil {
			return Row{}, nil, r.err
		}
		r.budget.reset()
		rec, err := r.cr.Read()
		if err != nil {
			var pe *csv.ParseError
			switch {
			case errors.Is(err, io.EOF):
				r.err = io.EOF
			case errors.Is(err, errRecordTooLarge):
				r.err = &fault.Error{Code: fault.Invalid, Message: fmt.Sprintf(
					"CSV: the record after line %d is longer than %d bytes; the file is malformed from there on (an unterminated quote?)",
					r.lastLine, r.opts.MaxRecordBytes)}
			case errors.As(err, &pe):
				line := r.lineOffset + pe.StartLine
				r.lastLine = r.lineOffset + pe.Line
				r.rows++
				return Row{Line: line}, []RowError{{Line: line, Reason: quoteReason(pe, r.lineOffset)}}, nil
			default:
				r.err = fmt.Errorf("csvimport: read: %w", err)
			}
			continue
		}
		line, _ := r.cr.FieldPos(0)
		line += r.lineOffset
		r.lastLine = line
		if blank(rec) {
			continue
		}
		r.rows++
		row, errs = r.convert(rec, line)
		return row, errs, nil
	}
}

func quoteReason(pe *csv.ParseError, offset int) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`a " in an unquoted value (line %d, character %d); quote the value and double the quote, e.g. "12"" wheel"`, offset+pe.Line, pe.Column)
	case pe.Line != pe.StartLine || errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`malformed or unterminated quoted value (line %d, character %d): a quoted value must end with " before the next delimiter`, offset+pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

// blank reports a record of empty values only (",,,," rows that spreadsheets
// leave below the data).
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// phoneCell is one candidate phone value of a row.
type phoneCell struct {
	col   int
	value string
}

// convert validates one record into a Row.
func (r *Reader) convert(rec []string, line int) (Row, []RowError) {
	row := Row{Line: line}
	var errs []RowError
	fail := func(col int, err error) {
		e := RowError{Line: line, Reason: err.Error()}
		if col >= 0 {
			e.Column = r.cols[col].header
		}
		errs = append(errs, e)
	}
	warn := func(col int, msg string) {
		row.Warnings = append(row.Warnings, RowError{Line: line, Column: r.cols[col].header, Reason: msg})
	}
	if len(rec) != len(r.cols) {
		fail(-1, fmt.Errorf("the row has %d values but the header has %d columns", len(rec), len(r.cols)))
		return row, errs
	}

	var phones [5]phoneCell // by rank; rank 0 unused
	var fullName string
	var serviceDate, closedAt time.Time
	var hasServiceDate, hasClosedAt bool
	dateCol, closedCol := -1, -1
	for i, v := range rec {
		c := r.cols[i]
		if len(v) > r.opts.MaxFieldBytes {
			fail(i, fmt.Errorf("the value is %d bytes; the limit is %d", len(v), r.opts.MaxFieldBytes))
			continue
		}
		if !utf8.ValidString(v) {
			fail(i, errors.New("the value is not valid UTF-8; save the file as \"CSV UTF-8\""))
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		switch c.field {
		case fieldRaw:
			if row.Raw == nil {
				row.Raw = make(map[string]string)
			}
			row.Raw[c.header] = v
		case fieldRONumber:
			row.RONumber = v
		case fieldServiceDate:
			dateCol = i
			t, err := parseDate(v, r.opts.Location)
			if err != nil {
				fail(i, err)
				continue
			}
			serviceDate, hasServiceDate = t, true
		case fieldClosedAt:
			closedCol = i
			t, err := parseDate(v, r.opts.Location)
			if err != nil {
				fail(i, err)
				continue
			}
			closedAt, hasClosedAt = t, true
		case fieldStatus:
			s, err := parseStatus(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.Status = s
		case fieldServiceType:
			row.ServiceType = v
		case fieldOpCodes:
			row.OpCodes = splitOpCodes(v)
		case fieldAdvisorName:
			row.AdvisorName = v
		case fieldMileage:
			m, err := parseMileage(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.Mileage = &m
		case fieldTotalAmount:
			a, err := parseAmount(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.TotalAmount = &a
		case fieldPayType:
			row.PayType = parsePayType(v)
		case fieldDMSCustomerID:
			row.Customer.DMSCustomerID = v
		case fieldFirstName:
			row.Customer.FirstName = v
		case fieldLastName:
			row.Customer.LastName = v
		case fieldCustomerName:
			fullName = v
		case fieldPhone:
			phones[c.phoneRank] = phoneCell{col: i, value: v}
		case fieldEmail:
			e, err := parseEmail(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.Customer.Email = e
		case fieldAddress:
			row.Customer.Address = v
		case fieldCity:
			row.Customer.City = v
		case fieldState:
			s, err := parseState(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.Customer.State = s
		case fieldPostalCode:
			z, w, err := parsePostalCode(v)
			if err != nil {
				fail(i, err)
				continue
			}
			if w != "" {
				warn(i, w)
			}
			row.Customer.PostalCode = z
		case fieldVIN:
			vin, w, err := parseVIN(v)
			if err != nil {
				fail(i, err)
				continue
			}
			if w != "" {
				warn(i, w)
			}
			row.Vehicle.VIN = vin
		case fieldYear:
			y, err := parseYear(v)
			if err != nil {
				fail(i, err)
				continue
			}
			row.Vehicle.Year = &y
		case fieldMake:
			row.Vehicle.Make = v
		case fieldModel:
			row.Vehicle.Model = v
		case fieldTrim:
			row.Vehicle.Trim = v
		case fieldCount:
		}
	}

	if row.RONumber == "" {
		fail(r.firstCol(fieldRONumber), errors.New("the RO number is required"))
	}
	if hasClosedAt {
		row.ClosedAt = &closedAt
	}
	switch {
	case hasServiceDate:
		row.ServiceDate = civilDate(serviceDate)
	case hasClosedAt:
		row.ServiceDate = civilDate(closedAt)
	case dateCol < 0 && closedCol < 0: // both empty (a bad value already failed)
		col := r.firstCol(fieldServiceDate)
		if col < 0 {
			col = r.firstCol(fieldClosedAt)
		}
		fail(col, errors.New("a service date (or closed date) is required"))
	}
	if row.Status == "" {
		row.Status = "closed"
	}
	if fullName != "" {
		if !r.hasFirst && !r.hasLast {
			row.Customer.FirstName, row.Customer.LastName = splitName(fullName)
		} else { // the name columns win; keep the full name as written
			if row.Raw == nil {
				row.Raw = make(map[string]string)
			}
			row.Raw[r.cols[r.firstCol(fieldCustomerName)].header] = fullName
		}
	}
	r.choosePhone(&row, phones[:], fail, warn)
	return row, errs
}

// choosePhone sets the row's phone to the first valid number in preference
// order. Invalid numbers are errors when no phone is valid and warnings
// otherwise; the other valid numbers are kept in Raw.
func (r *Reader) choosePhone(row *Row, phones []phoneCell, fail func(int, error), warn func(int, string)) {
	var bad []phoneCell
	var badErrs []error
	for _, p := range phones {
		if p.value == "" {
			continue
		}
		e164, err := normalizePhone(p.value, r.opts.Region)
		switch {
		case err != nil:
			bad = append(bad, p)
			badErrs = append(badErrs, err)
		case row.Customer.Phone == "":
			row.Customer.Phone = e164
		default:
			if row.Raw == nil {
				row.Raw = make(map[string]string)
			}
			row.Raw[r.cols[p.col].header] = p.value
		}
	}
	if row.Customer.Phone == "" {
		if len(bad) == 0 {
			fail(r.firstCol(fieldPhone), errors.New("a phone number is required"))
		}
		for i, p := range bad {
			fail(p.col, badErrs[i])
		}
		return
	}
	for i, p := range bad {
		warn(p.col, badErrs[i].Error()+"; another phone column was used")
	}
}

// firstCol returns the index of the preferred column of field f, or -1.
func (r *Reader) firstCol(f field) int {
	best := -1
	for i, c := range r.cols {
		if c.field == f && (best < 0 || c.phoneRank < r.cols[best].phoneRank) {
			best = i
		}
	}
	return best
}

// Rows returns the number of non-blank records read so far (loaded or not).
func (r *Reader) Rows() int { return r.rows }
