-- name: TargetInsertAudience :many
-- The launch: one target per row of campaign_audience() (migration 00007,
-- shared with the preview), in one statement. Rows with a skip reason are
-- stored as skipped with a blocking decision, so "why was this customer not
-- called?" has an answer. Returns the count per skip reason, the empty
-- reason counting the callable targets.
WITH inserted AS (
  INSERT INTO campaign_targets (organization_id, id, campaign_id, customer_id, service_record_id, phone, status,
                                next_attempt_at, skip_reason, last_decision, last_decision_rule, last_decision_reason,
                                last_decision_at)
  SELECT sqlc.arg(organization_id), uuid_v7(), sqlc.arg(campaign_id), a.customer_id, a.service_record_id, a.phone,
         CASE WHEN a.skip_reason IS NULL THEN 'pending' ELSE 'skipped' END,
         CASE WHEN a.skip_reason IS NULL THEN sqlc.arg(next_attempt_at)::timestamptz END,
         a.skip_reason,
         CASE WHEN a.skip_reason IS NOT NULL THEN 'block' END,
         a.skip_reason,
         CASE a.skip_reason
           WHEN 'no_phone' THEN 'the customer has no phone number'
           WHEN 'dnc' THEN 'the number is on the do-not-call list'
           WHEN 'duplicate_phone' THEN 'another customer with this number, with a later visit, is called instead'
         END,
         CASE WHEN a.skip_reason IS NOT NULL THEN now() END
  FROM campaign_audience(sqlc.arg(organization_id)::uuid, sqlc.arg(timezone)::text,
                         sqlc.narg(service_from)::date, sqlc.narg(service_to)::date,
                         sqlc.narg(service_types)::text[], sqlc.narg(makes)::text[], sqlc.narg(tags)::text[],
                         sqlc.narg(not_called_since)::timestamptz) AS a
  RETURNING skip_reason
)
SELECT COALESCE(skip_reason, '')::text AS skip_reason, count(*)::bigint AS targets
FROM inserted
GROUP BY 1;

-- name: TargetCountAudience :many
-- The preview: what TargetInsertAudience would insert, counted per skip
-- reason, writing nothing.
SELECT COALESCE(a.skip_reason, '')::text AS skip_reason, count(*)::bigint AS targets
FROM campaign_audience(sqlc.arg(organization_id)::uuid, sqlc.arg(timezone)::text,
                       sqlc.narg(service_from)::date, sqlc.narg(service_to)::date,
                       sqlc.narg(service_types)::text[], sqlc.narg(makes)::text[], sqlc.narg(tags)::text[],
                       sqlc.narg(not_called_since)::timestamptz) AS a
GROUP BY 1;

-- name: TargetListByCampaign :many
SELECT t.*, c.first_name AS customer_first_name, c.last_name AS customer_last_name
FROM campaign_targets t
JOIN customers c ON c.organization_id = t.organization_id AND c.id = t.customer_id
WHERE t.organization_id = sqlc.arg(organization_id) AND t.campaign_id = sqlc.arg(campaign_id)
  AND (sqlc.narg(status)::text IS NULL OR t.status = sqlc.narg(status))
  AND (sqlc.narg(after)::uuid IS NULL OR t.id < sqlc.narg(after))
ORDER BY t.id DESC
LIMIT sqlc.arg(lim);

-- name: TargetCancelOpenByCampaign :execrows
-- A cancelled campaign's targets that are waiting for a call. Targets being
-- dialled or in a call finish that call; their results are still recorded.
UPDATE campaign_targets SET
  status = 'cancelled', next_attempt_at = NULL, skip_reason = 'campaign_cancelled',
  last_decision = 'block', last_decision_rule = 'campaign.cancelled', last_decision_reason = 'the campaign was cancelled',
  last_decision_at = now(), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = sqlc.arg(campaign_id)
  AND status IN ('pending', 'retry');

-- name: TargetCancelOpenByPhones :execrows
-- Numbers put on the do-not-call list: the organization's targets waiting
-- to call them are cancelled, with the rule that decided it.
UPDATE campaign_targets SET
  status = 'cancelled', next_attempt_at = NULL, skip_reason = 'dnc',
  last_decision = 'block', last_decision_rule = 'dnc', last_decision_reason = 'the number was put on the do-not-call list',
  last_decision_at = now(), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND phone = ANY (sqlc.arg(phones)::text[])
  AND status IN ('pending', 'retry');

-- name: TargetHasOpen :one
-- Whether any target of the campaign may still be called or is in a call.
SELECT EXISTS (
  SELECT 1 FROM campaign_targets
  WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = sqlc.arg(campaign_id)
    AND status IN ('pending', 'dialing', 'in_call', 'retry')
)::bool AS open;

-- name: TargetCountByStatus :many
-- Campaign statistics: targets per status and skip reason.
SELECT status, COALESCE(skip_reason, '')::text AS skip_reason, count(*)::bigint AS targets
FROM campaign_targets
WHERE organization_id = sqlc.arg(organization_id) AND campaign_id = sqlc.arg(campaign_id)
GROUP BY status, skip_reason;

-- name: CampaignCallStats :one
-- Campaign statistics from its calls, bookings and opt-outs. A connect is a
-- call that was answered (by a person or a voicemail box); a completion is
-- a conversation with a person (outcome completed).
SELECT count(*)::bigint AS calls,
       count(*) FILTER (WHERE c.answered_at IS NOT NULL OR c.outcome IN ('completed', 'voicemail'))::bigint AS connects,
       count(*) FILTER (WHERE c.outcome = 'completed')::bigint AS completions,
       count(c.nps_score)::bigint AS nps_responses,
       COALESCE(sum(c.nps_score), 0)::bigint AS nps_sum,
       count(*) FILTER (WHERE c.nps_score >= 9)::bigint AS promoters,
       count(*) FILTER (WHERE c.nps_score <= 6)::bigint AS detractors,
       COALESCE(sum(c.cost_amount), 0)::bigint AS cost_amount,
       COALESCE(max(c.currency), (SELECT o.currency FROM organizations o WHERE o.id = sqlc.arg(organization_id)))::text AS currency,
       COALESCE(sum(c.duration_sec), 0)::bigint AS duration_sec,
       (SELECT count(*) FROM bookings b
        WHERE b.organization_id = sqlc.arg(organization_id) AND b.campaign_id = sqlc.arg(campaign_id))::bigint AS bookings,
       (SELECT count(*) FROM dnc_entries d
        JOIN calls k ON k.organization_id = d.organization_id AND k.id = d.call_id
        WHERE d.organization_id = sqlc.arg(organization_id) AND k.campaign_id = sqlc.arg(campaign_id))::bigint AS opt_outs
FROM calls c
WHERE c.organization_id = sqlc.arg(organization_id) AND c.campaign_id = sqlc.arg(campaign_id);
