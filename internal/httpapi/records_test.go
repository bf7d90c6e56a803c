package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/record"
)

// runImport runs an import's job work directly, as the worker would.
func (e *env) runImport(t *testing.T, tn *tenant, id uuid.UUID) {
	t.Helper()
	require.NoError(t, e.records.RunImport(context.Background(), tn.OrgID, id, false))
}

// recordBody is a valid POST /service-records body, changed by over
// (nested keys as "customer.phone"; a nil value deletes).
func recordBody(ro string, over map[string]any) map[string]any {
	b := map[string]any{
		"ro_number": ro, "service_date": "2026-03-02", "service_type": "Oil change", "advisor_name": "Dana Reyes",
		"mileage": 42180, "total_amount": 18995, "op_codes": []string{"LOF", "ROT"},
		"customer": map[string]any{"first_name": "Jordan", "last_name": "Lee", "phone": "(202) 555-0143", "email": "jordan@example.com"},
		"vehicle":  map[string]any{"vin": "1HGCM82633A004352", "year": 2003, "make": "Honda", "model": "Accord"},
	}
	for k, v := range over {
		target := b
		if parent, child, ok := strings.Cut(k, "."); ok {
			target = b[parent].(map[string]any)
			k = child
		}
		if v == nil {
			delete(target, k)
		} else {
			target[k] = v
		}
	}
	return b
}

func (e *env) createRecord(t *testing.T, tok reqOpt, body map[string]any) record.ServiceRecord {
	t.Helper()
	res := e.do(t, http.MethodPost, "/api/v1/service-records", tok, withJSON(body))
	requireStatus(t, http.StatusCreated, res)
	var r record.ServiceRecord
	res.decode(t, &r)
	return r
}

// countRows counts a tenant table's rows of org, as the owner.
func (e *env) countRows(t *testing.T, table string, org uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		"SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE organization_id = $1", org).Scan(&n))
	return n
}

func TestRecordsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	created := e.createRecord(t, tok, recordBody(" RO-1 ", map[string]any{"status": "open", "raw": map[string]any{"Tech": "T12"}}))
	require.Equal(t, "RO-1", created.RONumber)
	require.Equal(t, "2026-03-02", created.ServiceDate)
	require.Equal(t, "open", created.Status)
	require.Equal(t, record.SourceAPI, created.Source)
	require.Equal(t, "USD", created.Currency)
	require.Equal(t, []string{"LOF", "ROT"}, created.OpCodes)
	require.Equal(t, "T12", created.Raw["Tech"])
	require.NotNil(t, created.Customer)
	require.Equal(t, "+12025550143", *created.Customer.Phone, "phones are stored as E.164")
	require.NotNil(t, created.Vehicle)
	require.Equal(t, "1HGCM82633A004352", *created.Vehicle.VIN)

	// POST creates: an RO number that exists is a conflict, and nothing changes.
	res := e.do(t, http.MethodPost, "/api/v1/service-records", tok, withJSON(recordBody("RO-1", map[string]any{"service_type": "Brakes"})))
	requireStatus(t, http.StatusConflict, res)
	require.Equal(t, "body.ro_number", res.problem(t).Errors[0].Location)

	res = e.do(t, http.MethodPatch, "/api/v1/service-records/"+created.ID.String(), tok, withJSON(map[string]any{
		"status": "closed", "closed_at": "2026-03-02T21:45:00Z", "advisor_name": nil, "mileage": 42200, "op_codes": []string{"BRK"},
	}))
	requireStatus(t, http.StatusOK, res)
	var patched record.ServiceRecord
	res.decode(t, &patched)
	require.Equal(t, "closed", patched.Status)
	require.Nil(t, patched.AdvisorName)
	require.Equal(t, int32(42200), *patched.Mileage)
	require.Equal(t, []string{"BRK"}, patched.OpCodes)
	require.Equal(t, "Oil change", *patched.ServiceType, "fields not sent are unchanged")
	require.Equal(t, time.Date(2026, 3, 2, 21, 45, 0, 0, time.UTC), patched.ClosedAt.UTC())

	res = e.do(t, http.MethodGet, "/api/v1/service-records/"+created.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var got record.ServiceRecord
	res.decode(t, &got)
	require.Equal(t, patched.Status, got.Status)

	res = e.do(t, http.MethodDelete, "/api/v1/service-records/"+created.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, "/api/v1/service-records/"+created.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)
	require.Equal(t, 1, e.countRows(t, "customers", tn.OrgID), "the customer stays")

	// Create, update and delete each left an audit row.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=service_record&entity_id="+created.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 3)
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Create}, []string{logs.Items[0].Action, logs.Items[1].Action, logs.Items[2].Action})
	require.Contains(t, string(logs.Items[1].OldValue), `"open"`)
	require.Contains(t, string(logs.Items[1].NewValue), `"closed"`)
}

// Customers are one per DMS id, else per phone; vehicles one per VIN. A
// customer first known by phone takes the DMS id that arrives later.
func TestRecordsDedupeCustomersAndVehicles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	a := e.createRecord(t, tok, recordBody("RO-A", map[string]any{"customer.phone": "202-555-0143"}))
	b := e.createRecord(t, tok, recordBody("RO-B", map[string]any{"customer.phone": "+1 (202) 555 0143", "vehicle": nil}))
	require.Equal(t, *a.CustomerID, *b.CustomerID, "same phone, no DMS id: one customer")
	require.Nil(t, b.VehicleID)

	// The same phone with a DMS id: the phone-only customer adopts it.
	c := e.createRecord(t, tok, recordBody("RO-C", map[string]any{"customer.dms_customer_id": "C-1", "customer.first_name": "Jordy"}))
	require.Equal(t, *a.CustomerID, *c.CustomerID)
	require.Equal(t, *a.VehicleID, *c.VehicleID, "same VIN: one vehicle")

	// A DMS id wins over the phone: a new phone for C-1 is the same customer,
	// and another DMS id on the same phone (a household) is another.
	d := e.createRecord(t, tok, recordBody("RO-D", map[string]any{"customer.dms_customer_id": "C-1", "customer.phone": "(312) 555-0100"}))
	require.Equal(t, *a.CustomerID, *d.CustomerID)
	other := e.createRecord(t, tok, recordBody("RO-E", map[string]any{
		"customer.dms_customer_id": "C-2", "customer.phone": "(312) 555-0100", "customer.first_name": "Sam",
		"vehicle.vin": "2HGFA16558H000001", "vehicle.make": "Toyota",
	}))
	require.NotEqual(t, *a.CustomerID, *other.CustomerID)
	require.Equal(t, 2, e.countRows(t, "customers", tn.OrgID))
	require.Equal(t, 2, e.countRows(t, "vehicles", tn.OrgID))

	res := e.do(t, http.MethodGet, "/api/v1/customers/"+a.CustomerID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var cust record.CustomerDetail
	res.decode(t, &cust)
	require.Equal(t, "C-1", *cust.DMSCustomerID)
	require.Equal(t, "+13125550100", *cust.Phone, "a DMS customer takes its latest record's contact details")
	require.Len(t, cust.Vehicles, 1)
	require.Len(t, cust.Records, 4)
	require.False(t, cust.RecordsMore)

	res = e.do(t, http.MethodGet, "/api/v1/vehicles/"+a.VehicleID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var veh record.VehicleDetail
	res.decode(t, &veh)
	require.Equal(t, "Honda", *veh.Make)
	require.Equal(t, *a.CustomerID, veh.Customer.ID)
	require.Len(t, veh.Records, 3)

	res = e.do(t, http.MethodGet, "/api/v1/customers?q=555-0100", tok)
	requireStatus(t, http.StatusOK, res)
	var custs struct{ Items []record.Customer }
	res.decode(t, &custs)
	require.Len(t, custs.Items, 2, "both customers end in 555-0100")
	res = e.do(t, http.MethodGet, "/api/v1/customers?dms_customer_id=C-2", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &custs)
	require.Len(t, custs.Items, 1)
	require.Equal(t, "Sam", custs.Items[0].FirstName)

	res = e.do(t, http.MethodGet, "/api/v1/vehicles?make=HONDA", tok)
	requireStatus(t, http.StatusOK, res)
	var vehs struct{ Items []record.Vehicle }
	res.decode(t, &vehs)
	require.Len(t, vehs.Items, 1)
}

func TestRecordsListFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	e.createRecord(t, tok, recordBody("10045", map[string]any{"service_date": "2026-01-10", "service_type": "Brakes", "advisor_name": "Ann"}))
	e.createRecord(t, tok, recordBody("10046", map[string]any{"service_date": "2026-02-10", "status": "void"}))
	e.createRecord(t, tok, recordBody("RO-9", map[string]any{
		"service_date": "2026-03-10", "customer.last_name": "O'Brien", "customer.first_name": "Pat", "customer.phone": "(312) 555-0188",
		"vehicle.vin": "2HGFA16558H000001",
	}))

	list := func(query string) []string {
		t.Helper()
		res := e.do(t, http.MethodGet, "/api/v1/service-records?"+query, tok)
		requireStatus(t, http.StatusOK, res)
		var l struct{ Items []record.ServiceRecord }
		res.decode(t, &l)
		out := []string{}
		for _, r := range l.Items {
			out = append(out, r.RONumber)
		}
		return out
	}
	require.Equal(t, []string{"RO-9", "10046", "10045"}, list(""), "latest service first")
	require.Equal(t, []string{"10046", "10045"}, list("service_to=2026-02-28"))
	require.Equal(t, []string{"RO-9", "10046"}, list("service_from=2026-02-01"))
	require.Equal(t, []string{"10045"}, list("service_type=brakes"))
	require.Equal(t, []string{"10045"}, list("advisor=ANN"))
	require.Equal(t, []string{"10046"}, list("status=void"))
	require.Equal(t, []string{"RO-9"}, list("vin=2hgfa16558h000001"))
	require.Equal(t, []string{"10046", "10045"}, list("q=1004"), "RO number prefix")
	require.Equal(t, []string{"RO-9"}, list("q=o%27bri"), "last name prefix, case-insensitive")
	require.Equal(t, []string{"RO-9"}, list("q=pat+o"), "first and last name")
	require.Equal(t, []string{"RO-9"}, list("q=0188"), "phone's last digits")
	require.Equal(t, []string{"RO-9"}, list("q=%2B13125550188"), "whole E.164 number")
	require.Empty(t, list("q=%25"), "LIKE wildcards match literally")

	// Keyset pagination over (service_date, id) visits each record once.
	var seen []string
	cursor := ""
	for range 4 {
		res := e.do(t, http.MethodGet, "/api/v1/service-records?limit=2&cursor="+cursor, tok)
		requireStatus(t, http.StatusOK, res)
		var l struct {
			Items      []record.ServiceRecord
			NextCursor *string `json:"next_cursor"`
		}
		res.decode(t, &l)
		for _, r := range l.Items {
			seen = append(seen, r.RONumber)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	require.Equal(t, []string{"RO-9", "10046", "10045"}, seen)

	var first record.ServiceRecord
	res := e.do(t, http.MethodGet, "/api/v1/service-records?q=RO-9", tok)
	var l struct{ Items []record.ServiceRecord }
	res.decode(t, &l)
	first = l.Items[0]
	require.Equal(t, []string{"RO-9"}, list("customer_id="+first.CustomerID.String()))
	require.Equal(t, []string{"RO-9"}, list("vehicle_id="+first.VehicleID.String()))
}

func TestRecordsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	theirs := e.createRecord(t, withToken(other.Owner.Token), recordBody("RO-T", nil))
	mine := e.createRecord(t, tok, recordBody("RO-M", nil))
	e.createRecord(t, tok, recordBody("RO-M2", nil))
	id := "/api/v1/service-records/" + mine.ID.String()

	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
		field  string
	}{
		{"malformed json", http.MethodPost, "/api/v1/service-records", []reqOpt{withRaw("application/json", `{"ro_number":`)}, http.StatusBadRequest, ""},
		{"unknown field", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"colour": "red"}))}, http.StatusUnprocessableEntity, ""},
		{"missing phone", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"customer.phone": nil}))}, http.StatusUnprocessableEntity, ""},
		{"unparseable phone", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"customer.phone": "call me maybe"}))}, http.StatusUnprocessableEntity, "body.customer.phone"},
		{"invalid phone", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"customer.phone": "(555) 555-5555"}))}, http.StatusUnprocessableEntity, "body.customer.phone"},
		{"bad vin", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"vehicle.vin": "IOQ45678901234567"}))}, http.StatusUnprocessableEntity, "body.vehicle.vin"},
		{"bad date", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"service_date": "03/02/2026"}))}, http.StatusUnprocessableEntity, ""},
		{"blank ro", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("   ", nil))}, http.StatusUnprocessableEntity, "body.ro_number"},
		{"bad status", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"status": "done"}))}, http.StatusUnprocessableEntity, ""},
		{"bad email", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"customer.email": "not-an-email"}))}, http.StatusUnprocessableEntity, "body.customer.email"},
		{"negative mileage", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"mileage": -1}))}, http.StatusUnprocessableEntity, ""},
		{"oversized body", http.MethodPost, "/api/v1/service-records", []reqOpt{withJSON(recordBody("X", map[string]any{"raw": map[string]any{"x": strings.Repeat("a", 70<<10)}}))}, http.StatusRequestEntityTooLarge, ""},
		{"bad uuid", http.MethodGet, "/api/v1/service-records/not-a-uuid", nil, http.StatusUnprocessableEntity, ""},
		{"foreign id get", http.MethodGet, "/api/v1/service-records/" + theirs.ID.String(), nil, http.StatusNotFound, ""},
		{"foreign id patch", http.MethodPatch, "/api/v1/service-records/" + theirs.ID.String(), []reqOpt{withJSON(map[string]any{"status": "void"})}, http.StatusNotFound, ""},
		{"foreign id delete", http.MethodDelete, "/api/v1/service-records/" + theirs.ID.String(), nil, http.StatusNotFound, ""},
		{"foreign customer get", http.MethodGet, "/api/v1/customers/" + theirs.CustomerID.String(), nil, http.StatusNotFound, ""},
		{"foreign vehicle get", http.MethodGet, "/api/v1/vehicles/" + theirs.VehicleID.String(), nil, http.StatusNotFound, ""},
		{"patch to a foreign customer", http.MethodPatch, id, []reqOpt{withJSON(map[string]any{"customer_id": theirs.CustomerID})}, http.StatusUnprocessableEntity, "body.customer_id"},
		{"patch to a foreign vehicle", http.MethodPatch, id, []reqOpt{withJSON(map[string]any{"vehicle_id": theirs.VehicleID})}, http.StatusUnprocessableEntity, "body.vehicle_id"},
		{"patch null ro", http.MethodPatch, id, []reqOpt{withJSON(map[string]any{"ro_number": nil})}, http.StatusUnprocessableEntity, "body.ro_number"},
		{"patch ro to an existing one", http.MethodPatch, id, []reqOpt{withJSON(map[string]any{"ro_number": "RO-M2"})}, http.StatusConflict, ""},
		{"patch bad date", http.MethodPatch, id, []reqOpt{withJSON(map[string]any{"service_date": "2026-13-01"})}, http.StatusUnprocessableEntity, ""},
		{"dates reversed", http.MethodGet, "/api/v1/service-records?service_from=2026-03-01&service_to=2026-02-01", nil, http.StatusUnprocessableEntity, "query.service_to"},
		{"bad date filter", http.MethodGet, "/api/v1/service-records?service_from=yesterday", nil, http.StatusUnprocessableEntity, ""},
		{"bad customer filter", http.MethodGet, "/api/v1/service-records?customer_id=nope", nil, http.StatusUnprocessableEntity, ""},
		{"bad phone filter", http.MethodGet, "/api/v1/customers?phone=abc", nil, http.StatusUnprocessableEntity, "query.phone"},
		{"limit too large", http.MethodGet, "/api/v1/service-records?limit=201", nil, http.StatusUnprocessableEntity, ""},
		{"bad cursor", http.MethodGet, "/api/v1/customers?cursor=zzz", nil, http.StatusUnprocessableEntity, ""},
		{"unknown query", http.MethodGet, "/api/v1/vehicles?colour=red", nil, http.StatusUnprocessableEntity, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			if tt.status >= 400 {
				p := res.problem(t)
				require.Equal(t, tt.status, p.Status)
				if tt.field != "" {
					require.NotEmpty(t, p.Errors, "body: %s", res.Body)
					require.Equal(t, tt.field, p.Errors[0].Location, "body: %s", res.Body)
				}
			}
		})
	}

	// The other tenant's record is untouched, and nothing was created here
	// by the rejected requests.
	res := e.do(t, http.MethodGet, "/api/v1/service-records/"+theirs.ID.String(), withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, 2, e.countRows(t, "service_records", tn.OrgID))
}

func TestRecordsBatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	// The push API is for DMS middleware: an API key whose role holds
	// records:write (agent) authenticates like any bearer credential.
	key := withToken(e.authAPIKey(t, tn, access.RoleAgent))

	records := []any{
		recordBody("B-1", nil),
		recordBody("B-2", map[string]any{"customer.phone": "not a phone", "vehicle.vin": "short"}),
		recordBody("B-3", map[string]any{"customer.phone": "(312) 555-0100", "vehicle": nil}),
		map[string]any{"ro_number": 42},
		recordBody("B-1", map[string]any{"service_type": "Brakes"}),
		"not an object",
		recordBody("B-4", map[string]any{"colour": "red"}),
	}
	res := e.do(t, http.MethodPost, "/api/v1/service-records/batch", key, withJSON(map[string]any{"records": records}))
	requireStatus(t, http.StatusOK, res)
	var out record.BatchResult
	res.decode(t, &out)
	statuses := make([]string, len(out.Results))
	for i, r := range out.Results {
		statuses[i] = r.Status
		require.Equal(t, i, r.Index)
	}
	require.Equal(t, []string{"duplicate", "error", "created", "error", "created", "error", "error"}, statuses)
	require.Equal(t, 2, out.Created)
	require.Equal(t, 4, out.Invalid)
	require.Equal(t, 1, out.Duplicate)
	require.Equal(t, out.Results[4].ID, out.Results[0].ID, "a duplicate points at the record stored in its place")
	var locs []string
	for _, fe := range out.Results[1].Errors {
		locs = append(locs, fe.Location)
	}
	require.Equal(t, []string{"body.records[1].customer.phone", "body.records[1].vehicle.vin"}, locs)
	require.Contains(t, out.Results[3].Errors[0].Message, "ro_number")
	require.Contains(t, out.Results[6].Errors[0].Message, "colour")

	res = e.do(t, http.MethodGet, "/api/v1/service-records/"+out.Results[4].ID.String(), key)
	requireStatus(t, http.StatusOK, res)
	var stored record.ServiceRecord
	res.decode(t, &stored)
	require.Equal(t, "Brakes", *stored.ServiceType, "the later duplicate was stored")

	// The same batch again changes nothing; a changed record is updated.
	res = e.do(t, http.MethodPost, "/api/v1/service-records/batch", key, withJSON(map[string]any{"records": records}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &out)
	require.Equal(t, 0, out.Created)
	require.Equal(t, 0, out.Updated)
	require.Equal(t, 2, out.Unchanged)
	res = e.do(t, http.MethodPost, "/api/v1/service-records/batch", key, withJSON(map[string]any{"records": []any{
		recordBody("B-3", map[string]any{"customer.phone": "(312) 555-0100", "vehicle": nil, "mileage": 50000}),
	}}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &out)
	require.Equal(t, record.BatchUpdated, out.Results[0].Status)
	require.Equal(t, 2, e.countRows(t, "service_records", tn.OrgID))
	require.Equal(t, 2, e.countRows(t, "customers", tn.OrgID))

	// Idempotency-Key replays the first answer.
	one := map[string]any{"records": []any{recordBody("B-5", nil)}}
	res = e.do(t, http.MethodPost, "/api/v1/service-records/batch", key, withJSON(one), withHeader("Idempotency-Key", "push-1"))
	requireStatus(t, http.StatusOK, res)
	res2 := e.do(t, http.MethodPost, "/api/v1/service-records/batch", key, withJSON(one), withHeader("Idempotency-Key", "push-1"))
	requireStatus(t, http.StatusOK, res2)
	require.Equal(t, "true", res2.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(res.Body), string(res2.Body))

	// One audit row per batch that wrote something.
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=service_record_batch", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 3)
	require.NotNil(t, logs.Items[0].ActorAPIKeyID)
}

func TestRecordsBatchLimits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	many := make([]any, record.MaxBatchRecords+1)
	for i := range many {
		many[i] = map[string]any{"ro_number": fmt.Sprintf("R%d", i)}
	}
	res := e.do(t, http.MethodPost, "/api/v1/service-records/batch", tok, withJSON(map[string]any{"records": many}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Contains(t, string(res.Body), "body.records")

	// A thousand full records fit (the route's body limit is its own).
	full := make([]any, record.MaxBatchRecords)
	for i := range full {
		full[i] = recordBody(fmt.Sprintf("R%04d", i), map[string]any{"vehicle": nil, "customer.dms_customer_id": fmt.Sprintf("C%d", i%300)})
	}
	res = e.do(t, http.MethodPost, "/api/v1/service-records/batch", tok, withJSON(map[string]any{"records": full}))
	requireStatus(t, http.StatusOK, res)
	var out record.BatchResult
	res.decode(t, &out)
	require.Equal(t, record.MaxBatchRecords, out.Created)
	require.Equal(t, 300, e.countRows(t, "customers", tn.OrgID))

	for _, tt := range []struct {
		name string
		body any
	}{
		{"empty", map[string]any{"records": []any{}}},
		{"no records", map[string]any{}},
		{"unknown field", map[string]any{"records": []any{recordBody("X", nil)}, "extra": 1}},
		{"foreign integration", map[string]any{"records": []any{recordBody("X", nil)}, "dms_integration_id": uuid.NewString()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, http.MethodPost, "/api/v1/service-records/batch", tok, withJSON(tt.body))
			requireStatus(t, http.StatusUnprocessableEntity, res)
		})
	}

	// A viewer's key cannot push.
	viewer := withToken(e.authAPIKey(t, tn, access.RoleViewer))
	res = e.do(t, http.MethodPost, "/api/v1/service-records/batch", viewer, withJSON(map[string]any{"records": []any{recordBody("V", nil)}}))
	requireStatus(t, http.StatusForbidden, res)
}

// Every record route against every system role: a role without the
// route's permission gets 403, a role with it never does, and nothing
// answers 5xx. Ids are random (404) and bodies empty (422): no call
// changes anything.
func TestRecordsRoutesRoleMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	users := map[string]testUser{access.RoleOwner: tn.Owner}
	for _, r := range access.SystemRoles[1:] {
		users[r.Key] = e.newUser(t, tn, r.Key)
	}
	prefixes := []string{"/api/v1/service-records", "/api/v1/customers", "/api/v1/vehicles", "/api/v1/dms-integrations"}
	covered := 0
	for _, rt := range e.api.Routes() {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(rt.Path, p) }) {
			continue
		}
		covered++
		path := strings.ReplaceAll(rt.Path, "{id}", uuid.NewString())
		for _, r := range access.SystemRoles {
			u := users[r.Key]
			t.Run(r.Key+" "+rt.ID, func(t *testing.T) {
				opts := []reqOpt{withToken(u.Token)}
				switch {
				case rt.ID == "service-record-import-create":
					opts = append(opts, withRaw("text/csv", ""))
				case rt.Method == http.MethodPost || rt.Method == http.MethodPatch:
					opts = append(opts, withJSON(map[string]any{}))
				}
				res := e.do(t, rt.Method, path, opts...)
				require.Less(t, res.Status, 500, "body: %s", res.Body)
				if slices.Contains(r.Permissions, access.Permission(rt.Access)) {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, res.Status, "body: %s", res.Body)
				} else {
					requireStatus(t, http.StatusForbidden, res)
				}
			})
		}
	}
	require.Equal(t, 21, covered, "every record route is in the matrix")
	require.Equal(t, 0, e.countRows(t, "service_records", tn.OrgID))
}
