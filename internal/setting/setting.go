// Package setting manages an organization's settings: typed, validated
// values for known keys (time zone, business hours, caller id, review link,
// …) and free-form values under the custom. namespace.
package setting

import "github.com/autopulse/autopulse/internal/postgres"

// Service manages settings.
type Service struct {
	DB *postgres.DB
}
