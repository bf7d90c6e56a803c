-- The set-based load of service records. A load (CSV import, DMS pull,
-- push batch, single create) runs in one transaction:
--   RecordStagingSettings → RecordStagingCreate → COPY (pgx CopyFrom)
--   → RecordStagingAnalyze → RecordStagingDedupe → [RecordStagingIndex]
--   → RecordLockOrganization → RecordStagingCustomersAdopt
--   → RecordStagingCustomersUpsertByDMSID → RecordStagingCustomersInsertByPhone
--   → RecordStagingVehiclesUpsertByVIN → RecordStagingVehiclesInsertWithoutVIN
--   → RecordStagingMerge, once per chunk of lines
-- so a failure anywhere leaves nothing behind: chunks are statements of
-- that one transaction, not transactions of their own. Rows are told apart
-- by their line (a file line, or a batch index), unique within a load. Each
-- staged row brings the ids (UUIDv7, made in Go, which is much cheaper than
-- uuid_v7() per row) of the record, customer and vehicle it would create.
-- Once the customers exist, "the customer of a staged row" is the CTE
-- staged, repeated in the statements that need it (the planner hash-joins
-- it; writing it back into staging would rewrite every staged row).
-- "Created in this load" is created_at = now(): now() is the transaction's
-- start, which rows written earlier cannot carry.
--
-- "The latest row" of a customer or vehicle is its row with the latest
-- service date, then the highest line: the one whose
-- ARRAY[service_date - DATE '2000-01-01', line] is greatest. Picking it with
-- max() is a hash aggregate over the key and two integers, where DISTINCT ON
-- sorted every staged row by a text key (spilling to disk at a million rows).
--
-- Where inserts go matters more than any plan once the tables outgrow
-- shared_buffers: each inserted row lands in up to seven indexes and its
-- foreign keys are checked, after the statement, against the customers and
-- vehicles rows it points to. Hence the ORDER BYs below: customers are
-- inserted in id order, vehicles and records in customer order, so those
-- checks and the (organization_id, customer_id) indexes walk pages in order
-- instead of jumping; and records go in chunks, so that a chunk's rows are
-- still in memory when its foreign keys are checked.

-- name: RecordLockOrganization :exec
-- Record writes of one organization take turns: customers are matched by
-- phone, which no unique constraint guards (a household shares a number).
SELECT pg_advisory_xact_lock(hashtextextended('service_records:' || sqlc.arg(organization_id)::uuid::text, 0));

-- name: RecordStagingSettings :exec
-- For the rest of the load's transaction: no JIT (the merge's estimates
-- cross jit_above_cost at a few thousand rows, and compiling its
-- expressions costs seconds, more than it saves), and room to sort and
-- hash the staged rows in memory.
SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true);

-- name: RecordStagingCreate :exec
-- Must match service_record_staging in sqlc_catalog.sql.
CREATE TEMP TABLE service_record_staging (
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
) ON COMMIT DROP;

-- name: RecordStagingAnalyze :exec
-- Autovacuum never analyzes temporary tables; the merge's joins and
-- groupings need the row count and these columns' distinct values, and the
-- chunks of RecordStagingMerge the spread of line.
ANALYZE service_record_staging (line, ro_number, dms_customer_id, phone, vin, make);

-- name: RecordStagingDedupe :many
-- An RO number twice in one load: the later line wins; the earlier ones are
-- dropped and returned (at most lim of them; total counts them all).
WITH dup AS (
  SELECT ro_number, max(line) AS kept_line
  FROM service_record_staging
  GROUP BY ro_number
  HAVING count(*) > 1
), dropped AS (
  DELETE FROM service_record_staging s
  USING dup d
  WHERE s.ro_number = d.ro_number AND s.line < d.kept_line
  RETURNING s.line, s.ro_number
)
SELECT dr.line, dr.ro_number, d.kept_line::integer AS kept_line, (count(*) OVER ())::integer AS total
FROM dropped dr
JOIN dup d ON d.ro_number = dr.ro_number
ORDER BY dr.line
LIMIT sqlc.arg(lim);

-- name: RecordStagingIndex :exec
-- For a load of more than one chunk: each RecordStagingMerge reads its
-- lines through this index rather than scanning every staged row.
CREATE INDEX ON service_record_staging (line);

-- name: RecordStagingCustomersAdopt :execrows
-- A customer known only by phone (created by the API before the DMS id was
-- known) takes the DMS id of a loaded row with the same phone, instead of
-- a second customer being created. One customer per DMS id, one DMS id per
-- customer.
UPDATE customers c
SET dms_customer_id = m.dms_customer_id, updated_at = now()
FROM (
  SELECT DISTINCT ON (p.dms_customer_id) p.customer_id, p.dms_customer_id
  FROM (
    SELECT DISTINCT ON (t.id) t.id AS customer_id, s.dms_customer_id
    FROM service_record_staging s
    JOIN customers t
      ON t.organization_id = sqlc.arg(organization_id) AND t.phone = s.phone AND t.dms_customer_id IS NULL
    WHERE s.dms_customer_id IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM customers x
        WHERE x.organization_id = sqlc.arg(organization_id) AND x.dms_customer_id = s.dms_customer_id)
    ORDER BY t.id, s.service_date DESC, s.line DESC
  ) p
  ORDER BY p.dms_customer_id, p.customer_id
) m
WHERE c.organization_id = sqlc.arg(organization_id) AND c.id = m.customer_id;

-- name: RecordStagingCustomersUpsertByDMSID :one
-- Customers with a DMS id: created, or updated from their latest record in
-- the load (a non-empty value replaces, an empty one keeps). Unchanged
-- customers are not written.
WITH latest AS (
  SELECT (max(ARRAY[s.service_date - DATE '2000-01-01', s.line]))[2] AS line
  FROM service_record_staging s
  WHERE s.dms_customer_id IS NOT NULL
  GROUP BY s.dms_customer_id
), src AS (
  SELECT s.new_customer_id, s.dms_customer_id, s.first_name, s.last_name, s.phone, s.email, s.address, s.city, s.state, s.postal_code
  FROM latest l
  JOIN service_record_staging s ON s.line = l.line
), up AS (
  INSERT INTO customers AS c (organization_id, id, dms_customer_id, first_name, last_name, phone, email, address, city, state, postal_code)
  SELECT sqlc.arg(organization_id), src.new_customer_id, src.dms_customer_id, src.first_name, src.last_name, src.phone,
         src.email, src.address, src.city, src.state, src.postal_code
  FROM src
  ORDER BY src.new_customer_id
  ON CONFLICT (organization_id, dms_customer_id) WHERE dms_customer_id IS NOT NULL DO UPDATE SET
    first_name  = COALESCE(NULLIF(EXCLUDED.first_name, ''), c.first_name),
    last_name   = COALESCE(NULLIF(EXCLUDED.last_name, ''), c.last_name),
    phone       = EXCLUDED.phone,
    email       = COALESCE(EXCLUDED.email, c.email),
    address     = COALESCE(EXCLUDED.address, c.address),
    city        = COALESCE(EXCLUDED.city, c.city),
    state       = COALESCE(EXCLUDED.state, c.state),
    postal_code = COALESCE(EXCLUDED.postal_code, c.postal_code),
    updated_at  = now()
  WHERE (c.first_name, c.last_name, c.phone, c.email, c.address, c.city, c.state, c.postal_code)
    IS DISTINCT FROM (COALESCE(NULLIF(EXCLUDED.first_name, ''), c.first_name), COALESCE(NULLIF(EXCLUDED.last_name, ''), c.last_name),
                      EXCLUDED.phone, COALESCE(EXCLUDED.email, c.email), COALESCE(EXCLUDED.address, c.address),
                      COALESCE(EXCLUDED.city, c.city), COALESCE(EXCLUDED.state, c.state), COALESCE(EXCLUDED.postal_code, c.postal_code))
  RETURNING c.created_at = now() AS created
)
SELECT (count(*) FILTER (WHERE created))::integer AS created,
       (count(*) FILTER (WHERE NOT created))::integer AS updated
FROM up;

-- name: RecordStagingCustomersInsertByPhone :one
-- Rows without a DMS id are the customer of their phone number; a number
-- no customer has yet gets a new customer, from its latest row. A matched
-- customer is not changed: a phone can be a household's.
WITH src AS (
  SELECT DISTINCT ON (s.phone)
         s.new_customer_id, s.first_name, s.last_name, s.phone, s.email, s.address, s.city, s.state, s.postal_code
  FROM service_record_staging s
  WHERE s.dms_customer_id IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM customers c WHERE c.organization_id = sqlc.arg(organization_id) AND c.phone = s.phone)
  ORDER BY s.phone, s.service_date DESC, s.line DESC
), ins AS (
  INSERT INTO customers (organization_id, id, first_name, last_name, phone, email, address, city, state, postal_code)
  SELECT sqlc.arg(organization_id), src.new_customer_id, src.first_name, src.last_name, src.phone, src.email,
         src.address, src.city, src.state, src.postal_code
  FROM src
  RETURNING 1
)
SELECT count(*)::integer AS created FROM ins;

-- name: RecordStagingVehiclesUpsertByVIN :one
-- Vehicles are identified by VIN: created, or updated from their latest
-- record in the load (the latest customer owns it; an absent year, make,
-- model or trim keeps the stored one). Only the latest rows, one per VIN,
-- look up their customer.
WITH latest AS (
  SELECT (max(ARRAY[s.service_date - DATE '2000-01-01', s.line]))[2] AS line
  FROM service_record_staging s
  WHERE s.vin IS NOT NULL
  GROUP BY s.vin
), src AS (
  SELECT s.vin, s.new_vehicle_id, COALESCE(by_id.id, by_phone.id) AS customer_id, s.year, s.make, s.model, s.trim
  FROM latest l
  JOIN service_record_staging s ON s.line = l.line
  LEFT JOIN customers by_id
    ON by_id.organization_id = sqlc.arg(organization_id) AND s.dms_customer_id IS NOT NULL
   AND by_id.dms_customer_id = s.dms_customer_id
  LEFT JOIN (
    -- Among customers sharing a number, the one known by phone alone comes
    -- first, then the most recently updated.
    SELECT DISTINCT ON (c.phone) c.phone, c.id
    FROM customers c
    WHERE c.organization_id = sqlc.arg(organization_id)
      AND c.phone IN (SELECT x.phone FROM service_record_staging x WHERE x.dms_customer_id IS NULL)
    ORDER BY c.phone, (c.dms_customer_id IS NOT NULL), c.updated_at DESC, c.id DESC
  ) by_phone ON s.dms_customer_id IS NULL AND by_phone.phone = s.phone
), up AS (
  INSERT INTO vehicles AS v (organization_id, id, customer_id, vin, year, make, model, trim)
  SELECT sqlc.arg(organization_id), src.new_vehicle_id, src.customer_id, src.vin, src.year, src.make, src.model, src.trim
  FROM src
  ORDER BY src.customer_id
  ON CONFLICT (organization_id, vin) WHERE vin IS NOT NULL DO UPDATE SET
    customer_id = EXCLUDED.customer_id,
    year        = COALESCE(EXCLUDED.year, v.year),
    make        = COALESCE(EXCLUDED.make, v.make),
    model       = COALESCE(EXCLUDED.model, v.model),
    trim        = COALESCE(EXCLUDED.trim, v.trim),
    updated_at  = now()
  WHERE (v.customer_id, v.year, v.make, v.model, v.trim)
    IS DISTINCT FROM (EXCLUDED.customer_id, COALESCE(EXCLUDED.year, v.year), COALESCE(EXCLUDED.make, v.make),
                      COALESCE(EXCLUDED.model, v.model), COALESCE(EXCLUDED.trim, v.trim))
  RETURNING v.created_at = now() AS created
)
SELECT (count(*) FILTER (WHERE created))::integer AS created,
       (count(*) FILTER (WHERE NOT created))::integer AS updated
FROM up;

-- name: RecordStagingVehiclesInsertWithoutVIN :one
-- A row without a VIN but with a make is its customer's vehicle of that
-- year, make and model: matched, or created.
WITH staged AS (
  SELECT s.*, COALESCE(by_id.id, by_phone.id) AS customer_id
  FROM service_record_staging s
  LEFT JOIN customers by_id
    ON by_id.organization_id = sqlc.arg(organization_id) AND s.dms_customer_id IS NOT NULL
   AND by_id.dms_customer_id = s.dms_customer_id
  LEFT JOIN (
    -- Among customers sharing a number, the one known by phone alone comes
    -- first, then the most recently updated.
    SELECT DISTINCT ON (c.phone) c.phone, c.id
    FROM customers c
    WHERE c.organization_id = sqlc.arg(organization_id)
      AND c.phone IN (SELECT x.phone FROM service_record_staging x WHERE x.dms_customer_id IS NULL)
    ORDER BY c.phone, (c.dms_customer_id IS NOT NULL), c.updated_at DESC, c.id DESC
  ) by_phone ON s.dms_customer_id IS NULL AND by_phone.phone = s.phone
), src AS (
  SELECT DISTINCT ON (s.customer_id, lower(s.make), lower(COALESCE(s.model, '')), COALESCE(s.year, 0))
         s.new_vehicle_id, s.customer_id, s.year, s.make, s.model, s.trim
  FROM staged s
  WHERE s.vin IS NULL AND s.make IS NOT NULL
    AND NOT EXISTS (
      SELECT 1 FROM vehicles v
      WHERE v.organization_id = sqlc.arg(organization_id) AND v.customer_id = s.customer_id AND v.vin IS NULL
        AND lower(v.make) = lower(s.make) AND lower(COALESCE(v.model, '')) = lower(COALESCE(s.model, ''))
        AND COALESCE(v.year, 0) = COALESCE(s.year, 0))
  ORDER BY s.customer_id, lower(s.make), lower(COALESCE(s.model, '')), COALESCE(s.year, 0), s.service_date DESC, s.line DESC
), ins AS (
  INSERT INTO vehicles (organization_id, id, customer_id, year, make, model, trim)
  SELECT sqlc.arg(organization_id), src.new_vehicle_id, src.customer_id, src.year, src.make, src.model, src.trim
  FROM src
  RETURNING 1
)
SELECT count(*)::integer AS created FROM ins;

-- name: RecordStagingMerge :one
-- The records of lines first_line to last_line: inserted, or updated
-- when anything differs (idempotent on (organization_id, ro_number):
-- loading the same rows again writes nothing). A load runs it once per
-- chunk of lines, in one transaction; the upsert, rather than an anti-join,
-- finds existing records through the unique index, which costs a few pages
-- per row however many records the organization has.
WITH staged AS (
  SELECT s.*, COALESCE(by_id.id, by_phone.id) AS customer_id
  FROM service_record_staging s
  LEFT JOIN customers by_id
    ON by_id.organization_id = sqlc.arg(organization_id) AND s.dms_customer_id IS NOT NULL
   AND by_id.dms_customer_id = s.dms_customer_id
  LEFT JOIN (
    -- Among customers sharing a number, the one known by phone alone comes
    -- first, then the most recently updated.
    SELECT DISTINCT ON (c.phone) c.phone, c.id
    FROM customers c
    WHERE c.organization_id = sqlc.arg(organization_id)
      AND c.phone IN (SELECT x.phone FROM service_record_staging x
                      WHERE x.dms_customer_id IS NULL AND x.line BETWEEN sqlc.arg(first_line)::integer AND sqlc.arg(last_line)::integer)
    ORDER BY c.phone, (c.dms_customer_id IS NOT NULL), c.updated_at DESC, c.id DESC
  ) by_phone ON s.dms_customer_id IS NULL AND by_phone.phone = s.phone
  WHERE s.line BETWEEN sqlc.arg(first_line)::integer AND sqlc.arg(last_line)::integer
), up AS (
  INSERT INTO service_records AS r (
    organization_id, id, customer_id, vehicle_id, ro_number, service_date, closed_at, service_type, op_codes,
    advisor_name, mileage, total_amount, currency, pay_type, status, source, dms_integration_id, raw)
  SELECT sqlc.arg(organization_id), s.record_id, s.customer_id, COALESCE(v.id, vn.id), s.ro_number, s.service_date, s.closed_at,
         s.service_type, s.op_codes, s.advisor_name, s.mileage, s.total_amount, sqlc.arg(currency)::text, s.pay_type,
         s.status, sqlc.arg(source)::text, sqlc.narg(dms_integration_id)::uuid, s.raw
  FROM staged s
  LEFT JOIN vehicles v
    ON v.organization_id = sqlc.arg(organization_id) AND s.vin IS NOT NULL AND v.vin = s.vin
  LEFT JOIN (
    -- The VIN-less vehicles of the loaded customers, one per year, make and
    -- model.
    SELECT DISTINCT ON (x.customer_id, lower(x.make), lower(COALESCE(x.model, '')), COALESCE(x.year, 0))
           x.id, x.customer_id, lower(x.make) AS make_key, lower(COALESCE(x.model, '')) AS model_key, COALESCE(x.year, 0) AS year_key
    FROM vehicles x
    WHERE x.organization_id = sqlc.arg(organization_id) AND x.vin IS NULL AND x.make IS NOT NULL
    ORDER BY x.customer_id, lower(x.make), lower(COALESCE(x.model, '')), COALESCE(x.year, 0), x.id
  ) vn
    ON s.vin IS NULL AND vn.customer_id = s.customer_id AND vn.make_key = lower(s.make)
   AND vn.model_key = lower(COALESCE(s.model, '')) AND vn.year_key = COALESCE(s.year, 0)
  ORDER BY s.customer_id
  ON CONFLICT (organization_id, ro_number) DO UPDATE SET
    customer_id        = EXCLUDED.customer_id,
    vehicle_id         = EXCLUDED.vehicle_id,
    service_date       = EXCLUDED.service_date,
    closed_at          = EXCLUDED.closed_at,
    service_type       = EXCLUDED.service_type,
    op_codes           = EXCLUDED.op_codes,
    advisor_name       = EXCLUDED.advisor_name,
    mileage            = EXCLUDED.mileage,
    total_amount       = EXCLUDED.total_amount,
    currency           = EXCLUDED.currency,
    pay_type           = EXCLUDED.pay_type,
    status             = EXCLUDED.status,
    source             = EXCLUDED.source,
    dms_integration_id = EXCLUDED.dms_integration_id,
    raw                = EXCLUDED.raw,
    updated_at         = now()
  WHERE (r.customer_id, r.vehicle_id, r.service_date, r.closed_at, r.service_type, r.op_codes, r.advisor_name,
         r.mileage, r.total_amount, r.currency, r.pay_type, r.status, r.source, r.dms_integration_id, r.raw)
    IS DISTINCT FROM
        (EXCLUDED.customer_id, EXCLUDED.vehicle_id, EXCLUDED.service_date, EXCLUDED.closed_at, EXCLUDED.service_type,
         EXCLUDED.op_codes, EXCLUDED.advisor_name, EXCLUDED.mileage, EXCLUDED.total_amount, EXCLUDED.currency,
         EXCLUDED.pay_type, EXCLUDED.status, EXCLUDED.source, EXCLUDED.dms_integration_id, EXCLUDED.raw)
  RETURNING r.created_at = now() AS created
)
SELECT (count(*) FILTER (WHERE created))::integer AS inserted,
       (count(*) FILTER (WHERE NOT created))::integer AS updated
FROM up;

-- name: RecordStagingResults :many
-- What became of each staged row (push batches and single creates).
SELECT s.line, r.id,
       (r.created_at = now())::bool AS created,
       (r.updated_at = now())::bool AS changed
FROM service_record_staging s
JOIN service_records r ON r.organization_id = sqlc.arg(organization_id) AND r.ro_number = s.ro_number
ORDER BY s.line;
