package record

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Customer is a person (or household) de-duplicated out of service records.
type Customer struct {
	ID            uuid.UUID `json:"id"`
	DMSCustomerID *string   `json:"dms_customer_id"`
	FirstName     string    `json:"first_name"`
	LastName      string    `json:"last_name"`
	Phone         *string   `json:"phone" doc:"E.164"`
	Email         *string   `json:"email"`
	Address       *string   `json:"address"`
	City          *string   `json:"city"`
	State         *string   `json:"state"`
	PostalCode    *string   `json:"postal_code"`
	Timezone      *string   `json:"timezone"`
	Tags          []string  `json:"tags"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CustomerDetail is a customer with its vehicles and latest records.
type CustomerDetail struct {
	Customer
	Vehicles []Vehicle       `json:"vehicles" doc:"The customer's vehicles, newest first (at most 200)"`
	Records  []ServiceRecord `json:"records" doc:"The customer's latest service records (at most 50); list more with GET /api/v1/service-records?customer_id="`
	// RecordsMore says the customer has more records than Records holds.
	RecordsMore bool `json:"records_more"`
}

// Vehicle is a vehicle de-duplicated out of service records (by VIN).
type Vehicle struct {
	ID         uuid.UUID  `json:"id"`
	CustomerID *uuid.UUID `json:"customer_id" doc:"The customer of its latest service record"`
	VIN        *string    `json:"vin"`
	Year       *int32     `json:"year"`
	Make       *string    `json:"make"`
	Model      *string    `json:"model"`
	Trim       *string    `json:"trim"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// VehicleDetail is a vehicle with its customer and latest records.
type VehicleDetail struct {
	Vehicle
	Customer    *CustomerSummary `json:"customer"`
	Records     []ServiceRecord  `json:"records" doc:"The vehicle's latest service records (at most 50)"`
	RecordsMore bool             `json:"records_more"`
}

// Sizes of the lists inside a detail.
const (
	detailVehicles = 200
	detailRecords  = 50
)

// CustomerFilter narrows ListCustomers.
type CustomerFilter struct {
	Phone         string // any common format; matched as E.164
	DMSCustomerID string
	Q             string // as Filter.Q, over names and phone
}

// ListCustomers returns customers, newest first. A Phone that is not a
// phone number is fault.Invalid.
func (s *Service) ListCustomers(ctx context.Context, org uuid.UUID, f CustomerFilter, pr page.Request) ([]Customer, string, error) {
	params := db.CustomerListParams{
		OrganizationID: org, DmsCustomerID: nullable(strings.TrimSpace(f.DMSCustomerID)), After: pr.After, Lim: pr.Fetch(),
	}
	if strings.TrimSpace(f.Phone) != "" {
		phone, err := normalizePhone(f.Phone)
		if err != nil {
			return nil, "", invalid([]fault.FieldError{{Location: "query.phone", Message: err.Error()}})
		}
		params.Phone = &phone
	}
	params.QPrefix, params.QPhoneReversed = searchPatterns(f.Q)
	var rows []db.Customer
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.CustomerList(ctx, params)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.Customer) uuid.UUID { return r.ID }, customerFromRow)
	return out, next, nil
}

// GetCustomer returns a customer with its vehicles and latest records.
func (s *Service) GetCustomer(ctx context.Context, org, id uuid.UUID) (CustomerDetail, error) {
	var d CustomerDetail
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		c, err := tx.CustomerGet(ctx, org, id)
		if err != nil {
			return err
		}
		d.Customer = customerFromRow(c)
		vehicles, err := tx.VehicleList(ctx, db.VehicleListParams{OrganizationID: org, CustomerID: &id, Lim: detailVehicles})
		if err != nil {
			return err
		}
		d.Vehicles = make([]Vehicle, len(vehicles))
		for i, v := range vehicles {
			d.Vehicles[i] = vehicleFromRow(v)
		}
		d.Records, d.RecordsMore, err = latestRecords(ctx, tx, db.ServiceRecordListParams{OrganizationID: org, CustomerID: &id})
		return err
	})
	return d, err
}

// VehicleFilter narrows ListVehicles.
type VehicleFilter struct {
	CustomerID *uuid.UUID
	VIN        string
	Make       string // exact, case-insensitive
}

// ListVehicles returns vehicles, newest first.
func (s *Service) ListVehicles(ctx context.Context, org uuid.UUID, f VehicleFilter, pr page.Request) ([]Vehicle, string, error) {
	var rows []db.Vehicle
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.VehicleList(ctx, db.VehicleListParams{
			OrganizationID: org, CustomerID: f.CustomerID, Vin: nullable(strings.ToUpper(strings.TrimSpace(f.VIN))),
			Make: nullable(strings.TrimSpace(f.Make)), After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(pr, rows, func(r db.Vehicle) uuid.UUID { return r.ID }, vehicleFromRow)
	return out, next, nil
}

// GetVehicle returns a vehicle with its customer and latest records.
func (s *Service) GetVehicle(ctx context.Context, org, id uuid.UUID) (VehicleDetail, error) {
	var d VehicleDetail
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		v, err := tx.VehicleGet(ctx, org, id)
		if err != nil {
			return err
		}
		d.Vehicle = vehicleFromRow(v)
		if v.CustomerID != nil {
			c, err := tx.CustomerGet(ctx, org, *v.CustomerID)
			if err != nil {
				return err
			}
			d.Customer = &CustomerSummary{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone}
		}
		d.Records, d.RecordsMore, err = latestRecords(ctx, tx, db.ServiceRecordListParams{OrganizationID: org, VehicleID: &id})
		return err
	})
	return d, err
}

// latestRecords returns the first detailRecords records params select,
// and whether there are more.
func latestRecords(ctx context.Context, tx *postgres.Tx, params db.ServiceRecordListParams) ([]ServiceRecord, bool, error) {
	params.Lim = detailRecords + 1
	rows, err := tx.ServiceRecordList(ctx, params)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > detailRecords
	if more {
		rows = rows[:detailRecords]
	}
	out := make([]ServiceRecord, len(rows))
	for i, r := range rows {
		out[i] = recordFromRow(r.ServiceRecord, summaryOf(db.ServiceRecordGetRow(r)))
	}
	return out, more, nil
}

func customerFromRow(r db.Customer) Customer {
	tags := r.Tags
	if tags == nil {
		tags = []string{}
	}
	return Customer{
		ID: r.ID, DMSCustomerID: r.DmsCustomerID, FirstName: r.FirstName, LastName: r.LastName, Phone: r.Phone,
		Email: r.Email, Address: r.Address, City: r.City, State: r.State, PostalCode: r.PostalCode,
		Timezone: r.Timezone, Tags: tags, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func vehicleFromRow(r db.Vehicle) Vehicle {
	return Vehicle{
		ID: r.ID, CustomerID: r.CustomerID, VIN: r.Vin, Year: r.Year, Make: r.Make, Model: r.Model, Trim: r.Trim,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
