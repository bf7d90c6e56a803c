package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// DNC entry sources.
const (
	DNCManual     = "manual"
	DNCCallOptOut = "call_opt_out"
	DNCSMSStop    = "sms_stop"
	DNCImported   = "import"
)

// DefaultRegion is the country a phone number without a country code is
// read in.
const DefaultRegion = "US"

// DNCEntry is a number the organization must never call.
type DNCEntry struct {
	ID        uuid.UUID  `json:"id"`
	Phone     string     `json:"phone" example:"+13125550100" doc:"E.164"`
	Reason    string     `json:"reason"`
	Source    string     `json:"source" enum:"manual,call_opt_out,sms_stop,import"`
	CallID    *uuid.UUID `json:"call_id" doc:"The call in which the customer opted out"`
	CreatedBy *uuid.UUID `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// DNCInput adds a number to the do-not-call list.
type DNCInput struct {
	Phone  string `json:"phone" minLength:"1" maxLength:"32" example:"(312) 555-0100" doc:"Any common format; a number without country code is read as US. Stored as E.164"`
	Reason string `json:"reason,omitempty" maxLength:"500" example:"Asked not to be called"`
}

// DNCFilter narrows ListDNC.
type DNCFilter struct {
	// Phone matches numbers containing these digits (other characters are
	// ignored).
	Phone  string
	Source string
}

// NormalizePhone returns the E.164 form of a valid phone number, reading
// a number without country code in DefaultRegion.
func NormalizePhone(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("is empty")
	}
	if len(s) > 32 {
		return "", errors.New("is too long to be a phone number")
	}
	num, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number", s)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// AddDNC puts a number on the do-not-call list and, in the same
// transaction, cancels the organization's targets waiting to call it. A
// number already listed is not an error: its entry comes back unchanged
// with created false.
func (s *Service) AddDNC(ctx context.Context, org uuid.UUID, in DNCInput) (entry DNCEntry, created bool, err error) {
	phone, perr := NormalizePhone(in.Phone)
	if perr != nil {
		return DNCEntry{}, false, fault.InvalidField("body.phone", perr.Error())
	}
	reason := strings.TrimSpace(in.Reason)
	if len(reason) > 500 {
		return DNCEntry{}, false, fault.InvalidField("body.reason", "must be at most 500 characters")
	}
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		rows, err := tx.DNCEntryInsert(ctx, db.DNCEntryInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Phone: phone, Reason: reason, Source: DNCManual, CreatedBy: actor(ctx),
		})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			existing, err := tx.DNCEntryGetByPhone(ctx, org, phone)
			entry = dncFromRow(existing)
			return err
		}
		entry, created = dncFromRow(rows[0]), true
		cancelled, err := tx.TargetCancelOpenByPhones(ctx, org, []string{phone})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Create, "dnc_entry", entry.ID, nil, dncAudit{DNCEntry: entry, TargetsCancelled: cancelled})
	})
	return entry, created, err
}

// dncAudit is an audit row's view of a new entry.
type dncAudit struct {
	DNCEntry
	TargetsCancelled int64 `json:"targets_cancelled"`
}

// GetDNC returns one entry.
func (s *Service) GetDNC(ctx context.Context, org, id uuid.UUID) (DNCEntry, error) {
	var e DNCEntry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DNCEntryGet(ctx, org, id)
		e = dncFromRow(row)
		return err
	})
	return e, err
}

// ListDNC returns entries, newest first.
func (s *Service) ListDNC(ctx context.Context, org uuid.UUID, f DNCFilter, pr page.Request) ([]DNCEntry, string, error) {
	var digits *string
	if f.Phone != "" {
		d := onlyDigits(f.Phone)
		if d == "" {
			return nil, "", fault.InvalidField("query.phone", "must contain digits")
		}
		digits = &d
	}
	var rows []db.DncEntry
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.DNCEntryList(ctx, db.DNCEntryListParams{
			OrganizationID: org, Phone: digits, Source: optional(f.Source), After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.DncEntry) uuid.UUID { return r.ID }, dncFromRow)
	return out, next, nil
}

// DeleteDNC takes a number off the list. Targets cancelled because of it
// stay cancelled; a later campaign may call the number again.
func (s *Service) DeleteDNC(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DNCEntryDelete(ctx, org, id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "dnc_entry", id, dncFromRow(row), nil)
	})
}

// DNCImport reports a bulk add.
type DNCImport struct {
	ID               uuid.UUID     `json:"id" doc:"The import's id in the audit log (entity dnc_import)"`
	Rows             int           `json:"rows" doc:"Data rows read"`
	Added            int           `json:"added" doc:"Numbers put on the list"`
	AlreadyListed    int           `json:"already_listed" doc:"Numbers that were on the list already"`
	Duplicates       int           `json:"duplicates" doc:"Rows repeating a number of an earlier row"`
	Invalid          int           `json:"invalid" doc:"Rows not loaded (see errors)"`
	TargetsCancelled int64         `json:"targets_cancelled" doc:"Open campaign targets cancelled because their number is now listed"`
	Errors           []DNCRowError `json:"errors" doc:"The bad rows, the first 100"`
}

// ImportDNC adds the numbers of a CSV file (see ParseDNCFile) to the list
// in one transaction, cancelling the open targets of every number in the
// file. Importing the same file again adds nothing. A file that cannot be
// read as a list of numbers (empty, no phone column, too many rows) is
// fault.Invalid; bad rows are reported and skipped.
func (s *Service) ImportDNC(ctx context.Context, org uuid.UUID, r io.Reader) (DNCImport, error) {
	f, err := ParseDNCFile(r)
	if err != nil {
		return DNCImport{}, err
	}
	rep := DNCImport{ID: uuid.Must(uuid.NewV7()), Rows: f.Rows, Invalid: f.Invalid, Errors: f.Errors}
	seen := make(map[string]bool, len(f.Entries))
	phones := make([]string, 0, len(f.Entries))
	reasons := make([]string, 0, len(f.Entries))
	for _, e := range f.Entries {
		if seen[e.Phone] {
			rep.Duplicates++
			continue
		}
		seen[e.Phone] = true
		phones = append(phones, e.Phone)
		reasons = append(reasons, e.Reason)
	}
	const chunk = 5000
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var added []string
		for lo := 0; lo < len(phones); lo += chunk {
			hi := min(lo+chunk, len(phones))
			got, err := tx.DNCEntryInsertMany(ctx, db.DNCEntryInsertManyParams{
				OrganizationID: org, Phones: phones[lo:hi], Reasons: reasons[lo:hi], CreatedBy: actor(ctx),
			})
			if err != nil {
				return err
			}
			added = append(added, got...)
			n, err := tx.TargetCancelOpenByPhones(ctx, org, phones[lo:hi])
			if err != nil {
				return err
			}
			rep.TargetsCancelled += n
		}
		rep.Added, rep.AlreadyListed = len(added), len(phones)-len(added)
		return audit.Record(ctx, tx, audit.Create, "dnc_import", rep.ID, nil, importAudit{DNCImport: rep, AddedPhones: added})
	})
	if err != nil {
		return DNCImport{}, err
	}
	return rep, nil
}

// importAudit is an import's audit row: its report and the numbers it
// added.
type importAudit struct {
	DNCImport
	AddedPhones []string `json:"added_phones"`
}

func dncFromRow(r db.DncEntry) DNCEntry {
	return DNCEntry{
		ID: r.ID, Phone: r.Phone, Reason: r.Reason, Source: r.Source, CallID: r.CallID, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
	}
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
