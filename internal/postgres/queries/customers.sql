-- name: CustomerGet :one
SELECT * FROM customers WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CustomerList :many
-- Newest first. q_prefix and q_phone_reversed as in ServiceRecordList.
SELECT * FROM customers c
WHERE c.organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(phone)::text IS NULL OR c.phone = sqlc.narg(phone)::text)
  AND (sqlc.narg(dms_customer_id)::text IS NULL OR c.dms_customer_id = sqlc.narg(dms_customer_id)::text)
  AND ((sqlc.narg(q_prefix)::text IS NULL AND sqlc.narg(q_phone_reversed)::text IS NULL)
       OR lower(c.last_name) LIKE sqlc.narg(q_prefix)::text
       OR lower(c.first_name || ' ' || c.last_name) LIKE sqlc.narg(q_prefix)::text
       OR (c.phone IS NOT NULL AND reverse(c.phone) LIKE sqlc.narg(q_phone_reversed)::text))
  AND (sqlc.narg(after)::uuid IS NULL OR c.id < sqlc.narg(after)::uuid)
ORDER BY c.id DESC
LIMIT sqlc.arg(lim);
