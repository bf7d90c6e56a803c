-- name: UserInsert :one
INSERT INTO users (organization_id, id, email, full_name, password_hash, role_id, is_platform_admin)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(email), sqlc.arg(full_name), sqlc.arg(password_hash), sqlc.arg(role_id), sqlc.arg(is_platform_admin))
RETURNING *;

-- name: UserGet :one
SELECT * FROM users WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: UserByEmail :one
-- The caller first learns the tenant through auth_user_by_email.
SELECT * FROM users WHERE organization_id = sqlc.arg(organization_id) AND email = lower(sqlc.arg(email));

-- name: UserList :many
SELECT u.*, r.key AS role_key FROM users u
JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
WHERE u.organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(after)::uuid IS NULL OR u.id < sqlc.narg(after))
ORDER BY u.id DESC
LIMIT sqlc.arg(lim);

-- name: UserUpdate :one
UPDATE users SET full_name = sqlc.arg(full_name), role_id = sqlc.arg(role_id),
  is_active = sqlc.arg(is_active), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: UserSetPassword :exec
UPDATE users SET password_hash = sqlc.arg(password_hash), password_changed_at = now(), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: UserTouchLogin :exec
UPDATE users SET last_login_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: UserDelete :execrows
DELETE FROM users WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: UserCountByRole :one
SELECT count(*) FROM users
WHERE organization_id = sqlc.arg(organization_id) AND role_id = sqlc.arg(role_id) AND is_active;

-- name: UserEmailOwner :one
SELECT o.organization_id::uuid AS organization_id, o.user_id::uuid AS user_id
FROM auth_user_by_email(sqlc.arg(email)::text) AS o;

-- name: PrincipalForUser :one
-- Everything authorization needs about a user, in one round trip.
SELECT u.id AS user_id, u.email, u.is_active, u.is_platform_admin, u.password_changed_at,
       r.id AS role_id, r.key AS role_key, r.is_system, r.permissions,
       o.status AS org_status, o.is_platform
FROM users u
JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
JOIN organizations o ON o.id = u.organization_id
WHERE u.organization_id = sqlc.arg(organization_id) AND u.id = sqlc.arg(id);

-- name: UserGetWithRole :one
SELECT sqlc.embed(u), r.key AS role_key, r.is_system AS role_is_system, r.permissions AS role_permissions
FROM users u
JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
WHERE u.organization_id = sqlc.arg(organization_id) AND u.id = sqlc.arg(id);

-- name: UserGetWithRoleForUpdate :one
-- Locks the user for a read-modify-write (merge patch, delete).
SELECT sqlc.embed(u), r.key AS role_key, r.is_system AS role_is_system, r.permissions AS role_permissions
FROM users u
JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
WHERE u.organization_id = sqlc.arg(organization_id) AND u.id = sqlc.arg(id)
FOR NO KEY UPDATE OF u;
