-- +goose Up
-- Campaigns: who a campaign calls, written once as a SQL function that the
-- launch (INSERT … SELECT into campaign_targets) and the dry-run preview
-- (SELECT … GROUP BY) both read, so the two can never disagree; and the
-- indexes the campaign screens read through.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- The audience of a campaign: one row per customer of p_org whose latest
-- matching service record passes the filter, linked to that record. A NULL
-- filter argument does not filter. skip_reason says why a row must not be
-- called (NULL: callable):
--   no_phone         the customer has no phone number
--   dnc              the number is on the organization's do-not-call list
--   duplicate_phone  another customer of the audience has the same number
--                    and a more recent visit: a household is called once
-- The service day of a record is the day it closed in the organization's
-- zone (p_timezone), else its service_date. Void records never match.
-- SECURITY INVOKER (the default): row-level security applies as for any
-- query of the caller, and the function inlines into the caller's plan.
-- +goose StatementBegin
CREATE FUNCTION campaign_audience(
  p_org uuid,
  p_timezone text,
  p_service_from date,
  p_service_to date,
  p_service_types text[],
  p_makes text[],
  p_tags text[],
  p_not_called_since timestamptz
)
RETURNS TABLE (customer_id uuid, service_record_id uuid, phone text, skip_reason text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH latest AS (
    SELECT DISTINCT ON (sr.customer_id)
           sr.customer_id, sr.id AS service_record_id, sr.service_date
    FROM service_records sr
    LEFT JOIN vehicles v ON v.organization_id = sr.organization_id AND v.id = sr.vehicle_id
    WHERE sr.organization_id = p_org
      AND sr.customer_id IS NOT NULL
      AND sr.status <> 'void'
      AND (p_service_from IS NULL
           OR COALESCE((sr.closed_at AT TIME ZONE p_timezone)::date, sr.service_date) >= p_service_from)
      AND (p_service_to IS NULL
           OR COALESCE((sr.closed_at AT TIME ZONE p_timezone)::date, sr.service_date) <= p_service_to)
      AND (p_service_types IS NULL OR lower(sr.service_type) = ANY (p_service_types))
      AND (p_makes IS NULL OR lower(v.make) = ANY (p_makes))
    ORDER BY sr.customer_id, sr.service_date DESC, sr.closed_at DESC NULLS LAST, sr.id DESC
  ), candidates AS (
    SELECT l.customer_id, l.service_record_id, c.phone,
           row_number() OVER (PARTITION BY c.phone ORDER BY l.service_date DESC, l.customer_id) AS phone_rank
    FROM latest l
    JOIN customers c ON c.organization_id = p_org AND c.id = l.customer_id
    WHERE (p_tags IS NULL OR c.tags && p_tags)
      AND (p_not_called_since IS NULL OR c.phone IS NULL OR NOT EXISTS (
            SELECT 1 FROM calls k
            WHERE k.organization_id = p_org AND k.to_number = c.phone AND k.created_at >= p_not_called_since))
  )
  SELECT ca.customer_id, ca.service_record_id, COALESCE(ca.phone, ''),
         CASE WHEN ca.phone IS NULL THEN 'no_phone'
              WHEN EXISTS (SELECT 1 FROM dnc_entries d WHERE d.organization_id = p_org AND d.phone = ca.phone) THEN 'dnc'
              WHEN ca.phone_rank > 1 THEN 'duplicate_phone'
         END
  FROM candidates ca
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION campaign_audience(uuid, text, date, date, text[], text[], text[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION campaign_audience(uuid, text, date, date, text[], text[], text[], timestamptz) TO autopulse_app;

-- A campaign's targets, newest first, whatever their status (the existing
-- index leads with status, which serves only the status filter). These
-- tables are empty when this runs on a new installation; on a live one the
-- locks are short, and goose runs each file in a transaction, where
-- CONCURRENTLY is not allowed.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX campaign_targets_org_campaign_id_idx ON campaign_targets (organization_id, campaign_id, id DESC);

-- Campaign statistics: bookings of a campaign, opt-outs of its calls.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX bookings_org_campaign_idx ON bookings (organization_id, campaign_id) WHERE campaign_id IS NOT NULL;
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX dnc_entries_org_call_idx ON dnc_entries (organization_id, call_id) WHERE call_id IS NOT NULL;

-- +goose Down
SET LOCAL lock_timeout = '5s';

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX dnc_entries_org_call_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX bookings_org_campaign_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX campaign_targets_org_campaign_id_idx;
DROP FUNCTION campaign_audience(uuid, text, date, date, text[], text[], text[], timestamptz);
