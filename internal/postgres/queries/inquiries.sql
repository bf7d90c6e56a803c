-- name: InquiryInsert :one
INSERT INTO inquiries (organization_id, id, call_id, customer_id, customer_name, customer_phone, customer_email,
                       topic, message, assigned_to)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.narg(call_id), sqlc.narg(customer_id), sqlc.arg(customer_name),
        sqlc.narg(customer_phone), sqlc.narg(customer_email), sqlc.arg(topic), sqlc.arg(message), sqlc.narg(assigned_to))
RETURNING *;

-- name: InquiryInsertFromCall :many
-- The inquiry a call's outcome asks for; one per call (a call that already
-- has one gets no row).
INSERT INTO inquiries (organization_id, id, call_id, customer_id, customer_name, customer_phone, customer_email,
                       topic, message, assigned_to)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(call_id), sqlc.narg(customer_id), sqlc.arg(customer_name),
        sqlc.narg(customer_phone), sqlc.narg(customer_email), sqlc.arg(topic), sqlc.arg(message), sqlc.narg(assigned_to))
ON CONFLICT (organization_id, call_id) WHERE call_id IS NOT NULL DO NOTHING
RETURNING *;

-- name: InquiryGet :one
SELECT * FROM inquiries WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: InquiryGetForUpdate :one
SELECT * FROM inquiries WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) FOR UPDATE;

-- name: InquiryList :many
SELECT * FROM inquiries
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(topic)::text IS NULL OR topic = sqlc.narg(topic))
  AND (sqlc.narg(assigned_to)::uuid IS NULL OR assigned_to = sqlc.narg(assigned_to))
  AND (NOT sqlc.arg(unassigned)::bool OR assigned_to IS NULL)
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(call_id)::uuid IS NULL OR call_id = sqlc.narg(call_id))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: InquiryUpdate :one
UPDATE inquiries SET
  customer_name = sqlc.arg(customer_name), customer_phone = sqlc.narg(customer_phone),
  customer_email = sqlc.narg(customer_email), topic = sqlc.arg(topic), message = sqlc.arg(message),
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: InquiryAssign :one
UPDATE inquiries SET assigned_to = sqlc.narg(assigned_to), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: InquirySetStatus :one
UPDATE inquiries SET status = sqlc.arg(status), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: InquiryDelete :one
DELETE FROM inquiries WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: InquiryAssignee :one
-- A user an inquiry may be assigned to: one of the organization's, active.
SELECT id, email, full_name, is_active FROM users
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);
