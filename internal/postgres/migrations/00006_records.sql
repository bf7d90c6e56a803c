-- +goose Up
-- Service records in: CSV imports with their row-level issues, the sync
-- bookkeeping of DMS integrations, and the indexes behind the records,
-- customers and vehicles screens. pg_trgm is not available to us, so text
-- search is by prefix: RO numbers and names through lower(…)
-- text_pattern_ops indexes (LIKE 'abc%' whatever the collation), phone
-- numbers by their trailing digits through an index on reverse(phone).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- One CSV import (an upload, the `autopulse import` command, or a DMS pull):
-- its file, its progress and what it came to. An upload is spooled to blob
-- storage (storage_key) until a worker has loaded it.
CREATE TABLE service_record_imports (
  organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                  uuid NOT NULL DEFAULT uuid_v7(),
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  source              text NOT NULL CHECK (source IN ('upload', 'cli', 'dms')),
  dms_integration_id  uuid,
  file_name           text NOT NULL DEFAULT '',
  storage_key         text,
  size_bytes          bigint,
  sha256              text,
  delimiter           text,
  rows_total          integer NOT NULL DEFAULT 0,
  rows_inserted       integer NOT NULL DEFAULT 0,
  rows_updated        integer NOT NULL DEFAULT 0,
  rows_unchanged      integer NOT NULL DEFAULT 0,
  rows_duplicate      integer NOT NULL DEFAULT 0,
  rows_invalid        integer NOT NULL DEFAULT 0,
  customers_created   integer NOT NULL DEFAULT 0,
  vehicles_created    integer NOT NULL DEFAULT 0,
  errors_total        integer NOT NULL DEFAULT 0,
  warnings_total      integer NOT NULL DEFAULT 0,
  -- More issues than the import_issues table keeps (see the service's caps).
  issues_truncated    boolean NOT NULL DEFAULT false,
  -- Why a failed import failed (the file as a whole, not a row).
  failure             text,
  attempts            integer NOT NULL DEFAULT 0,
  created_by          uuid,
  created_by_api_key  uuid,
  started_at          timestamptz,
  finished_at         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, dms_integration_id) REFERENCES dms_integrations (organization_id, id) ON DELETE SET NULL (dms_integration_id),
  FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX service_record_imports_org_id_idx ON service_record_imports (organization_id, id DESC);

-- The rows an import did not load (errors) or loaded with a remark
-- (warnings), by file line. Capped per import; the import keeps the totals.
CREATE TABLE service_record_import_issues (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  import_id        uuid NOT NULL,
  severity         text NOT NULL CHECK (severity IN ('error', 'warning')),
  line             integer NOT NULL CHECK (line >= 0),
  column_name      text NOT NULL DEFAULT '',
  reason           text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, import_id) REFERENCES service_record_imports (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX service_record_import_issues_import_idx
  ON service_record_import_issues (organization_id, import_id, severity, line, id);

-- +goose StatementBegin
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['service_record_imports', 'service_record_import_issues'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO autopulse_app '
                   'USING (organization_id = current_org_id()) '
                   'WITH CHECK (organization_id = current_org_id())', t);
    EXECUTE format('CREATE POLICY owner_access ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO autopulse_app', t);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- A DMS pull resumes from the provider's own cursor (an opaque token or a
-- timestamp, as the provider defines it) and says why the last one failed.
ALTER TABLE dms_integrations ADD COLUMN sync_cursor text;
ALTER TABLE dms_integrations ADD COLUMN last_sync_error text;

-- Search. These tables are empty when this runs on a new installation;
-- goose runs each file in a transaction, where CONCURRENTLY is not allowed.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX service_records_org_ro_prefix_idx
  ON service_records (organization_id, lower(ro_number) text_pattern_ops);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX customers_org_last_name_prefix_idx
  ON customers (organization_id, lower(last_name) text_pattern_ops);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX customers_org_full_name_prefix_idx
  ON customers (organization_id, lower(first_name || ' ' || last_name) text_pattern_ops);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX customers_org_phone_suffix_idx
  ON customers (organization_id, reverse(phone) text_pattern_ops) WHERE phone IS NOT NULL;

-- `autopulse import FILE --org SLUG` names its tenant by slug before the
-- tenant is known: a named, privileged lookup like the login's.
CREATE FUNCTION organization_id_by_slug(p_slug text)
RETURNS TABLE (organization_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT o.id FROM organizations o WHERE o.slug = p_slug
$$;
REVOKE ALL ON FUNCTION organization_id_by_slug(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION organization_id_by_slug(text) TO autopulse_app;

-- +goose Down
SET LOCAL lock_timeout = '5s';

DROP FUNCTION organization_id_by_slug(text);

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX customers_org_phone_suffix_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX customers_org_full_name_prefix_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX customers_org_last_name_prefix_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX service_records_org_ro_prefix_idx;
-- squawk-ignore ban-drop-column
ALTER TABLE dms_integrations DROP COLUMN last_sync_error;
-- squawk-ignore ban-drop-column
ALTER TABLE dms_integrations DROP COLUMN sync_cursor;
DROP TABLE service_record_import_issues;
DROP TABLE service_record_imports;
