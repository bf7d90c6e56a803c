package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// BatchRequest is a push of service records from a DMS or its middleware.
type BatchRequest struct {
	// IntegrationID, when set, names the organization's api_push
	// integration the records come from: they are stored with source dms
	// and the integration's last sync time moves.
	IntegrationID *uuid.UUID
	// Records are ServiceRecordInputs, each decoded and checked on its own, so one bad
	// record does not sink the others.
	Records []json.RawMessage
}

// Batch item statuses.
const (
	BatchCreated   = "created"
	BatchUpdated   = "updated"
	BatchUnchanged = "unchanged"
	BatchDuplicate = "duplicate"
	BatchError     = "error"
)

// BatchResult says what became of each record of a batch, in order.
type BatchResult struct {
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Duplicate int         `json:"duplicate"`
	Invalid   int         `json:"invalid"`
	Results   []BatchItem `json:"results"`
}

// BatchItem is the outcome of one record of a batch.
type BatchItem struct {
	Index    int    `json:"index" doc:"Position in records"`
	RONumber string `json:"ro_number,omitempty"`
	// Status: created, updated, unchanged (identical to the stored record),
	// duplicate (the RO number comes again later in the batch, which was
	// stored instead), or error (see errors; nothing of it was stored).
	Status string       `json:"status" enum:"created,updated,unchanged,duplicate,error"`
	ID     *uuid.UUID   `json:"id,omitempty" doc:"The service record"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one problem with one value of a record.
type FieldError struct {
	Location string `json:"location" example:"body.records[3].customer.phone"`
	Message  string `json:"message"`
}

// PushBatch upserts up to MaxBatchRecords records on their RO numbers:
// valid records are stored together in one transaction, invalid ones are
// reported and skipped. The batch is idempotent: pushing it again changes
// nothing (every record comes back unchanged). Zero records, or more than
// MaxBatchRecords, are fault.Invalid, as is an IntegrationID that is not
// an active api_push integration of the organization.
func (s *Service) PushBatch(ctx context.Context, org uuid.UUID, req BatchRequest) (BatchResult, error) {
	n := len(req.Records)
	switch {
	case n == 0:
		return BatchResult{}, fault.InvalidField("body.records", "must hold at least one record")
	case n > MaxBatchRecords:
		return BatchResult{}, fault.InvalidField("body.records", fmt.Sprintf("holds %d records; send at most %d per batch", n, MaxBatchRecords))
	}
	res := BatchResult{Results: make([]BatchItem, n)}
	staged := make([]stagedRow, 0, n)
	for i, raw := range req.Records {
		loc := fmt.Sprintf("body.records[%d]", i)
		item := &res.Results[i]
		item.Index = i
		in, err := decodeInput(raw)
		if err != nil {
			item.Status, item.Errors = BatchError, []FieldError{{Location: loc, Message: err.Error()}}
			continue
		}
		item.RONumber = in.RONumber
		row, errs := in.stage(int32(i), loc)
		if len(errs) > 0 {
			item.Status = BatchError
			for _, e := range errs {
				item.Errors = append(item.Errors, FieldError(e))
			}
			continue
		}
		staged = append(staged, row)
	}
	if len(staged) > 0 {
		if err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error { return s.pushRows(ctx, tx, org, req.IntegrationID, staged, &res) }); err != nil {
			return BatchResult{}, err
		}
	}
	for _, it := range res.Results {
		switch it.Status {
		case BatchCreated:
			res.Created++
		case BatchUpdated:
			res.Updated++
		case BatchUnchanged:
			res.Unchanged++
		case BatchDuplicate:
			res.Duplicate++
		case BatchError:
			res.Invalid++
		}
	}
	return res, nil
}

// pushRows loads a batch's valid rows in tx and fills in their results.
func (s *Service) pushRows(ctx context.Context, tx *postgres.Tx, org uuid.UUID, integrationID *uuid.UUID, staged []stagedRow, res *BatchResult) error {
	opts := loadOptions{Source: SourceAPI}
	if integrationID != nil {
		integ, err := tx.DMSIntegrationGet(ctx, org, *integrationID)
		err = postgres.Translate(err)
		switch {
		case fault.Is(err, fault.NotFound):
			return fault.InvalidField("body.dms_integration_id", "no such integration")
		case err != nil:
			return err
		case integ.Type != DMSAPIPush || !integ.IsActive:
			return fault.InvalidField("body.dms_integration_id", "must be an active api_push integration")
		}
		opts.Source, opts.IntegrationID = SourceDMS, integrationID
	}
	defaults, err := loadOrgDefaults(ctx, tx, org)
	if err != nil {
		return err
	}
	opts.Currency = defaults.Currency
	loaded, err := load(ctx, tx, org, rowsOf(staged), opts)
	if err != nil {
		return err
	}
	results, err := tx.RecordStagingResults(ctx, org)
	if err != nil {
		return err
	}
	var created, updated []uuid.UUID
	for _, r := range results {
		item := &res.Results[r.Line]
		id := r.ID
		item.ID = &id
		switch {
		case r.Created:
			item.Status = BatchCreated
			created = append(created, id)
		case r.Changed:
			item.Status = BatchUpdated
			updated = append(updated, id)
		default:
			item.Status = BatchUnchanged
		}
	}
	for _, d := range loaded.Duplicates {
		item := &res.Results[d.Line]
		item.Status, item.ID = BatchDuplicate, res.Results[d.KeptLine].ID
		item.Errors = []FieldError{{Location: fmt.Sprintf("body.records[%d].ro_number", d.Line),
			Message: fmt.Sprintf("comes again in records[%d], which was stored instead", d.KeptLine)}}
	}
	if integrationID != nil {
		if err := tx.DMSIntegrationSyncFinish(ctx, db.DMSIntegrationSyncFinishParams{
			OrganizationID: org, ID: *integrationID, SyncedAt: time.Now(), Status: ImportCompleted,
		}); err != nil {
			return err
		}
	}
	if len(created)+len(updated) == 0 {
		return nil
	}
	// One audit row per batch: a thousand rows per push would drown the log.
	summary := map[string]any{"created": created, "updated": updated, "dms_integration_id": integrationID}
	return audit.Record(ctx, tx, audit.Create, "service_record_batch", uuid.Must(uuid.NewV7()), nil, summary)
}

// decodeInput decodes one record strictly: unknown fields are errors.
func decodeInput(raw json.RawMessage) (ServiceRecordInput, error) {
	var in ServiceRecordInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return ServiceRecordInput{}, fmt.Errorf("not a service record: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ServiceRecordInput{}, errors.New("not a service record: trailing data")
	}
	return in, nil
}

// jsonProblem words a decoding error for a client.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type.String(), te.Value)
		}
		return fmt.Sprintf("expected an object, not %s", te.Value)
	}
	return err.Error()
}
