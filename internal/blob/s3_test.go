package blob_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
)

func TestS3ServerSideEncryption(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     []blob.S3Option
		wantSSE  types.ServerSideEncryption
		wantKMS  string
		comments string
	}{
		{name: "default is SSE-S3", wantSSE: types.ServerSideEncryptionAes256},
		{name: "explicit AES256", opts: []blob.S3Option{blob.WithSSE(blob.SSEAES256, "")}, wantSSE: types.ServerSideEncryptionAes256},
		{name: "KMS with a key", opts: []blob.S3Option{blob.WithSSE(blob.SSEKMS, "alias/autopulse-recordings")}, wantSSE: types.ServerSideEncryptionAwsKms, wantKMS: "alias/autopulse-recordings"},
		{name: "KMS with the default key", opts: []blob.S3Option{blob.WithSSE(blob.SSEKMS, "")}, wantSSE: types.ServerSideEncryptionAwsKms},
		{name: "none", opts: []blob.S3Option{blob.WithSSE(blob.SSENone, "")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setupS3(t, "", c.opts...)
			_, err := f.store.Put(t.Context(), "enc", strings.NewReader("secret audio"), blob.PutOptions{})
			require.NoError(t, err)
			// gofakes3 keeps the x-amz-* headers of a PUT and returns them
			// on HEAD, which shows what the store sent.
			head, err := f.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("enc")})
			require.NoError(t, err)
			require.Equal(t, c.wantSSE, head.ServerSideEncryption)
			require.Equal(t, c.wantKMS, aws.ToString(head.SSEKMSKeyId))
		})
	}
}

func TestS3ObjectLayout(t *testing.T) {
	t.Parallel()
	f := setupS3(t, "/recordings/")
	data := payload(5000, 11)
	_, err := f.store.Put(t.Context(), "calls/x.wav", bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)
	require.Equal(t, []string{"recordings/calls/x.wav"}, f.keys(t), "the prefix is trimmed of slashes and joined with one")

	head, err := f.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("recordings/calls/x.wav")})
	require.NoError(t, err)
	require.Equal(t, "audio/wav", aws.ToString(head.ContentType))
	require.Equal(t, int64(5000), aws.ToInt64(head.ContentLength))
	require.Equal(t, map[string]string{"sha256": sum(data)}, head.Metadata)
	digest, err := hex.DecodeString(sum(data))
	require.NoError(t, err)
	require.Equal(t, base64.StdEncoding.EncodeToString(digest), aws.ToString(head.ChecksumSHA256),
		"the digest goes up as x-amz-checksum-sha256, so S3 verifies the upload")
}

func TestS3ForeignObject(t *testing.T) {
	t.Parallel()
	f := setupS3(t, "")
	// An object written by another tool carries no sha256 metadata.
	_, err := f.client.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String("imported/old.mp3"),
		Body: strings.NewReader("legacy"), ContentType: aws.String("audio/mpeg"),
	})
	require.NoError(t, err)
	obj, err := f.store.Stat(t.Context(), "imported/old.mp3")
	require.NoError(t, err)
	require.Empty(t, obj.SHA256)
	require.Equal(t, int64(6), obj.Size)
	require.Equal(t, "audio/mpeg", obj.ContentType)
	rc, _, err := f.store.Get(t.Context(), "imported/old.mp3")
	require.NoError(t, err)
	require.Equal(t, []byte("legacy"), readAll(t, rc))
}

func TestS3RangedReadsAskForRanges(t *testing.T) {
	t.Parallel()
	f := setupS3(t, "")
	ctx := t.Context()
	data := payload(10_000, 12)
	_, err := f.store.Put(ctx, "calls/r.wav", bytes.NewReader(data), blob.PutOptions{})
	require.NoError(t, err)
	f.log.take()

	rc, _, err := f.store.GetRange(ctx, "calls/r.wav", 4000, 1000)
	require.NoError(t, err)
	readAll(t, rc)
	require.Equal(t, []loggedRequest{{Method: http.MethodGet, Path: "/autopulse-test/calls/r.wav", Range: "bytes=4000-4999"}}, f.log.take())

	// http.ServeContent over Open: one HEAD, then one GET from the range's
	// start; the size comes from the HEAD, not from reading.
	r, obj, err := f.store.Open(ctx, "calls/r.wav")
	require.NoError(t, err)
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Range", "bytes=9000-9099")
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(rec, req, "", obj.ModTime, r)
	require.NoError(t, r.Close())
	require.Equal(t, http.StatusPartialContent, rec.Code)
	require.Equal(t, data[9000:9100], rec.Body.Bytes())
	reqs := f.log.take()
	require.Len(t, reqs, 2)
	require.Equal(t, http.MethodHead, reqs[0].Method)
	require.Equal(t, http.MethodGet, reqs[1].Method)
	require.Equal(t, "bytes=9000-", reqs[1].Range)
	require.NotEmpty(t, reqs[1].IfMatch, "reads are bound to the ETag that Open saw")
}

func TestS3MissingBucketIsNotAMissingObject(t *testing.T) {
	t.Parallel()
	f := setupS3(t, "")
	store, err := blob.NewS3(f.client, "no-such-bucket", "")
	require.NoError(t, err)
	_, err = store.Put(t.Context(), "k", strings.NewReader("x"), blob.PutOptions{})
	require.Error(t, err)
	require.NotErrorIs(t, err, blob.ErrNotFound)
	require.Equal(t, fault.Internal, fault.CodeOf(err))
	_, _, err = store.Get(t.Context(), "k")
	require.Error(t, err)
	require.NotErrorIs(t, err, blob.ErrNotFound, "a misconfigured bucket must not read as a missing recording")
}

func TestS3SpoolIsCleanedUp(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	f := setupS3(t, "", blob.WithSpoolDir(spool))
	ctx := t.Context()
	big := payload(3<<20, 13)

	_, err := f.store.Put(ctx, "big", bytes.NewReader(big), blob.PutOptions{})
	require.NoError(t, err)
	_, err = f.store.Put(ctx, "too-big", bytes.NewReader(big), blob.PutOptions{MaxBytes: 2 << 20})
	require.ErrorIs(t, err, blob.ErrTooLarge)
	_, err = f.store.Put(ctx, "mismatch", bytes.NewReader(big), blob.PutOptions{ExpectedSHA256: sum(nil)})
	require.ErrorIs(t, err, blob.ErrChecksumMismatch)

	entries, err := os.ReadDir(spool)
	require.NoError(t, err)
	require.Empty(t, entries)
	require.Equal(t, []string{"big"}, f.keys(t))
}

func TestS3SpoolDirMissing(t *testing.T) {
	t.Parallel()
	f := setupS3(t, "", blob.WithSpoolDir(t.TempDir()+"/absent"))
	// Small objects never touch the spool directory.
	_, err := f.store.Put(t.Context(), "small", strings.NewReader("x"), blob.PutOptions{})
	require.NoError(t, err)
	_, err = f.store.Put(t.Context(), "big", io.LimitReader(&endless{}, 2<<20), blob.PutOptions{})
	require.Error(t, err)
	require.Equal(t, []string{"small"}, f.keys(t))
}

func TestNewS3Validation(t *testing.T) {
	t.Parallel()
	client := newS3Client("http://127.0.0.1:1")
	cases := []struct {
		name           string
		client         *s3.Client
		bucket, prefix string
		opts           []blob.S3Option
	}{
		{name: "no client", bucket: "b"},
		{name: "no bucket", client: client},
		{name: "escaping prefix", client: client, bucket: "b", prefix: "../x"},
		{name: "prefix with a space", client: client, bucket: "b", prefix: "my recordings"},
		{name: "prefix too long", client: client, bucket: "b", prefix: strings.Repeat("p", 600)},
		{name: "unknown encryption", client: client, bucket: "b", opts: []blob.S3Option{blob.WithSSE("rot13", "")}},
		{name: "KMS key without KMS", client: client, bucket: "b", opts: []blob.S3Option{blob.WithSSE(blob.SSEAES256, "key")}},
	}
	for _, c := range cases {
		_, err := blob.NewS3(c.client, c.bucket, c.prefix, c.opts...)
		require.Error(t, err, c.name)
	}
	_, err := blob.NewS3(client, "b", "recordings/2026", blob.WithSSE(blob.SSEKMS, "arn:aws:kms:us-east-1:111122223333:key/x"))
	require.NoError(t, err)
}
