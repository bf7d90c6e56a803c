-- Queries of the webhook processing job: routing, the call's progress and
-- report, and what the outcome changes (targets, the DNC list, credits).

-- name: WebhookCallOwner :many
-- Routes an event by our call id (the metadata), across tenants, through
-- the privileged function.
SELECT o.organization_id::uuid AS organization_id, o.call_id::uuid AS call_id
FROM webhook_call_owner(sqlc.arg(call_id)::uuid) AS o;

-- name: WebhookCallOwnerByProvider :many
SELECT o.organization_id::uuid AS organization_id, o.call_id::uuid AS call_id
FROM webhook_call_owner_by_provider(sqlc.arg(provider)::text, sqlc.arg(provider_call_id)::text) AS o;

-- name: WebhookLineOwners :many
-- The organizations that own a dialled line (at most two: more than one is
-- ambiguous).
SELECT o.organization_id::uuid AS organization_id
FROM webhook_line_owners(sqlc.arg(number)::text) AS o;

-- name: WebhookOrganizationActive :one
SELECT webhook_organization_active(sqlc.arg(id)::uuid)::bool AS active;

-- name: CallGetForUpdate :one
-- Serializes the events of one call.
SELECT * FROM calls WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) FOR UPDATE;

-- name: CallGetByProviderForUpdate :one
SELECT * FROM calls
WHERE organization_id = sqlc.arg(organization_id) AND provider = sqlc.arg(provider) AND provider_call_id = sqlc.arg(provider_call_id)
FOR UPDATE;

-- name: CallInsertInbound :many
-- Creates an inbound call once per provider call id; a concurrent event of
-- the same call gets no row and reads the call instead.
INSERT INTO calls (organization_id, id, customer_id, direction, from_number, to_number, status, provider, provider_call_id)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.narg(customer_id), 'inbound', sqlc.narg(from_number), sqlc.narg(to_number),
        sqlc.arg(status), sqlc.arg(provider), sqlc.arg(provider_call_id))
ON CONFLICT (provider, provider_call_id) WHERE provider_call_id IS NOT NULL DO NOTHING
RETURNING *;

-- name: CallApplyStatus :one
-- A status update: the status (the caller only ever moves it forward) and
-- the times it reveals, each set once.
UPDATE calls SET
  status = sqlc.arg(status),
  provider_call_id = COALESCE(provider_call_id, sqlc.narg(provider_call_id)),
  answered_at = COALESCE(answered_at, sqlc.narg(answered_at)),
  ended_at = COALESCE(ended_at, sqlc.narg(ended_at)),
  ended_reason = COALESCE(ended_reason, sqlc.narg(ended_reason)),
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: CallFinalize :one
-- Applies the end-of-call report, once: a call already reported is left as
-- it is (no row).
UPDATE calls SET
  status = sqlc.arg(status),
  provider_call_id = COALESCE(provider_call_id, sqlc.narg(provider_call_id)),
  customer_id = COALESCE(customer_id, sqlc.narg(customer_id)),
  from_number = COALESCE(from_number, sqlc.narg(from_number)),
  to_number = COALESCE(to_number, sqlc.narg(to_number)),
  started_at = COALESCE(sqlc.narg(started_at), started_at),
  answered_at = COALESCE(answered_at, sqlc.narg(answered_at)),
  ended_at = COALESCE(sqlc.narg(ended_at), ended_at, sqlc.arg(now)::timestamptz),
  duration_sec = sqlc.arg(duration_sec),
  ended_reason = COALESCE(sqlc.narg(ended_reason), ended_reason),
  cost_amount = sqlc.arg(cost_amount),
  currency = sqlc.arg(currency),
  nps_score = sqlc.narg(nps_score),
  sentiment = sqlc.narg(sentiment),
  summary = sqlc.narg(summary),
  outcome = sqlc.arg(outcome),
  analysis = sqlc.arg(analysis),
  report_received_at = sqlc.arg(now)::timestamptz,
  updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND report_received_at IS NULL
RETURNING *;

-- name: TranscriptInsertTurns :execrows
-- Stores a call's turns in one statement; turns already stored (a replayed
-- report) are kept as they are.
INSERT INTO transcripts (organization_id, id, call_id, seq, speaker, text, start_ms, end_ms)
SELECT sqlc.arg(organization_id), unnest(sqlc.arg(ids)::uuid[]), sqlc.arg(call_id), unnest(sqlc.arg(seqs)::integer[]),
       unnest(sqlc.arg(speakers)::text[]), unnest(sqlc.arg(texts)::text[]), unnest(sqlc.arg(start_ms)::integer[]),
       unnest(sqlc.arg(end_ms)::integer[])
ON CONFLICT (organization_id, call_id, seq) DO NOTHING;

-- name: AudioFileInsertPending :many
INSERT INTO audio_files (organization_id, id, call_id, source_url, duration_sec, status)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(call_id), sqlc.arg(source_url), sqlc.narg(duration_sec), 'pending')
ON CONFLICT (organization_id, call_id) DO NOTHING
RETURNING *;

-- name: AudioFileGet :one
SELECT * FROM audio_files WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: AudioFileMarkStored :execrows
UPDATE audio_files SET
  status = 'stored', storage_key = sqlc.arg(storage_key), content_type = sqlc.arg(content_type),
  size_bytes = sqlc.arg(size_bytes), sha256 = sqlc.arg(sha256), error = NULL, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status = 'pending';

-- name: AudioFileMarkFailed :execrows
UPDATE audio_files SET status = 'failed', error = sqlc.arg(error)::text, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status = 'pending';

-- name: CreditChargeInsert :many
-- Charges a call once: a second charge of the same call inserts nothing.
INSERT INTO credit_transactions (organization_id, id, kind, amount, currency, call_id, description)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), 'call_charge', -sqlc.arg(cost)::bigint, sqlc.arg(currency),
        sqlc.arg(call_id), sqlc.arg(description))
ON CONFLICT (organization_id, call_id) WHERE kind = 'call_charge' AND call_id IS NOT NULL DO NOTHING
RETURNING *;

-- name: OrganizationCreditAdd :one
-- Moves the balance by a signed amount recorded in credit_transactions in
-- the same transaction.
UPDATE organizations SET credit_balance = credit_balance + sqlc.arg(amount)::bigint
WHERE id = sqlc.arg(organization_id)
RETURNING credit_balance;

-- name: TargetMarkInCall :execrows
UPDATE campaign_targets SET status = 'in_call', updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id) AND status = 'dialing';

-- name: TargetSettleAfterCall :many
-- Settles the target of a reported call: completed, or (for an attempt that
-- reached nobody) retry after the campaign's gap while attempts remain,
-- else failed. A retry or a failure is stored as the target's decision
-- (hold retry.gap, block attempts.max), so the target no longer reads as
-- allowed and waiting for its dial job. Only a target still in this call's
-- attempt moves: not one a later call of the target has taken over, nor
-- one settled otherwise (cancelled, skipped).
UPDATE campaign_targets t SET
  status = CASE WHEN NOT sqlc.arg(retry)::bool THEN 'completed'
                WHEN t.attempts < c.max_attempts THEN 'retry'
                ELSE 'failed' END,
  next_attempt_at = CASE WHEN sqlc.arg(retry)::bool AND t.attempts < c.max_attempts
                         THEN sqlc.arg(now)::timestamptz + c.retry_gap END,
  skip_reason = CASE WHEN sqlc.arg(retry)::bool AND t.attempts >= c.max_attempts THEN 'attempts.max' ELSE t.skip_reason END,
  last_decision = CASE WHEN NOT sqlc.arg(retry)::bool THEN t.last_decision
                       WHEN t.attempts < c.max_attempts THEN 'hold' ELSE 'block' END,
  last_decision_rule = CASE WHEN NOT sqlc.arg(retry)::bool THEN t.last_decision_rule
                            WHEN t.attempts < c.max_attempts THEN 'retry.gap' ELSE 'attempts.max' END,
  last_decision_reason = CASE WHEN NOT sqlc.arg(retry)::bool THEN t.last_decision_reason
                              WHEN t.attempts < c.max_attempts
                              THEN format('attempt %s of %s reached nobody (%s); the next waits the campaign''s retry gap',
                                          t.attempts, c.max_attempts, sqlc.arg(outcome)::text)
                              ELSE format('all %s attempts made; the last reached nobody (%s)', c.max_attempts, sqlc.arg(outcome)::text) END,
  last_decision_at = CASE WHEN sqlc.arg(retry)::bool THEN sqlc.arg(now)::timestamptz ELSE t.last_decision_at END,
  updated_at = now()
FROM campaigns c
WHERE t.organization_id = sqlc.arg(organization_id) AND t.id = sqlc.arg(target_id)
  AND c.organization_id = t.organization_id AND c.id = t.campaign_id
  AND t.status IN ('dialing', 'in_call')
  AND NOT EXISTS (
    SELECT 1 FROM calls n
    WHERE n.organization_id = t.organization_id AND n.target_id = t.id AND n.id > sqlc.arg(call_id)::uuid
  )
RETURNING t.status, t.campaign_id;

-- name: TargetCancelOpenByPhone :many
-- After an opt-out: the organization's other open targets for the number
-- are cancelled, with the rule that decided it. Returns their campaigns.
UPDATE campaign_targets SET
  status = 'cancelled', next_attempt_at = NULL, skip_reason = sqlc.arg(reason)::text,
  last_decision = 'block', last_decision_rule = 'dnc', last_decision_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND phone = sqlc.arg(phone) AND status IN ('pending', 'retry')
RETURNING campaign_id;

-- name: DNCEntryAddFromCall :many
-- An opt-out said on a call; a number already listed keeps its entry.
INSERT INTO dnc_entries (organization_id, id, phone, reason, source, call_id)
VALUES (sqlc.arg(organization_id), sqlc.arg(id), sqlc.arg(phone), sqlc.arg(reason), 'call_opt_out', sqlc.arg(call_id))
ON CONFLICT (organization_id, phone) DO NOTHING
RETURNING *;

-- name: DNCEntryExistsForPhone :one
SELECT EXISTS (
  SELECT 1 FROM dnc_entries WHERE organization_id = sqlc.arg(organization_id) AND phone = sqlc.arg(phone)
)::bool AS listed;

-- name: CallCustomerGet :one
SELECT id, first_name, last_name, phone, email FROM customers
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: CallCustomerFindByPhone :many
-- The customer an inbound caller is: the most recently updated one with the
-- number.
SELECT id, first_name, last_name, phone, email FROM customers
WHERE organization_id = sqlc.arg(organization_id) AND phone = sqlc.arg(phone)::text
ORDER BY updated_at DESC, id DESC
LIMIT 1;

-- name: CallServiceRecordGet :one
SELECT id, vehicle_id, service_type FROM service_records
WHERE organization_id = sqlc.arg(organization_id) AND id = sqlc.arg(id);

-- name: InquiryAssigneePick :many
-- The active manager with the fewest open inquiries (oldest account first
-- on a tie); none when the organization has no manager.
SELECT u.id, u.email, u.full_name FROM users u
JOIN roles r ON r.organization_id = u.organization_id AND r.id = u.role_id
WHERE u.organization_id = sqlc.arg(organization_id) AND u.is_active AND r.key = 'manager'
ORDER BY (SELECT count(*) FROM inquiries i
          WHERE i.organization_id = u.organization_id AND i.assigned_to = u.id AND i.status IN ('new', 'in_progress')),
         u.id
LIMIT 1;

-- name: CallOverdueReports :many
-- Calls awaiting their end-of-call report since before the given instant,
-- across tenants (see migration 00011).
SELECT s.organization_id::uuid AS organization_id, s.call_id::uuid AS call_id,
       s.provider::text AS provider, s.provider_call_id::text AS provider_call_id,
       s.created_at::timestamptz AS created_at
FROM call_overdue_reports(sqlc.arg(before)::timestamptz, sqlc.arg(lim)::integer) AS s;
