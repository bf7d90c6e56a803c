package record_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/record"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, record.KeySize) }

func TestSealerRoundTripAndTamper(t *testing.T) {
	t.Parallel()
	s, err := record.NewSealer(key(1))
	require.NoError(t, err)
	aad := []byte("row-1")
	plain := []byte(`{"password":"hunter2"}`)

	a, err := s.Seal(plain, aad)
	require.NoError(t, err)
	b, err := s.Seal(plain, aad)
	require.NoError(t, err)
	require.NotEqual(t, a, b, "a random nonce per seal")
	require.False(t, bytes.Contains(a, []byte("hunter2")))

	got, err := s.Open(a, aad)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	for name, mutate := range map[string]func([]byte) []byte{
		"flipped tag":     func(v []byte) []byte { v[len(v)-1] ^= 1; return v },
		"flipped body":    func(v []byte) []byte { v[len(v)-20] ^= 1; return v },
		"flipped nonce":   func(v []byte) []byte { v[6] ^= 1; return v },
		"unknown version": func(v []byte) []byte { v[0] = 9; return v },
		"unknown key id":  func(v []byte) []byte { v[1] ^= 1; return v },
		"truncated":       func(v []byte) []byte { return v[:20] },
		"empty":           func([]byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Open(mutate(bytes.Clone(a)), aad)
			require.ErrorIs(t, err, record.ErrUnsealable)
		})
	}
	_, err = s.Open(a, []byte("row-2"))
	require.ErrorIs(t, err, record.ErrUnsealable, "bound to its additional data")
}

func TestSealerRotation(t *testing.T) {
	t.Parallel()
	old, err := record.NewSealer(key(1))
	require.NoError(t, err)
	sealed, err := old.Seal([]byte("secret"), nil)
	require.NoError(t, err)

	rotated, err := record.NewSealer(key(2), key(1))
	require.NoError(t, err)
	got, err := rotated.Open(sealed, nil)
	require.NoError(t, err, "the previous key still opens")
	require.Equal(t, []byte("secret"), got)
	resealed, err := rotated.Seal(got, nil)
	require.NoError(t, err)
	_, err = old.Open(resealed, nil)
	require.ErrorIs(t, err, record.ErrUnsealable, "new values use the new key")

	newOnly, err := record.NewSealer(key(2))
	require.NoError(t, err)
	_, err = newOnly.Open(sealed, nil)
	require.ErrorIs(t, err, record.ErrUnsealable, "a retired key's values no longer open")

	_, err = record.NewSealer(key(1)[:16])
	require.Error(t, err)
	_, err = record.NewSealer(key(1), key(1))
	require.Error(t, err)
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := key(3)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := record.ParseKey(" " + enc.EncodeToString(k) + "\n")
		require.NoError(t, err)
		require.Equal(t, k, got)
	}
	_, err := record.ParseKey(base64.StdEncoding.EncodeToString(k[:31]))
	require.ErrorContains(t, err, "31 bytes")
	_, err = record.ParseKey("not base64!")
	require.Error(t, err)
	require.Len(t, record.DevelopmentKey(), record.KeySize)
}

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"password", "token", "api_key", "client_secret", "private_key", "sftp_password", "subscription_key", "refresh_token", "Secret"} {
		require.True(t, record.IsSecretKey(k), k)
	}
	for _, k := range []string{"url", "username", "dealer_id", "api_key_header", "since_param", "delimiter"} {
		require.False(t, record.IsSecretKey(k), k)
	}
}
