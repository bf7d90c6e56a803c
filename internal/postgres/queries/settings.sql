-- name: SettingGet :one
SELECT * FROM settings WHERE organization_id = sqlc.arg(organization_id) AND key = sqlc.arg(key);

-- name: SettingList :many
-- Keyset pagination by key: keys are unique per organization and read in
-- the order clients expect.
SELECT * FROM settings
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category))
  AND (sqlc.narg(after)::text IS NULL OR key > sqlc.narg(after))
ORDER BY key
LIMIT sqlc.arg(lim);

-- name: SettingUpsert :one
-- Returns no row when the stored value, category and description are
-- already the ones given: nothing changed, so nothing is written.
INSERT INTO settings (organization_id, id, key, value, category, description)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(key), sqlc.arg(value), sqlc.arg(category), sqlc.arg(description))
ON CONFLICT (organization_id, key) DO UPDATE
SET value = excluded.value, category = excluded.category, description = excluded.description, updated_at = now()
WHERE settings.value IS DISTINCT FROM excluded.value
   OR settings.category IS DISTINCT FROM excluded.category
   OR settings.description IS DISTINCT FROM excluded.description
RETURNING *;

-- name: SettingDelete :one
DELETE FROM settings WHERE organization_id = sqlc.arg(organization_id) AND key = sqlc.arg(key)
RETURNING *;

-- name: SettingCountCustom :one
SELECT count(*) FROM settings
WHERE organization_id = sqlc.arg(organization_id) AND starts_with(key, 'custom.');

-- name: SettingOrganizationProfile :one
-- The organization's profile values that serve as defaults for the
-- timezone and review_link settings.
SELECT timezone, google_review_link FROM organizations WHERE id = sqlc.arg(organization_id);
