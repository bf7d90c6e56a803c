-- name: MaintenancePruneExpired :one
SELECT p.idempotency_keys::bigint AS idempotency_keys, p.refresh_tokens::bigint AS refresh_tokens,
       p.login_throttles::bigint AS login_throttles
FROM maintenance_prune_expired(sqlc.arg(now)::timestamptz) AS p;
