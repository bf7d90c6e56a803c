-- Queries of the dispatcher (internal/dispatch): the scheduler's scan and
-- the facts each decision needs, read in batches; the dial job's claim,
-- record, release and reconcile. Every query but the scan is scoped to one
-- tenant, organization_id first.

-- name: DispatchDueTargets :many
-- The cross-tenant scan, through the privileged function (fair between
-- organizations; see migration 00008).
SELECT d.organization_id::uuid AS organization_id, d.target_id::uuid AS target_id
FROM dispatch_due_targets(sqlc.arg(now)::timestamptz, sqlc.arg(per_org)::integer, sqlc.arg(total)::integer,
                          sqlc.narg(only_org)::uuid) AS d;

-- name: DispatchStaleClaims :many
-- Claims left behind, across tenants (see migration 00008).
-- A missing id reads as the nil uuid.
SELECT s.organization_id::uuid AS organization_id,
       COALESCE(s.target_id, '00000000-0000-0000-0000-000000000000')::uuid AS target_id,
       COALESCE(s.attempts, 0)::integer AS attempts,
       COALESCE(s.call_id, '00000000-0000-0000-0000-000000000000')::uuid AS call_id
FROM dispatch_stale_claims(sqlc.arg(before)::timestamptz, sqlc.arg(lim)::integer) AS s;

-- name: DispatchTryLockPass :one
-- One scheduler pass at a time per organization: a second pass skips the
-- tenant rather than wait (the lock ends with the transaction).
SELECT pg_try_advisory_xact_lock(hashtextextended('autopulse.dispatch.pass:' || sqlc.arg(organization_id)::uuid::text, 0))::bool AS locked;

-- name: DispatchLockClaims :exec
-- Serializes, per organization, the short transactions that count the calls
-- in flight and then add one, so the concurrency limit holds exactly.
SELECT pg_advisory_xact_lock(hashtextextended('autopulse.dispatch.claim:' || sqlc.arg(organization_id)::uuid::text, 0));

-- name: OrgDispatchFacts :one
SELECT o.name, o.timezone, o.status, o.credit_balance, o.call_concurrency_limit
FROM organizations o
WHERE o.id = sqlc.arg(organization_id);

-- name: CallCountLive :one
-- Outbound calls in flight (claimed or placed, not ended) created since
-- the given instant; one call may be left out (the one being claimed).
SELECT count(*)::bigint AS live
FROM calls
WHERE organization_id = sqlc.arg(organization_id)
  AND status IN ('dialing', 'queued', 'ringing', 'in_progress', 'forwarding')
  AND direction = 'outbound'
  AND created_at >= sqlc.arg(since)::timestamptz
  AND id <> sqlc.arg(except_id)::uuid;

-- name: TargetCountLeased :one
-- Targets a pass allowed whose dial job has not claimed them yet: their
-- lease (next_attempt_at) is still ahead, and the allow came after their
-- last attempt (a claim stamps both at once; a target back to retry after
-- a call is waiting for its gap, not for a line).
SELECT count(*)::bigint AS leased
FROM campaign_targets
WHERE organization_id = sqlc.arg(organization_id)
  AND status IN ('pending', 'retry') AND last_decision = 'allow'
  AND next_attempt_at > sqlc.arg(now)::timestamptz
  AND last_decision_at > coalesce(last_attempt_at, '-infinity');

-- name: TargetListForDecision :many
-- The due targets of one pass with the facts of their customer and
-- campaign, locked; targets a dial job holds are skipped (it decides them).
-- The columns are TargetGetForDial's, so one Go function reads both rows.
SELECT t.id, t.campaign_id, t.customer_id, t.service_record_id, t.phone, t.status, t.attempts, t.last_attempt_at,
       cu.postal_code, cu.state,
       c.status AS campaign_status, c.type AS campaign_type, c.max_attempts, c.retry_gap, c.starts_at, c.ends_at
FROM campaign_targets t
JOIN customers cu ON cu.organization_id = t.organization_id AND cu.id = t.customer_id
JOIN campaigns c ON c.organization_id = t.organization_id AND c.id = t.campaign_id
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = ANY (sqlc.arg(ids)::uuid[])
  AND t.status IN ('pending', 'retry') AND t.next_attempt_at <= sqlc.arg(now)::timestamptz
ORDER BY t.next_attempt_at, t.id
FOR UPDATE OF t SKIP LOCKED;

-- name: TargetGetForDial :one
-- One target with the same facts, locked for its dial job's claim.
SELECT t.id, t.campaign_id, t.customer_id, t.service_record_id, t.phone, t.status, t.attempts, t.last_attempt_at,
       cu.postal_code, cu.state,
       c.status AS campaign_status, c.type AS campaign_type, c.max_attempts, c.retry_gap, c.starts_at, c.ends_at
FROM campaign_targets t
JOIN customers cu ON cu.organization_id = t.organization_id AND cu.id = t.customer_id
JOIN campaigns c ON c.organization_id = t.organization_id AND c.id = t.campaign_id
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = sqlc.arg(id)
FOR UPDATE OF t;

-- name: TargetGetForExplain :one
-- One target with the same facts and its stored decision, unlocked (the
-- operator's view).
SELECT t.id, t.campaign_id, t.customer_id, t.phone, t.status, t.attempts, t.last_attempt_at, t.next_attempt_at,
       t.last_decision, t.last_decision_rule, t.last_decision_reason, t.last_decision_at, t.skip_reason,
       cu.postal_code, cu.state,
       c.status AS campaign_status, c.type AS campaign_type, c.max_attempts, c.retry_gap, c.starts_at, c.ends_at
FROM campaign_targets t
JOIN customers cu ON cu.organization_id = t.organization_id AND cu.id = t.customer_id
JOIN campaigns c ON c.organization_id = t.organization_id AND c.id = t.campaign_id
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = sqlc.arg(id);

-- name: ScheduleConfigListForDispatch :many
-- The campaigns' own schedules and the organization default (campaign_id
-- null), in one read.
SELECT campaign_id, timezone, active_days, start_time, end_time, auto_call_enabled
FROM schedule_configs
WHERE organization_id = sqlc.arg(organization_id)
  AND (campaign_id IS NULL OR campaign_id = ANY (sqlc.arg(campaign_ids)::uuid[]));

-- name: DNCEntryListByPhones :many
SELECT phone FROM dnc_entries
WHERE organization_id = sqlc.arg(organization_id) AND phone = ANY (sqlc.arg(phones)::text[]);

-- name: CallListRecentToNumbers :many
-- Outbound calls to the numbers since the given instant, by any campaign
-- (the 24-hour caps), and whether each is still in flight (as
-- CallCountLive counts them: created since live_since and not ended). A
-- dial that certainly never reached the provider (failed before it had a
-- provider id, and was released) is not a call.
SELECT to_number::text AS to_number, campaign_id, created_at,
  (status IN ('dialing', 'queued', 'ringing', 'in_progress', 'forwarding')
    AND created_at >= sqlc.arg(live_since)::timestamptz)::boolean AS in_progress
FROM calls
WHERE organization_id = sqlc.arg(organization_id) AND to_number = ANY (sqlc.arg(phones)::text[])
  AND created_at >= sqlc.arg(since)::timestamptz AND direction = 'outbound' AND id <> sqlc.arg(except_id)::uuid
  AND NOT (status = 'failed' AND provider_call_id IS NULL AND ended_reason LIKE 'not-placed:%');

-- name: TargetRecordDecisions :execrows
-- A pass's decisions, in one statement: each target's verdict, rule and
-- reason, its next time (a hold's next eligible instant, an allow's lease)
-- and, for a block, its final status and skip reason.
UPDATE campaign_targets t SET
  status = u.status,
  next_attempt_at = CASE WHEN u.status IN ('pending', 'retry') THEN u.next_attempt_at END,
  skip_reason = COALESCE(NULLIF(u.skip_reason, ''), t.skip_reason),
  last_decision = u.verdict,
  last_decision_rule = u.rule,
  last_decision_reason = u.reason,
  last_decision_at = sqlc.arg(decided_at)::timestamptz,
  updated_at = now()
FROM (
  SELECT unnest(sqlc.arg(ids)::uuid[]) AS id,
         unnest(sqlc.arg(statuses)::text[]) AS status,
         unnest(sqlc.arg(next_attempts)::timestamptz[]) AS next_attempt_at,
         unnest(sqlc.arg(skip_reasons)::text[]) AS skip_reason,
         unnest(sqlc.arg(verdicts)::text[]) AS verdict,
         unnest(sqlc.arg(rules)::text[]) AS rule,
         unnest(sqlc.arg(reasons)::text[]) AS reason
) u
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = u.id AND t.status IN ('pending', 'retry');

-- name: TargetClaimForDial :one
-- The claim: the target becomes dialing and its attempt is counted, only
-- if it is still waiting at the attempt the job was enqueued for. No row:
-- another run (or a person) got there first.
UPDATE campaign_targets SET
  status = 'dialing', attempts = attempts + 1, last_attempt_at = sqlc.arg(now)::timestamptz, next_attempt_at = NULL,
  last_decision = 'allow', last_decision_rule = sqlc.arg(rule)::text, last_decision_reason = sqlc.arg(reason)::text,
  last_decision_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND status IN ('pending', 'retry') AND attempts = sqlc.arg(attempts_before)::integer
RETURNING attempts;

-- name: TargetRecordDecision :execrows
-- One waiting target's decision (a dial job that found it may not be called
-- now): like TargetRecordDecisions, for one row.
UPDATE campaign_targets SET
  status = sqlc.arg(status)::text,
  next_attempt_at = CASE WHEN sqlc.arg(status)::text IN ('pending', 'retry') THEN sqlc.narg(next_attempt_at)::timestamptz END,
  skip_reason = COALESCE(sqlc.narg(skip_reason)::text, skip_reason),
  last_decision = sqlc.arg(verdict)::text, last_decision_rule = sqlc.arg(rule)::text,
  last_decision_reason = sqlc.arg(reason)::text, last_decision_at = sqlc.arg(decided_at)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status IN ('pending', 'retry');

-- name: CallInsertForDial :one
-- The call a dial places, written before the dial so a webhook always finds
-- it. Status dialing: ours, before the provider speaks.
INSERT INTO calls (organization_id, id, campaign_id, target_id, service_record_id, customer_id, direction,
                   to_number, status, provider, dial_claimed_at, created_at, updated_at)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.narg(campaign_id), sqlc.narg(target_id), sqlc.narg(service_record_id),
        sqlc.narg(customer_id), 'outbound', sqlc.arg(to_number), 'dialing', sqlc.arg(provider),
        sqlc.narg(dial_claimed_at), sqlc.arg(now)::timestamptz, sqlc.arg(now)::timestamptz)
RETURNING id;

-- name: CallGetForDial :one
SELECT * FROM calls WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) FOR UPDATE;

-- name: CallGetLatestForTarget :one
SELECT * FROM calls
WHERE organization_id = sqlc.arg(organization_id) AND target_id = sqlc.arg(target_id)::uuid
ORDER BY id DESC
LIMIT 1;

-- name: CallLastPlacedForTarget :one
-- When the target's last call before the given one was placed (a call row
-- that certainly reached no provider does not count).
SELECT created_at FROM calls
WHERE organization_id = sqlc.arg(organization_id) AND target_id = sqlc.arg(target_id)::uuid
  AND id <> sqlc.arg(except_id)::uuid
  AND NOT (status = 'failed' AND provider_call_id IS NULL AND ended_reason LIKE 'not-placed:%')
ORDER BY id DESC
LIMIT 1;

-- name: CallClaimForDial :execrows
-- A call placed by hand, claimed by its dial job.
UPDATE calls SET dial_claimed_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND dial_claimed_at IS NULL AND provider_call_id IS NULL AND status = 'dialing';

-- name: CallRenewClaim :execrows
-- A claimed call whose dial reached nobody (reconciled: the provider has
-- no such call) is dialled again: the claim restarts its clock.
UPDATE calls SET dial_claimed_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND provider_call_id IS NULL AND status = 'dialing';

-- name: CallRecordProviderID :one
-- The record step: the provider's id (unless a webhook already set it) and
-- the provider's first status, moving forward only.
UPDATE calls SET
  provider_call_id = COALESCE(provider_call_id, sqlc.arg(provider_call_id)::text),
  status = CASE WHEN status = 'dialing' THEN 'queued' ELSE status END,
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING provider_call_id::text AS provider_call_id;

-- name: CallFailDial :execrows
-- A dial that placed no call: the call ends failed with the reason.
UPDATE calls SET status = 'failed', ended_reason = sqlc.arg(reason)::text, ended_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND status = 'dialing' AND provider_call_id IS NULL;

-- name: TargetMarkDialed :execrows
-- The record step: the provider has the call. A target a webhook already
-- moved on (in_call, or settled) stays where it is.
UPDATE campaign_targets SET status = 'in_call', updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND status = 'dialing' AND attempts = sqlc.arg(attempts)::integer;

-- name: TargetReleaseDial :execrows
-- A dial that certainly placed no call gives its attempt back: the target
-- waits again (pending when it was its first), its last attempt is the
-- last call the provider really had, and the hold says why and until when.
UPDATE campaign_targets t SET
  status = CASE WHEN t.attempts <= 1 THEN 'pending' ELSE 'retry' END,
  attempts = t.attempts - 1,
  last_attempt_at = (
    SELECT max(k.created_at) FROM calls k
    WHERE k.organization_id = t.organization_id AND k.target_id = t.id AND k.id <> sqlc.arg(call_id)::uuid
      AND NOT (k.status = 'failed' AND k.provider_call_id IS NULL AND k.ended_reason LIKE 'not-placed:%')
  ),
  next_attempt_at = sqlc.arg(next_attempt_at)::timestamptz,
  last_decision = 'hold', last_decision_rule = sqlc.arg(rule)::text, last_decision_reason = sqlc.arg(reason)::text,
  last_decision_at = sqlc.arg(decided_at)::timestamptz, updated_at = now()
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = sqlc.arg(id)
  AND t.status = 'dialing' AND t.attempts = sqlc.arg(attempts)::integer;

-- name: TargetSettleDial :execrows
-- A dialing target settled by the dial job itself: failed for good (the
-- provider refused the request), or retry/failed when the dial's outcome
-- could not be learned (the attempt counts).
UPDATE campaign_targets SET
  status = sqlc.arg(status)::text,
  next_attempt_at = sqlc.narg(next_attempt_at)::timestamptz,
  skip_reason = COALESCE(sqlc.narg(skip_reason)::text, skip_reason),
  last_decision = sqlc.arg(verdict)::text, last_decision_rule = sqlc.arg(rule)::text,
  last_decision_reason = sqlc.arg(reason)::text, last_decision_at = sqlc.arg(decided_at)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
  AND status = 'dialing' AND attempts = sqlc.arg(attempts)::integer;

-- name: DialContextGet :one
-- Everything a dial request is built from besides the call's id and
-- number: the organization's name, the campaign's agent configuration, the
-- customer, the service record and its vehicle. Any of the three may be
-- absent.
SELECT o.name AS organization_name,
       c.type AS campaign_type, c.agent_config,
       cu.first_name, cu.last_name,
       sr.ro_number, sr.service_date, sr.service_type, sr.advisor_name, sr.mileage,
       v.year AS vehicle_year, v.make AS vehicle_make, v.model AS vehicle_model
FROM organizations o
LEFT JOIN campaigns c ON c.organization_id = o.id AND c.id = sqlc.narg(campaign_id)::uuid
LEFT JOIN customers cu ON cu.organization_id = o.id AND cu.id = sqlc.narg(customer_id)::uuid
LEFT JOIN service_records sr ON sr.organization_id = o.id AND sr.id = sqlc.narg(service_record_id)::uuid
LEFT JOIN vehicles v ON v.organization_id = sr.organization_id AND v.id = sr.vehicle_id
WHERE o.id = sqlc.arg(organization_id);

-- name: ServiceRecordGetForCall :one
-- A one-off call's service record and the customer it calls.
SELECT sr.id, sr.customer_id, cu.phone, cu.postal_code, cu.state
FROM service_records sr
LEFT JOIN customers cu ON cu.organization_id = sr.organization_id AND cu.id = sr.customer_id
WHERE sr.organization_id = sqlc.arg(organization_id) AND sr.id = sqlc.arg(id);

-- name: CustomerZoneGet :one
-- Where a one-off call's customer lives (the recipient's zones).
SELECT postal_code, state FROM customers
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CampaignGetForCall :one
-- The campaign a one-off call borrows its agent and schedule from.
SELECT id, status, type FROM campaigns
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);
