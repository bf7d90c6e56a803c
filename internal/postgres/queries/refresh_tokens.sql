-- name: RefreshTokenOwner :one
-- The tenant and user of a presented refresh token, through the privileged
-- auth_refresh_token_owner function: the token is all the client sends.
SELECT o.organization_id::uuid AS organization_id, o.user_id::uuid AS user_id
FROM auth_refresh_token_owner(sqlc.arg(token_hash)::bytea) AS o;

-- name: RefreshTokenInsert :one
INSERT INTO refresh_tokens (organization_id, id, user_id, family_id, token_hash, expires_at, client_ip, user_agent)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(family_id), sqlc.arg(token_hash),
        sqlc.arg(expires_at), sqlc.narg(client_ip), sqlc.narg(user_agent))
RETURNING *;

-- name: RefreshTokenRotate :one
-- Spends a live token. Of two concurrent rotations of one token, the second
-- waits on the row lock, re-checks used_at after the first commits, and
-- matches no row: only one caller ever gets a successor.
UPDATE refresh_tokens SET used_at = sqlc.arg(now)::timestamptz, updated_at = sqlc.arg(now)::timestamptz
WHERE organization_id = sqlc.arg(organization_id) AND token_hash = sqlc.arg(token_hash)
  AND used_at IS NULL AND revoked_at IS NULL AND expires_at > sqlc.arg(now)::timestamptz
RETURNING *;

-- name: RefreshTokenGetByHash :one
SELECT * FROM refresh_tokens
WHERE organization_id = sqlc.arg(organization_id) AND token_hash = sqlc.arg(token_hash);

-- name: RefreshTokenRevokeFamily :execrows
-- Ends one session: every token of the family that is not yet revoked.
UPDATE refresh_tokens SET revoked_at = sqlc.arg(now)::timestamptz, revoked_reason = sqlc.arg(reason)::text,
    updated_at = sqlc.arg(now)::timestamptz
WHERE organization_id = sqlc.arg(organization_id) AND family_id = sqlc.arg(family_id) AND revoked_at IS NULL;

-- name: RefreshTokenRevokeUser :execrows
-- Ends every session of a user except the family kept (none when NULL).
UPDATE refresh_tokens SET revoked_at = sqlc.arg(now)::timestamptz, revoked_reason = sqlc.arg(reason)::text,
    updated_at = sqlc.arg(now)::timestamptz
WHERE organization_id = sqlc.arg(organization_id) AND user_id = sqlc.arg(user_id) AND revoked_at IS NULL
  AND (sqlc.narg(keep_family)::uuid IS NULL OR family_id <> sqlc.narg(keep_family)::uuid);
