package blob_test

import (
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	valid := []string{
		"a",
		"rec.wav",
		"calls/0192a4f0-7c1e-7a3b-9f00-1234567890ab/recording.wav",
		"orgs/01J2/calls/01J3/recording.v2.mp3",
		"a..b",
		"A_b-c.D",
		strings.Repeat("a", 200),
		strings.Repeat(strings.Repeat("x", 99)+"/", 5) + strings.Repeat("y", 12), // exactly 512
	}
	for _, key := range valid {
		require.NoError(t, blob.ValidateKey(key), key)
	}
	for _, key := range hostileKeys {
		require.ErrorIs(t, blob.ValidateKey(key), blob.ErrInvalidKey, "%q", key)
	}
}

// FuzzValidateKey checks that every key ValidateKey accepts is a clean,
// local, slash-separated path: joined to any root, it stays under it.
func FuzzValidateKey(f *testing.F) {
	for _, k := range append([]string{"a", "calls/x.wav", "a/b/c", "a..b/c"}, hostileKeys...) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if blob.ValidateKey(key) != nil {
			return
		}
		require.True(t, filepath.IsLocal(key), "%q is not local", key)
		require.Equal(t, key, path.Clean(key), "%q is not clean", key)
		require.LessOrEqual(t, len(key), blob.MaxKeyLen)
		for seg := range strings.SplitSeq(key, "/") {
			require.NotEmpty(t, seg)
			require.NotEqual(t, byte('.'), seg[0], "%q has a hidden segment", key)
		}
		root := "/srv/blobs"
		rel, err := filepath.Rel(root, filepath.Join(root, key))
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(rel, ".."), "%q leaves the root", key)
	})
}
