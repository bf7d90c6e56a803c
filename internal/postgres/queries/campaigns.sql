-- name: CampaignInsert :one
INSERT INTO campaigns (organization_id, id, name, description, type, audience_filter, agent_config,
                       max_attempts, retry_gap, starts_at, ends_at, created_by, updated_by)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(description), sqlc.arg(type),
        sqlc.arg(audience_filter), sqlc.arg(agent_config), sqlc.arg(max_attempts),
        make_interval(mins => sqlc.arg(retry_gap_minutes)::integer),
        sqlc.narg(starts_at), sqlc.narg(ends_at), sqlc.narg(actor), sqlc.narg(actor))
RETURNING *;

-- name: CampaignGet :one
SELECT * FROM campaigns WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CampaignGetForUpdate :one
-- Serializes a campaign's changes and transitions.
SELECT * FROM campaigns WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) FOR UPDATE;

-- name: CampaignList :many
SELECT * FROM campaigns
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: CampaignUpdate :one
UPDATE campaigns SET
  name = sqlc.arg(name),
  description = sqlc.arg(description),
  type = sqlc.arg(type),
  audience_filter = sqlc.arg(audience_filter),
  agent_config = sqlc.arg(agent_config),
  max_attempts = sqlc.arg(max_attempts),
  retry_gap = make_interval(mins => sqlc.arg(retry_gap_minutes)::integer),
  starts_at = sqlc.narg(starts_at),
  ends_at = sqlc.narg(ends_at),
  updated_by = sqlc.narg(actor),
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: CampaignSetStatus :one
-- A lifecycle transition; launched_at is set by the first launch only.
UPDATE campaigns SET
  status = sqlc.arg(status),
  launched_at = CASE WHEN sqlc.arg(launched)::bool THEN COALESCE(launched_at, now()) ELSE launched_at END,
  updated_by = COALESCE(sqlc.narg(actor), updated_by),
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: CampaignSetScheduleConfig :exec
UPDATE campaigns SET schedule_config_id = sqlc.narg(schedule_config_id), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CampaignDelete :one
DELETE FROM campaigns WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: CampaignListStartDue :many
-- Scheduled campaigns whose start has come, locked for their transition.
SELECT * FROM campaigns
WHERE organization_id = sqlc.arg(organization_id) AND status = 'scheduled' AND starts_at <= sqlc.arg(now)::timestamptz
ORDER BY id
FOR UPDATE SKIP LOCKED;

-- name: CampaignOrgProfile :one
-- What a campaign takes from its organization: the name (the default
-- disclosure), the time zone (schedules, service days) and the currency.
SELECT name, timezone, currency FROM organizations WHERE id = sqlc.arg(id);
