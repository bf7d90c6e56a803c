-- name: CallGet :one
SELECT * FROM calls WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CallList :many
SELECT * FROM calls
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(campaign_id)::uuid IS NULL OR campaign_id = sqlc.narg(campaign_id))
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(outcome)::text IS NULL OR outcome = sqlc.narg(outcome))
  AND (sqlc.narg(direction)::text IS NULL OR direction = sqlc.narg(direction))
  AND (sqlc.narg(since)::timestamptz IS NULL OR created_at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR created_at < sqlc.narg(until))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: TranscriptListByCall :many
SELECT * FROM transcripts
WHERE organization_id = sqlc.arg(organization_id) AND call_id = sqlc.arg(call_id)
ORDER BY seq;

-- name: AudioFileGetByCall :one
SELECT * FROM audio_files WHERE organization_id = sqlc.arg(organization_id) AND call_id = sqlc.arg(call_id);
