// Package demo seeds the data `make run` shows: a dealership with an owner
// and one user for each other system role (credentials printed in the log
// and the README), a few hundred service records across US time zones, a
// post-service feedback campaign already running and a service-reminder
// campaign ready to launch.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/tag"
)

// Services are what the demo is seeded through: the same services, and so
// the same rules and audit rows, as the API. Records and Campaigns may be
// nil to seed only the organization and its users.
type Services struct {
	Identity  *identity.Service
	Tags      *tag.Service
	Records   *record.Service
	Campaigns *campaign.Service
}

// The demo owner's credentials (development only; documented in README.md).
const (
	OwnerEmail    = "owner@sunrise-motors.example"
	OwnerPassword = "autopulse-demo-2026" //nolint:gosec // development demo login, printed and documented on purpose
	OrgName       = "Sunrise Motors Service"
	// PlatformAdminEmail is the demo's platform administrator (River UI at
	// /admin/jobs, the admin routes); same password as the owner.
	PlatformAdminEmail = "platform@autopulse.example"
)

// StaffEmails are the demo users other than the owner, by system role; they
// share the owner's password.
var StaffEmails = map[string]string{
	access.RoleAdmin:   "admin@sunrise-motors.example",
	access.RoleManager: "manager@sunrise-motors.example",
	access.RoleAgent:   "agent@sunrise-motors.example",
	access.RoleViewer:  "viewer@sunrise-motors.example",
}

var staffNames = map[string]string{
	access.RoleAdmin:   "Alex Moreno",
	access.RoleManager: "Priya Shah",
	access.RoleAgent:   "Marcus Lee",
	access.RoleViewer:  "Jordan Blake",
}

// Seed creates the demo organization unless it exists. It is idempotent.
func Seed(ctx context.Context, svc Services, log *slog.Logger) error {
	ids, tags := svc.Identity, svc.Tags
	exists, err := ids.EmailRegistered(ctx, OwnerEmail)
	if err != nil || exists {
		return err
	}
	reg, err := ids.Register(ctx, identity.Registration{
		OrganizationName: OrgName, FullName: "Dana Whitfield", Email: OwnerEmail,
		Password: OwnerPassword, Timezone: "America/Chicago",
	})
	if err != nil {
		return err
	}
	if _, err := ids.EnsurePlatformAdmin(ctx, PlatformAdminEmail, OwnerPassword); err != nil {
		return err
	}
	org := reg.Organization.ID
	// The owner creates the rest, through the same rules as the API, and the
	// audit log says so.
	owner, err := ids.PrincipalForUser(ctx, org, reg.User.ID, time.Time{})
	if err != nil {
		return err
	}
	ctx = access.WithPrincipal(ctx, owner)
	if err := seedStaff(ctx, ids, owner); err != nil {
		return err
	}
	for _, t := range []tag.Input{
		{Name: "Oil change", Type: "service_type", Color: "#f59e0b"},
		{Name: "Brakes", Type: "service_type", Color: "#ef4444"},
		{Name: "Tires", Type: "service_type", Color: "#3b82f6"},
		{Name: "VIP", Type: "custom", Color: "#8b5cf6"},
		{Name: "Warranty question", Type: "inquiry_topic", Color: "#10b981"},
	} {
		if _, err := tags.Create(ctx, org, t); err != nil {
			return err
		}
	}
	if svc.Records != nil && svc.Campaigns != nil {
		// Calls need credit, and ten at a time keeps the demo lively.
		if _, err := ids.GrantCredits(ctx, org, demoCredits, "demo starting balance"); err != nil {
			return err
		}
		limit := int32(10)
		if _, err := ids.UpdateOrganization(ctx, org, identity.OrganizationPatch{CallConcurrencyLimit: &limit}); err != nil {
			return err
		}
		n, err := seedRecords(ctx, svc.Records, org)
		if err != nil {
			return fmt.Errorf("demo records: %w", err)
		}
		if err := seedCampaigns(ctx, svc.Campaigns, org); err != nil {
			return fmt.Errorf("demo campaigns: %w", err)
		}
		log.Info("seeded demo service records and campaigns", "records", n)
	}
	log.Info("seeded demo organization", "organization", OrgName, "email", OwnerEmail,
		"staff_emails", []string{StaffEmails[access.RoleAdmin], StaffEmails[access.RoleManager], StaffEmails[access.RoleAgent], StaffEmails[access.RoleViewer]},
		"platform_admin_email", PlatformAdminEmail, "demo_login", OwnerPassword) // deliberately printed: development demo only
	return nil
}

// seedStaff creates one user per system role below owner.
func seedStaff(ctx context.Context, ids *identity.Service, owner *access.Principal) error {
	for _, r := range access.SystemRoles {
		email, ok := StaffEmails[r.Key]
		if !ok {
			continue
		}
		role, err := ids.GetRoleByKey(ctx, owner.OrgID, r.Key)
		if err != nil {
			return err
		}
		if _, err := ids.CreateUser(ctx, owner, identity.UserInput{
			Email: email, FullName: staffNames[r.Key], Password: OwnerPassword, RoleID: role.ID,
		}); err != nil {
			return err
		}
	}
	return nil
}

// regions spread the demo's customers over the US time zones, so that at
// most hours of the day some of them are inside their lawful calling window
// (08:00-21:00 local; Florida 08:00-20:00). Numbers are 555-01xx, which
// NANP reserves for fiction: the simulator "calls" them, nobody else.
var regions = []struct {
	areaCode, state, zip, city string
}{
	{"212", "NY", "10001", "New York"},
	{"305", "FL", "33101", "Miami"},
	{"404", "GA", "30301", "Atlanta"},
	{"312", "IL", "60601", "Chicago"},
	{"214", "TX", "75201", "Dallas"},
	{"303", "CO", "80202", "Denver"},
	{"602", "AZ", "85001", "Phoenix"},
	{"415", "CA", "94103", "San Francisco"},
	{"206", "WA", "98101", "Seattle"},
	{"907", "AK", "99501", "Anchorage"},
	{"808", "HI", "96813", "Honolulu"},
	{"617", "MA", "02108", "Boston"},
}

var (
	firstNames   = []string{"Avery", "Blake", "Casey", "Drew", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jamie", "Kendall", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sawyer", "Taylor"}
	lastNames    = []string{"Alvarez", "Brooks", "Chen", "Dawson", "Ellis", "Foster", "Garcia", "Hughes", "Ibarra", "Jensen", "Kim", "Lopez", "Mitchell", "Nguyen", "Owens", "Patel", "Reyes", "Sullivan", "Turner", "Walsh"}
	serviceTypes = []string{"Oil change", "Brakes", "Tires", "Battery", "Alignment", "Transmission service", "Recall repair", "Multi-point inspection"}
	advisors     = []string{"Sam Ortiz", "Lee Park", "Robin Shaw"}
	vehicles     = []struct{ make, model string }{{"Toyota", "Camry"}, {"Honda", "Civic"}, {"Ford", "F-150"}, {"Chevrolet", "Equinox"}, {"Subaru", "Outback"}, {"Hyundai", "Tucson"}}
)

// demoRecords is how many service records the demo has; demoCredits is its
// starting balance in cents.
const (
	demoRecords = 300
	demoCredits = 50000
)

// seedRecords creates the demo's service records (and through them its
// customers and vehicles), deterministically: the same run makes the same
// data. Most closed one to three days ago, so the feedback campaign
// matches them; the rest are older, for the reminder campaign.
func seedRecords(ctx context.Context, records *record.Service, org uuid.UUID) (int, error) {
	rng := rand.New(rand.NewPCG(2026, 11)) //nolint:gosec // demo data, not security
	today := time.Now().UTC()
	for i := range demoRecords {
		reg := regions[i%len(regions)]
		daysAgo := 1 + rng.IntN(3)
		if i%3 == 2 {
			daysAgo = 150 + rng.IntN(60)
		}
		mileage := int32(8000 + rng.IntN(90000))
		amount := int64(4900 + rng.IntN(90000))
		closed := today.AddDate(0, 0, -daysAgo)
		v := vehicles[rng.IntN(len(vehicles))]
		in := record.ServiceRecordInput{
			RONumber:    fmt.Sprintf("RO-%06d", 100000+i),
			ServiceDate: closed.Format(time.DateOnly),
			ClosedAt:    &closed,
			ServiceType: serviceTypes[rng.IntN(len(serviceTypes))],
			AdvisorName: advisors[rng.IntN(len(advisors))],
			Mileage:     &mileage,
			TotalAmount: &amount,
			PayType:     "customer",
			Customer: record.CustomerInput{
				FirstName:  firstNames[rng.IntN(len(firstNames))],
				LastName:   lastNames[rng.IntN(len(lastNames))],
				Phone:      fmt.Sprintf("+1%s55501%02d", reg.areaCode, i/len(regions)),
				City:       reg.city,
				State:      reg.state,
				PostalCode: reg.zip,
			},
			Vehicle: &record.VehicleInput{Make: v.make, Model: v.model, Year: ptr(int32(2014 + rng.IntN(12)))},
		}
		if _, err := records.Create(ctx, org, in); err != nil {
			return i, fmt.Errorf("record %s: %w", in.RONumber, err)
		}
	}
	return demoRecords, nil
}

// seedCampaigns creates a post-service feedback campaign and launches it,
// and a service-reminder campaign left in draft for the user to launch.
// Their schedules span the whole day, so only the law (the recipient's
// local window) limits when the demo calls.
func seedCampaigns(ctx context.Context, campaigns *campaign.Service, org uuid.UUID) error {
	allDay := &campaign.ScheduleInput{Timezone: "UTC", Days: []int{1, 2, 3, 4, 5, 6, 7}, StartTime: "00:00", EndTime: "24:00"}
	feedback, err := campaigns.Create(ctx, org, campaign.Spec{
		Name:        "Post-service feedback",
		Description: "Calls customers one to three days after their visit for an NPS score.",
		Type:        "post_service_feedback",
		Audience:    campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 1, Max: 3}},
		Agent: campaign.AgentConfig{
			Prompt:       "You are the service department of Sunrise Motors. Ask how the recent visit went and for a 0-10 score.",
			FirstMessage: "Hi, this is Sunrise Motors service calling about your recent visit.",
		},
		MaxAttempts:     2,
		RetryGapMinutes: 60,
		Schedule:        allDay,
	})
	if err != nil {
		return err
	}
	if _, err := campaigns.Launch(ctx, org, feedback.ID); err != nil {
		return err
	}
	_, err = campaigns.Create(ctx, org, campaign.Spec{
		Name:        "Service reminder",
		Description: "Invites customers whose last service was five to seven months ago to book the next one.",
		Type:        "service_reminder",
		Audience:    campaign.Audience{ServiceDaysAgo: &campaign.DayRange{Min: 150, Max: 210}},
		Agent: campaign.AgentConfig{
			Prompt:       "You are the service department of Sunrise Motors. Offer to book the customer's next service.",
			FirstMessage: "Hi, this is Sunrise Motors service with a reminder that your vehicle is due.",
		},
		Schedule: allDay,
	})
	return err
}

func ptr[T any](v T) *T { return &v }
