package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// Import sources.
const (
	ImportSourceUpload = "upload" // POST /api/v1/service-records/imports
	ImportSourceCLI    = "cli"    // autopulse import
	ImportSourceDMS    = "dms"    // a DMS integration's pull
)

// Import statuses.
const (
	ImportPending   = "pending"
	ImportRunning   = "running"
	ImportCompleted = "completed"
	ImportFailed    = "failed"
)

// Import is one CSV import: its file, its state and what it came to.
type Import struct {
	ID               uuid.UUID    `json:"id"`
	Status           string       `json:"status" enum:"pending,running,completed,failed"`
	Source           string       `json:"source" enum:"upload,cli,dms"`
	DMSIntegrationID *uuid.UUID   `json:"dms_integration_id"`
	FileName         string       `json:"file_name"`
	SizeBytes        *int64       `json:"size_bytes"`
	SHA256           *string      `json:"sha256"`
	Delimiter        *string      `json:"delimiter" doc:"The delimiter the file was read with"`
	Counts           ImportCounts `json:"counts"`
	// ErrorsTotal rows were not loaded; WarningsTotal were loaded with a
	// remark. At most 10,000 errors and 1,000 warnings are kept
	// (IssuesTruncated says some were dropped).
	ErrorsTotal     int    `json:"errors_total"`
	WarningsTotal   int    `json:"warnings_total"`
	IssuesTruncated bool   `json:"issues_truncated"`
	Failure         string `json:"failure,omitempty" doc:"Why the import failed as a whole (nothing was loaded)"`
	// Errors and Warnings are the first issues by line, on GET of one
	// import (see its error_limit).
	Errors          []csvimport.RowError `json:"errors,omitempty"`
	Warnings        []csvimport.RowError `json:"warnings,omitempty"`
	Attempts        int                  `json:"attempts"`
	CreatedBy       *uuid.UUID           `json:"created_by"`
	CreatedByAPIKey *uuid.UUID           `json:"created_by_api_key"`
	StartedAt       *time.Time           `json:"started_at"`
	FinishedAt      *time.Time           `json:"finished_at"`
	CreatedAt       time.Time            `json:"created_at"`
	UpdatedAt       time.Time            `json:"updated_at"`
}

// ImportCounts say what became of an import's rows. Rows = Inserted +
// Updated + Unchanged + Duplicates + Invalid once the import has completed.
type ImportCounts struct {
	Rows       int `json:"rows" doc:"Data rows read (blank lines aside)"`
	Inserted   int `json:"inserted" doc:"New service records"`
	Updated    int `json:"updated" doc:"Existing records (same RO number) that changed"`
	Unchanged  int `json:"unchanged" doc:"Existing records identical to their row"`
	Duplicates int `json:"duplicates" doc:"Rows whose RO number appears again further down the file; the last one was loaded"`
	Skipped    int `json:"skipped" doc:"unchanged + duplicates: valid rows that wrote nothing"`
	Invalid    int `json:"invalid" doc:"Rows with errors, not loaded"`
	// Customers and vehicles the import created.
	CustomersCreated int `json:"customers_created"`
	VehiclesCreated  int `json:"vehicles_created"`
}

// Upload describes an uploaded file.
type Upload struct {
	FileName string
}

// importKey is where an upload waits for its import.
func importKey(org, id uuid.UUID) string {
	return "imports/" + org.String() + "/" + id.String() + ".csv"
}

// headRecorder keeps the first bytes that pass through it.
type headRecorder struct {
	buf bytes.Buffer
	max int
}

func (h *headRecorder) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// headerPrefixBytes is enough of a file to hold any header the CSV reader
// accepts (its header line limit is 64 KiB).
const headerPrefixBytes = 64<<10 + 1

// CreateImport spools r (a CSV file, streamed: it is never held in memory)
// to blob storage, checks its header, and enqueues its import, which runs
// in the background. A file whose header is unusable (empty, an unknown
// delimiter, missing required columns) is fault.Invalid and is not kept;
// a file over the size limit fails with blob.ErrTooLarge.
func (s *Service) CreateImport(ctx context.Context, org uuid.UUID, r io.Reader, up Upload) (Import, error) {
	if s.Blob == nil || s.Jobs == nil {
		return Import{}, errors.New("record: imports need a blob store and a job client")
	}
	id := uuid.Must(uuid.NewV7())
	key := importKey(org, id)
	head := &headRecorder{max: headerPrefixBytes}
	obj, err := s.Blob.Put(ctx, key, io.TeeReader(r, head), blob.PutOptions{ContentType: "text/csv", MaxBytes: s.maxUploadBytes()})
	if err != nil {
		return Import{}, err
	}
	discard := func() {
		if err := s.Blob.Delete(context.WithoutCancel(ctx), key); err != nil {
			s.log().ErrorContext(ctx, "delete spooled import", "key", key, "err", err)
		}
	}
	if _, err := csvimport.NewReader(bytes.NewReader(head.buf.Bytes()), csvimport.Options{}); err != nil {
		discard()
		return Import{}, err
	}
	var out Import
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := s.insertImport(ctx, tx, org, importInsert{
			ID: id, Source: ImportSourceUpload, FileName: cleanFileName(up.FileName), StorageKey: &key,
			SizeBytes: &obj.Size, SHA256: &obj.SHA256,
		})
		if err != nil {
			return err
		}
		out = importFromRow(row)
		return nil
	})
	if err != nil {
		discard()
	}
	return out, err
}

// importInsert is a new import.
type importInsert struct {
	ID            uuid.UUID // zero: a new one
	Source        string
	Status        string // default pending (and a job is enqueued)
	IntegrationID *uuid.UUID
	FileName      string
	StorageKey    *string
	SizeBytes     *int64
	SHA256        *string
}

// insertImport adds an import in tx with its audit row and, when pending,
// its job.
func (s *Service) insertImport(ctx context.Context, tx *postgres.Tx, org uuid.UUID, in importInsert) (db.ServiceRecordImport, error) {
	if in.ID == uuid.Nil {
		in.ID = uuid.Must(uuid.NewV7())
	}
	if in.Status == "" {
		in.Status = ImportPending
	}
	user, apiKey := actors(ctx)
	row, err := tx.RecordImportInsert(ctx, db.RecordImportInsertParams{
		OrganizationID: org, ID: in.ID, Status: in.Status, Source: in.Source, DmsIntegrationID: in.IntegrationID,
		FileName: in.FileName, StorageKey: in.StorageKey, SizeBytes: in.SizeBytes, Sha256: in.SHA256,
		CreatedBy: user, CreatedByApiKey: apiKey,
	})
	if err != nil {
		return row, err
	}
	if err := audit.Record(ctx, tx, audit.Create, "service_record_import", row.ID, nil, importFromRow(row)); err != nil {
		return row, err
	}
	if in.Status == ImportPending {
		if s.Jobs == nil {
			return row, errors.New("record: imports need a job client")
		}
		if _, err := s.Jobs.InsertTx(ctx, tx.Tx, ImportArgs{OrganizationID: org, ImportID: row.ID}, nil); err != nil {
			return row, err
		}
	}
	return row, nil
}

// cleanFileName keeps the base name of an uploaded file, for display.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	return truncateText(strings.ToValidUTF8(name, ""), 255)
}

// GetImport returns an import with its first errorLimit errors and
// warnings (by line).
func (s *Service) GetImport(ctx context.Context, org, id uuid.UUID, errorLimit int) (Import, error) {
	var out Import
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RecordImportGet(ctx, org, id)
		if err != nil {
			return err
		}
		out = importFromRow(row)
		if errorLimit <= 0 {
			return nil
		}
		for _, sev := range []string{severityError, severityWarning} {
			issues, err := tx.RecordImportIssueList(ctx, db.RecordImportIssueListParams{
				OrganizationID: org, ImportID: id, Severity: sev, Lim: int32(min(errorLimit, maxStoredErrors)),
			})
			if err != nil {
				return err
			}
			list := make([]csvimport.RowError, len(issues))
			for i, is := range issues {
				list[i] = csvimport.RowError{Line: int(is.Line), Column: is.ColumnName, Reason: is.Reason}
			}
			if sev == severityError {
				out.Errors = list
			} else {
				out.Warnings = list
			}
		}
		return nil
	})
	return out, err
}

// ListImports returns imports, newest first, optionally in one status.
func (s *Service) ListImports(ctx context.Context, org uuid.UUID, status string, pr page.Request) ([]Import, string, error) {
	var rows []db.ServiceRecordImport
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.RecordImportList(ctx, db.RecordImportListParams{OrganizationID: org, Status: nullable(status), After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.ServiceRecordImport) uuid.UUID { return r.ID }, importFromRow)
	return out, next, nil
}

func importFromRow(r db.ServiceRecordImport) Import {
	imp := Import{
		ID: r.ID, Status: r.Status, Source: r.Source, DMSIntegrationID: r.DmsIntegrationID, FileName: r.FileName,
		SizeBytes: r.SizeBytes, SHA256: r.Sha256, Delimiter: r.Delimiter,
		Counts: ImportCounts{
			Rows: int(r.RowsTotal), Inserted: int(r.RowsInserted), Updated: int(r.RowsUpdated), Unchanged: int(r.RowsUnchanged),
			Duplicates: int(r.RowsDuplicate), Skipped: int(r.RowsUnchanged + r.RowsDuplicate), Invalid: int(r.RowsInvalid),
			CustomersCreated: int(r.CustomersCreated), VehiclesCreated: int(r.VehiclesCreated),
		},
		ErrorsTotal: int(r.ErrorsTotal), WarningsTotal: int(r.WarningsTotal), IssuesTruncated: r.IssuesTruncated,
		Failure: deref(r.Failure), Attempts: int(r.Attempts), CreatedBy: r.CreatedBy, CreatedByAPIKey: r.CreatedByApiKey,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	return imp
}

// Issue severities.
const (
	severityError   = "error"
	severityWarning = "warning"
)

// issueLog collects an import's row issues, keeping the first ones.
type issueLog struct {
	errors, warnings       []csvimport.RowError
	errorRows              int // rows rejected
	errorsTotal            int
	warningsTotal          int
	truncated              bool
	maxErrors, maxWarnings int
}

func newIssueLog() *issueLog {
	return &issueLog{maxErrors: maxStoredErrors, maxWarnings: maxStoredWarnings}
}

func (l *issueLog) reject(errs []csvimport.RowError) {
	l.errorRows++
	l.errorsTotal += len(errs)
	for _, e := range errs {
		if len(l.errors) < l.maxErrors {
			l.errors = append(l.errors, e)
		} else {
			l.truncated = true
		}
	}
}

func (l *issueLog) warn(ws []csvimport.RowError) {
	l.warningsTotal += len(ws)
	for _, w := range ws {
		if len(l.warnings) < l.maxWarnings {
			l.warnings = append(l.warnings, w)
		} else {
			l.truncated = true
		}
	}
}

// store writes the kept issues of import id in tx.
func (l *issueLog) store(ctx context.Context, tx *postgres.Tx, org, id uuid.UUID) error {
	if len(l.errors)+len(l.warnings) == 0 {
		return nil
	}
	n := len(l.errors) + len(l.warnings)
	p := db.RecordImportIssueInsertParams{
		OrganizationID: org, ImportID: id,
		Severities: make([]string, 0, n), Lines: make([]int32, 0, n), ColumnNames: make([]string, 0, n), Reasons: make([]string, 0, n),
	}
	add := func(sev string, list []csvimport.RowError) {
		for _, e := range list {
			p.Severities = append(p.Severities, sev)
			p.Lines = append(p.Lines, int32(e.Line))
			p.ColumnNames = append(p.ColumnNames, truncateText(strings.ToValidUTF8(e.Column, "?"), 200))
			p.Reasons = append(p.Reasons, truncateText(strings.ToValidUTF8(e.Reason, "?"), 1000))
		}
	}
	add(severityError, l.errors)
	add(severityWarning, l.warnings)
	return tx.RecordImportIssueInsert(ctx, p)
}

// csvRowSource reads rows from a RowSource, logging the rejected ones and
// the warnings.
func csvRowSource(rs RowSource, issues *issueLog) rowSource {
	return func() (*stagedRow, error) {
		for {
			row, errs, err := rs.Next()
			if err != nil {
				return nil, err
			}
			if len(errs) > 0 {
				issues.reject(errs)
				continue
			}
			if len(row.Warnings) > 0 {
				issues.warn(row.Warnings)
			}
			staged, err := stagedFromCSV(&row)
			if err != nil {
				issues.reject([]csvimport.RowError{{Line: row.Line, Reason: err.Error()}})
				continue
			}
			return &staged, nil
		}
	}
}

// readerRows is a csvimport.Reader over a file, as a RowSource.
type readerRows struct {
	*csvimport.Reader
}

func (readerRows) Close() error { return nil }

// rowCounter is implemented by the sources that know how many rows they
// read (csvimport.Reader).
type rowCounter interface{ Rows() int }

// loadImport loads the rows of rs into import imp and completes it, in one
// transaction. done, when not nil, runs in that transaction after the load
// (a DMS pull records its sync there).
func (s *Service) loadImport(ctx context.Context, org uuid.UUID, imp db.ServiceRecordImport, rs RowSource, delimiter string,
	issues *issueLog, done func(tx *postgres.Tx) error,
) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		defaults, err := loadOrgDefaults(ctx, tx, org)
		if err != nil {
			return err
		}
		source := SourceCSV
		if imp.Source == ImportSourceDMS {
			source = SourceDMS
		}
		res, err := load(ctx, tx, org, csvRowSource(rs, issues), loadOptions{
			Source: source, IntegrationID: imp.DmsIntegrationID, Currency: defaults.Currency,
		})
		if err != nil {
			return err
		}
		for _, d := range res.Duplicates {
			issues.warn([]csvimport.RowError{{Line: int(d.Line), Column: "ro_number", Reason: fmt.Sprintf(
				"RO number %q appears again on line %d; that row was loaded instead", d.RoNumber, d.KeptLine)}})
		}
		if res.DuplicatesTotal > len(res.Duplicates) {
			issues.warningsTotal += res.DuplicatesTotal - len(res.Duplicates)
			issues.truncated = true
		}
		rows := res.Staged + issues.errorRows
		if rc, ok := rs.(rowCounter); ok {
			rows = rc.Rows()
		}
		s.log().InfoContext(ctx, "import loaded", "import_id", imp.ID, "rows", rows, "inserted", res.Inserted,
			"updated", res.Updated, "invalid", issues.errorRows, "phases", res.Phases)
		if err := issues.store(ctx, tx, org, imp.ID); err != nil {
			return err
		}
		if done != nil {
			if err := done(tx); err != nil {
				return err
			}
		}
		_, err = tx.RecordImportFinish(ctx, db.RecordImportFinishParams{
			OrganizationID: org, ID: imp.ID, Status: ImportCompleted, Delimiter: nullable(delimiter),
			RowsTotal: int32(rows), RowsInserted: int32(res.Inserted), RowsUpdated: int32(res.Updated),
			RowsUnchanged: int32(res.Unchanged), RowsDuplicate: int32(res.DuplicatesTotal), RowsInvalid: int32(issues.errorRows),
			CustomersCreated: int32(res.CustomersCreated), VehiclesCreated: int32(res.VehiclesCreated),
			ErrorsTotal: int32(issues.errorsTotal), WarningsTotal: int32(issues.warningsTotal), IssuesTruncated: issues.truncated,
		})
		return err
	})
}

// failImport marks an import failed with why, keeping the issues found
// before the failure. Nothing of its rows was loaded.
func (s *Service) failImport(ctx context.Context, org, id uuid.UUID, why error, issues *issueLog, done func(tx *postgres.Tx) error) error {
	msg := failureMessage(why)
	return s.DB.InTenant(context.WithoutCancel(ctx), org, func(tx *postgres.Tx) error {
		if issues != nil {
			if err := issues.store(ctx, tx, org, id); err != nil {
				return err
			}
		} else {
			issues = newIssueLog()
		}
		if done != nil {
			if err := done(tx); err != nil {
				return err
			}
		}
		_, err := tx.RecordImportFinish(ctx, db.RecordImportFinishParams{
			OrganizationID: org, ID: id, Status: ImportFailed, Failure: &msg,
			RowsInvalid: int32(issues.errorRows), ErrorsTotal: int32(issues.errorsTotal),
			WarningsTotal: int32(issues.warningsTotal), IssuesTruncated: issues.truncated,
		})
		return err
	})
}

// failureMessage is what a client may read of a failure: the message of a
// coded error or a provider's, else a generic line (the details are
// logged).
func failureMessage(err error) string {
	var fe *fault.Error
	var pe *ProviderError
	switch {
	case errors.As(err, &pe):
		return truncateText(pe.Error(), 1000)
	case errors.As(err, &fe) && fe.Code != fault.Internal:
		return truncateText(fe.Message, 1000)
	}
	return "the import failed on our side; it was not loaded. Try again, or contact support"
}

// permanent reports whether retrying err cannot help: the file or the
// settings are at fault.
func permanent(err error) bool {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return !pe.Retryable()
	}
	return fault.Is(err, fault.Invalid)
}

// RunImport loads a pending (or interrupted) import: the import job's
// work. An import that has finished, or no longer exists, is left alone.
// A file that cannot be loaded (its header, a malformed record that stops
// the reader, a DMS refusing our credentials) fails the import and returns
// nil; other errors (the database, the blob store, a DMS that is down)
// are returned for the job to retry, and lastAttempt fails the import
// instead.
func (s *Service) RunImport(ctx context.Context, org, id uuid.UUID, lastAttempt bool) error {
	var imp db.ServiceRecordImport
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		imp, err = tx.RecordImportStart(ctx, org, id)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	issues := newIssueLog()
	var syncDone func(ok bool, why error) func(tx *postgres.Tx) error
	err = s.runImport(ctx, org, imp, issues, &syncDone)
	if err == nil {
		return nil
	}
	if !permanent(err) && !lastAttempt {
		return err
	}
	s.log().WarnContext(ctx, "import failed", "import_id", id, "err", err)
	var done func(tx *postgres.Tx) error
	if syncDone != nil {
		done = syncDone(false, err)
	}
	if ferr := s.failImport(ctx, org, id, err, issues, done); ferr != nil {
		return errors.Join(err, ferr)
	}
	s.discardSpool(ctx, imp)
	return nil
}

// runImport opens an import's source and loads it.
func (s *Service) runImport(ctx context.Context, org uuid.UUID, imp db.ServiceRecordImport, issues *issueLog,
	syncDone *func(ok bool, why error) func(tx *postgres.Tx) error,
) error {
	switch {
	case imp.StorageKey != nil:
		if s.Blob == nil {
			return errors.New("record: imports need a blob store")
		}
		rc, _, err := s.Blob.Get(ctx, *imp.StorageKey)
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := s.loadFile(ctx, org, imp, rc, issues); err != nil {
			return err
		}
		s.discardSpool(ctx, imp)
		return nil
	case imp.DmsIntegrationID != nil:
		return s.pullIntegration(ctx, org, imp, issues, syncDone)
	}
	return fault.Errorf(fault.Invalid, "the import has no file to load")
}

// loadFile loads a CSV file into imp.
func (s *Service) loadFile(ctx context.Context, org uuid.UUID, imp db.ServiceRecordImport, r io.Reader, issues *issueLog) error {
	loc, err := s.orgLocation(ctx, org)
	if err != nil {
		return err
	}
	rd, err := csvimport.NewReader(r, csvimport.Options{Location: loc})
	if err != nil {
		return err
	}
	return s.loadImport(ctx, org, imp, readerRows{rd}, string(rd.Delimiter()), issues, nil)
}

// pullIntegration loads an integration's pull into imp, and records the
// sync's outcome on the integration.
func (s *Service) pullIntegration(ctx context.Context, org uuid.UUID, imp db.ServiceRecordImport, issues *issueLog,
	syncDone *func(ok bool, why error) func(tx *postgres.Tx) error,
) error {
	var integ db.DmsIntegration
	var tz string
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		if integ, err = tx.DMSIntegrationGet(ctx, org, *imp.DmsIntegrationID); err != nil {
			return err
		}
		d, err := loadOrgDefaults(ctx, tx, org)
		tz = d.Timezone
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return fault.Errorf(fault.Invalid, "the integration was deleted")
	}
	if err != nil {
		return err
	}
	started := time.Now()
	if imp.StartedAt != nil {
		started = *imp.StartedAt
	}
	*syncDone = func(ok bool, why error) func(tx *postgres.Tx) error {
		return func(tx *postgres.Tx) error {
			p := db.DMSIntegrationSyncFinishParams{OrganizationID: org, ID: integ.ID, SyncedAt: started, Status: ImportCompleted}
			if !ok {
				p.Status = ImportFailed
				msg := failureMessage(why)
				p.Error = &msg
				p.SyncedAt = time.Now()
			} else {
				cursor := started.UTC().Format(time.RFC3339)
				p.Cursor = &cursor
			}
			return tx.DMSIntegrationSyncFinish(ctx, p)
		}
	}
	prov, err := s.provider(integ, tz)
	if err != nil {
		return err
	}
	var since time.Time
	if integ.LastSyncStatus != nil && *integ.LastSyncStatus == ImportCompleted && integ.LastSyncAt != nil {
		since = integ.LastSyncAt.Add(-syncOverlap)
	}
	rs, err := prov.Pull(ctx, since)
	if err != nil {
		return err
	}
	defer rs.Close()
	delimiter := ""
	if rd, ok := rs.(interface{ Delimiter() rune }); ok {
		delimiter = string(rd.Delimiter())
	}
	return s.loadImport(ctx, org, imp, rs, delimiter, issues, (*syncDone)(true, nil))
}

// discardSpool deletes an import's spooled upload once it has run.
func (s *Service) discardSpool(ctx context.Context, imp db.ServiceRecordImport) {
	if imp.StorageKey == nil || s.Blob == nil {
		return
	}
	if err := s.Blob.Delete(context.WithoutCancel(ctx), *imp.StorageKey); err != nil {
		s.log().ErrorContext(ctx, "delete spooled import", "key", *imp.StorageKey, "err", err)
	}
}

func (s *Service) orgLocation(ctx context.Context, org uuid.UUID) (*time.Location, error) {
	var tz string
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		d, err := loadOrgDefaults(ctx, tx, org)
		tz = d.Timezone
		return err
	})
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC, nil //nolint:nilerr // an unknown zone in the row reads dates as UTC rather than failing the import
	}
	return loc, nil
}

// ImportFile runs an import of r synchronously (the `autopulse import`
// command): the import is recorded like an upload's, with source cli, and
// loaded by the same code, without spooling or a job. The returned Import
// holds the first errorLimit errors; a file that cannot be loaded returns
// the failed import and the reason.
func (s *Service) ImportFile(ctx context.Context, org uuid.UUID, r io.Reader, fileName string, size int64, errorLimit int) (Import, error) {
	if _, err := s.orgLocation(ctx, org); err != nil { // an unknown organization is NotFound
		return Import{}, err
	}
	var imp db.ServiceRecordImport
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		imp, err = s.insertImport(ctx, tx, org, importInsert{
			Source: ImportSourceCLI, Status: ImportRunning, FileName: cleanFileName(fileName), SizeBytes: &size,
		})
		return err
	})
	if err != nil {
		return Import{}, err
	}
	issues := newIssueLog()
	loadErr := s.loadFile(ctx, org, imp, r, issues)
	if loadErr != nil {
		if err := s.failImport(ctx, org, imp.ID, loadErr, issues, nil); err != nil {
			return Import{}, errors.Join(loadErr, err)
		}
	}
	out, err := s.GetImport(context.WithoutCancel(ctx), org, imp.ID, errorLimit)
	if err != nil {
		return out, err
	}
	return out, loadErr
}

// ImportArgs loads one import (kind record.import). The worker works in
// OrganizationID's tenant.
type ImportArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	ImportID       uuid.UUID `json:"import_id"`
}

// Kind implements river.JobArgs.
func (ImportArgs) Kind() string { return "record.import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: importMaxAttempts}
}

const (
	// syncOverlap is how far before the last good sync a pull starts, to
	// cover clock skew between us and the DMS (repeats change nothing).
	syncOverlap       = 15 * time.Minute
	importMaxAttempts = 5
	// importTimeout bounds one attempt: a million rows load in about a
	// minute on a small machine.
	importTimeout = 30 * time.Minute
)

// RegisterWorkers adds the record workers (record.import) to workers. They
// run on the default queue.
func RegisterWorkers(workers *river.Workers, s *Service) {
	river.AddWorker(workers, &ImportWorker{s: s})
}

// ImportWorker runs ImportArgs.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	s *Service
}

// NewImportWorker returns the import worker of s (RegisterWorkers adds
// it; tests can call Work directly).
func NewImportWorker(s *Service) *ImportWorker { return &ImportWorker{s: s} }

// Timeout implements river.Worker: an import may take minutes.
func (w *ImportWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return importTimeout }

// Work loads the import.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	err := w.s.RunImport(ctx, job.Args.OrganizationID, job.Args.ImportID, job.Attempt >= job.MaxAttempts)
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Class == ClassRateLimited && pe.RetryAfter > 0 {
		return river.JobSnooze(pe.RetryAfter)
	}
	return err
}
