package identity

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// GrantCredits adds amount (minor units of the organization's currency) to
// its credit balance, with a ledger row (kind top_up) and an audit row in
// the same transaction, and returns the new balance. Payments will call it
// once Stripe lands; today the demo seed and platform operations do.
func (s *Service) GrantCredits(ctx context.Context, org uuid.UUID, amount int64, description string) (int64, error) {
	if amount <= 0 {
		return 0, fault.InvalidField("body.amount", "must be positive")
	}
	var balance int64
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		o, err := tx.OrganizationGet(ctx, org)
		if err != nil {
			return err
		}
		entry, err := tx.CreditTopUpInsert(ctx, db.CreditTopUpInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Kind: "top_up",
			Amount: amount, Currency: o.Currency, Description: description,
		})
		if err != nil {
			return err
		}
		if balance, err = tx.OrganizationCreditAdd(ctx, amount, org); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Create, "credit_transaction", entry.ID, nil, map[string]any{
			"kind": "top_up", "amount": amount, "currency": o.Currency, "description": description,
			"balance": fmt.Sprint(balance),
		})
	})
	return balance, err
}
