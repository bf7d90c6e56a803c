-- name: BookingInsert :one
INSERT INTO bookings (organization_id, id, call_id, customer_id, vehicle_id, campaign_id, scheduled_at,
                      service_type, notes, customer_name, customer_phone)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.narg(call_id), sqlc.narg(customer_id), sqlc.narg(vehicle_id),
        sqlc.narg(campaign_id), sqlc.arg(scheduled_at), sqlc.narg(service_type), sqlc.arg(notes),
        sqlc.arg(customer_name), sqlc.narg(customer_phone))
RETURNING *;

-- name: BookingInsertFromCall :many
-- The booking a call's outcome asks for; one per call (a call that already
-- has one gets no row).
INSERT INTO bookings (organization_id, id, call_id, customer_id, vehicle_id, campaign_id, scheduled_at,
                      service_type, notes, customer_name, customer_phone)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(call_id), sqlc.narg(customer_id), sqlc.narg(vehicle_id),
        sqlc.narg(campaign_id), sqlc.arg(scheduled_at), sqlc.narg(service_type), sqlc.arg(notes),
        sqlc.arg(customer_name), sqlc.narg(customer_phone))
ON CONFLICT (organization_id, call_id) WHERE call_id IS NOT NULL DO NOTHING
RETURNING *;

-- name: BookingGet :one
SELECT * FROM bookings WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: BookingGetForUpdate :one
SELECT * FROM bookings WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) FOR UPDATE;

-- name: BookingList :many
SELECT * FROM bookings
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(campaign_id)::uuid IS NULL OR campaign_id = sqlc.narg(campaign_id))
  AND (sqlc.narg(call_id)::uuid IS NULL OR call_id = sqlc.narg(call_id))
  AND (sqlc.narg(scheduled_from)::timestamptz IS NULL OR scheduled_at >= sqlc.narg(scheduled_from))
  AND (sqlc.narg(scheduled_to)::timestamptz IS NULL OR scheduled_at < sqlc.narg(scheduled_to))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: BookingUpdate :one
UPDATE bookings SET
  scheduled_at = sqlc.arg(scheduled_at), service_type = sqlc.narg(service_type), notes = sqlc.arg(notes),
  vehicle_id = sqlc.narg(vehicle_id), customer_name = sqlc.arg(customer_name), customer_phone = sqlc.narg(customer_phone),
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: BookingSetStatus :one
UPDATE bookings SET status = sqlc.arg(status), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: BookingDelete :one
DELETE FROM bookings WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;
