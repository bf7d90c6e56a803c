package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// Sources of a record, as stored in service_records.source.
const (
	SourceCSV = "csv"
	SourceAPI = "api"
	SourceDMS = "dms"
)

// stagedRow is one checked row, shaped after service_record_staging. Empty
// strings are NULL.
type stagedRow struct {
	line        int32 // file line, or batch index
	roNumber    string
	serviceDate time.Time // civil date at midnight UTC
	closedAt    *time.Time
	status      string
	serviceType string
	opCodes     []string
	advisorName string
	mileage     *int32
	totalAmount *int64
	payType     string

	dmsCustomerID string
	firstName     string
	lastName      string
	phone         string
	email         string
	address       string
	city          string
	state         string
	postalCode    string

	vin   string
	year  *int32
	make  string
	model string
	trim  string

	raw json.RawMessage // a JSON object
}

// stagingColumns are the columns COPY fills, in the order of values.
var stagingColumns = []string{
	"line", "ro_number", "service_date", "closed_at", "status", "service_type", "op_codes", "advisor_name",
	"mileage", "total_amount", "pay_type", "dms_customer_id", "first_name", "last_name", "phone", "email",
	"address", "city", "state", "postal_code", "vin", "year", "make", "model", "trim", "raw",
	"record_id", "new_customer_id", "new_vehicle_id",
}

var emptyObject = json.RawMessage(`{}`)

// values fills dst (reused between rows: pgx encodes a row before asking
// for the next) with the row's values in stagingColumns order, and the ids
// of the record, customer and vehicle the row would create.
func (r *stagedRow) values(dst []any) []any {
	opCodes := r.opCodes
	if opCodes == nil {
		opCodes = []string{}
	}
	raw := r.raw
	if len(raw) == 0 {
		raw = emptyObject
	}
	return append(dst[:0],
		r.line, r.roNumber, r.serviceDate, r.closedAt, r.status, nullable(r.serviceType), opCodes, nullable(r.advisorName),
		r.mileage, r.totalAmount, nullable(r.payType), nullable(r.dmsCustomerID), r.firstName, r.lastName, r.phone, nullable(r.email),
		nullable(r.address), nullable(r.city), nullable(r.state), nullable(r.postalCode), nullable(r.vin), r.year,
		nullable(r.make), nullable(r.model), nullable(r.trim), raw,
		uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()),
	)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errNUL rejects a value PostgreSQL's text cannot hold.
var errNUL = errors.New("a value contains a NUL character, which cannot be stored")

// stagedFromCSV converts a row the CSV reader accepted. A row with a NUL
// character is refused here: one would fail the whole COPY.
func stagedFromCSV(row *csvimport.Row) (stagedRow, error) {
	r := stagedRow{
		line: int32(row.Line), roNumber: row.RONumber, serviceDate: row.ServiceDate, closedAt: row.ClosedAt,
		status: row.Status, serviceType: row.ServiceType, opCodes: row.OpCodes, advisorName: row.AdvisorName,
		mileage: row.Mileage, totalAmount: row.TotalAmount, payType: row.PayType,
		dmsCustomerID: row.Customer.DMSCustomerID, firstName: row.Customer.FirstName, lastName: row.Customer.LastName,
		phone: row.Customer.Phone, email: row.Customer.Email, address: row.Customer.Address, city: row.Customer.City,
		state: row.Customer.State, postalCode: row.Customer.PostalCode,
		vin: row.Vehicle.VIN, year: row.Vehicle.Year, make: row.Vehicle.Make, model: row.Vehicle.Model, trim: row.Vehicle.Trim,
	}
	if r.hasNUL() {
		return stagedRow{}, errNUL
	}
	if len(row.Raw) > 0 {
		for k, v := range row.Raw {
			if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
				return stagedRow{}, errNUL
			}
		}
		raw, err := json.Marshal(row.Raw)
		if err != nil {
			return stagedRow{}, err
		}
		r.raw = raw
	}
	return r, nil
}

// hasNUL reports a NUL character in any text of the row.
func (r *stagedRow) hasNUL() bool {
	for _, s := range []string{
		r.roNumber, r.status, r.serviceType, r.advisorName, r.payType, r.dmsCustomerID, r.firstName, r.lastName,
		r.phone, r.email, r.address, r.city, r.state, r.postalCode, r.vin, r.make, r.model, r.trim,
	} {
		if strings.ContainsRune(s, 0) {
			return true
		}
	}
	for _, c := range r.opCodes {
		if strings.ContainsRune(c, 0) {
			return true
		}
	}
	return false
}

// rowSource yields staged rows; io.EOF ends it.
type rowSource func() (*stagedRow, error)

// copySource adapts a rowSource to pgx's CopyFromSource.
type copySource struct {
	next rowSource
	row  *stagedRow
	vals []any
	err  error
	n    int
}

func (c *copySource) Next() bool {
	if c.err != nil {
		return false
	}
	row, err := c.next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			c.err = err
		}
		return false
	}
	c.row = row
	c.n++
	return true
}

func (c *copySource) Values() ([]any, error) {
	c.vals = c.row.values(c.vals)
	return c.vals, nil
}

func (c *copySource) Err() error { return c.err }

// loadOptions say where the rows come from.
type loadOptions struct {
	Source        string // SourceCSV, SourceAPI or SourceDMS
	IntegrationID *uuid.UUID
	Currency      string
}

// loadResult is what a load did.
type loadResult struct {
	Staged           int // rows copied into staging
	Inserted         int
	Updated          int
	Unchanged        int
	Duplicates       []db.RecordStagingDedupeRow // at most maxStoredWarnings
	DuplicatesTotal  int
	CustomersCreated int
	VehiclesCreated  int
	// Phases time the load's steps, for the log (where an import's time
	// goes: reading and copying, then each merge).
	Phases phases
}

// phases are named durations, logged as one group.
type phases struct {
	names []string
	took  []time.Duration
	last  time.Time
}

// mark closes the phase that ends now.
func (p *phases) mark(name string) {
	now := time.Now()
	p.names = append(p.names, name)
	p.took = append(p.took, now.Sub(p.last))
	p.last = now
}

// LogValue implements slog.LogValuer.
func (p phases) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(p.names))
	for i, n := range p.names {
		attrs[i] = slog.Duration(n, p.took[i].Round(time.Millisecond))
	}
	return slog.GroupValue(attrs...)
}

// load copies the rows of src into staging and merges them, inside tx.
// The organization's record writes are locked from the merge on, until tx
// ends. src's error (a file that cannot be read further) aborts the load.
func load(ctx context.Context, tx *postgres.Tx, org uuid.UUID, src rowSource, opts loadOptions) (loadResult, error) {
	var res loadResult
	res.Phases.last = time.Now()
	if err := tx.RecordStagingSettings(ctx); err != nil {
		return res, err
	}
	if err := tx.RecordStagingCreate(ctx); err != nil {
		return res, fmt.Errorf("create staging: %w", err)
	}
	cs := &copySource{next: src}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"service_record_staging"}, stagingColumns, cs); err != nil {
		if cs.err != nil {
			return res, cs.err
		}
		return res, fmt.Errorf("copy into staging: %w", err)
	}
	res.Staged = cs.n
	res.Phases.mark("read_and_copy")
	if res.Staged == 0 {
		return res, nil
	}
	if err := tx.RecordStagingAnalyze(ctx); err != nil {
		return res, err
	}
	dups, err := tx.RecordStagingDedupe(ctx, maxStoredWarnings)
	if err != nil {
		return res, fmt.Errorf("dedupe staging: %w", err)
	}
	res.Duplicates = dups
	if len(dups) > 0 {
		res.DuplicatesTotal = int(dups[0].Total)
	}
	res.Phases.mark("analyze_and_dedupe")

	if err := tx.RecordLockOrganization(ctx, org); err != nil {
		return res, err
	}
	res.Phases.mark("lock")
	if _, err := tx.RecordStagingCustomersAdopt(ctx, org); err != nil {
		return res, fmt.Errorf("adopt customers: %w", err)
	}
	byDMS, err := tx.RecordStagingCustomersUpsertByDMSID(ctx, org)
	if err != nil {
		return res, fmt.Errorf("upsert customers: %w", err)
	}
	byPhone, err := tx.RecordStagingCustomersInsertByPhone(ctx, org)
	if err != nil {
		return res, fmt.Errorf("insert customers: %w", err)
	}
	res.CustomersCreated = int(byDMS.Created + byPhone)
	res.Phases.mark("customers")
	byVIN, err := tx.RecordStagingVehiclesUpsertByVIN(ctx, org)
	if err != nil {
		return res, fmt.Errorf("upsert vehicles: %w", err)
	}
	noVIN, err := tx.RecordStagingVehiclesInsertWithoutVIN(ctx, org)
	if err != nil {
		return res, fmt.Errorf("insert vehicles: %w", err)
	}
	res.VehiclesCreated = int(byVIN.Created + noVIN)
	res.Phases.mark("vehicles")
	merged, err := tx.RecordStagingMerge(ctx, db.RecordStagingMergeParams{
		OrganizationID: org, Currency: opts.Currency, Source: opts.Source, DmsIntegrationID: opts.IntegrationID,
	})
	if err != nil {
		return res, fmt.Errorf("merge records: %w", err)
	}
	res.Inserted, res.Updated = int(merged.Inserted), int(merged.Updated)
	res.Phases.mark("records")
	res.Unchanged = res.Staged - res.DuplicatesTotal - res.Inserted - res.Updated
	return res, nil
}
