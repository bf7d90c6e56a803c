package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/nyaruka/phonenumbers"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// ServiceRecord is one repair order as the API shows it.
type ServiceRecord struct {
	ID               uuid.UUID        `json:"id"`
	RONumber         string           `json:"ro_number" example:"RO-100234"`
	ServiceDate      string           `json:"service_date" format:"date" example:"2026-03-02"`
	ClosedAt         *time.Time       `json:"closed_at"`
	Status           string           `json:"status" enum:"open,closed,void"`
	ServiceType      *string          `json:"service_type" example:"Oil change"`
	OpCodes          []string         `json:"op_codes" example:"[\"LOF\",\"ROT\"]"`
	AdvisorName      *string          `json:"advisor_name"`
	Mileage          *int32           `json:"mileage"`
	TotalAmount      *int64           `json:"total_amount" doc:"Minor units (cents) of currency"`
	Currency         string           `json:"currency" example:"USD"`
	PayType          *string          `json:"pay_type" example:"customer"`
	Source           string           `json:"source" enum:"csv,api,dms" doc:"Where the last write came from"`
	DMSIntegrationID *uuid.UUID       `json:"dms_integration_id"`
	CustomerID       *uuid.UUID       `json:"customer_id"`
	VehicleID        *uuid.UUID       `json:"vehicle_id"`
	Customer         *CustomerSummary `json:"customer"`
	Vehicle          *VehicleSummary  `json:"vehicle"`
	Raw              map[string]any   `json:"raw" doc:"Values of the source's columns that map to no field"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

// CustomerSummary is the customer of a record.
type CustomerSummary struct {
	ID        uuid.UUID `json:"id"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	Phone     *string   `json:"phone"`
}

// VehicleSummary is the vehicle of a record.
type VehicleSummary struct {
	ID    uuid.UUID `json:"id"`
	VIN   *string   `json:"vin"`
	Year  *int32    `json:"year"`
	Make  *string   `json:"make"`
	Model *string   `json:"model"`
}

// ServiceRecordInput is a service record with its customer and vehicle,
// as the API and push batches take it. The customer's phone is required:
// it is what the product calls. Values are checked by the service (so a
// batch can report each record's problems); the tags document them.
type ServiceRecordInput struct {
	RONumber    string         `json:"ro_number" minLength:"1" maxLength:"64" example:"RO-100234"`
	ServiceDate string         `json:"service_date" format:"date" example:"2026-03-02" doc:"The day of service (YYYY-MM-DD)"`
	ClosedAt    *time.Time     `json:"closed_at,omitempty" doc:"When the RO closed (RFC 3339)"`
	Status      string         `json:"status,omitempty" enum:"open,closed,void" default:"closed"`
	ServiceType string         `json:"service_type,omitempty" maxLength:"200" example:"Oil change"`
	OpCodes     []string       `json:"op_codes,omitempty" maxItems:"100" example:"[\"LOF\",\"ROT\"]"`
	AdvisorName string         `json:"advisor_name,omitempty" maxLength:"200"`
	Mileage     *int32         `json:"mileage,omitempty" minimum:"0" maximum:"2000000"`
	TotalAmount *int64         `json:"total_amount,omitempty" doc:"Minor units (cents) in the organization's currency"`
	PayType     string         `json:"pay_type,omitempty" maxLength:"50" example:"customer"`
	Customer    CustomerInput  `json:"customer"`
	Vehicle     *VehicleInput  `json:"vehicle,omitempty"`
	Raw         map[string]any `json:"raw,omitempty" doc:"Anything else worth keeping (at most 50 keys, 16 KiB)"`
}

// CustomerInput is the customer of a ServiceRecordInput.
type CustomerInput struct {
	DMSCustomerID string `json:"dms_customer_id,omitempty" maxLength:"64" doc:"The DMS's customer number: the customer's identity when given"`
	FirstName     string `json:"first_name,omitempty" maxLength:"100"`
	LastName      string `json:"last_name,omitempty" maxLength:"100"`
	Phone         string `json:"phone" minLength:"1" maxLength:"32" example:"(202) 555-0143" doc:"Any common format; without a country code it is read as US. Stored as E.164"`
	Email         string `json:"email,omitempty" maxLength:"254"`
	Address       string `json:"address,omitempty" maxLength:"500"`
	City          string `json:"city,omitempty" maxLength:"100"`
	State         string `json:"state,omitempty" maxLength:"2" example:"VA" doc:"Two-letter state or province code"`
	PostalCode    string `json:"postal_code,omitempty" maxLength:"10" example:"22150"`
}

// VehicleInput is the vehicle of a ServiceRecordInput.
type VehicleInput struct {
	VIN   string `json:"vin,omitempty" maxLength:"17" example:"1HGCM82633A004352" doc:"17 characters; the vehicle's identity when given"`
	Year  *int32 `json:"year,omitempty" minimum:"1900" maximum:"2100"`
	Make  string `json:"make,omitempty" maxLength:"64"`
	Model string `json:"model,omitempty" maxLength:"64"`
	Trim  string `json:"trim,omitempty" maxLength:"64"`
}

// Limits of ServiceRecordInput values.
const (
	maxRONumber   = 64
	maxText       = 200
	maxName       = 100
	maxOpCodes    = 100
	maxOpCode     = 32
	maxRawKeys    = 50
	maxRawBytes   = 16 << 10
	maxMileage    = 2_000_000
	maxAmountAbs  = 1_000_000_000_000
	defaultRegion = "US"
)

var (
	vinRe   = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	stateRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// fieldErrors collects the problems of one input under a location prefix.
type fieldErrors struct {
	prefix string
	errs   []fault.FieldError
}

func (f *fieldErrors) add(field, format string, args ...any) {
	f.errs = append(f.errs, fault.FieldError{Location: f.prefix + "." + field, Message: fmt.Sprintf(format, args...)})
}

func (f *fieldErrors) text(field, value string, maxLen int) string {
	value = strings.TrimSpace(value)
	switch {
	case len(value) > maxLen:
		f.add(field, "must be at most %d characters", maxLen)
	case strings.ContainsRune(value, 0):
		f.add(field, "must not contain NUL characters")
	}
	return value
}

// stage checks in and shapes it for staging. location prefixes the field
// errors ("body", "body.records[3]").
func (in *ServiceRecordInput) stage(line int32, location string) (stagedRow, []fault.FieldError) {
	f := &fieldErrors{prefix: location}
	r := stagedRow{line: line}

	r.roNumber = f.text("ro_number", in.RONumber, maxRONumber)
	if r.roNumber == "" {
		f.add("ro_number", "is required")
	}
	if d, err := time.Parse(time.DateOnly, strings.TrimSpace(in.ServiceDate)); err != nil {
		f.add("service_date", "must be a date, YYYY-MM-DD")
	} else if d.Year() < 1900 || d.Year() > 2100 {
		f.add("service_date", "must be between 1900 and 2100")
	} else {
		r.serviceDate = d
	}
	if in.ClosedAt != nil {
		t := in.ClosedAt.UTC()
		r.closedAt = &t
	}
	switch in.Status {
	case "":
		r.status = "closed"
	case "open", "closed", "void":
		r.status = in.Status
	default:
		f.add("status", "must be open, closed or void")
	}
	r.serviceType = f.text("service_type", in.ServiceType, maxText)
	r.advisorName = f.text("advisor_name", in.AdvisorName, maxText)
	r.payType = strings.ToLower(f.text("pay_type", in.PayType, 50))
	r.opCodes = stageOpCodes(f, in.OpCodes)
	if in.Mileage != nil && (*in.Mileage < 0 || *in.Mileage > maxMileage) {
		f.add("mileage", "must be between 0 and %d", maxMileage)
	}
	r.mileage = in.Mileage
	if in.TotalAmount != nil && (*in.TotalAmount > maxAmountAbs || *in.TotalAmount < -maxAmountAbs) {
		f.add("total_amount", "is out of range")
	}
	r.totalAmount = in.TotalAmount

	c := in.Customer
	r.dmsCustomerID = f.text("customer.dms_customer_id", c.DMSCustomerID, 64)
	r.firstName = f.text("customer.first_name", c.FirstName, maxName)
	r.lastName = f.text("customer.last_name", c.LastName, maxName)
	if phone, err := normalizePhone(c.Phone); err != nil {
		f.add("customer.phone", "%s", err)
	} else {
		r.phone = phone
	}
	if r.email = f.text("customer.email", c.Email, 254); r.email != "" {
		if a, err := mail.ParseAddress(r.email); err != nil || a.Address != r.email {
			f.add("customer.email", "is not an email address")
		}
		r.email = strings.ToLower(r.email)
	}
	r.address = f.text("customer.address", c.Address, 500)
	r.city = f.text("customer.city", c.City, maxName)
	if r.state = strings.ToUpper(f.text("customer.state", c.State, 2)); r.state != "" && !stateRe.MatchString(r.state) {
		f.add("customer.state", "must be a two-letter code")
	}
	r.postalCode = strings.ToUpper(f.text("customer.postal_code", c.PostalCode, 10))

	if v := in.Vehicle; v != nil {
		if r.vin = strings.ToUpper(strings.TrimSpace(v.VIN)); r.vin != "" && !vinRe.MatchString(r.vin) {
			f.add("vehicle.vin", "must be 17 letters and digits (no I, O or Q)")
		}
		if v.Year != nil && (*v.Year < 1900 || *v.Year > 2100) {
			f.add("vehicle.year", "must be between 1900 and 2100")
		}
		r.year = v.Year
		r.make = f.text("vehicle.make", v.Make, 64)
		r.model = f.text("vehicle.model", v.Model, 64)
		r.trim = f.text("vehicle.trim", v.Trim, 64)
	}
	r.raw = stageRaw(f, in.Raw)
	return r, f.errs
}

func stageOpCodes(f *fieldErrors, codes []string) []string {
	if len(codes) > maxOpCodes {
		f.add("op_codes", "must have at most %d codes", maxOpCodes)
		return nil
	}
	out := make([]string, 0, len(codes))
	for i, c := range codes {
		c = strings.TrimSpace(c)
		switch {
		case c == "":
			f.add(fmt.Sprintf("op_codes[%d]", i), "must not be blank")
		case len(c) > maxOpCode:
			f.add(fmt.Sprintf("op_codes[%d]", i), "must be at most %d characters", maxOpCode)
		case strings.ContainsRune(c, 0):
			f.add(fmt.Sprintf("op_codes[%d]", i), "must not contain NUL characters")
		default:
			out = append(out, c)
		}
	}
	return out
}

func stageRaw(f *fieldErrors, raw map[string]any) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	if len(raw) > maxRawKeys {
		f.add("raw", "must have at most %d keys", maxRawKeys)
		return nil
	}
	b, err := json.Marshal(raw)
	switch {
	case err != nil || len(b) > maxRawBytes:
		f.add("raw", "must be a JSON object of at most %d bytes", maxRawBytes)
		return nil
	case bytes.Contains(b, []byte(`\u0000`)):
		f.add("raw", "must not contain NUL characters")
		return nil
	}
	return b
}

// normalizePhone returns the E.164 form of a valid number; a number
// without a country code is read as US.
func normalizePhone(raw string) (e164 string, err error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", fmt.Errorf("is required")
	case len(s) > 32:
		return "", fmt.Errorf("is too long to be a phone number")
	}
	defer func() {
		// The library is a port of a large Java codebase; an input it
		// mishandles must cost one record, not the request.
		if recover() != nil {
			e164, err = "", fmt.Errorf("%q cannot be parsed as a phone number", s)
		}
	}()
	num, perr := phonenumbers.Parse(s, defaultRegion)
	if perr != nil {
		return "", fmt.Errorf("%q is not a phone number", s)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

func invalid(errs []fault.FieldError) error {
	return &fault.Error{Code: fault.Invalid, Message: "validation failed", Fields: errs}
}

// Create adds a record, its customer and vehicle de-duplicated as the
// package describes. An RO number that exists is fault.Conflict: POST
// creates; PATCH changes a record, and push batches upsert.
func (s *Service) Create(ctx context.Context, org uuid.UUID, in ServiceRecordInput) (ServiceRecord, error) {
	row, errs := in.stage(0, "body")
	if len(errs) > 0 {
		return ServiceRecord{}, invalid(errs)
	}
	var rec ServiceRecord
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		defaults, err := loadOrgDefaults(ctx, tx, org)
		if err != nil {
			return err
		}
		if err := tx.RecordLockOrganization(ctx, org); err != nil {
			return err
		}
		exists, err := tx.ServiceRecordExistsByRO(ctx, org, row.roNumber)
		if err != nil {
			return err
		}
		if exists {
			return &fault.Error{Code: fault.Conflict,
				Message: "a service record with this RO number exists; change it with PATCH, or upsert with POST /api/v1/service-records/batch",
				Fields:  []fault.FieldError{{Location: "body.ro_number", Message: "already exists"}}}
		}
		if _, err := load(ctx, tx, org, rowsOf([]stagedRow{row}), loadOptions{Source: SourceAPI, Currency: defaults.Currency}); err != nil {
			return err
		}
		results, err := tx.RecordStagingResults(ctx, org)
		if err != nil {
			return err
		}
		if len(results) != 1 {
			return fmt.Errorf("record: create staged %d results", len(results))
		}
		got, err := tx.ServiceRecordGet(ctx, org, results[0].ID)
		if err != nil {
			return err
		}
		rec = recordFromRow(got.ServiceRecord, summaryOf(got))
		return audit.Record(ctx, tx, audit.Create, "service_record", rec.ID, nil, rec)
	})
	return rec, err
}

// rowsOf yields rows from a slice.
func rowsOf(rows []stagedRow) rowSource {
	i := 0
	return func() (*stagedRow, error) {
		if i == len(rows) {
			return nil, io.EOF
		}
		i++
		return &rows[i-1], nil
	}
}

// Get returns one record with its customer and vehicle summaries.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (ServiceRecord, error) {
	var rec ServiceRecord
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.ServiceRecordGet(ctx, org, id)
		if err != nil {
			return err
		}
		rec = recordFromRow(row.ServiceRecord, summaryOf(row))
		return nil
	})
	return rec, err
}

// Filter narrows List. Zero values do not filter.
type Filter struct {
	ServiceFrom *time.Time // service_date on or after (a date)
	ServiceTo   *time.Time // service_date on or before (a date)
	ServiceType string     // exact, case-insensitive
	Advisor     string     // exact, case-insensitive
	Status      string
	Source      string
	CustomerID  *uuid.UUID
	VehicleID   *uuid.UUID
	VIN         string
	// Q searches by prefix: the RO number, the customer's last name or
	// "first last", and (with four digits or more) the phone number's
	// trailing digits.
	Q string
}

// List returns records, latest service first.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter, pr page.Request) ([]ServiceRecord, string, error) {
	params := db.ServiceRecordListParams{
		OrganizationID: org,
		ServiceFrom:    dateParam(f.ServiceFrom), ServiceTo: dateParam(f.ServiceTo),
		ServiceType: nullable(strings.TrimSpace(f.ServiceType)), Advisor: nullable(strings.TrimSpace(f.Advisor)),
		Status: nullable(f.Status), Source: nullable(f.Source),
		CustomerID: f.CustomerID, VehicleID: f.VehicleID, Vin: nullable(strings.ToUpper(strings.TrimSpace(f.VIN))),
		After: pr.After, Lim: pr.Fetch(),
	}
	params.QPrefix, params.QPhoneReversed = searchPatterns(f.Q)
	var rows []db.ServiceRecordListRow
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.ServiceRecordList(ctx, params)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.ServiceRecordListRow) uuid.UUID { return r.ServiceRecord.ID }, func(r db.ServiceRecordListRow) ServiceRecord {
		return recordFromRow(r.ServiceRecord, summaryOf(db.ServiceRecordGetRow(r)))
	})
	return out, next, nil
}

func dateParam(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

// Optional is a patch field that can be cleared: unset leaves the value,
// set with a nil Value clears it.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// Patch changes a record; nil fields are unchanged, and an empty string
// clears an optional text field. Customer and vehicle are re-pointed by id
// (within the organization).
type Patch struct {
	RONumber    *string
	ServiceDate *string
	ClosedAt    Optional[time.Time]
	Status      *string
	ServiceType *string
	OpCodes     *[]string
	AdvisorName *string
	Mileage     Optional[int32]
	TotalAmount Optional[int64]
	PayType     *string
	CustomerID  Optional[uuid.UUID]
	VehicleID   Optional[uuid.UUID]
	Raw         *map[string]any
}

// Update applies p to a record. A new RO number that another record has
// is fault.Conflict.
func (s *Service) Update(ctx context.Context, org, id uuid.UUID, p Patch) (ServiceRecord, error) {
	var rec ServiceRecord
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		cur, err := tx.ServiceRecordGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		oldRow, err := tx.ServiceRecordGet(ctx, org, id)
		if err != nil {
			return err
		}
		old := recordFromRow(oldRow.ServiceRecord, summaryOf(oldRow))
		params, errs := applyPatch(cur, p)
		if len(errs) > 0 {
			return invalid(errs)
		}
		if p.CustomerID.Set && params.CustomerID != nil {
			if _, err := tx.CustomerGet(ctx, org, *params.CustomerID); err != nil {
				return notFoundField(err, "body.customer_id", "no such customer")
			}
		}
		if p.VehicleID.Set && params.VehicleID != nil {
			if _, err := tx.VehicleGet(ctx, org, *params.VehicleID); err != nil {
				return notFoundField(err, "body.vehicle_id", "no such vehicle")
			}
		}
		if _, err := tx.ServiceRecordUpdate(ctx, params); err != nil {
			return err
		}
		row, err := tx.ServiceRecordGet(ctx, org, id)
		if err != nil {
			return err
		}
		rec = recordFromRow(row.ServiceRecord, summaryOf(row))
		return audit.Record(ctx, tx, audit.Update, "service_record", id, old, rec)
	})
	return rec, err
}

// notFoundField turns a lookup's NotFound into a field error (the id is in
// the body, not the path).
func notFoundField(err error, location, message string) error {
	if err = postgres.Translate(err); fault.Is(err, fault.NotFound) {
		return fault.InvalidField(location, message)
	}
	return err
}

// applyPatch checks p against the current row and returns the update.
func applyPatch(cur db.ServiceRecord, p Patch) (db.ServiceRecordUpdateParams, []fault.FieldError) {
	f := &fieldErrors{prefix: "body"}
	u := db.ServiceRecordUpdateParams{
		OrganizationID: cur.OrganizationID, ID: cur.ID,
		CustomerID: cur.CustomerID, VehicleID: cur.VehicleID, RoNumber: cur.RoNumber, ServiceDate: cur.ServiceDate,
		ClosedAt: cur.ClosedAt, ServiceType: cur.ServiceType, OpCodes: cur.OpCodes, AdvisorName: cur.AdvisorName,
		Mileage: cur.Mileage, TotalAmount: cur.TotalAmount, Currency: cur.Currency, PayType: cur.PayType,
		Status: cur.Status, Raw: cur.Raw,
	}
	if p.RONumber != nil {
		if u.RoNumber = f.text("ro_number", *p.RONumber, maxRONumber); u.RoNumber == "" {
			f.add("ro_number", "must not be blank")
		}
	}
	if p.ServiceDate != nil {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(*p.ServiceDate))
		if err != nil || d.Year() < 1900 || d.Year() > 2100 {
			f.add("service_date", "must be a date, YYYY-MM-DD, between 1900 and 2100")
		}
		u.ServiceDate = pgtype.Date{Time: d, Valid: true}
	}
	if p.ClosedAt.Set {
		u.ClosedAt = p.ClosedAt.Value
	}
	if p.Status != nil {
		switch *p.Status {
		case "open", "closed", "void":
			u.Status = *p.Status
		default:
			f.add("status", "must be open, closed or void")
		}
	}
	if p.ServiceType != nil {
		u.ServiceType = nullable(f.text("service_type", *p.ServiceType, maxText))
	}
	if p.AdvisorName != nil {
		u.AdvisorName = nullable(f.text("advisor_name", *p.AdvisorName, maxText))
	}
	if p.PayType != nil {
		u.PayType = nullable(strings.ToLower(f.text("pay_type", *p.PayType, 50)))
	}
	if p.OpCodes != nil {
		u.OpCodes = stageOpCodes(f, *p.OpCodes)
	}
	if p.Mileage.Set {
		if v := p.Mileage.Value; v != nil && (*v < 0 || *v > maxMileage) {
			f.add("mileage", "must be between 0 and %d", maxMileage)
		}
		u.Mileage = p.Mileage.Value
	}
	if p.TotalAmount.Set {
		if v := p.TotalAmount.Value; v != nil && (*v > maxAmountAbs || *v < -maxAmountAbs) {
			f.add("total_amount", "is out of range")
		}
		u.TotalAmount = p.TotalAmount.Value
	}
	if p.CustomerID.Set {
		u.CustomerID = p.CustomerID.Value
	}
	if p.VehicleID.Set {
		u.VehicleID = p.VehicleID.Value
	}
	if p.Raw != nil {
		u.Raw = stageRaw(f, *p.Raw)
		if u.Raw == nil {
			u.Raw = emptyObject
		}
	}
	return u, f.errs
}

// Delete removes a record; its customer and vehicle stay.
func (s *Service) Delete(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.ServiceRecordGet(ctx, org, id)
		if err != nil {
			return err
		}
		if _, err := tx.ServiceRecordDelete(ctx, org, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "service_record", id, recordFromRow(row.ServiceRecord, summaryOf(row)), nil)
	})
}

// summaries are the joined customer and vehicle columns of a record row.
type summaries struct {
	customer *CustomerSummary
	vehicle  *VehicleSummary
}

func summaryOf(r db.ServiceRecordGetRow) summaries {
	var s summaries
	if r.ServiceRecord.CustomerID != nil && r.CustomerFirstName != nil {
		s.customer = &CustomerSummary{ID: *r.ServiceRecord.CustomerID, FirstName: *r.CustomerFirstName, LastName: deref(r.CustomerLastName), Phone: r.CustomerPhone}
	}
	if r.ServiceRecord.VehicleID != nil {
		s.vehicle = &VehicleSummary{ID: *r.ServiceRecord.VehicleID, VIN: r.VehicleVin, Year: r.VehicleYear, Make: r.VehicleMake, Model: r.VehicleModel}
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func recordFromRow(r db.ServiceRecord, s summaries) ServiceRecord {
	rec := ServiceRecord{
		ID: r.ID, RONumber: r.RoNumber, ServiceDate: r.ServiceDate.Time.Format(time.DateOnly), ClosedAt: r.ClosedAt,
		Status: r.Status, ServiceType: r.ServiceType, OpCodes: r.OpCodes, AdvisorName: r.AdvisorName, Mileage: r.Mileage,
		TotalAmount: r.TotalAmount, Currency: r.Currency, PayType: r.PayType, Source: r.Source,
		DMSIntegrationID: r.DmsIntegrationID, CustomerID: r.CustomerID, VehicleID: r.VehicleID,
		Customer: s.customer, Vehicle: s.vehicle, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if rec.OpCodes == nil {
		rec.OpCodes = []string{}
	}
	rec.Raw = map[string]any{}
	if len(r.Raw) > 0 {
		_ = json.Unmarshal(r.Raw, &rec.Raw) // jsonb is valid JSON; a non-object leaves the map empty
	}
	return rec
}
