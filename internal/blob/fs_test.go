package blob_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
)

func TestFSPermissions(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	_, err := s.Put(t.Context(), "calls/2026/rec.wav", strings.NewReader("audio"), blob.PutOptions{})
	require.NoError(t, err)
	for name, want := range map[string]fs.FileMode{
		"calls":              0o700,
		"calls/2026":         0o700,
		"calls/2026/rec.wav": 0o600,
	} {
		fi, err := os.Stat(filepath.Join(s.Dir(), name))
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), name)
	}
	fi, err := os.Stat(s.Dir())
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "NewFS creates its root 0700")
}

func TestFSFileLayout(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	data := payload(5000, 21)
	_, err := s.Put(t.Context(), "calls/rec.wav", bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)

	raw, err := os.ReadFile(filepath.Join(s.Dir(), "calls", "rec.wav"))
	require.NoError(t, err)
	require.Equal(t, data, raw[:len(data)], "the file starts with the content")

	// Then the documented trailer: JSON, its length, the magic.
	rest := raw[len(data):]
	require.Equal(t, "APBLOB1\n", string(rest[len(rest)-8:]))
	n := binary.BigEndian.Uint32(rest[len(rest)-12 : len(rest)-8])
	require.Equal(t, len(rest)-12, int(n))
	var meta map[string]any
	require.NoError(t, json.Unmarshal(rest[:n], &meta))
	require.Equal(t, map[string]any{"v": 1.0, "size": 5000.0, "content_type": "audio/wav", "sha256": sum(data)}, meta)
}

func TestFSHostileKeysStayInsideTheRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("do not touch"), 0o600))
	s, err := blob.NewFS(filepath.Join(parent, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	for _, key := range hostileKeys {
		_, err := s.Put(t.Context(), key, strings.NewReader("overwritten"), blob.PutOptions{})
		require.ErrorIs(t, err, blob.ErrInvalidKey, key)
		require.ErrorIs(t, s.Delete(t.Context(), key), blob.ErrInvalidKey, key)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 2, "only blobs/ and secret.txt")
	got, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, "do not touch", string(got))
}

// A symbolic link planted inside the root (by someone with shell access, or
// a restored backup) must not lead a valid key outside it.
func TestFSSymlinksCannotLeadOut(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("outside"), 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(s.Dir(), "linkdir")))
	require.NoError(t, os.Symlink(secret, filepath.Join(s.Dir(), "linkfile")))
	ctx := t.Context()

	_, err := s.Put(ctx, "linkdir/planted", strings.NewReader("x"), blob.PutOptions{})
	require.Error(t, err)
	_, err = s.Put(ctx, "linkdir/secret", strings.NewReader("x"), blob.PutOptions{})
	require.Error(t, err)
	_, _, err = s.Get(ctx, "linkdir/secret")
	require.Error(t, err)
	_, _, err = s.Get(ctx, "linkfile")
	require.Error(t, err)
	_, err = s.Stat(ctx, "linkfile")
	require.Error(t, err)
	_ = s.Delete(ctx, "linkdir/secret")

	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	got, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, "outside", string(got))
}

func TestFSForeignFileIsAnInternalError(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "copied.wav"), payload(100, 22), 0o600))
	_, err := s.Stat(t.Context(), "copied.wav")
	require.Error(t, err)
	require.NotErrorIs(t, err, blob.ErrNotFound)
	require.Equal(t, fault.Internal, fault.CodeOf(err))
}

// Unlike S3, a directory tree cannot hold "a" as an object and as a prefix.
func TestFSKeyThatIsAlsoAPrefix(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	ctx := t.Context()
	_, err := s.Put(ctx, "a", strings.NewReader("A"), blob.PutOptions{})
	require.NoError(t, err)
	_, err = s.Put(ctx, "a/b", strings.NewReader("B"), blob.PutOptions{})
	require.Error(t, err)
	_, err = s.Put(ctx, "c/d", strings.NewReader("D"), blob.PutOptions{})
	require.NoError(t, err)
	_, err = s.Put(ctx, "c", strings.NewReader("C"), blob.PutOptions{})
	require.Error(t, err)

	for key, want := range map[string]string{"a": "A", "c/d": "D"} {
		rc, _, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.Equal(t, want, string(readAll(t, rc)))
	}
	require.Equal(t, []string{"a", "c/d"}, filesUnder(t, s.Dir()), "no temporary file is left")
}

func TestFSOpenReaderKeepsItsVersion(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	ctx := t.Context()
	v1, v2 := payload(4000, 23), payload(4000, 24)
	_, err := s.Put(ctx, "k", bytes.NewReader(v1), blob.PutOptions{})
	require.NoError(t, err)
	r, _, err := s.Open(ctx, "k")
	require.NoError(t, err)
	_, err = s.Put(ctx, "k", bytes.NewReader(v2), blob.PutOptions{})
	require.NoError(t, err)
	require.Equal(t, v1, readAll(t, r), "an open reader is not torn by an overwrite")
}

func TestFSSweepTemp(t *testing.T) {
	t.Parallel()
	s := setupFS(t)
	ctx := t.Context()
	_, err := s.Put(ctx, "calls/rec.wav", strings.NewReader("kept"), blob.PutOptions{})
	require.NoError(t, err)
	stale := filepath.Join(s.Dir(), "calls", ".tmp-STALE")
	fresh := filepath.Join(s.Dir(), "calls", ".tmp-FRESH")
	require.NoError(t, os.WriteFile(stale, []byte("partial"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("in flight"), 0o600))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))

	n, err := s.SweepTemp(ctx, time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"calls/.tmp-FRESH", "calls/rec.wav"}, filesUnder(t, s.Dir()))
}

func TestNewFSNeedsADirectory(t *testing.T) {
	t.Parallel()
	_, err := blob.NewFS("")
	require.Error(t, err)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = blob.NewFS(file)
	require.Error(t, err)
}
