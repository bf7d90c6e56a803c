package identity

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Login throttling slows password guessing with growing delays rather than
// lockouts, so an attacker cannot lock a user out for good. Attempts are
// counted per account (the email presented, whether or not it exists) and
// per client address. A key's first free attempts cost nothing; the n-th
// beyond them blocks the key for 2^n seconds, up to LoginMaxDelay. A key
// forgets its count after loginForgetAfter without attempts.
//
// The state lives in the global login_throttles table, so every API process
// behind a load balancer enforces the same limits.
const (
	LoginFreeAttemptsPerAccount = 5
	LoginFreeAttemptsPerIP      = 20
	LoginMaxDelay               = 15 * time.Minute
	loginForgetAfter            = time.Hour
)

// RegisterFreePerIP is how many organizations one client address may
// register within loginForgetAfter before each further registration
// blocks the address with the same growing delays as sign-in attempts.
// Registrations that fail validation do not count.
const RegisterFreePerIP = 5

// chargeRegistration counts a registration from ip, or refuses it with
// TooManyRequests while the address is blocked. Requests without a client
// address (the seed, tests, platform tools) are not throttled.
func (s *Service) chargeRegistration(ctx context.Context, ip string, now time.Time) error {
	if ip == "" {
		return nil
	}
	return s.charge(ctx, []throttleKey{{key: "register:" + ip, free: RegisterFreePerIP}}, now,
		"too many registrations from this address; wait before trying again (see Retry-After)")
}

// throttleKey is one login_throttles row and the attempts it allows free.
type throttleKey struct {
	key  string
	free int32
	// account keys are cleared by a success; address keys only get the
	// successful attempt back, or one valid account would let an attacker
	// reset the address's count between guesses at other accounts.
	account bool
}

// loginThrottleKeys are the keys of an attempt on email from ip, in the
// order their rows are locked. The email is stored hashed: the table holds
// every address anyone tried, registered or not.
func loginThrottleKeys(email, ip string) []throttleKey {
	sum := sha256.Sum256([]byte(email))
	keys := []throttleKey{{key: "account:" + hex.EncodeToString(sum[:]), free: LoginFreeAttemptsPerAccount, account: true}}
	if ip != "" {
		keys = append(keys, throttleKey{key: "ip:" + ip, free: LoginFreeAttemptsPerIP})
	}
	slices.SortFunc(keys, func(a, b throttleKey) int { return cmp.Compare(a.key, b.key) })
	return keys
}

// loginDelay is how long a key stays blocked after its attempts-th attempt
// within the forget window.
func loginDelay(attempts, free int32) time.Duration {
	over := attempts - free
	switch {
	case over <= 0:
		return 0
	case over >= 10: // 2^10 s is past the cap already
		return LoginMaxDelay
	}
	return min(time.Second<<over, LoginMaxDelay)
}

// chargeLogin counts an attempt against every key before the password is
// checked, or refuses it with TooManyRequests while any key is blocked.
// Counting first, under the rows' locks, is what makes the limit hold for
// a burst of parallel guesses: each one sees the count the previous one
// left. A success gives its attempt back (settleLogin).
func (s *Service) chargeLogin(ctx context.Context, keys []throttleKey, now time.Time) error {
	return s.charge(ctx, keys, now, "too many sign-in attempts; wait before trying again (see Retry-After)")
}

// charge counts an attempt against every key, or refuses it with
// TooManyRequests (blocked as its message) while any key is blocked.
func (s *Service) charge(ctx context.Context, keys []throttleKey, now time.Time, blocked string) error {
	names := make([]string, len(keys))
	free := make(map[string]int32, len(keys))
	for i, k := range keys {
		names[i] = k.key
		free[k.key] = k.free
	}
	return s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		if err := tx.LoginThrottleEnsure(ctx, now, names); err != nil {
			return err
		}
		rows, err := tx.LoginThrottleLock(ctx, names)
		if err != nil {
			return err
		}
		var wait time.Duration
		for _, r := range rows {
			wait = max(wait, r.BlockedUntil.Sub(now))
		}
		if wait > 0 {
			return &fault.Error{Code: fault.TooManyRequests, RetryAfter: wait, Message: blocked}
		}
		for _, r := range rows {
			attempts := r.Failures
			if now.Sub(r.LastFailureAt) > loginForgetAfter {
				attempts = 0
			}
			attempts++
			err := tx.LoginThrottleSet(ctx, db.LoginThrottleSetParams{
				Key: r.Key, Failures: attempts, LastFailureAt: now,
				BlockedUntil: now.Add(loginDelay(attempts, free[r.Key])),
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// settleLogin records in tx that the charged attempt proved the password.
func settleLogin(ctx context.Context, tx *postgres.Tx, keys []throttleKey) error {
	for _, k := range keys {
		var err error
		if k.account {
			err = tx.LoginThrottleClear(ctx, k.key)
		} else {
			err = tx.LoginThrottleRefund(ctx, k.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// settleLoginAlone is settleLogin in a transaction of its own, for a right
// password that still does not sign in (a deactivated account, a suspended
// organization).
func (s *Service) settleLoginAlone(ctx context.Context, keys []throttleKey) error {
	return s.DB.InSystem(ctx, func(tx *postgres.Tx) error { return settleLogin(ctx, tx, keys) })
}
