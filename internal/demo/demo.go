// Package demo seeds the data `make run` shows: a dealership with an owner
// whose credentials are printed in the log and the README.
package demo

import (
	"context"
	"log/slog"

	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/tag"
)

// The demo owner's credentials (development only; documented in README.md).
const (
	OwnerEmail    = "owner@sunrise-motors.example"
	OwnerPassword = "autopulse-demo-2026"
	OrgName       = "Sunrise Motors Service"
)

// Seed creates the demo organization unless it exists. It is idempotent.
func Seed(ctx context.Context, ids *identity.Service, tags *tag.Service, log *slog.Logger) error {
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
	org := reg.Organization.ID
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
	log.Info("seeded demo organization", "organization", OrgName, "email", OwnerEmail,
		"demo_login", OwnerPassword) // deliberately printed: development demo only
	return nil
}
