-- name: NotificationInsertForCall :many
-- Queues (or records as suppressed) the message a call's outcome asks for;
-- one of a kind per call.
INSERT INTO notifications (organization_id, id, channel, kind, status, recipient, subject, body,
                           call_id, customer_id, inquiry_id, suppressed_reason)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(channel), sqlc.arg(kind), sqlc.arg(status),
        sqlc.narg(recipient), sqlc.arg(subject), sqlc.arg(body), sqlc.arg(call_id), sqlc.narg(customer_id),
        sqlc.narg(inquiry_id), sqlc.narg(suppressed_reason))
ON CONFLICT (organization_id, call_id, kind) WHERE call_id IS NOT NULL DO NOTHING
RETURNING *;

-- name: NotificationListByCall :many
SELECT * FROM notifications
WHERE organization_id = sqlc.arg(organization_id) AND call_id = sqlc.arg(call_id)::uuid
ORDER BY id;
