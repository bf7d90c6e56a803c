// Package idempotency stores the outcome of POST requests sent with an
// Idempotency-Key, Stripe-style, so a retried request replays the first
// response instead of acting twice.
package idempotency

import (
	"time"

	"github.com/autopulse/autopulse/internal/postgres"
)

// Store keeps idempotency records for TTL.
type Store struct {
	DB  *postgres.DB
	TTL time.Duration
}
