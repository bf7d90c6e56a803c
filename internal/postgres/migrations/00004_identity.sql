-- +goose Up
-- Platform administration lists organizations newest first, like every
-- other list of the API, and can narrow the list to one status (for
-- example every suspended organization). The function stays the one named,
-- privileged path across tenants for the platform-admin screens.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP FUNCTION admin_organization_list(uuid, integer);

CREATE FUNCTION admin_organization_list(p_after uuid, p_limit integer, p_status text)
RETURNS SETOF organizations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT o.* FROM organizations o
  WHERE (p_after IS NULL OR o.id < p_after)
    AND (p_status IS NULL OR o.status = p_status)
  ORDER BY o.id DESC
  LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION admin_organization_list(uuid, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_organization_list(uuid, integer, text) TO autopulse_app;

-- +goose Down
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP FUNCTION admin_organization_list(uuid, integer, text);

CREATE FUNCTION admin_organization_list(p_after uuid, p_limit integer)
RETURNS SETOF organizations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT o.* FROM organizations o
  WHERE p_after IS NULL OR o.id > p_after
  ORDER BY o.id
  LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION admin_organization_list(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_organization_list(uuid, integer) TO autopulse_app;
