package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/autopulse/autopulse/internal/fault"
)

// Limits of a DNC import.
const (
	MaxDNCImportRows = 100_000
	maxRowErrors     = 100
	// maxParseErrors stops reading a file that is not CSV at all.
	maxParseErrors = 1000
)

// DNCRowError is one bad row of an uploaded file.
type DNCRowError struct {
	Line   int    `json:"line" doc:"1-based line of the file"`
	Column string `json:"column" doc:"The column's header, or phone without a header; empty when the row could not be read"`
	Reason string `json:"reason"`
}

// DNCFile is a parsed DNC upload.
type DNCFile struct {
	Entries []DNCFileEntry
	Rows    int // data rows, good and bad
	Invalid int // bad rows
	Errors  []DNCRowError
}

// DNCFileEntry is one good row.
type DNCFileEntry struct {
	Line   int
	Phone  string // E.164
	Reason string
}

// Headers naming the phone column, and the optional reason column
// (case-insensitive, surrounding space ignored).
var (
	phoneHeaders  = []string{"phone", "phone_number", "phone number", "phonenumber", "number"}
	reasonHeaders = []string{"reason", "note", "notes"}
)

// ParseDNCFile reads a list of numbers from CSV: a file with a header row
// naming a phone column (and optionally a reason column), or a single
// column of numbers with or without a header. The delimiter (comma,
// semicolon or tab) is taken from the first line, and a UTF-8 byte-order
// mark is skipped. Each bad row becomes a DNCRowError (the first 100 are
// kept); a file with no rows, several columns but none named phone, or
// more than MaxDNCImportRows rows is fault.Invalid.
func ParseDNCFile(r io.Reader) (DNCFile, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1
	// Cells are trimmed as they are read; trimming in the reader would
	// also eat empty tab-separated cells.

	var f DNCFile
	first, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return f, fault.InvalidField("body", "the file has no rows")
		case errors.As(err, &pe):
			return f, fault.InvalidField("body", "the first line cannot be read as CSV: "+pe.Error())
		default:
			return f, fault.Errorf(fault.Invalid, "the file cannot be read: %v", err)
		}
	}
	phoneCol, reasonCol, column := header(first)
	firstIsHeader := true
	switch {
	case phoneCol >= 0:
	case len(first) == 1:
		phoneCol, column = 0, "phone"
		// A lone cell with a digit is a number (good or bad), else a header.
		firstIsHeader = !strings.ContainsFunc(first[0], unicode.IsDigit)
	default:
		return f, fault.InvalidField("body", "no phone column: name one column \"phone\", or send a single column of numbers")
	}
	if !firstIsHeader {
		line, _ := cr.FieldPos(0)
		f.row(line, first, phoneCol, reasonCol, column)
	}
	parseErrors := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			f.Rows++
			f.fail(pe.Line, "", pe.Err.Error())
			if parseErrors++; parseErrors > maxParseErrors {
				return f, fault.InvalidField("body", "the file is not CSV: too many unreadable lines")
			}
			continue
		}
		if err != nil {
			return f, fault.Errorf(fault.Invalid, "the file cannot be read: %v", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line of a multi-column file
		}
		line, _ := cr.FieldPos(0)
		f.row(line, rec, phoneCol, reasonCol, column)
		if f.Rows > MaxDNCImportRows {
			return f, fault.InvalidField("body", fmt.Sprintf("the file has more than %d rows: split it", MaxDNCImportRows))
		}
	}
	return f, nil
}

// row reads one data record.
func (f *DNCFile) row(line int, rec []string, phoneCol, reasonCol int, column string) {
	f.Rows++
	if phoneCol >= len(rec) {
		f.fail(line, column, "the row has no value in this column")
		return
	}
	phone, err := NormalizePhone(rec[phoneCol])
	if err != nil {
		f.fail(line, column, "phone "+err.Error())
		return
	}
	e := DNCFileEntry{Line: line, Phone: phone}
	if reasonCol >= 0 && reasonCol < len(rec) {
		e.Reason = strings.TrimSpace(rec[reasonCol])
		if len(e.Reason) > 500 {
			e.Reason = e.Reason[:500]
		}
	}
	f.Entries = append(f.Entries, e)
}

func (f *DNCFile) fail(line int, column, reason string) {
	f.Invalid++
	if len(f.Errors) < maxRowErrors {
		f.Errors = append(f.Errors, DNCRowError{Line: line, Column: column, Reason: reason})
	}
}

// header finds the phone and reason columns of a header row; -1 when
// absent. column is the phone column's header as written.
func header(rec []string) (phoneCol, reasonCol int, column string) {
	phoneCol, reasonCol = -1, -1
	for i, cell := range rec {
		name := strings.ToLower(strings.TrimSpace(cell))
		switch {
		case phoneCol < 0 && slices.Contains(phoneHeaders, name):
			phoneCol, column = i, strings.TrimSpace(cell)
		case reasonCol < 0 && slices.Contains(reasonHeaders, name):
			reasonCol = i
		}
	}
	return phoneCol, reasonCol, column
}

// sniffDelimiter picks comma, semicolon or tab, whichever the first line
// has most of (comma on a tie or none).
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, bestN := ',', bytes.Count(head, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(head, []byte{byte(d)}); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}
