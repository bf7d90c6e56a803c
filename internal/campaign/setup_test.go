package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testNow is the fixtures' clock: Wednesday 11 June 2025, 10:00 in
// Chicago (CDT, UTC−5).
var testNow = time.Date(2025, 6, 11, 15, 0, 0, 0, time.UTC)

// fixture is one test's database, service and organization.
type fixture struct {
	db     *pgtest.DB
	svc    *campaign.Service
	org    uuid.UUID
	phones atomic.Int32
}

func setup(t testing.TB) *fixture {
	t.Helper()
	d := pgtest.New(t)
	f := &fixture{db: d, svc: &campaign.Service{DB: &postgres.DB{Pool: d.App}, Now: func() time.Time { return testNow }}}
	f.org = f.newOrg(t)
	return f
}

// newOrg adds an organization in Chicago.
func (f *fixture) newOrg(t testing.TB) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	slug := "dealer-" + uuid.NewString()[:8]
	err := f.db.Owner.QueryRow(context.Background(),
		`INSERT INTO organizations (name, slug, timezone) VALUES ($1, $2, 'America/Chicago') RETURNING id`,
		"Lakeside Motors", slug).Scan(&id)
	require.NoError(t, err)
	return id
}

// customerOpts shape a fixture customer; a zero Phone means none.
type customerOpts struct {
	Phone string
	Tags  []string
}

func (f *fixture) customer(t testing.TB, org uuid.UUID, o customerOpts) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	var phone *string
	if o.Phone != "" {
		phone = &o.Phone
	}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	_, err := f.db.Owner.Exec(context.Background(),
		`INSERT INTO customers (organization_id, id, first_name, last_name, phone, tags) VALUES ($1, $2, 'Casey', 'Driver', $3, $4)`,
		org, id, phone, o.Tags)
	require.NoError(t, err)
	return id
}

// recordOpts shape a fixture service record.
type recordOpts struct {
	ServiceDate time.Time  // civil date (UTC midnight)
	ClosedAt    *time.Time // nil: open-ended, the service date counts
	ServiceType string
	Make        string // a vehicle of this make is attached when set
	Status      string // default closed
}

func (f *fixture) record(t testing.TB, org, customer uuid.UUID, o recordOpts) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var vehicle *uuid.UUID
	if o.Make != "" {
		v := uuid.Must(uuid.NewV7())
		_, err := f.db.Owner.Exec(ctx, `INSERT INTO vehicles (organization_id, id, customer_id, make) VALUES ($1, $2, $3, $4)`, org, v, customer, o.Make)
		require.NoError(t, err)
		vehicle = &v
	}
	if o.Status == "" {
		o.Status = "closed"
	}
	id := uuid.Must(uuid.NewV7())
	_, err := f.db.Owner.Exec(ctx,
		`INSERT INTO service_records (organization_id, id, customer_id, vehicle_id, ro_number, service_date, closed_at, service_type, status)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		org, id, customer, vehicle, "RO-"+id.String(), o.ServiceDate, o.ClosedAt, o.ServiceType, o.Status)
	require.NoError(t, err)
	return id
}

// callOpts shape a fixture call.
type callOpts struct {
	Campaign  *uuid.UUID
	To        string
	Outcome   string
	Answered  bool
	NPS       *int
	Cost      int64
	Duration  int
	CreatedAt time.Time
}

func (f *fixture) call(t testing.TB, org uuid.UUID, o callOpts) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	var answered *time.Time
	if o.Answered {
		a := testNow
		answered = &a
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	var outcome *string
	if o.Outcome != "" {
		outcome = &o.Outcome
	}
	_, err := f.db.Owner.Exec(context.Background(),
		`INSERT INTO calls (organization_id, id, campaign_id, to_number, status, outcome, answered_at, nps_score, cost_amount, duration_sec, created_at)
		 VALUES ($1, $2, $3, $4, 'ended', $5, $6, $7, $8, $9, $10)`,
		org, id, o.Campaign, o.To, outcome, answered, o.NPS, o.Cost, o.Duration, o.CreatedAt)
	require.NoError(t, err)
	return id
}

// count runs a count(*) query as the owner (across the row-level wall).
func (f *fixture) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.Owner.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// target is a target row as the tests read it.
type target struct {
	CustomerID      uuid.UUID
	ServiceRecordID *uuid.UUID
	Phone           string
	Status          string
	SkipReason      *string
	Decision        *string
	Rule            *string
	NextAttemptAt   *time.Time
}

func (f *fixture) targets(t testing.TB, campaignID uuid.UUID) map[uuid.UUID]target {
	t.Helper()
	rows, err := f.db.Owner.Query(context.Background(),
		`SELECT customer_id, service_record_id, phone, status, skip_reason, last_decision, last_decision_rule, next_attempt_at
		 FROM campaign_targets WHERE campaign_id = $1`, campaignID)
	require.NoError(t, err)
	out := map[uuid.UUID]target{}
	for rows.Next() {
		var tg target
		require.NoError(t, rows.Scan(&tg.CustomerID, &tg.ServiceRecordID, &tg.Phone, &tg.Status, &tg.SkipReason, &tg.Decision, &tg.Rule, &tg.NextAttemptAt))
		out[tg.CustomerID] = tg
	}
	require.NoError(t, rows.Err())
	return out
}

// validInput is a campaign anyone may create; mutate adjusts it.
func validInput(mutate ...func(*campaign.Spec)) campaign.Spec {
	in := campaign.Spec{
		Name: "June feedback",
		Type: campaign.TypePostServiceFeedback,
		Agent: campaign.AgentConfig{
			Prompt:       "Ask the customer how their visit went.",
			FirstMessage: "Do you have a minute to tell us about your visit?",
		},
	}
	for _, m := range mutate {
		m(&in)
	}
	return in
}

// draft creates a campaign.
func (f *fixture) draft(t testing.TB, mutate ...func(*campaign.Spec)) campaign.Campaign {
	t.Helper()
	c, err := f.svc.Create(context.Background(), f.org, validInput(mutate...))
	require.NoError(t, err)
	return c
}

// audienceOf seeds one callable customer, so a launch has someone to call.
func (f *fixture) audienceOf(t testing.TB, phone string) uuid.UUID {
	t.Helper()
	c := f.customer(t, f.org, customerOpts{Phone: phone})
	f.record(t, f.org, c, recordOpts{ServiceDate: day(2025, 6, 10), ServiceType: "oil change"})
	return c
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// recordingJobs is a JobInserter that counts inserts, or fails them.
type recordingJobs struct {
	inserted atomic.Int32
	kinds    []string
	fail     bool
}

var errInsert = errors.New("job queue unavailable")

func (j *recordingJobs) InsertTx(_ context.Context, _ pgx.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if j.fail {
		return nil, errInsert
	}
	j.inserted.Add(1)
	j.kinds = append(j.kinds, args.Kind())
	return &rivertype.JobInsertResult{}, nil
}

func phoneN(i int) string { return fmt.Sprintf("+1312555%04d", i) }

// nextPhone is a number no other fixture customer of f has.
func (f *fixture) nextPhone() string { return phoneN(5000 + int(f.phones.Add(1))) }
