package csvimport

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/autopulse/autopulse/internal/fault"
)

// field is a canonical column of the import format.
type field int

const (
	fieldRaw field = iota // not a known field: kept in Row.Raw
	fieldRONumber
	fieldServiceDate
	fieldClosedAt
	fieldStatus
	fieldServiceType
	fieldOpCodes
	fieldAdvisorName
	fieldMileage
	fieldTotalAmount
	fieldPayType
	fieldDMSCustomerID
	fieldFirstName
	fieldLastName
	fieldCustomerName
	fieldPhone
	fieldEmail
	fieldAddress
	fieldCity
	fieldState
	fieldPostalCode
	fieldVIN
	fieldYear
	fieldMake
	fieldModel
	fieldTrim
	fieldCount
)

// fieldNames are the canonical header names, also the template's headers.
var fieldNames = [fieldCount]string{
	fieldRaw:           "",
	fieldRONumber:      "ro_number",
	fieldServiceDate:   "service_date",
	fieldClosedAt:      "closed_at",
	fieldStatus:        "status",
	fieldServiceType:   "service_type",
	fieldOpCodes:       "op_codes",
	fieldAdvisorName:   "advisor_name",
	fieldMileage:       "mileage",
	fieldTotalAmount:   "total_amount",
	fieldPayType:       "pay_type",
	fieldDMSCustomerID: "dms_customer_id",
	fieldFirstName:     "first_name",
	fieldLastName:      "last_name",
	fieldCustomerName:  "customer_name",
	fieldPhone:         "phone",
	fieldEmail:         "email",
	fieldAddress:       "address",
	fieldCity:          "city",
	fieldState:         "state",
	fieldPostalCode:    "postal_code",
	fieldVIN:           "vin",
	fieldYear:          "year",
	fieldMake:          "make",
	fieldModel:         "model",
	fieldTrim:          "trim",
}

// fieldAliases lists, per field, the header spellings seen in DMS exports
// (CDK, Reynolds, Dealertrack, Tekion and hand-made spreadsheets). Headers
// are compared after normalizeHeader, so "RO #", "ro_no" and "RO No." are
// one spelling each. The canonical name is always accepted.
var fieldAliases = map[field][]string{
	fieldRONumber:      {"RONumber", "RO", "RO#", "RO No", "RONum", "RepairOrder", "Repair Order Number", "RepairOrderNo", "InvoiceNumber", "Invoice No", "Invoice"},
	fieldServiceDate:   {"ServiceDate", "OpenDate", "RODate", "DateOpened", "OpenedDate", "DateOfService", "Date"},
	fieldClosedAt:      {"ClosedDate", "CloseDate", "DateClosed", "ROClosedDate", "Closed"},
	fieldStatus:        {"ROStatus"},
	fieldServiceType:   {"ServiceType", "OpDescription", "LaborType", "ServiceDescription", "JobDescription"},
	fieldOpCodes:       {"OpCodes", "OpCode", "OperationCodes", "OperationCode", "LaborOpCodes", "LaborOpCode"},
	fieldAdvisorName:   {"Advisor", "ServiceAdvisor", "AdvisorName", "Writer", "ServiceWriter"},
	fieldMileage:       {"Mileage", "OdometerIn", "Odometer", "MileageIn", "Miles", "OdometerReading"},
	fieldTotalAmount:   {"Total", "ROTotal", "CustomerPay", "Amount", "TotalAmount", "TotalSale", "InvoiceTotal"},
	fieldPayType:       {"PayType", "PaymentType"},
	fieldDMSCustomerID: {"CustNo", "CustomerNumber", "CustomerNo", "CustomerID", "CustID", "CustNum", "DMSCustomerID"},
	fieldFirstName:     {"FirstName", "First", "FName", "GivenName", "CustomerFirstName"},
	fieldLastName:      {"LastName", "Last", "LName", "Surname", "FamilyName", "CustomerLastName"},
	fieldCustomerName:  {"CustomerName", "Name", "FullName", "CustName", "CustomerFullName"},
	fieldEmail:         {"Email", "EmailAddress", "E-mail", "CustomerEmail"},
	fieldAddress:       {"Address", "Address1", "AddressLine1", "Street", "StreetAddress", "CustomerAddress"},
	fieldCity:          {"City", "Town"},
	fieldState:         {"State", "ST", "Province", "StateProvince"},
	fieldPostalCode:    {"Zip", "ZipCode", "PostalCode", "PostCode", "Zip5"},
	fieldVIN:           {"VIN", "VehicleVIN", "VINNumber", "VINNo"},
	fieldYear:          {"Year", "VehicleYear", "ModelYear"},
	fieldMake:          {"Make", "VehicleMake"},
	fieldModel:         {"Model", "VehicleModel"},
	fieldTrim:          {"Trim", "VehicleTrim"},
}

// phoneAliases maps each phone header to its preference: a row may carry
// several phone columns (DMS exports usually have home, cell and work), and
// the one we dial is the first valid number in this order. A mobile is
// preferred because that is the number people answer.
var phoneAliases = map[string]int{
	"cellphone": 1, "cell": 1, "mobilephone": 1, "mobile": 1, "cellphonenumber": 1, "mobilenumber": 1,
	"phone": 2, "phonenumber": 2, "telephone": 2, "primaryphone": 2, "customerphone": 2,
	"homephone": 3,
	"workphone": 4, "businessphone": 4,
}

// headerIndex maps a normalized header to its field.
var headerIndex = buildHeaderIndex()

func buildHeaderIndex() map[string]field {
	idx := make(map[string]field)
	add := func(name string, f field) {
		n := normalizeHeader(name)
		if prev, ok := idx[n]; ok && prev != f {
			panic(fmt.Sprintf("csvimport: header alias %q maps to both %s and %s", name, fieldNames[prev], fieldNames[f]))
		}
		idx[n] = f
	}
	for f := fieldRONumber; f < fieldCount; f++ {
		add(fieldNames[f], f)
		for _, a := range fieldAliases[f] {
			add(a, f)
		}
	}
	for a := range phoneAliases {
		add(a, fieldPhone)
	}
	return idx
}

// normalizeHeader lowercases a header and drops everything but ASCII letters
// and digits, so "Repair Order #", "repair_order" and "RepairOrder" compare
// equal.
func normalizeHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

// Aliases returns, for each canonical column, the header spellings it
// accepts besides its own name (for documentation and the import UI).
func Aliases() map[string][]string {
	out := make(map[string][]string, fieldCount)
	for f := fieldRONumber; f < fieldCount; f++ {
		out[fieldNames[f]] = slices.Clone(fieldAliases[f])
	}
	phones := make([]string, 0, len(phoneAliases))
	for a := range phoneAliases {
		phones = append(phones, a)
	}
	slices.SortFunc(phones, func(a, b string) int {
		if d := phoneAliases[a] - phoneAliases[b]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	out[fieldNames[fieldPhone]] = phones
	return out
}

// Column describes how one header cell of the file was understood.
type Column struct {
	Header string // as written in the file
	Field  string // canonical field, or "" when the column is kept in Row.Raw
}

// column is the reader's view of one column.
type column struct {
	header    string
	field     field
	phoneRank int // for fieldPhone: lower is preferred
}

// candidateDelimiters are tried, in this order, when Options.Delimiter is 0.
var candidateDelimiters = []rune{',', ';', '\t', '|'}

// splitHeader splits one header line with delimiter d.
func splitHeader(line []byte, d rune) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma = d
	cr.FieldsPerRecord = -1
	return cr.Read()
}

// recognized counts the distinct known fields among the header cells.
func recognized(cells []string) int {
	var seen [fieldCount]bool
	n := 0
	for _, c := range cells {
		if f, ok := headerIndex[normalizeHeader(c)]; ok && !seen[f] {
			seen[f] = true
			n++
		}
	}
	return n
}

// delimiterName spells a delimiter for an error message.
func delimiterName(d rune) string {
	switch d {
	case '\t':
		return "tab"
	case ',':
		return "','"
	default:
		return fmt.Sprintf("'%c'", d)
	}
}

// parseHeader picks the delimiter (or checks the one given), maps each
// header cell to a field, and checks the required columns are present.
func parseHeader(line []byte, forced rune, maxColumns int) ([]column, rune, error) {
	if !utf8.Valid(line) {
		return nil, 0, headerErr("the header is not valid UTF-8; save the file as \"CSV UTF-8\"")
	}
	best, bestScore, bestCells := rune(0), -1, []string(nil)
	for _, d := range candidateDelimiters {
		cells, err := splitHeader(line, d)
		if err != nil {
			continue
		}
		score := recognized(cells)
		if score > bestScore || (score == bestScore && len(cells) > len(bestCells)) {
			best, bestScore, bestCells = d, score, cells
		}
	}
	delim, cells := best, bestCells
	if forced != 0 {
		var err error
		if cells, err = splitHeader(line, forced); err != nil {
			return nil, 0, headerErr("the header cannot be read with delimiter %s: %v", delimiterName(forced), err)
		}
		delim = forced
		if recognized(cells) == 0 {
			if bestScore > 0 && best != forced {
				return nil, 0, headerErr("no recognizable columns with delimiter %s; the header looks %s-delimited", delimiterName(forced), delimiterName(best))
			}
			return nil, 0, headerErr("no recognizable columns with delimiter %s; is the delimiter %s? expected headers such as ro_number, service_date, phone (see the template)", delimiterName(forced), delimiterName(forced))
		}
	} else if bestScore <= 0 {
		return nil, 0, headerErr("no recognizable columns; is the delimiter ','? The file must be delimited by comma, semicolon, tab or pipe, with headers such as ro_number, service_date, phone (see the template); the header was %q", truncate(string(line), 120))
	}
	if len(cells) > maxColumns {
		return nil, 0, headerErr("the header has %d columns; the limit is %d", len(cells), maxColumns)
	}

	cols := make([]column, len(cells))
	owner := make(map[field]string)   // field -> header that claimed it
	rawNames := make(map[string]bool) // original names of Raw columns
	phones := make(map[int]string)    // phone rank -> header
	for i, cell := range cells {
		name := strings.TrimSpace(cell)
		norm := normalizeHeader(name)
		f, known := headerIndex[norm]
		col := column{header: name, field: f}
		switch {
		case name == "":
			col.header = fmt.Sprintf("column_%d", i+1)
			col.field = fieldRaw
		case !known:
			col.field = fieldRaw
		case f == fieldPhone:
			rank, ok := phoneAliases[norm]
			if !ok {
				rank = 2 // the canonical "phone"
			}
			if prev, dup := phones[rank]; dup {
				return nil, 0, headerErr("columns %q and %q are both the same kind of phone number; keep one", prev, name)
			}
			phones[rank] = name
			col.phoneRank = rank
		default:
			if prev, dup := owner[f]; dup {
				return nil, 0, headerErr("columns %q and %q both map to %s; keep one", prev, name, fieldNames[f])
			}
			owner[f] = name
		}
		if col.field == fieldRaw {
			if rawNames[col.header] {
				return nil, 0, headerErr("column %q appears twice", col.header)
			}
			rawNames[col.header] = true
		}
		cols[i] = col
	}

	var missing []string
	if _, ok := owner[fieldRONumber]; !ok {
		missing = append(missing, "ro_number")
	}
	_, hasDate := owner[fieldServiceDate]
	_, hasClosed := owner[fieldClosedAt]
	if !hasDate && !hasClosed {
		missing = append(missing, "service_date (or closed_at)")
	}
	if len(phones) == 0 {
		missing = append(missing, "phone")
	}
	if len(missing) > 0 {
		return nil, 0, headerErr("missing required column(s): %s; found: %s", strings.Join(missing, ", "), truncate(strings.Join(cells, ", "), 200))
	}
	return cols, delim, nil
}

func headerErr(format string, args ...any) error {
	return &fault.Error{Code: fault.Invalid, Message: "CSV header: " + fmt.Sprintf(format, args...),
		Fields: []fault.FieldError{{Location: "file.header", Message: fmt.Sprintf(format, args...)}}}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
