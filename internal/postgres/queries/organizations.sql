-- name: OrganizationInsert :one
INSERT INTO organizations (id, name, slug, timezone, is_platform)
VALUES (sqlc.arg(id), sqlc.arg(name), sqlc.arg(slug), sqlc.arg(timezone), sqlc.arg(is_platform))
RETURNING *;

-- name: OrganizationGet :one
SELECT * FROM organizations WHERE id = sqlc.arg(id);

-- name: OrganizationGetForUpdate :one
-- Locks the row for a read-modify-write (a merge patch, a status change).
SELECT * FROM organizations WHERE id = sqlc.arg(id) FOR NO KEY UPDATE;

-- name: OrganizationUpdate :one
UPDATE organizations SET
  name = sqlc.arg(name),
  timezone = sqlc.arg(timezone),
  phone = sqlc.narg(phone),
  address = sqlc.narg(address),
  postal_code = sqlc.narg(postal_code),
  state = sqlc.narg(state),
  google_review_link = sqlc.narg(google_review_link),
  call_concurrency_limit = sqlc.arg(call_concurrency_limit),
  updated_at = now()
WHERE id = sqlc.arg(id)
RETURNING *;

-- name: OrganizationSetStatus :one
UPDATE organizations SET status = sqlc.arg(status), updated_at = now()
WHERE id = sqlc.arg(id)
RETURNING *;

-- name: AdminOrganizationList :many
-- Every organization, newest first, optionally of one status: the platform
-- administrators' cross-tenant read, through the privileged function.
SELECT * FROM admin_organization_list(sqlc.narg(after)::uuid, sqlc.arg(lim)::integer, sqlc.narg(status)::text);
