-- login_throttles is global (a login names no tenant yet): these queries run
-- in any transaction, usually InSystem.

-- name: LoginThrottleEnsure :exec
-- Creates missing rows so that LoginThrottleLock has rows to lock. Keys are
-- inserted in sorted order, the order every caller locks them in, so two
-- logins sharing keys cannot deadlock.
INSERT INTO login_throttles (key, failures, last_failure_at, blocked_until)
SELECT k, 0, sqlc.arg(now)::timestamptz, sqlc.arg(now)::timestamptz
FROM unnest(sqlc.arg(keys)::text[]) AS k
ORDER BY k
ON CONFLICT (key) DO NOTHING;

-- name: LoginThrottleLock :many
SELECT * FROM login_throttles
WHERE key = ANY(sqlc.arg(keys)::text[])
ORDER BY key
FOR UPDATE;

-- name: LoginThrottleSet :exec
UPDATE login_throttles
SET failures = sqlc.arg(failures), last_failure_at = sqlc.arg(last_failure_at),
    blocked_until = sqlc.arg(blocked_until), updated_at = now()
WHERE key = sqlc.arg(key);

-- name: LoginThrottleRefund :exec
-- Takes back one charged attempt that turned out to be a success. A block
-- already in force stays until it ends.
UPDATE login_throttles SET failures = greatest(failures - 1, 0), updated_at = now()
WHERE key = sqlc.arg(key);

-- name: LoginThrottleClear :exec
DELETE FROM login_throttles WHERE key = sqlc.arg(key);
