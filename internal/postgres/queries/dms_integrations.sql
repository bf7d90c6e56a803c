-- name: DMSIntegrationInsert :one
INSERT INTO dms_integrations (organization_id, id, name, type, config, config_secret, timeout_seconds, is_active)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(type), sqlc.arg(config),
        sqlc.narg(config_secret), sqlc.arg(timeout_seconds), sqlc.arg(is_active))
RETURNING *;

-- name: DMSIntegrationGet :one
SELECT * FROM dms_integrations WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: DMSIntegrationGetForUpdate :one
SELECT * FROM dms_integrations WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
FOR UPDATE;

-- name: DMSIntegrationList :many
SELECT * FROM dms_integrations
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type)::text)
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after)::uuid)
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: DMSIntegrationUpdate :one
UPDATE dms_integrations SET
  name            = sqlc.arg(name),
  config          = sqlc.arg(config),
  config_secret   = sqlc.narg(config_secret),
  timeout_seconds = sqlc.arg(timeout_seconds),
  is_active       = sqlc.arg(is_active),
  updated_at      = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: DMSIntegrationDelete :one
DELETE FROM dms_integrations WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: DMSIntegrationSyncFinish :exec
-- A pull's outcome. The cursor moves only when the pull succeeded.
UPDATE dms_integrations SET
  last_sync_at     = sqlc.arg(synced_at)::timestamptz,
  last_sync_status = sqlc.arg(status)::text,
  last_sync_error  = sqlc.narg(error),
  sync_cursor      = COALESCE(sqlc.narg(cursor), sync_cursor),
  updated_at       = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);
