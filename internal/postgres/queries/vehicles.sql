-- name: VehicleGet :one
SELECT * FROM vehicles WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: VehicleList :many
-- Newest first.
SELECT * FROM vehicles v
WHERE v.organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(customer_id)::uuid IS NULL OR v.customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(vin)::text IS NULL OR v.vin = sqlc.narg(vin)::text)
  AND (sqlc.narg(make)::text IS NULL OR lower(v.make) = lower(sqlc.narg(make)::text))
  AND (sqlc.narg(after)::uuid IS NULL OR v.id < sqlc.narg(after)::uuid)
ORDER BY v.id DESC
LIMIT sqlc.arg(lim);
