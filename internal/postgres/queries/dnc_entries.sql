-- name: DNCEntryInsert :many
-- Adds a number; a number already listed keeps its entry (no row).
INSERT INTO dnc_entries (organization_id, id, phone, reason, source, created_by)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(phone), sqlc.arg(reason), sqlc.arg(source), sqlc.narg(created_by))
ON CONFLICT (organization_id, phone) DO NOTHING
RETURNING *;

-- name: DNCEntryInsertMany :many
-- Adds numbers in one statement (an import); numbers already listed keep
-- their entries. Returns the numbers added.
INSERT INTO dnc_entries (organization_id, id, phone, reason, source, created_by)
SELECT sqlc.arg(organization_id), uuid_v7(), unnest(sqlc.arg(phones)::text[]), unnest(sqlc.arg(reasons)::text[]),
       'import', sqlc.narg(created_by)
ON CONFLICT (organization_id, phone) DO NOTHING
RETURNING phone;

-- name: DNCEntryGet :one
SELECT * FROM dnc_entries WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: DNCEntryGetByPhone :one
SELECT * FROM dnc_entries WHERE organization_id = sqlc.arg(organization_id) AND phone = sqlc.arg(phone);

-- name: DNCEntryList :many
-- Newest first; phone matches entries whose number contains those digits.
SELECT * FROM dnc_entries
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(phone)::text IS NULL OR phone LIKE '%' || sqlc.narg(phone) || '%')
  AND (sqlc.narg(source)::text IS NULL OR source = sqlc.narg(source))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: DNCEntryDelete :one
DELETE FROM dnc_entries WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;
