-- +goose Up
-- Call results: what the voice provider's webhooks leave behind. The
-- end-of-call report is applied to its call exactly once (report_received_at),
-- its cost is charged once through a credit ledger, and the messages the
-- outcome calls for (a review link, an escalation) wait in an outbox for the
-- SMS and email adapters. Webhook routing reaches across tenants only through
-- the named functions at the end.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- When the end-of-call report was applied; null until then. A report finds
-- its call already reported and changes nothing.
ALTER TABLE calls ADD COLUMN report_received_at timestamptz;

-- Webhooks name a call by our id alone (the metadata we sent), before the
-- tenant is known; the primary key leads with organization_id.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX calls_id_idx ON calls (id);

-- Why a recording download failed, for operators and the API.
ALTER TABLE audio_files ADD COLUMN error text;

-- Bookings made by callers who are not (yet) customers keep who they are.
ALTER TABLE bookings ADD COLUMN customer_name text NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN customer_phone text;

-- An opt-out cancels the organization's other open targets for the number.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX campaign_targets_org_phone_open_idx ON campaign_targets (organization_id, phone)
  WHERE status IN ('pending', 'retry');

-- The tenant and call an event was routed to. webhook_events is global (the
-- tenant is known only once the payload has been read), so these are plain
-- references, not a tenant key: the names say so.
ALTER TABLE webhook_events ADD COLUMN routed_organization_id uuid;
ALTER TABLE webhook_events ADD COLUMN routed_call_id uuid;

-- The credit ledger: every change to organizations.credit_balance, in the
-- balance's minor units. Append-only for the application role. A call is
-- charged at most once (the partial unique index).
CREATE TABLE credit_transactions (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  kind             text NOT NULL CHECK (kind IN ('call_charge', 'top_up', 'adjustment', 'refund')),
  amount           bigint NOT NULL,
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  call_id          uuid,
  description      text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE SET NULL (call_id)
);
CREATE UNIQUE INDEX credit_transactions_org_call_charge_key ON credit_transactions (organization_id, call_id)
  WHERE kind = 'call_charge' AND call_id IS NOT NULL;
CREATE INDEX credit_transactions_org_id_idx ON credit_transactions (organization_id, id DESC);

-- The notification outbox: messages a call's outcome calls for, written in
-- the transaction that stores the outcome and sent later by the channel's
-- adapter, which moves pending rows to sent or failed. Rows the rules hold
-- back are kept as suppressed, with the reason, so "why was no link sent?"
-- has an answer. One message of a kind per call.
CREATE TABLE notifications (
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT uuid_v7(),
  channel           text NOT NULL CHECK (channel IN ('sms', 'email')),
  kind              text NOT NULL CHECK (kind IN ('review_link', 'detractor_escalation')),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
  recipient         text,
  subject           text NOT NULL DEFAULT '',
  body              text NOT NULL,
  call_id           uuid,
  customer_id       uuid,
  inquiry_id        uuid,
  suppressed_reason text,
  attempts          integer NOT NULL DEFAULT 0,
  last_error        text,
  next_attempt_at   timestamptz,
  provider_ref      text,
  sent_at           timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE SET NULL (call_id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
  FOREIGN KEY (organization_id, inquiry_id) REFERENCES inquiries (organization_id, id) ON DELETE SET NULL (inquiry_id),
  CHECK (status = 'suppressed' OR recipient IS NOT NULL)
);
CREATE UNIQUE INDEX notifications_org_call_kind_key ON notifications (organization_id, call_id, kind)
  WHERE call_id IS NOT NULL;
CREATE INDEX notifications_org_status_idx ON notifications (organization_id, status, id DESC);
CREATE INDEX notifications_pending_idx ON notifications (channel, next_attempt_at) WHERE status = 'pending';

-- +goose StatementBegin
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['credit_transactions', 'notifications'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO autopulse_app '
                   'USING (organization_id = current_org_id()) '
                   'WITH CHECK (organization_id = current_org_id())', t);
    EXECUTE format('CREATE POLICY owner_access ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
  END LOOP;
END
$$;
-- +goose StatementEnd
-- The ledger is append-only for the application; the outbox is updated as
-- messages are sent.
GRANT SELECT, INSERT ON credit_transactions TO autopulse_app;
GRANT SELECT, INSERT, UPDATE ON notifications TO autopulse_app;

-- Webhook routing: the named cross-tenant paths ------------------------
-- A verified webhook names its call by our id (the metadata), by the
-- provider's call id, or, for an inbound call, only by the line dialled.

-- The tenant of one of our calls.
CREATE FUNCTION webhook_call_owner(p_call_id uuid)
RETURNS TABLE (organization_id uuid, call_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT c.organization_id, c.id FROM calls c WHERE c.id = p_call_id
$$;

-- The tenant and call of a provider's call id.
CREATE FUNCTION webhook_call_owner_by_provider(p_provider text, p_provider_call_id text)
RETURNS TABLE (organization_id uuid, call_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT c.organization_id, c.id FROM calls c
  WHERE c.provider = p_provider AND c.provider_call_id = p_provider_call_id
$$;

-- The active organizations that own a line: those whose caller_id setting
-- is the number or, when none has it as caller id, those whose profile
-- phone is. At most two rows: the caller treats two as ambiguous.
CREATE FUNCTION webhook_line_owners(p_number text)
RETURNS TABLE (organization_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH by_caller_id AS (
    SELECT s.organization_id FROM settings s
    JOIN organizations o ON o.id = s.organization_id
    WHERE s.key = 'caller_id' AND s.value = to_jsonb(p_number) AND o.status = 'active'
  )
  SELECT b.organization_id FROM by_caller_id b
  UNION ALL
  SELECT o.id FROM organizations o
  WHERE o.phone = p_number AND o.status = 'active' AND NOT EXISTS (SELECT 1 FROM by_caller_id)
  LIMIT 2
$$;

-- Whether an organization exists and is active (an inbound call's
-- assistant may name its tenant in the metadata we configured).
CREATE FUNCTION webhook_organization_active(p_id uuid)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT EXISTS (SELECT 1 FROM organizations o WHERE o.id = p_id AND o.status = 'active')
$$;

REVOKE ALL ON FUNCTION webhook_call_owner(uuid), webhook_call_owner_by_provider(text, text),
  webhook_line_owners(text), webhook_organization_active(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_call_owner(uuid), webhook_call_owner_by_provider(text, text),
  webhook_line_owners(text), webhook_organization_active(uuid) TO autopulse_app;

-- +goose Down
SET LOCAL lock_timeout = '5s';

DROP FUNCTION webhook_organization_active(uuid);
DROP FUNCTION webhook_line_owners(text);
DROP FUNCTION webhook_call_owner_by_provider(text, text);
DROP FUNCTION webhook_call_owner(uuid);
DROP TABLE notifications;
DROP TABLE credit_transactions;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_events DROP COLUMN routed_call_id;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_events DROP COLUMN routed_organization_id;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX campaign_targets_org_phone_open_idx;
-- squawk-ignore ban-drop-column
ALTER TABLE bookings DROP COLUMN customer_phone;
-- squawk-ignore ban-drop-column
ALTER TABLE bookings DROP COLUMN customer_name;
-- squawk-ignore ban-drop-column
ALTER TABLE audio_files DROP COLUMN error;
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX calls_id_idx;
-- squawk-ignore ban-drop-column
ALTER TABLE calls DROP COLUMN report_received_at;
