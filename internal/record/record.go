// Package record manages service records (repair orders) and the customers
// and vehicles de-duplicated out of them: the API, CSV imports, the DMS
// push API and DMS integrations.
//
// Every way in (a single create, a push batch of up to 1,000 records, a
// CSV import of millions of rows, a DMS pull) goes through one load: the
// rows are checked in Go, copied into a per-transaction staging table, and
// merged into customers, vehicles and service_records by a few set-based
// statements (queries/record_staging.sql), in one transaction. So the rules
// below hold for all of them, and a load that fails leaves nothing behind:
//
//   - A record is identified by its RO number within the organization.
//     Loading it again updates it when anything differs, and writes nothing
//     when nothing does (imports and batches are idempotent).
//   - A customer is identified by its DMS customer id when the row has one,
//     else by phone number (E.164). A customer first known by phone alone
//     takes the DMS id of the first row that brings one for that phone.
//     Matched by DMS id, a customer takes the latest row's non-empty
//     contact details; matched by phone alone, it is left as it is (a
//     phone can be a household's).
//   - A vehicle is identified by its VIN; a row without a VIN but with a
//     make is its customer's vehicle of that year, make and model. The
//     latest row's customer owns the vehicle.
//   - Within one load, an RO number given twice is loaded from its last
//     occurrence; the earlier ones are reported as duplicates.
//   - Record writes of one organization take turns (an advisory lock held
//     for the merge, not for reading and copying a file), because customers
//     matched by phone have no unique constraint to race on.
package record

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
)

// JobInserter enqueues River jobs inside the caller's transaction;
// *river.Client[pgx.Tx] is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Defaults of the Service's tunables.
const (
	// DefaultMaxUploadBytes caps one CSV upload.
	DefaultMaxUploadBytes int64 = 200 << 20
	// MaxBatchRecords is the most records one push batch may carry.
	MaxBatchRecords = 1000
	// Row issues kept per import (the totals count them all).
	maxStoredErrors   = 10_000
	maxStoredWarnings = 1_000
)

// Service manages service records, customers, vehicles, imports and DMS
// integrations. Its methods return fault.NotFound for an id outside the
// organization (or absent), fault.Invalid for bad input (with the fields
// at fault), and fault.Conflict for a uniqueness rule (an RO number that
// exists, a DMS integration name in use).
//
// Wiring: DB is required. Imports need Blob (uploads are spooled there
// until a worker loads them) and Jobs; register the worker with
// RegisterWorkers. DMS integrations need Sealer. HTTPClient defaults to a
// client that refuses private and loopback addresses.
type Service struct {
	DB *postgres.DB
	// Blob keeps uploaded files under imports/<organization id>/ until
	// their import has run.
	Blob blob.Store
	// Jobs enqueues import jobs in the transaction that creates the import.
	Jobs JobInserter
	// Sealer encrypts DMS integration secrets at rest.
	Sealer *Sealer
	// HTTPClient reaches DMS endpoints (the CSV provider's URL).
	HTTPClient *http.Client
	// MaxUploadBytes caps one CSV upload; zero means DefaultMaxUploadBytes.
	MaxUploadBytes int64
	Log            *slog.Logger
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) maxUploadBytes() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}

// actors returns the request's user and API key, for created_by columns.
func actors(ctx context.Context) (user, apiKey *uuid.UUID) {
	p := access.PrincipalFrom(ctx)
	if p == nil {
		return nil, nil
	}
	if p.UserID != uuid.Nil {
		id := p.UserID
		user = &id
	}
	if p.APIKeyID != uuid.Nil {
		id := p.APIKeyID
		apiKey = &id
	}
	return user, apiKey
}

// orgDefaults are what a load needs of its organization.
type orgDefaults struct {
	Timezone string
	Currency string
}

func loadOrgDefaults(ctx context.Context, tx *postgres.Tx, org uuid.UUID) (orgDefaults, error) {
	row, err := tx.RecordOrganizationDefaults(ctx, org)
	if err != nil {
		return orgDefaults{}, err
	}
	return orgDefaults{Timezone: row.Timezone, Currency: row.Currency}, nil
}

// OrganizationBySlug resolves the tenant named by slug, for the import
// command (a named, privileged lookup: the tenant is not known yet). An
// unknown slug is fault.NotFound.
func (s *Service) OrganizationBySlug(ctx context.Context, slug string) (uuid.UUID, error) {
	var id *uuid.UUID
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		id, err = tx.RecordOrganizationBySlug(ctx, slug)
		return err
	})
	if err != nil {
		return uuid.Nil, err
	}
	if id == nil {
		return uuid.Nil, fault.NotFoundf("no organization with slug %q", slug)
	}
	return *id, nil
}
