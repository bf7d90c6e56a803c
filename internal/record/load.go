package record

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
func (r *stagedRow) values(dst []any, ids *idSource) ([]any, error) {
	opCodes := r.opCodes
	if opCodes == nil {
		opCodes = []string{}
	}
	raw := r.raw
	if len(raw) == 0 {
		raw = emptyObject
	}
	var id [3]pgtype.UUID
	for i := range id {
		u, err := ids.next()
		if err != nil {
			return dst, err
		}
		id[i] = u
	}
	return append(dst[:0],
		r.line, r.roNumber, r.serviceDate, r.closedAt, r.status, nullable(r.serviceType), opCodes, nullable(r.advisorName),
		r.mileage, r.totalAmount, nullable(r.payType), nullable(r.dmsCustomerID), r.firstName, r.lastName, r.phone, nullable(r.email),
		nullable(r.address), nullable(r.city), nullable(r.state), nullable(r.postalCode), nullable(r.vin), r.year,
		nullable(r.make), nullable(r.model), nullable(r.trim), raw,
		id[0], id[1], id[2],
	), nil
}

// idSource makes the UUIDv7s of a load. Its randomness comes from
// crypto/rand through a buffer: one read per 256 ids rather than one per
// id. The ids go to COPY as pgtype.UUID, which pgx encodes directly (a
// uuid.UUID goes through its text form, an encode error and a parse).
type idSource struct {
	r *bufio.Reader
}

func newIDSource() *idSource {
	return &idSource{r: bufio.NewReaderSize(rand.Reader, 16*256)}
}

func (s *idSource) next() (pgtype.UUID, error) {
	u, err := uuid.NewV7FromReader(s.r)
	if err != nil {
		return pgtype.UUID{}, fmt.Errorf("record: new id: %w", err)
	}
	return pgtype.UUID{Bytes: u, Valid: true}, nil
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

// Prefetching: how many rows a batch holds, and how many batches may wait.
const (
	prefetchBatchRows = 128
	prefetchBatches   = 4
)

// prefetch runs src in a goroutine of its own, a few batches ahead of its
// reader, so that reading and checking rows (src) and encoding them for
// COPY (pgx) use two cores: together on one they took several times the
// COPY itself. At most prefetchBatches batches wait, so memory stays flat.
// stop ends the goroutine and waits for it (for the src call under way, if
// any): src, and what it writes to (the issue log), are the caller's again
// once stop returns. A panic in src becomes its error.
func prefetch(src rowSource) (next rowSource, stop func()) {
	type batch struct {
		rows []*stagedRow
		err  error
	}
	fill := func() (b batch) {
		defer func() {
			if r := recover(); r != nil {
				b.err = fmt.Errorf("record: reading rows: %v", r)
			}
		}()
		b.rows = make([]*stagedRow, 0, prefetchBatchRows)
		for len(b.rows) < prefetchBatchRows {
			row, err := src()
			if err != nil {
				b.err = err
				return b
			}
			b.rows = append(b.rows, row)
		}
		return b
	}
	ch := make(chan batch, prefetchBatches)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			b := fill()
			select {
			case ch <- b:
			case <-done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	var cur batch
	i := 0
	next = func() (*stagedRow, error) {
		for i == len(cur.rows) {
			if cur.err != nil {
				return nil, cur.err
			}
			cur, i = <-ch, 0
		}
		i++
		return cur.rows[i-1], nil
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
	return next, stop
}

// copySource adapts a rowSource to pgx's CopyFromSource.
type copySource struct {
	next rowSource
	ids  *idSource
	row  *stagedRow
	vals []any
	err  error
	n    int
	// The lowest and highest line copied, for chunking the merge.
	firstLine, lastLine int32
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
	if c.n == 0 || row.line < c.firstLine {
		c.firstLine = row.line
	}
	if c.n == 0 || row.line > c.lastLine {
		c.lastLine = row.line
	}
	c.n++
	return true
}

func (c *copySource) Values() ([]any, error) {
	var err error
	c.vals, err = c.row.values(c.vals, c.ids)
	return c.vals, err
}

func (c *copySource) Err() error { return c.err }

// loadOptions say where the rows come from.
type loadOptions struct {
	Source        string // SourceCSV, SourceAPI or SourceDMS
	IntegrationID *uuid.UUID
	Currency      string
	// chunkLines overrides mergeChunkLines (tests).
	chunkLines int64
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

// mergeChunkLines is how many lines one RecordStagingMerge takes. Every
// statement of a load runs in the load's transaction, so chunks change
// nothing of what a load does, only how: foreign keys are checked after
// each statement, and a chunk's new records, with the customers and
// vehicles they point to, are still in shared buffers by then. At a million
// rows (tables past the default 128 MB of shared_buffers) one statement
// read back and wrote out about a buffer per row to check them, and took
// 60–70 s on a quiet 2-core machine (3 min on a busy one); chunks of 100,000
// lines, sorted by customer, 45–50 s (50 s). Chunks of 50,000 to 334,000
// lines measured the same.
const mergeChunkLines = 100_000

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
	next, stop := prefetch(src)
	defer stop()
	cs := &copySource{next: next, ids: newIDSource()}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"service_record_staging"}, stagingColumns, cs)
	stop()
	if err != nil {
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
	chunk := int64(mergeChunkLines)
	if opts.chunkLines > 0 {
		chunk = opts.chunkLines
	}
	if int64(cs.lastLine)-int64(cs.firstLine) >= chunk {
		if err := tx.RecordStagingIndex(ctx); err != nil {
			return res, fmt.Errorf("index staging: %w", err)
		}
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
	for first := int64(cs.firstLine); first <= int64(cs.lastLine); first += chunk {
		last := min(first+chunk-1, int64(cs.lastLine))
		merged, err := tx.RecordStagingMerge(ctx, db.RecordStagingMergeParams{
			OrganizationID: org, FirstLine: int32(first), LastLine: int32(last),
			Currency: opts.Currency, Source: opts.Source, DmsIntegrationID: opts.IntegrationID,
		})
		if err != nil {
			return res, fmt.Errorf("merge records: %w", err)
		}
		res.Inserted += int(merged.Inserted)
		res.Updated += int(merged.Updated)
	}
	res.Phases.mark("records")
	res.Unchanged = res.Staged - res.DuplicatesTotal - res.Inserted - res.Updated
	return res, nil
}
