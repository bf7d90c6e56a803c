package env_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/config/env"
)

func TestReader(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))
	vars := map[string]string{
		"S": " text ", "D": "90s", "I": "42", "F": "0.25", "B": "true", "BLANK": "  ",
		"SECRET_FILE": file, "BOTH": "x", "BOTH_FILE": file,
	}
	r := env.Reader{Getenv: func(k string) string { return vars[k] }}
	require.Equal(t, "text", r.Str("S", "def"))
	require.Equal(t, "def", r.Str("BLANK", "def"))
	require.Equal(t, 90*time.Second, r.Duration("D", 0))
	require.EqualValues(t, 42, r.Int("I", 0))
	require.InDelta(t, 0.25, r.Float("F", 0), 1e-9)
	require.True(t, r.Bool("B", false))
	require.EqualValues(t, 7, r.Int("UNSET", 7))
	require.Equal(t, "from-file", r.Secret("SECRET"))
	require.NoError(t, r.Err())

	// Every bad value is reported, each naming its variable.
	bad := map[string]string{"D": "soon", "I": "4x", "F": "many", "B": "maybe", "BOTH": "x", "BOTH_FILE": file}
	r = env.Reader{Getenv: func(k string) string { return bad[k] }}
	r.Duration("D", 0)
	r.Int("I", 0)
	r.Float("F", 0)
	r.Bool("B", false)
	r.Secret("BOTH")
	err := r.Err()
	require.Error(t, err)
	for _, want := range []string{`D="soon"`, `I="4x": not an integer`, `F="many": not a number`, `B="maybe": want true or false`, "both BOTH and BOTH_FILE"} {
		require.Contains(t, err.Error(), want)
	}
}
