package httpapi

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/record"
)

type recordListInput struct {
	ListParams
	ServiceFrom string `query:"service_from" format:"date" doc:"Records serviced on or after this day (YYYY-MM-DD)"`
	ServiceTo   string `query:"service_to" format:"date" doc:"Records serviced on or before this day (YYYY-MM-DD)"`
	ServiceType string `query:"service_type" maxLength:"200" doc:"Exact service type, case-insensitive"`
	Advisor     string `query:"advisor" maxLength:"200" doc:"Exact advisor name, case-insensitive"`
	Status      string `query:"status" enum:"open,closed,void"`
	Source      string `query:"source" enum:"csv,api,dms"`
	CustomerID  string `query:"customer_id" format:"uuid"`
	VehicleID   string `query:"vehicle_id" format:"uuid"`
	VIN         string `query:"vin" maxLength:"17"`
	Q           string `query:"q" maxLength:"100" doc:"Prefix search: RO number, customer last name or \"first last\", or (4+ digits) the phone number's last digits"`
}

func (s *Server) recordList(ctx context.Context, in *recordListInput) (*body[list[record.ServiceRecord]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	f := record.Filter{
		ServiceType: in.ServiceType, Advisor: in.Advisor, Status: in.Status, Source: in.Source, VIN: in.VIN, Q: in.Q,
		CustomerID: optionalUUID(in.CustomerID), VehicleID: optionalUUID(in.VehicleID),
	}
	if f.ServiceFrom, err = optionalDate(in.ServiceFrom, "query.service_from"); err != nil {
		return nil, err
	}
	if f.ServiceTo, err = optionalDate(in.ServiceTo, "query.service_to"); err != nil {
		return nil, err
	}
	if f.ServiceFrom != nil && f.ServiceTo != nil && f.ServiceTo.Before(*f.ServiceFrom) {
		return nil, fault.InvalidField("query.service_to", "must not be before service_from")
	}
	items, next, err := s.deps.Records.List(ctx, org(ctx), f, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

// optionalUUID parses an id already validated as a uuid (or empty).
func optionalUUID(s string) *uuid.UUID {
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}

func optionalDate(s, location string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, fault.InvalidField(location, "must be a date, YYYY-MM-DD")
	}
	return &d, nil
}

type recordCreateInput struct {
	Body record.ServiceRecordInput
}

func (s *Server) recordCreate(ctx context.Context, in *recordCreateInput) (*body[record.ServiceRecord], error) {
	r, err := s.deps.Records.Create(ctx, org(ctx), in.Body)
	return bodyOf(r), err
}

func (s *Server) recordGet(ctx context.Context, in *IDPath) (*body[record.ServiceRecord], error) {
	r, err := s.deps.Records.Get(ctx, org(ctx), in.id())
	return bodyOf(r), err
}

// recordPatch is the body of PATCH /service-records/{id}, a JSON merge
// patch (RFC 7396). The customer's and vehicle's own details are not
// changed here: the next load of the record from its source does that.
type recordPatch struct {
	RONumber    nullable[string]         `json:"ro_number,omitempty" minLength:"1" maxLength:"64"`
	ServiceDate nullable[string]         `json:"service_date,omitempty" format:"date"`
	ClosedAt    nullable[time.Time]      `json:"closed_at,omitempty" nullable:"true" doc:"null clears"`
	Status      nullable[string]         `json:"status,omitempty" enum:"open,closed,void"`
	ServiceType nullable[string]         `json:"service_type,omitempty" nullable:"true" maxLength:"200" doc:"null clears"`
	OpCodes     nullable[[]string]       `json:"op_codes,omitempty" maxItems:"100"`
	AdvisorName nullable[string]         `json:"advisor_name,omitempty" nullable:"true" maxLength:"200" doc:"null clears"`
	Mileage     nullable[int32]          `json:"mileage,omitempty" nullable:"true" minimum:"0" maximum:"2000000" doc:"null clears"`
	TotalAmount nullable[int64]          `json:"total_amount,omitempty" nullable:"true" doc:"Minor units; null clears"`
	PayType     nullable[string]         `json:"pay_type,omitempty" nullable:"true" maxLength:"50" doc:"null clears"`
	CustomerID  nullable[uuid.UUID]      `json:"customer_id,omitempty" nullable:"true" doc:"Another customer of the organization; null detaches"`
	VehicleID   nullable[uuid.UUID]      `json:"vehicle_id,omitempty" nullable:"true" doc:"Another vehicle of the organization; null detaches"`
	Raw         nullable[map[string]any] `json:"raw,omitempty" nullable:"true" doc:"Replaces raw; null empties it"`
}

type recordUpdateInput struct {
	IDPath
	Body recordPatch
}

func (s *Server) recordUpdate(ctx context.Context, in *recordUpdateInput) (*body[record.ServiceRecord], error) {
	b := in.Body
	p := record.Patch{
		ServiceType: clearable(b.ServiceType), AdvisorName: clearable(b.AdvisorName), PayType: clearable(b.PayType),
		ClosedAt: recordOptional(b.ClosedAt), Mileage: recordOptional(b.Mileage), TotalAmount: recordOptional(b.TotalAmount),
		CustomerID: recordOptional(b.CustomerID), VehicleID: recordOptional(b.VehicleID),
	}
	var err error
	if p.RONumber, err = present(b.RONumber, "body.ro_number"); err != nil {
		return nil, err
	}
	if p.ServiceDate, err = present(b.ServiceDate, "body.service_date"); err != nil {
		return nil, err
	}
	if p.Status, err = present(b.Status, "body.status"); err != nil {
		return nil, err
	}
	if p.OpCodes, err = present(b.OpCodes, "body.op_codes"); err != nil {
		return nil, err
	}
	if b.Raw.Sent {
		raw := b.Raw.Value
		if b.Raw.Null {
			raw = map[string]any{}
		}
		p.Raw = &raw
	}
	r, err := s.deps.Records.Update(ctx, org(ctx), in.id(), p)
	return bodyOf(r), err
}

// recordOptional maps a clearable field onto record.Optional.
func recordOptional[T any](n nullable[T]) record.Optional[T] {
	switch {
	case !n.Sent:
		return record.Optional[T]{}
	case n.Null:
		return record.Optional[T]{Set: true}
	}
	v := n.Value
	return record.Optional[T]{Set: true, Value: &v}
}

func (s *Server) recordDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Records.Delete(ctx, org(ctx), in.id())
}

// Push batches.

// batchMaxBodyBytes caps a push batch: a thousand records with room for
// their raw extras.
const batchMaxBodyBytes = 8 << 20

// batchBody is the body of POST /service-records/batch.
type batchBody struct {
	DMSIntegrationID *uuid.UUID    `json:"dms_integration_id,omitempty" doc:"The api_push integration the records come from: they are stored with source dms"`
	Records          []batchRecord `json:"records" minItems:"1" maxItems:"1000" doc:"Up to 1,000 service records (the body of POST /api/v1/service-records each)"`
}

// batchRecord is one record of a batch, kept raw: each is decoded and
// checked on its own, so that one bad record does not reject the batch.
type batchRecord struct {
	raw json.RawMessage
}

// UnmarshalJSON keeps the record's bytes.
func (b *batchRecord) UnmarshalJSON(data []byte) error {
	b.raw = append(json.RawMessage(nil), data...)
	return nil
}

// Schema documents a record as an object and registers the record's own
// schema (ServiceRecordInput) for reference. It is deliberately not the
// validation schema: per-record problems are per-record results.
func (batchRecord) Schema(r huma.Registry) *huma.Schema {
	ref := r.Schema(reflect.TypeFor[record.ServiceRecordInput](), true, "")
	name := "ServiceRecordInput"
	if ref != nil && ref.Ref != "" {
		name = ref.Ref
	}
	return &huma.Schema{Description: "A service record, as " + name + " describes it; checked on its own"}
}

type batchInput struct {
	Body batchBody
}

func (s *Server) recordBatch(ctx context.Context, in *batchInput) (*body[record.BatchResult], error) {
	raws := make([]json.RawMessage, len(in.Body.Records))
	for i, r := range in.Body.Records {
		raws[i] = r.raw
	}
	res, err := s.deps.Records.PushBatch(ctx, org(ctx), record.BatchRequest{IntegrationID: in.Body.DMSIntegrationID, Records: raws})
	return bodyOf(res), err
}

// withBodyLimit registers r with a body limit of its own (the limits
// middleware lets the route's body through: see largeBodyOf).
func withBodyLimit(n int64, r registrar) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		op.MaxBodyBytes = n
		r(s, api, op)
	}
}

// Customers and vehicles.

type customerListInput struct {
	ListParams
	Q             string `query:"q" maxLength:"100" doc:"Prefix search: last name or \"first last\", or (4+ digits) the phone number's last digits"`
	Phone         string `query:"phone" maxLength:"32" doc:"Exact phone number, any common format"`
	DMSCustomerID string `query:"dms_customer_id" maxLength:"64"`
}

func (s *Server) customerList(ctx context.Context, in *customerListInput) (*body[list[record.Customer]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Records.ListCustomers(ctx, org(ctx), record.CustomerFilter{Q: in.Q, Phone: in.Phone, DMSCustomerID: in.DMSCustomerID}, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

func (s *Server) customerGet(ctx context.Context, in *IDPath) (*body[record.CustomerDetail], error) {
	c, err := s.deps.Records.GetCustomer(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

type vehicleListInput struct {
	ListParams
	CustomerID string `query:"customer_id" format:"uuid"`
	VIN        string `query:"vin" maxLength:"17"`
	Make       string `query:"make" maxLength:"64" doc:"Exact make, case-insensitive"`
}

func (s *Server) vehicleList(ctx context.Context, in *vehicleListInput) (*body[list[record.Vehicle]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Records.ListVehicles(ctx, org(ctx), record.VehicleFilter{CustomerID: optionalUUID(in.CustomerID), VIN: in.VIN, Make: in.Make}, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

func (s *Server) vehicleGet(ctx context.Context, in *IDPath) (*body[record.VehicleDetail], error) {
	v, err := s.deps.Records.GetVehicle(ctx, org(ctx), in.id())
	return bodyOf(v), err
}
