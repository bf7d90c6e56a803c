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
