-- name: ScheduleConfigGetDefault :one
SELECT * FROM schedule_configs WHERE organization_id = sqlc.arg(organization_id) AND campaign_id IS NULL;

-- name: ScheduleConfigGetByCampaign :one
SELECT * FROM schedule_configs WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = sqlc.arg(campaign_id);

-- name: ScheduleConfigEffective :many
-- The campaign's own schedule, else the organization default: at most one
-- row.
SELECT * FROM schedule_configs
WHERE organization_id = sqlc.arg(organization_id)
  AND (campaign_id = sqlc.arg(campaign_id) OR campaign_id IS NULL)
ORDER BY campaign_id NULLS LAST
LIMIT 1;

-- name: ScheduleConfigUpsertDefault :one
INSERT INTO schedule_configs (organization_id, id, campaign_id, timezone, active_days, start_time, end_time, auto_call_enabled)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), NULL, sqlc.arg(timezone), sqlc.arg(active_days), sqlc.arg(start_time),
        sqlc.arg(end_time), sqlc.arg(auto_call_enabled))
ON CONFLICT (organization_id) WHERE campaign_id IS NULL DO UPDATE SET
  timezone = EXCLUDED.timezone, active_days = EXCLUDED.active_days, start_time = EXCLUDED.start_time,
  end_time = EXCLUDED.end_time, auto_call_enabled = EXCLUDED.auto_call_enabled, updated_at = now()
RETURNING *;

-- name: ScheduleConfigUpsertCampaign :one
INSERT INTO schedule_configs (organization_id, id, campaign_id, timezone, active_days, start_time, end_time, auto_call_enabled)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(campaign_id), sqlc.arg(timezone), sqlc.arg(active_days),
        sqlc.arg(start_time), sqlc.arg(end_time), sqlc.arg(auto_call_enabled))
ON CONFLICT (organization_id, campaign_id) WHERE campaign_id IS NOT NULL DO UPDATE SET
  timezone = EXCLUDED.timezone, active_days = EXCLUDED.active_days, start_time = EXCLUDED.start_time,
  end_time = EXCLUDED.end_time, auto_call_enabled = EXCLUDED.auto_call_enabled, updated_at = now()
RETURNING *;

-- name: ScheduleConfigDeleteByCampaign :many
DELETE FROM schedule_configs WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = sqlc.arg(campaign_id)
RETURNING *;

-- name: ScheduleConfigListByCampaigns :many
SELECT * FROM schedule_configs
WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = ANY (sqlc.arg(campaign_ids)::uuid[]);
