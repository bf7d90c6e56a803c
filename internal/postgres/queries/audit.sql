-- name: AuditLogInsert :exec
INSERT INTO audit_logs (organization_id, id, actor_user_id, actor_api_key_id, action, entity, entity_id,
                        old_value, new_value, ip, user_agent, request_id)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.narg(actor_user_id), sqlc.narg(actor_api_key_id),
        sqlc.arg(action), sqlc.arg(entity), sqlc.arg(entity_id), sqlc.narg(old_value), sqlc.narg(new_value),
        sqlc.narg(ip), sqlc.narg(user_agent), sqlc.narg(request_id));

-- name: AuditLogList :many
SELECT * FROM audit_logs
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(entity)::text IS NULL OR entity = sqlc.narg(entity))
  AND (sqlc.narg(entity_id)::text IS NULL OR entity_id = sqlc.narg(entity_id))
  AND (sqlc.narg(actor_user_id)::uuid IS NULL OR actor_user_id = sqlc.narg(actor_user_id))
  AND (sqlc.narg(since)::timestamptz IS NULL OR created_at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR created_at < sqlc.narg(until))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);
