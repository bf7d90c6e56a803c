-- name: WebhookEventInsert :many
-- Records a delivery once: a duplicate (same provider and event id) returns
-- no row, and its caller enqueues nothing.
INSERT INTO webhook_events (id, provider, event_id, event_type, payload)
VALUES (sqlc.arg(id), sqlc.arg(provider), sqlc.arg(event_id), sqlc.arg(event_type), sqlc.arg(payload))
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id;

-- name: WebhookEventGet :one
SELECT * FROM webhook_events WHERE id = sqlc.arg(id);

-- name: WebhookEventGetForUpdate :one
-- Serializes the runs of one event's processing job: the second waits, then
-- finds the event no longer received.
SELECT * FROM webhook_events WHERE id = sqlc.arg(id) FOR UPDATE;

-- name: WebhookEventFinish :execrows
-- Settles a received event once: processed, ignored or failed (with the
-- reason), and where it was routed.
UPDATE webhook_events SET
  status = sqlc.arg(status),
  error = sqlc.narg(error),
  routed_organization_id = sqlc.narg(organization_id),
  routed_call_id = sqlc.narg(call_id),
  processed_at = sqlc.arg(now)::timestamptz,
  updated_at = now()
WHERE id = sqlc.arg(id) AND status = 'received';
