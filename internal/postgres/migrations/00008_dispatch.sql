-- +goose Up
-- The dispatcher: the named cross-tenant scan for due targets (fair between
-- organizations), the indexes its per-tenant passes read through, the
-- reason stored with each decision, and the moment a dial job claimed a
-- call (the mark that a dial request may have left).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- The reason a person can read, next to the rule code of the last decision:
-- "why wasn't this customer called?" has a full answer.
ALTER TABLE campaign_targets ADD COLUMN last_decision_reason text;

-- When a dial job claimed the call: from then on a dial request may have
-- reached the provider, so a retry reconciles before it dials. NULL for a
-- call placed by hand that no job has claimed yet, and for inbound calls.
ALTER TABLE calls ADD COLUMN dial_claimed_at timestamptz;

-- A campaign's due targets in due order (the scan's per-campaign step).
-- These tables are small or empty when this runs on a new installation; on
-- a live one the locks are short, and goose runs each file in a
-- transaction, where CONCURRENTLY is not allowed.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX campaign_targets_org_campaign_due_idx ON campaign_targets (organization_id, campaign_id, next_attempt_at)
  WHERE status IN ('pending', 'retry');

-- Targets allowed by a pass whose dial job has not claimed them yet: they
-- hold a line of the organization's concurrency limit.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX campaign_targets_org_leased_idx ON campaign_targets (organization_id, next_attempt_at)
  WHERE status IN ('pending', 'retry') AND last_decision = 'allow';

-- Calls in flight, counted against the concurrency limit.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX calls_org_live_idx ON calls (organization_id, created_at)
  WHERE status IN ('dialing', 'queued', 'ringing', 'in_progress', 'forwarding');

-- The latest call of a target (a retried dial job finds its claim).
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX calls_org_target_idx ON calls (organization_id, target_id, id DESC)
  WHERE target_id IS NOT NULL;

-- The scheduler's scan: due targets of every organization, for one pass.
-- Each organization contributes at most p_per_org targets (its longest
-- waiting first, across its active campaigns and its scheduled campaigns
-- whose start has come); the organizations are then interleaved round-robin
-- (every organization's first target, then every second one, …) and the
-- list is cut at p_limit, so a tenant with a hundred thousand due targets
-- takes one place per turn like a tenant with five. Ties within a turn are
-- broken by a hash of the organization and the pass's instant, which
-- rotates who goes first from one pass to the next.
-- p_org narrows the scan to one organization (a pass asked for by a
-- launch or resume); NULL scans them all. It returns ids only: the pass
-- reads and decides each organization's targets inside that tenant's own
-- transaction.
CREATE FUNCTION dispatch_due_targets(p_now timestamptz, p_per_org integer, p_limit integer, p_org uuid)
RETURNS TABLE (organization_id uuid, target_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH per_campaign AS (
    SELECT c.organization_id, t.id, t.next_attempt_at
    FROM campaigns c
    CROSS JOIN LATERAL (
      SELECT t.id, t.next_attempt_at
      FROM campaign_targets t
      WHERE t.organization_id = c.organization_id AND t.campaign_id = c.id
        AND t.status IN ('pending', 'retry') AND t.next_attempt_at <= p_now
      ORDER BY t.next_attempt_at
      LIMIT p_per_org
    ) t
    WHERE (c.status = 'active' OR (c.status = 'scheduled' AND c.starts_at <= p_now))
      AND (p_org IS NULL OR c.organization_id = p_org)
  ), turns AS (
    SELECT p.organization_id, p.id,
           row_number() OVER (PARTITION BY p.organization_id ORDER BY p.next_attempt_at, p.id) AS turn
    FROM per_campaign p
  )
  SELECT x.organization_id, x.id
  FROM turns x
  WHERE x.turn <= p_per_org
  ORDER BY x.turn, md5(x.organization_id::text || p_now::text), x.id
  LIMIT p_limit
$$;

-- Claims left behind: targets dialing, and calls placed by hand not yet
-- placed, since before p_before (their dial job should long have recorded
-- or released them). The scheduler enqueues their dial job again; River's
-- uniqueness skips it while the original job still waits or runs, and the
-- job reconciles before it dials.
CREATE FUNCTION dispatch_stale_claims(p_before timestamptz, p_limit integer)
RETURNS TABLE (organization_id uuid, target_id uuid, attempts integer, call_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  (SELECT t.organization_id, t.id, t.attempts, NULL::uuid
   FROM campaign_targets t
   WHERE t.status = 'dialing' AND t.last_attempt_at < p_before
   ORDER BY t.last_attempt_at
   LIMIT p_limit)
  UNION ALL
  (SELECT k.organization_id, NULL::uuid, NULL::integer, k.id
   FROM calls k
   WHERE k.status = 'dialing' AND k.provider_call_id IS NULL AND k.target_id IS NULL AND k.created_at < p_before
   ORDER BY k.created_at
   LIMIT p_limit)
$$;

-- squawk-ignore require-concurrent-index-creation
CREATE INDEX campaign_targets_dialing_idx ON campaign_targets (last_attempt_at) WHERE status = 'dialing';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX calls_unplaced_idx ON calls (created_at) WHERE status = 'dialing' AND provider_call_id IS NULL;

REVOKE ALL ON FUNCTION dispatch_due_targets(timestamptz, integer, integer, uuid),
  dispatch_stale_claims(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dispatch_due_targets(timestamptz, integer, integer, uuid),
  dispatch_stale_claims(timestamptz, integer) TO autopulse_app;

-- +goose Down
SET LOCAL lock_timeout = '5s';

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX calls_unplaced_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX campaign_targets_dialing_idx;
DROP FUNCTION dispatch_stale_claims(timestamptz, integer);
DROP FUNCTION dispatch_due_targets(timestamptz, integer, integer, uuid);
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX calls_org_target_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX calls_org_live_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX campaign_targets_org_leased_idx;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX campaign_targets_org_campaign_due_idx;
-- squawk-ignore ban-drop-column
ALTER TABLE calls DROP COLUMN dial_claimed_at;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_targets DROP COLUMN last_decision_reason;
