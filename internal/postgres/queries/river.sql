-- name: RiverJobCountByState :many
-- River's queue depth for /metrics: jobs waiting or running per queue and
-- state, with the age of the oldest one (by scheduled_at). Finished jobs
-- (completed, cancelled, discarded) are history that River's cleaner prunes,
-- not depth. The filter leads with state, as River's fetch index does.
SELECT queue, state::text AS state, count(*)::bigint AS jobs,
       GREATEST(EXTRACT(EPOCH FROM now() - min(scheduled_at)), 0)::float8 AS oldest_seconds
FROM river_job
WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled')
GROUP BY queue, state
ORDER BY queue, state;
