-- +goose Up
-- Lost end-of-call reports: a call the provider placed whose report has not
-- come long after it started is asked about (GET /call/{id}) by a periodic
-- job, which applies the provider's answer as if the report had come. The
-- job looks across tenants only through the function below.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- Calls awaiting their report, oldest first: placed (a provider id), not
-- reported, created before p_before.
CREATE FUNCTION call_overdue_reports(p_before timestamptz, p_limit integer)
RETURNS TABLE (organization_id uuid, call_id uuid, provider text, provider_call_id text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT c.organization_id, c.id, c.provider, c.provider_call_id, c.created_at
  FROM calls c
  WHERE c.report_received_at IS NULL AND c.provider_call_id IS NOT NULL AND c.created_at < p_before
  ORDER BY c.created_at
  LIMIT p_limit
$$;

-- squawk-ignore require-concurrent-index-creation
CREATE INDEX calls_awaiting_report_idx ON calls (created_at)
  WHERE report_received_at IS NULL AND provider_call_id IS NOT NULL;

REVOKE ALL ON FUNCTION call_overdue_reports(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION call_overdue_reports(timestamptz, integer) TO autopulse_app;

-- +goose Down
SET LOCAL lock_timeout = '5s';

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX calls_awaiting_report_idx;
DROP FUNCTION call_overdue_reports(timestamptz, integer);
