package blob_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		want    blob.Config
		wantErr string
	}{
		{
			name: "default is the file system under the data dir",
			want: blob.Config{Backend: blob.BackendFS, Dir: filepath.Join("/data", "blobs")},
		},
		{
			name: "explicit directory",
			env:  map[string]string{"AUTOPULSE_BLOB_DIR": "/mnt/recordings"},
			want: blob.Config{Backend: blob.BackendFS, Dir: "/mnt/recordings"},
		},
		{
			name: "a bucket selects S3",
			env: map[string]string{
				"AUTOPULSE_BLOB_S3_BUCKET":     "autopulse-prod-recordings",
				"AUTOPULSE_BLOB_S3_PREFIX":     "recordings",
				"AUTOPULSE_BLOB_S3_SSE":        "aws:kms",
				"AUTOPULSE_BLOB_S3_KMS_KEY_ID": "alias/autopulse",
				"AUTOPULSE_BLOB_SPOOL_DIR":     "/var/tmp",
			},
			want: blob.Config{
				Backend: blob.BackendS3, Dir: filepath.Join("/data", "blobs"),
				S3Bucket: "autopulse-prod-recordings", S3Prefix: "recordings",
				S3SSE: "aws:kms", S3KMSKeyID: "alias/autopulse", SpoolDir: "/var/tmp",
			},
		},
		{
			name: "an endpoint turns on path-style addressing",
			env:  map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_ENDPOINT": "http://127.0.0.1:9000"},
			want: blob.Config{Backend: blob.BackendS3, Dir: filepath.Join("/data", "blobs"), S3Bucket: "b", S3Endpoint: "http://127.0.0.1:9000", S3PathStyle: true},
		},
		{
			name: "path style can be turned off",
			env: map[string]string{
				"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_ENDPOINT": "https://s3.example.test",
				"AUTOPULSE_BLOB_S3_PATH_STYLE": "false",
			},
			want: blob.Config{Backend: blob.BackendS3, Dir: filepath.Join("/data", "blobs"), S3Bucket: "b", S3Endpoint: "https://s3.example.test"},
		},
		{
			name: "explicit fs wins over a bucket",
			env:  map[string]string{"AUTOPULSE_BLOB_BACKEND": "fs", "AUTOPULSE_BLOB_S3_BUCKET": "b"},
			want: blob.Config{Backend: blob.BackendFS, Dir: filepath.Join("/data", "blobs"), S3Bucket: "b"},
		},
		{name: "s3 without a bucket", env: map[string]string{"AUTOPULSE_BLOB_BACKEND": "s3"}, wantErr: "AUTOPULSE_BLOB_S3_BUCKET"},
		{name: "unknown backend", env: map[string]string{"AUTOPULSE_BLOB_BACKEND": "gcs"}, wantErr: "AUTOPULSE_BLOB_BACKEND"},
		{name: "bad path style", env: map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_PATH_STYLE": "maybe"}, wantErr: "AUTOPULSE_BLOB_S3_PATH_STYLE"},
		{name: "bad endpoint", env: map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_ENDPOINT": "ftp://x"}, wantErr: "AUTOPULSE_BLOB_S3_ENDPOINT"},
		{name: "bad encryption", env: map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_SSE": "AES128"}, wantErr: "AUTOPULSE_BLOB_S3_SSE"},
		{name: "KMS key without KMS", env: map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_KMS_KEY_ID": "k"}, wantErr: "AUTOPULSE_BLOB_S3_KMS_KEY_ID"},
		{name: "bad prefix", env: map[string]string{"AUTOPULSE_BLOB_S3_BUCKET": "b", "AUTOPULSE_BLOB_S3_PREFIX": "../up"}, wantErr: "AUTOPULSE_BLOB_S3_PREFIX"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := blob.ConfigFromEnv(func(k string) string { return c.env[k] }, "/data")
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestOpenFS(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	cfg, err := blob.ConfigFromEnv(func(string) string { return "" }, dataDir)
	require.NoError(t, err)
	store, err := blob.Open(t.Context(), cfg)
	require.NoError(t, err)
	fsStore, ok := store.(*blob.FS)
	require.True(t, ok, "the default is the file store")
	t.Cleanup(func() { _ = fsStore.Close() })
	require.Equal(t, filepath.Join(dataDir, "blobs"), fsStore.Dir())
	_, err = store.Put(t.Context(), "k", bytes.NewReader([]byte("v")), blob.PutOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"k"}, filesUnder(t, filepath.Join(dataDir, "blobs")))
}

// TestOpenS3 goes through the AWS configuration chain, so it sets the
// process environment and cannot run in parallel.
func TestOpenS3(t *testing.T) {
	f := setupS3(t, "")
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{
		"AUTOPULSE_BLOB_S3_BUCKET":   f.bucket,
		"AUTOPULSE_BLOB_S3_PREFIX":   "opened",
		"AUTOPULSE_BLOB_S3_ENDPOINT": f.url,
	}
	cfg, err := blob.ConfigFromEnv(func(k string) string { return env[k] }, t.TempDir())
	require.NoError(t, err)
	store, err := blob.Open(t.Context(), cfg)
	require.NoError(t, err)
	_, ok := store.(*blob.S3)
	require.True(t, ok)

	_, err = store.Put(t.Context(), "calls/x.wav", bytes.NewReader([]byte("audio")), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)
	require.Equal(t, []string{"opened/calls/x.wav"}, f.keys(t))
	rc, obj, err := store.Get(t.Context(), "calls/x.wav")
	require.NoError(t, err)
	require.Equal(t, "audio", string(readAll(t, rc)))
	require.Equal(t, "audio/wav", obj.ContentType)

	// Without an endpoint a region is required.
	cfg.S3Endpoint = ""
	_, err = blob.Open(t.Context(), cfg)
	require.ErrorContains(t, err, "AWS_REGION")
}
