-- name: RoleInsert :one
INSERT INTO roles (organization_id, id, key, name, description, is_system, permissions)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(key), sqlc.arg(name), sqlc.arg(description), sqlc.arg(is_system), sqlc.arg(permissions))
RETURNING *;

-- name: RoleGet :one
SELECT * FROM roles WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: RoleGetByKey :one
SELECT * FROM roles WHERE organization_id = sqlc.arg(organization_id) AND key = sqlc.arg(key);

-- name: RoleList :many
SELECT * FROM roles
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: RoleUpdate :one
UPDATE roles SET name = sqlc.arg(name), description = sqlc.arg(description),
  permissions = sqlc.arg(permissions), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND NOT is_system
RETURNING *;

-- name: RoleDelete :execrows
DELETE FROM roles
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND NOT is_system;

-- name: RoleGetForUpdate :one
-- Locks a role for a read-modify-write. NO KEY UPDATE does not block users
-- and API keys that reference the role (their foreign keys take KEY SHARE).
SELECT * FROM roles
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
FOR NO KEY UPDATE;

-- name: RoleLockByKey :one
-- Serializes changes that take a user out of a role (the owner role: the
-- last active owner must stay) without blocking users joining it.
SELECT id FROM roles
WHERE organization_id = sqlc.arg(organization_id) AND key = sqlc.arg(key)
FOR NO KEY UPDATE;

-- name: RoleUsage :one
-- Who holds a role: users (active or not) and unrevoked API keys.
SELECT
  (SELECT count(*) FROM users u WHERE u.organization_id = sqlc.arg(organization_id) AND u.role_id = sqlc.arg(id)) AS users,
  (SELECT count(*) FROM api_keys k WHERE k.organization_id = sqlc.arg(organization_id) AND k.role_id = sqlc.arg(id) AND k.revoked_at IS NULL) AS api_keys;
