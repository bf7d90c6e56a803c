-- name: RecordOrganizationDefaults :one
-- What a load needs of its organization: the zone that dates without an
-- offset are read in, and the currency of amounts.
SELECT timezone, currency FROM organizations WHERE id = sqlc.arg(organization_id);

-- name: RecordOrganizationBySlug :one
-- The tenant named by `autopulse import --org SLUG` (a privileged lookup).
SELECT * FROM organization_id_by_slug(sqlc.arg(slug)::text);

-- name: ServiceRecordExistsByRO :one
SELECT EXISTS (
  SELECT 1 FROM service_records WHERE organization_id = sqlc.arg(organization_id) AND ro_number = sqlc.arg(ro_number)
)::bool AS found;

-- name: ServiceRecordGet :one
SELECT sqlc.embed(r),
       c.first_name AS customer_first_name, c.last_name AS customer_last_name, c.phone AS customer_phone,
       v.vin AS vehicle_vin, v.year AS vehicle_year, v.make AS vehicle_make, v.model AS vehicle_model
FROM service_records r
LEFT JOIN customers c ON c.organization_id = r.organization_id AND c.id = r.customer_id
LEFT JOIN vehicles v ON v.organization_id = r.organization_id AND v.id = r.vehicle_id
WHERE r.organization_id = sqlc.arg(organization_id) AND r.id = sqlc.arg(id);

-- name: ServiceRecordList :many
-- Newest service first. The cursor is the last row's id; the page resumes
-- after that row's (service_date, id). q_prefix is a lower-case LIKE prefix
-- pattern (RO number, last name, "first last"); q_phone_reversed a LIKE
-- prefix over reverse(phone) (the number's trailing digits).
SELECT sqlc.embed(r),
       c.first_name AS customer_first_name, c.last_name AS customer_last_name, c.phone AS customer_phone,
       v.vin AS vehicle_vin, v.year AS vehicle_year, v.make AS vehicle_make, v.model AS vehicle_model
FROM service_records r
LEFT JOIN customers c ON c.organization_id = r.organization_id AND c.id = r.customer_id
LEFT JOIN vehicles v ON v.organization_id = r.organization_id AND v.id = r.vehicle_id
WHERE r.organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(service_from)::date IS NULL OR r.service_date >= sqlc.narg(service_from)::date)
  AND (sqlc.narg(service_to)::date IS NULL OR r.service_date <= sqlc.narg(service_to)::date)
  AND (sqlc.narg(service_type)::text IS NULL OR lower(r.service_type) = lower(sqlc.narg(service_type)::text))
  AND (sqlc.narg(advisor)::text IS NULL OR lower(r.advisor_name) = lower(sqlc.narg(advisor)::text))
  AND (sqlc.narg(status)::text IS NULL OR r.status = sqlc.narg(status)::text)
  AND (sqlc.narg(source)::text IS NULL OR r.source = sqlc.narg(source)::text)
  AND (sqlc.narg(customer_id)::uuid IS NULL OR r.customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(vehicle_id)::uuid IS NULL OR r.vehicle_id = sqlc.narg(vehicle_id)::uuid)
  AND (sqlc.narg(vin)::text IS NULL OR r.vehicle_id IN (
        SELECT x.id FROM vehicles x WHERE x.organization_id = sqlc.arg(organization_id) AND x.vin = sqlc.narg(vin)::text))
  AND ((sqlc.narg(q_prefix)::text IS NULL AND sqlc.narg(q_phone_reversed)::text IS NULL)
       OR lower(r.ro_number) LIKE sqlc.narg(q_prefix)::text
       OR r.customer_id IN (
         SELECT k.id FROM customers k
         WHERE k.organization_id = sqlc.arg(organization_id)
           AND (lower(k.last_name) LIKE sqlc.narg(q_prefix)::text
                OR lower(k.first_name || ' ' || k.last_name) LIKE sqlc.narg(q_prefix)::text
                OR (k.phone IS NOT NULL AND reverse(k.phone) LIKE sqlc.narg(q_phone_reversed)::text))))
  AND (sqlc.narg(after)::uuid IS NULL OR (r.service_date, r.id) < (
        SELECT a.service_date, a.id FROM service_records a
        WHERE a.organization_id = sqlc.arg(organization_id) AND a.id = sqlc.narg(after)::uuid))
ORDER BY r.service_date DESC, r.id DESC
LIMIT sqlc.arg(lim);

-- name: ServiceRecordGetForUpdate :one
SELECT * FROM service_records
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
FOR UPDATE;

-- name: ServiceRecordUpdate :one
UPDATE service_records SET
  customer_id  = sqlc.narg(customer_id),
  vehicle_id   = sqlc.narg(vehicle_id),
  ro_number    = sqlc.arg(ro_number),
  service_date = sqlc.arg(service_date),
  closed_at    = sqlc.narg(closed_at),
  service_type = sqlc.narg(service_type),
  op_codes     = sqlc.arg(op_codes),
  advisor_name = sqlc.narg(advisor_name),
  mileage      = sqlc.narg(mileage),
  total_amount = sqlc.narg(total_amount),
  currency     = sqlc.arg(currency),
  pay_type     = sqlc.narg(pay_type),
  status       = sqlc.arg(status),
  raw          = sqlc.arg(raw),
  updated_at   = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: ServiceRecordDelete :one
DELETE FROM service_records
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;
