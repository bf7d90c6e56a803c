package identity

import (
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/autopulse/autopulse/internal/fault"
)

// Password rules (OWASP ASVS 2.1): at least 12 characters, long passphrases
// allowed, and a cap so hashing cannot be made a denial of service.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// PasswordParams are argon2id at OWASP's recommended floor: 19 MiB, two
// passes, one lane.
var PasswordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// dummyHash is verified against when an account does not exist, so a login
// takes as long whether or not the email is known.
var dummyHash = mustHash("not-a-real-password-but-the-same-cost")

// CheckPassword validates a new password; location is the field name for
// the error.
func CheckPassword(location, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fault.InvalidField(location, "must be at least 12 characters")
	case len(pw) > MaxPasswordLen:
		return fault.InvalidField(location, "must be at most 256 bytes")
	}
	return nil
}

// HashPassword returns the argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	return argon2id.CreateHash(pw, PasswordParams)
}

// VerifyPassword reports whether pw matches hash. An empty hash is checked
// against a dummy, in the same time, and never matches.
func VerifyPassword(pw, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, dummyHash)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

func mustHash(pw string) string {
	h, err := HashPassword(pw)
	if err != nil {
		panic(err)
	}
	return h
}
