-- name: TagInsert :one
INSERT INTO tags (organization_id, id, name, type, color)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(type), sqlc.arg(color))
RETURNING *;

-- name: TagGet :one
SELECT * FROM tags WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: TagList :many
SELECT * FROM tags
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type))
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: TagUpdate :one
UPDATE tags SET name = sqlc.arg(name), type = sqlc.arg(type), color = sqlc.arg(color), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: TagDelete :one
DELETE FROM tags WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;
