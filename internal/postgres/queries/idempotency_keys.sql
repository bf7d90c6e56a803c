-- name: IdempotencyKeyClaim :one
-- Claims (organization_id, actor_id, key) for a new execution: inserts the
-- row, or takes over one that has expired or whose in-progress claim is
-- older than stale_before (its request died without finishing). Returns no
-- row when a live record holds the key; read it with IdempotencyKeyGet.
INSERT INTO idempotency_keys (organization_id, id, actor_id, key, request_method, request_path, request_hash,
                              status, expires_at, created_at, updated_at)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(actor_id), sqlc.arg(key), sqlc.arg(request_method),
        sqlc.arg(request_path), sqlc.arg(request_hash), 'in_progress', sqlc.arg(expires_at), sqlc.arg(now), sqlc.arg(now))
ON CONFLICT (organization_id, actor_id, key) DO UPDATE
SET id = excluded.id, request_method = excluded.request_method, request_path = excluded.request_path,
    request_hash = excluded.request_hash, status = 'in_progress', response_status = NULL,
    response_headers = NULL, response_body = NULL, expires_at = excluded.expires_at,
    created_at = excluded.created_at, updated_at = excluded.updated_at
WHERE idempotency_keys.expires_at <= sqlc.arg(now)
   OR (idempotency_keys.status = 'in_progress' AND idempotency_keys.updated_at <= sqlc.arg(stale_before))
RETURNING id;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys
WHERE organization_id = sqlc.arg(organization_id) AND actor_id = sqlc.arg(actor_id) AND key = sqlc.arg(key);

-- name: IdempotencyKeyComplete :execrows
-- Stores the response of the execution that holds claim id; a claim taken
-- over in the meantime (see IdempotencyKeyClaim) is left alone.
UPDATE idempotency_keys
SET status = 'completed', response_status = sqlc.arg(response_status), response_headers = sqlc.arg(response_headers),
    response_body = sqlc.arg(response_body), updated_at = sqlc.arg(now)
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status = 'in_progress';

-- name: IdempotencyKeyRelease :execrows
DELETE FROM idempotency_keys
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status = 'in_progress';
