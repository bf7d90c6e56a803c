-- name: SessionRole :one
SELECT rolname::text AS rolname, COALESCE(rolsuper, false)::bool AS rolsuper, COALESCE(rolbypassrls, false)::bool AS rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user;

-- name: SchemaVersion :one
SELECT COALESCE(max(version_id), 0)::bigint FROM goose_db_version WHERE is_applied;
