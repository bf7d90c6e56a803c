-- +goose Up
-- The foundation schema: every table the product needs, keyed for tenant
-- isolation. Tenant tables have primary key (organization_id, id), foreign
-- keys that carry organization_id, and row-level security with FORCE.
-- Ids are UUIDv7 (time-ordered): the application generates them with
-- uuid.NewV7; uuid_v7() is the default for rows written from SQL.

-- Fail fast rather than queue behind a long lock (goose runs each file in
-- one transaction, so these are local to it).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s';

-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'autopulse_app') THEN
    CREATE ROLE autopulse_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO autopulse_app;
GRANT SELECT ON goose_db_version TO autopulse_app;

CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  -- 48-bit Unix milliseconds over a random v4 uuid, then version bits 0111.
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1), 'hex')::uuid
$$;

-- The tenant of the current transaction, set with
-- set_config('app.current_org_id', id, true). After a transaction-local set
-- the session value reverts to '' rather than NULL, hence the NULLIF.
CREATE FUNCTION current_org_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NULLIF(current_setting('app.current_org_id', true), '')::uuid
$$;

-- Global tables ---------------------------------------------------------

CREATE TABLE plans (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  code                  text NOT NULL UNIQUE,
  name                  text NOT NULL,
  price_amount          bigint NOT NULL DEFAULT 0 CHECK (price_amount >= 0),
  currency              text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  billing_interval      text NOT NULL DEFAULT 'month' CHECK (billing_interval IN ('month', 'year', 'one_time')),
  included_credits      bigint NOT NULL DEFAULT 0,
  included_minutes      integer NOT NULL DEFAULT 0,
  max_users             integer NOT NULL DEFAULT 5,
  max_concurrent_calls  integer NOT NULL DEFAULT 2,
  features              jsonb NOT NULL DEFAULT '{}',
  stripe_price_id       text,
  active                boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON plans TO autopulse_app;

-- The tenant itself: row-level security on id.
CREATE TABLE organizations (
  id                      uuid PRIMARY KEY DEFAULT uuid_v7(),
  name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  slug                    text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  timezone                text NOT NULL DEFAULT 'America/New_York',
  phone                   text,
  address                 text,
  postal_code             text,
  state                   text,
  google_review_link      text,
  call_concurrency_limit  integer NOT NULL DEFAULT 2 CHECK (call_concurrency_limit BETWEEN 0 AND 500),
  plan_id                 uuid REFERENCES plans (id),
  credit_balance          bigint NOT NULL DEFAULT 0,
  currency                text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  is_platform             boolean NOT NULL DEFAULT false,
  stripe_customer_id      text,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_plan_id_idx ON organizations (plan_id);
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations TO autopulse_app
  USING (id = current_org_id()) WITH CHECK (id = current_org_id());
CREATE POLICY owner_access ON organizations TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON organizations TO autopulse_app;

-- Provider webhook deliveries, deduplicated on (provider, event_id). A
-- delivery names its tenant only inside its verified payload, so this table
-- is global; the job that processes an event works within that tenant.
CREATE TABLE webhook_events (
  id               uuid PRIMARY KEY DEFAULT uuid_v7(),
  provider         text NOT NULL,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
  error            text,
  received_at      timestamptz NOT NULL DEFAULT now(),
  processed_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, event_id)
);
GRANT SELECT, INSERT, UPDATE ON webhook_events TO autopulse_app;

-- Failed-login bookkeeping, keyed by account or client address. It is read
-- before anyone is authenticated, so it is global.
CREATE TABLE login_throttles (
  key              text PRIMARY KEY,
  failures         integer NOT NULL DEFAULT 0,
  last_failure_at  timestamptz NOT NULL DEFAULT now(),
  blocked_until    timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttles TO autopulse_app;

-- Tenant tables ---------------------------------------------------------

CREATE TABLE roles (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  key              text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name             text NOT NULL,
  description      text NOT NULL DEFAULT '',
  is_system        boolean NOT NULL DEFAULT false,
  -- For system roles the permissions are defined in code (identity.SystemRoles)
  -- and this column stays empty; custom roles store theirs here.
  permissions      text[] NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, key)
);

CREATE TABLE users (
  organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT uuid_v7(),
  email              text NOT NULL CHECK (email = lower(email)),
  full_name          text NOT NULL,
  password_hash      text NOT NULL,
  role_id            uuid NOT NULL,
  is_active          boolean NOT NULL DEFAULT true,
  is_platform_admin  boolean NOT NULL DEFAULT false,
  last_login_at      timestamptz,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, role_id) REFERENCES roles (organization_id, id)
);
-- Email identifies a login across the platform, so it is globally unique.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_org_role_idx ON users (organization_id, role_id);

CREATE TABLE refresh_tokens (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  user_id          uuid NOT NULL,
  family_id        uuid NOT NULL,
  token_hash       bytea NOT NULL UNIQUE,
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz,
  revoked_at       timestamptz,
  revoked_reason   text,
  client_ip        text,
  user_agent       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (organization_id, family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (organization_id, user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE api_keys (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  name             text NOT NULL,
  prefix           text NOT NULL,
  key_hash         bytea NOT NULL UNIQUE,
  role_id          uuid NOT NULL,
  created_by       uuid,
  last_used_at     timestamptz,
  expires_at       timestamptz,
  revoked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, role_id) REFERENCES roles (organization_id, id)
);

CREATE TABLE idempotency_keys (
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT uuid_v7(),
  actor_id          uuid NOT NULL,
  key               text NOT NULL,
  request_method    text NOT NULL,
  request_path      text NOT NULL,
  request_hash      bytea NOT NULL,
  status            text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
  response_status   integer,
  response_headers  jsonb,
  response_body     bytea,
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, actor_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

CREATE TABLE settings (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  key              text NOT NULL,
  value            jsonb NOT NULL,
  category         text NOT NULL DEFAULT 'general',
  description      text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, key)
);

-- Append-only: the application role may insert and read, never change.
CREATE TABLE audit_logs (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  actor_user_id    uuid,
  actor_api_key_id uuid,
  action           text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  entity           text NOT NULL,
  entity_id        text NOT NULL,
  old_value        jsonb,
  new_value        jsonb,
  ip               text,
  user_agent       text,
  request_id       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX audit_logs_org_id_idx ON audit_logs (organization_id, id DESC);
CREATE INDEX audit_logs_org_entity_idx ON audit_logs (organization_id, entity, entity_id, id DESC);
CREATE INDEX audit_logs_org_actor_idx ON audit_logs (organization_id, actor_user_id, id DESC);

CREATE TABLE payment_history (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  plan_id          uuid REFERENCES plans (id),
  user_id          uuid,
  amount           bigint NOT NULL,
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  credits          bigint NOT NULL DEFAULT 0,
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
  method           text,
  provider         text NOT NULL DEFAULT 'stripe',
  provider_ref     text,
  paid_at          timestamptz,
  description      text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, provider, provider_ref),
  FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id) ON DELETE SET NULL (user_id)
);
CREATE INDEX payment_history_org_id_idx ON payment_history (organization_id, id DESC);

CREATE TABLE tags (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  name             text NOT NULL,
  type             text NOT NULL DEFAULT 'custom' CHECK (type IN ('service_type', 'focus_area', 'inquiry_topic', 'custom')),
  color            text NOT NULL DEFAULT '#6b7280' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, type, name)
);

CREATE TABLE customers (
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT uuid_v7(),
  dms_customer_id   text,
  first_name        text NOT NULL DEFAULT '',
  last_name         text NOT NULL DEFAULT '',
  phone             text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  email             text,
  address           text,
  city              text,
  state             text,
  postal_code       text,
  timezone          text,
  tags              text[] NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX customers_org_dms_id_key ON customers (organization_id, dms_customer_id) WHERE dms_customer_id IS NOT NULL;
CREATE INDEX customers_org_phone_idx ON customers (organization_id, phone);
CREATE INDEX customers_org_id_idx ON customers (organization_id, id DESC);

CREATE TABLE vehicles (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  customer_id      uuid,
  vin              text CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
  year             integer CHECK (year BETWEEN 1900 AND 2100),
  make             text,
  model            text,
  trim             text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id)
);
CREATE UNIQUE INDEX vehicles_org_vin_key ON vehicles (organization_id, vin) WHERE vin IS NOT NULL;
CREATE INDEX vehicles_org_customer_idx ON vehicles (organization_id, customer_id);

CREATE TABLE dms_integrations (
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT uuid_v7(),
  name              text NOT NULL,
  type              text NOT NULL CHECK (type IN ('cdk', 'reynolds', 'dealertrack', 'tekion', 'csv', 'api_push')),
  -- Non-secret settings in config; secrets sealed with AES-GCM in config_secret.
  config            jsonb NOT NULL DEFAULT '{}',
  config_secret     bytea,
  timeout_seconds   integer NOT NULL DEFAULT 30 CHECK (timeout_seconds BETWEEN 1 AND 600),
  is_active         boolean NOT NULL DEFAULT true,
  last_sync_at      timestamptz,
  last_sync_status  text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, name)
);

CREATE TABLE service_records (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  customer_id      uuid,
  vehicle_id       uuid,
  ro_number        text NOT NULL,
  service_date     date NOT NULL,
  closed_at        timestamptz,
  service_type     text,
  op_codes         text[] NOT NULL DEFAULT '{}',
  advisor_name     text,
  mileage          integer CHECK (mileage >= 0),
  total_amount     bigint,
  currency         text NOT NULL DEFAULT 'USD',
  pay_type         text,
  status           text NOT NULL DEFAULT 'closed' CHECK (status IN ('open', 'closed', 'void')),
  source           text NOT NULL DEFAULT 'api' CHECK (source IN ('csv', 'api', 'dms')),
  dms_integration_id uuid,
  raw              jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, ro_number),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
  FOREIGN KEY (organization_id, vehicle_id) REFERENCES vehicles (organization_id, id) ON DELETE SET NULL (vehicle_id),
  FOREIGN KEY (organization_id, dms_integration_id) REFERENCES dms_integrations (organization_id, id) ON DELETE SET NULL (dms_integration_id)
);
CREATE INDEX service_records_org_date_idx ON service_records (organization_id, service_date DESC, id DESC);
CREATE INDEX service_records_org_customer_idx ON service_records (organization_id, customer_id);
CREATE INDEX service_records_org_vehicle_idx ON service_records (organization_id, vehicle_id);

CREATE TABLE schedule_configs (
  organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT uuid_v7(),
  campaign_id        uuid,
  timezone           text NOT NULL,
  active_days        smallint[] NOT NULL DEFAULT '{1,2,3,4,5}',
  start_time         time NOT NULL DEFAULT '09:00',
  end_time           time NOT NULL DEFAULT '18:00',
  auto_call_enabled  boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  CHECK (start_time < end_time)
);
-- One organization default (campaign_id IS NULL) and one per campaign.
CREATE UNIQUE INDEX schedule_configs_org_default_key ON schedule_configs (organization_id) WHERE campaign_id IS NULL;
CREATE UNIQUE INDEX schedule_configs_org_campaign_key ON schedule_configs (organization_id, campaign_id) WHERE campaign_id IS NOT NULL;

CREATE TABLE campaigns (
  organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                  uuid NOT NULL DEFAULT uuid_v7(),
  name                text NOT NULL,
  description         text NOT NULL DEFAULT '',
  type                text NOT NULL CHECK (type IN ('post_service_feedback', 'service_reminder', 'recall', 'declined_service', 'custom')),
  status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
  audience_filter     jsonb NOT NULL DEFAULT '{}',
  agent_config        jsonb NOT NULL DEFAULT '{}',
  schedule_config_id  uuid,
  max_attempts        integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 10),
  retry_gap           interval NOT NULL DEFAULT '4 hours',
  starts_at           timestamptz,
  ends_at             timestamptz,
  launched_at         timestamptz,
  created_by          uuid,
  updated_by          uuid,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, schedule_config_id) REFERENCES schedule_configs (organization_id, id) ON DELETE SET NULL (schedule_config_id),
  CHECK (ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at)
);
CREATE INDEX campaigns_org_status_idx ON campaigns (organization_id, status, id DESC);
ALTER TABLE schedule_configs ADD FOREIGN KEY (organization_id, campaign_id)
  REFERENCES campaigns (organization_id, id) ON DELETE CASCADE;

CREATE TABLE campaign_targets (
  organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT uuid_v7(),
  campaign_id        uuid NOT NULL,
  customer_id        uuid NOT NULL,
  service_record_id  uuid,
  phone              text NOT NULL,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dialing', 'in_call', 'retry', 'completed', 'failed', 'skipped', 'cancelled')),
  attempts           integer NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz,
  last_attempt_at    timestamptz,
  last_decision      text CHECK (last_decision IN ('allow', 'hold', 'block')),
  last_decision_rule text,
  last_decision_at   timestamptz,
  skip_reason        text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, campaign_id, customer_id),
  FOREIGN KEY (organization_id, campaign_id) REFERENCES campaigns (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, service_record_id) REFERENCES service_records (organization_id, id) ON DELETE SET NULL (service_record_id)
);
CREATE INDEX campaign_targets_org_campaign_status_idx ON campaign_targets (organization_id, campaign_id, status, id);
CREATE INDEX campaign_targets_due_idx ON campaign_targets (next_attempt_at) WHERE status IN ('pending', 'retry');

CREATE TABLE calls (
  organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT uuid_v7(),
  campaign_id        uuid,
  target_id          uuid,
  service_record_id  uuid,
  customer_id        uuid,
  direction          text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
  from_number        text,
  to_number          text,
  status             text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'dialing', 'ringing', 'in_progress', 'forwarding', 'ended', 'failed')),
  provider           text NOT NULL DEFAULT 'vapi',
  provider_call_id   text,
  started_at         timestamptz,
  answered_at        timestamptz,
  ended_at           timestamptz,
  duration_sec       integer,
  ended_reason       text,
  cost_amount        bigint,
  currency           text NOT NULL DEFAULT 'USD',
  nps_score          smallint CHECK (nps_score BETWEEN 0 AND 10),
  sentiment          text CHECK (sentiment IN ('positive', 'neutral', 'negative')),
  summary            text,
  outcome            text,
  analysis           jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, campaign_id) REFERENCES campaigns (organization_id, id) ON DELETE SET NULL (campaign_id),
  FOREIGN KEY (organization_id, target_id) REFERENCES campaign_targets (organization_id, id) ON DELETE SET NULL (target_id),
  FOREIGN KEY (organization_id, service_record_id) REFERENCES service_records (organization_id, id) ON DELETE SET NULL (service_record_id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id)
);
-- Provider ids are global to the provider; webhooks route on them.
CREATE UNIQUE INDEX calls_provider_call_id_key ON calls (provider, provider_call_id) WHERE provider_call_id IS NOT NULL;
CREATE INDEX calls_org_id_idx ON calls (organization_id, id DESC);
CREATE INDEX calls_org_campaign_idx ON calls (organization_id, campaign_id, id DESC);
CREATE INDEX calls_org_to_number_idx ON calls (organization_id, to_number, created_at DESC);

CREATE TABLE transcripts (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  call_id          uuid NOT NULL,
  seq              integer NOT NULL CHECK (seq >= 0),
  speaker          text NOT NULL CHECK (speaker IN ('agent', 'customer', 'system')),
  text             text NOT NULL,
  start_ms         integer,
  end_ms           integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, call_id, seq),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE audio_files (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  call_id          uuid NOT NULL,
  storage_key      text,
  content_type     text,
  duration_sec     integer,
  size_bytes       bigint,
  sha256           text,
  source_url       text,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'failed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, call_id),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE kpis (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  code             text NOT NULL,
  name             text NOT NULL,
  type             text NOT NULL CHECK (type IN ('core', 'custom')),
  description      text NOT NULL DEFAULT '',
  metric           text NOT NULL,
  target_value     numeric,
  unit             text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, code)
);

CREATE TABLE kpi_daily (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  day              date NOT NULL,
  campaign_id      uuid,
  calls            integer NOT NULL DEFAULT 0,
  connects         integer NOT NULL DEFAULT 0,
  completions      integer NOT NULL DEFAULT 0,
  bookings         integer NOT NULL DEFAULT 0,
  opt_outs         integer NOT NULL DEFAULT 0,
  nps_sum          integer NOT NULL DEFAULT 0,
  nps_count        integer NOT NULL DEFAULT 0,
  duration_sec     bigint NOT NULL DEFAULT 0,
  cost_amount      bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE NULLS NOT DISTINCT (organization_id, day, campaign_id),
  FOREIGN KEY (organization_id, campaign_id) REFERENCES campaigns (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE bookings (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  call_id          uuid,
  customer_id      uuid,
  vehicle_id       uuid,
  campaign_id      uuid,
  scheduled_at     timestamptz NOT NULL,
  service_type     text,
  status           text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'completed', 'canceled', 'no_show')),
  notes            text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE SET NULL (call_id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
  FOREIGN KEY (organization_id, vehicle_id) REFERENCES vehicles (organization_id, id) ON DELETE SET NULL (vehicle_id),
  FOREIGN KEY (organization_id, campaign_id) REFERENCES campaigns (organization_id, id) ON DELETE SET NULL (campaign_id)
);
CREATE INDEX bookings_org_scheduled_idx ON bookings (organization_id, scheduled_at DESC, id DESC);
CREATE UNIQUE INDEX bookings_org_call_key ON bookings (organization_id, call_id) WHERE call_id IS NOT NULL;

CREATE TABLE inquiries (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  call_id          uuid,
  customer_id      uuid,
  customer_name    text NOT NULL DEFAULT '',
  customer_phone   text,
  customer_email   text,
  topic            text NOT NULL DEFAULT 'general',
  message          text NOT NULL DEFAULT '',
  status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'responded', 'closed')),
  assigned_to      uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, call_id) REFERENCES calls (organization_id, id) ON DELETE SET NULL (call_id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
  FOREIGN KEY (organization_id, assigned_to) REFERENCES users (organization_id, id) ON DELETE SET NULL (assigned_to)
);
CREATE INDEX inquiries_org_status_idx ON inquiries (organization_id, status, id DESC);
CREATE UNIQUE INDEX inquiries_org_call_key ON inquiries (organization_id, call_id) WHERE call_id IS NOT NULL;

CREATE TABLE dnc_entries (
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT uuid_v7(),
  phone            text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  reason           text NOT NULL DEFAULT '',
  source           text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'call_opt_out', 'sms_stop', 'import')),
  call_id          uuid,
  created_by       uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, phone)
);

-- Row-level security for every tenant table: the application role sees only
-- the rows of the tenant set for its transaction; the owner role (which runs
-- migrations and owns the privileged functions below) sees all.
-- +goose StatementBegin
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'roles', 'users', 'refresh_tokens', 'api_keys', 'idempotency_keys', 'settings',
    'audit_logs', 'payment_history', 'tags', 'customers', 'vehicles', 'dms_integrations',
    'service_records', 'schedule_configs', 'campaigns', 'campaign_targets', 'calls',
    'transcripts', 'audio_files', 'kpis', 'kpi_daily', 'bookings', 'inquiries', 'dnc_entries'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO autopulse_app '
                   'USING (organization_id = current_org_id()) '
                   'WITH CHECK (organization_id = current_org_id())', t);
    EXECUTE format('CREATE POLICY owner_access ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    IF t = 'audit_logs' THEN
      EXECUTE format('GRANT SELECT, INSERT ON %I TO autopulse_app', t);
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO autopulse_app', t);
    END IF;
  END LOOP;
END
$$;
-- +goose StatementEnd

-- Privileged, named cross-tenant paths ----------------------------------
-- Each runs as the owner and returns only what its caller needs.

-- Login by email: the one lookup that happens before the tenant is known.
CREATE FUNCTION auth_user_by_email(p_email text)
RETURNS TABLE (organization_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT u.organization_id, u.id FROM users u WHERE u.email = lower(p_email)
$$;

-- A presented refresh token names its tenant only through its hash.
CREATE FUNCTION auth_refresh_token_owner(p_hash bytea)
RETURNS TABLE (organization_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.organization_id, t.user_id FROM refresh_tokens t WHERE t.token_hash = p_hash
$$;

-- A presented API key names its tenant only through its hash.
CREATE FUNCTION auth_api_key_owner(p_hash bytea)
RETURNS TABLE (organization_id uuid, api_key_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT k.organization_id, k.id FROM api_keys k WHERE k.key_hash = p_hash
$$;

-- Platform administration: list every organization with its user count.
CREATE FUNCTION admin_organization_list(p_after uuid, p_limit integer)
RETURNS SETOF organizations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT o.* FROM organizations o
  WHERE p_after IS NULL OR o.id > p_after
  ORDER BY o.id
  LIMIT p_limit
$$;

-- Background maintenance: drop expired rows across all tenants.
-- +goose StatementBegin
CREATE FUNCTION maintenance_prune_expired(p_now timestamptz)
RETURNS TABLE (idempotency_keys bigint, refresh_tokens bigint, login_throttles bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  n_idem bigint;
  n_refresh bigint;
  n_throttle bigint;
BEGIN
  DELETE FROM idempotency_keys WHERE expires_at < p_now;
  GET DIAGNOSTICS n_idem = ROW_COUNT;
  DELETE FROM refresh_tokens WHERE expires_at < p_now - interval '7 days';
  GET DIAGNOSTICS n_refresh = ROW_COUNT;
  DELETE FROM login_throttles WHERE blocked_until < p_now - interval '1 day';
  GET DIAGNOSTICS n_throttle = ROW_COUNT;
  RETURN QUERY SELECT n_idem, n_refresh, n_throttle;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION auth_user_by_email(text), auth_refresh_token_owner(bytea),
  auth_api_key_owner(bytea), admin_organization_list(uuid, integer),
  maintenance_prune_expired(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_user_by_email(text), auth_refresh_token_owner(bytea),
  auth_api_key_owner(bytea), admin_organization_list(uuid, integer),
  maintenance_prune_expired(timestamptz) TO autopulse_app;

-- +goose Down
DROP FUNCTION maintenance_prune_expired(timestamptz);
DROP FUNCTION admin_organization_list(uuid, integer);
DROP FUNCTION auth_api_key_owner(bytea);
DROP FUNCTION auth_refresh_token_owner(bytea);
DROP FUNCTION auth_user_by_email(text);
DROP TABLE dnc_entries;
DROP TABLE inquiries;
DROP TABLE bookings;
DROP TABLE kpi_daily;
DROP TABLE kpis;
DROP TABLE audio_files;
DROP TABLE transcripts;
DROP TABLE calls;
DROP TABLE campaign_targets;
ALTER TABLE schedule_configs DROP CONSTRAINT schedule_configs_organization_id_campaign_id_fkey;
DROP TABLE campaigns;
DROP TABLE schedule_configs;
DROP TABLE service_records;
DROP TABLE dms_integrations;
DROP TABLE vehicles;
DROP TABLE customers;
DROP TABLE tags;
DROP TABLE payment_history;
DROP TABLE audit_logs;
DROP TABLE settings;
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE roles;
DROP TABLE login_throttles;
DROP TABLE webhook_events;
DROP TABLE organizations;
DROP TABLE plans;
DROP FUNCTION current_org_id();
DROP FUNCTION uuid_v7();
REVOKE SELECT ON goose_db_version FROM autopulse_app;
REVOKE USAGE ON SCHEMA public FROM autopulse_app;
