-- name: CreditTopUpInsert :one
-- A credit that is not a call charge: a top-up, a refund or an adjustment.
INSERT INTO credit_transactions (organization_id, id, kind, amount, currency, description)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(kind), sqlc.arg(amount), sqlc.arg(currency), sqlc.arg(description))
RETURNING *;
