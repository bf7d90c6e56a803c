-- name: RecordImportInsert :one
INSERT INTO service_record_imports (
  organization_id, id, status, source, dms_integration_id, file_name, storage_key, size_bytes, sha256,
  created_by, created_by_api_key)
VALUES (
  sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(status), sqlc.arg(source), sqlc.narg(dms_integration_id),
  sqlc.arg(file_name), sqlc.narg(storage_key), sqlc.narg(size_bytes), sqlc.narg(sha256),
  sqlc.narg(created_by), sqlc.narg(created_by_api_key))
RETURNING *;

-- name: RecordImportGet :one
SELECT * FROM service_record_imports WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: RecordImportList :many
SELECT * FROM service_record_imports
WHERE organization_id = sqlc.arg(organization_id)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after)::uuid)
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: RecordImportStart :one
-- Claims a pending import for loading; a running one is claimed again (the
-- previous attempt died: its transaction rolled back). Finished imports
-- return no row.
UPDATE service_record_imports
SET status = 'running', started_at = now(), attempts = attempts + 1, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status IN ('pending', 'running')
RETURNING *;

-- name: RecordImportFinish :one
UPDATE service_record_imports SET
  status            = sqlc.arg(status),
  delimiter         = sqlc.narg(delimiter),
  size_bytes        = COALESCE(sqlc.narg(size_bytes), size_bytes),
  rows_total        = sqlc.arg(rows_total),
  rows_inserted     = sqlc.arg(rows_inserted),
  rows_updated      = sqlc.arg(rows_updated),
  rows_unchanged    = sqlc.arg(rows_unchanged),
  rows_duplicate    = sqlc.arg(rows_duplicate),
  rows_invalid      = sqlc.arg(rows_invalid),
  customers_created = sqlc.arg(customers_created),
  vehicles_created  = sqlc.arg(vehicles_created),
  errors_total      = sqlc.arg(errors_total),
  warnings_total    = sqlc.arg(warnings_total),
  issues_truncated  = sqlc.arg(issues_truncated),
  failure           = sqlc.narg(failure),
  storage_key       = NULL,
  finished_at       = now(),
  updated_at        = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: RecordImportIssueInsert :exec
-- An import's kept issues in one statement (COPY does not work under
-- row-level security). The arrays have one element per issue.
INSERT INTO service_record_import_issues (organization_id, import_id, severity, line, column_name, reason)
SELECT sqlc.arg(organization_id), sqlc.arg(import_id),
       unnest(sqlc.arg(severities)::text[]), unnest(sqlc.arg(lines)::integer[]),
       unnest(sqlc.arg(column_names)::text[]), unnest(sqlc.arg(reasons)::text[]);

-- name: RecordImportIssueList :many
SELECT * FROM service_record_import_issues
WHERE organization_id = sqlc.arg(organization_id) AND import_id = sqlc.arg(import_id) AND severity = sqlc.arg(severity)
ORDER BY line, id
LIMIT sqlc.arg(lim);

-- name: RecordImportActiveForIntegration :one
-- Whether an integration has a pull waiting or running.
SELECT EXISTS (
  SELECT 1 FROM service_record_imports
  WHERE organization_id = sqlc.arg(organization_id) AND dms_integration_id = sqlc.arg(dms_integration_id)
    AND status IN ('pending', 'running')
)::bool AS active;
