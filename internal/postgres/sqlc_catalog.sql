-- Tables that exist at run time but are created by tools rather than by our
-- migrations. Declared here only so sqlc can type-check queries against
-- them; this file is never executed.

-- goose's version table (goose v3).
CREATE TABLE goose_db_version (
  id         serial PRIMARY KEY,
  version_id bigint NOT NULL,
  is_applied boolean NOT NULL,
  tstamp     timestamp NOT NULL DEFAULT now()
);

-- River's job table (installed by migration 2 through rivermigrate), with only
-- the columns our own queries read: queue depth for /metrics.
CREATE TYPE river_job_state AS ENUM (
  'available', 'cancelled', 'completed', 'discarded', 'pending', 'retryable', 'running', 'scheduled'
);
CREATE TABLE river_job (
  id           bigserial PRIMARY KEY,
  state        river_job_state NOT NULL DEFAULT 'available',
  queue        text NOT NULL DEFAULT 'default',
  kind         text NOT NULL,
  scheduled_at timestamptz NOT NULL DEFAULT now()
);

-- The staging table of a service-record load (CSV import, DMS pull, push
-- batch): created per transaction by RecordStagingCreate (queries/
-- record_staging.sql, which must match this shape), filled by COPY, merged
-- into customers, vehicles and service_records, dropped on commit.
CREATE TABLE service_record_staging (
  line             integer NOT NULL,
  ro_number        text NOT NULL,
  service_date     date NOT NULL,
  closed_at        timestamptz,
  status           text NOT NULL,
  service_type     text,
  op_codes         text[] NOT NULL,
  advisor_name     text,
  mileage          integer,
  total_amount     bigint,
  pay_type         text,
  dms_customer_id  text,
  first_name       text NOT NULL,
  last_name        text NOT NULL,
  phone            text NOT NULL,
  email            text,
  address          text,
  city             text,
  state            text,
  postal_code      text,
  vin              text,
  year             integer,
  make             text,
  model            text,
  trim             text,
  raw              jsonb NOT NULL,
  record_id        uuid NOT NULL,
  new_customer_id  uuid NOT NULL,
  new_vehicle_id   uuid NOT NULL
);
