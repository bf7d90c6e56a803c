-- name: APIKeyOwner :one
SELECT o.organization_id::uuid AS organization_id, o.api_key_id::uuid AS api_key_id
FROM auth_api_key_owner(sqlc.arg(key_hash)::bytea) AS o;

-- name: APIKeyInsert :one
INSERT INTO api_keys (organization_id, id, name, prefix, key_hash, role_id, created_by, expires_at)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(prefix), sqlc.arg(key_hash),
        sqlc.arg(role_id), sqlc.narg(created_by), sqlc.narg(expires_at))
RETURNING *;

-- name: APIKeyGet :one
SELECT sqlc.embed(k), r.key AS role_key FROM api_keys k
JOIN roles r ON r.organization_id = k.organization_id AND r.id = k.role_id
WHERE k.organization_id = sqlc.arg(organization_id) AND k.id = sqlc.arg(id);

-- name: APIKeyList :many
SELECT sqlc.embed(k), r.key AS role_key FROM api_keys k
JOIN roles r ON r.organization_id = k.organization_id AND r.id = k.role_id
WHERE k.organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(after)::uuid IS NULL OR k.id < sqlc.narg(after))
ORDER BY k.id DESC
LIMIT sqlc.arg(lim);

-- name: APIKeyRevoke :one
UPDATE api_keys SET revoked_at = now(), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND revoked_at IS NULL
RETURNING *;

-- name: PrincipalForAPIKey :one
SELECT k.id AS api_key_id, k.revoked_at, k.expires_at,
       r.id AS role_id, r.key AS role_key, r.is_system, r.permissions,
       o.status AS org_status
FROM api_keys k
JOIN roles r ON r.organization_id = k.organization_id AND r.id = k.role_id
JOIN organizations o ON o.id = k.organization_id
WHERE k.organization_id = sqlc.arg(organization_id) AND k.id = sqlc.arg(id);

-- name: APIKeyTouch :exec
-- At most one write a minute per key, however busy it is.
UPDATE api_keys SET last_used_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: APIKeyDeleteRevokedByRole :execrows
-- Revoked keys only keep a role from being deleted; their history stays in
-- the audit log.
DELETE FROM api_keys
WHERE organization_id = sqlc.arg(organization_id) AND role_id = sqlc.arg(role_id) AND revoked_at IS NOT NULL;
