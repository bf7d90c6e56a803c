package blob

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 stores objects in an S3 bucket, or on an S3-compatible server, under
// an optional key prefix.
//
// Put spools the source while it hashes it (in memory up to 1 MiB, then in
// a 0600 temporary file in the spool directory, removed before Put
// returns) and then sends one PutObject carrying the length, the content
// type, the digest twice (as x-amz-meta-sha256 in hex, which Stat and Get
// read back, and as x-amz-checksum-sha256, which S3 verifies on arrival),
// and the server-side encryption header. Spooling is what lets MaxBytes and
// ExpectedSHA256 fail a Put before anything reaches the bucket. A streamed
// multipart upload would avoid the local copy but could not put a digest
// known only at the end into the object's metadata, and an aborted one
// bills its parts until a lifecycle rule removes them. One PutObject holds
// at most 5 GiB, hence MaxPutBytes.
//
// A missing bucket answers GetObject and PutObject with NoSuchBucket, an
// internal error; HeadObject cannot tell it from a missing key, so Stat
// and Open then answer ErrNotFound.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ending in "/"
	sse      string // "" for none
	kmsKeyID string
	spoolDir string // "" for os.TempDir()
}

var _ Store = (*S3)(nil)

// Server-side encryption modes for WithSSE.
const (
	SSEAES256 = "AES256"  // SSE-S3, the default
	SSEKMS    = "aws:kms" // SSE-KMS
	SSENone   = "none"    // no header, for S3-compatible servers without KMS
)

const (
	s3MemSpool   = 1 << 20
	s3MetaSHA256 = "sha256"
	s3MaxKeyLen  = 1024
)

// S3Option tunes NewS3.
type S3Option func(*S3) error

// WithSSE sets the server-side encryption of every Put: SSEAES256 (the
// default), SSEKMS with an optional key id or ARN (empty uses the bucket's
// or account's default key), or SSENone.
func WithSSE(mode, kmsKeyID string) S3Option {
	return func(s *S3) error {
		switch mode {
		case "", SSEAES256:
			s.sse = SSEAES256
		case SSEKMS:
			s.sse = SSEKMS
		case SSENone:
			s.sse = ""
		default:
			return fmt.Errorf("blob: server-side encryption %q: want %s, %s or %s", mode, SSEAES256, SSEKMS, SSENone)
		}
		if kmsKeyID != "" && s.sse != SSEKMS {
			return fmt.Errorf("blob: a KMS key id needs server-side encryption %s", SSEKMS)
		}
		s.kmsKeyID = kmsKeyID
		return nil
	}
}

// WithSpoolDir sets where Put spools objects larger than 1 MiB; the default
// is os.TempDir().
func WithSpoolDir(dir string) S3Option {
	return func(s *S3) error {
		s.spoolDir = dir
		return nil
	}
}

// NewS3 returns a store in bucket. A non-empty prefix (for example
// "recordings") is put before every key with a "/" and must itself be a
// valid key.
func NewS3(client *s3.Client, bucket, prefix string, opts ...S3Option) (*S3, error) {
	if client == nil {
		return nil, errors.New("blob: NewS3 needs a client")
	}
	if bucket == "" {
		return nil, errors.New("blob: NewS3 needs a bucket")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if reason := keyProblem(prefix); reason != "" {
			return nil, fmt.Errorf("blob: S3 prefix %q: %s", truncate(prefix, 80), reason)
		}
		if len(prefix)+1+MaxKeyLen > s3MaxKeyLen {
			return nil, fmt.Errorf("blob: S3 prefix is longer than %d bytes", s3MaxKeyLen-1-MaxKeyLen)
		}
		prefix += "/"
	}
	s := &S3{client: client, bucket: bucket, prefix: prefix, sse: SSEAES256}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *S3) objectKey(key string) *string { return aws.String(s.prefix + key) }

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	plan, err := opts.plan()
	if err != nil {
		return Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	body, err := s.spool(ctx, key, r, plan.maxBytes)
	if err != nil {
		return Object{}, err
	}
	defer body.close()
	if err := plan.check(key, body.sum); err != nil {
		return Object{}, err
	}
	digest, err := hex.DecodeString(body.sum)
	if err != nil {
		return Object{}, fmt.Errorf("blob %q: %w", key, err)
	}
	in := &s3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            s.objectKey(key),
		Body:           body.r,
		ContentLength:  aws.Int64(body.size),
		ContentType:    aws.String(plan.contentType),
		Metadata:       map[string]string{s3MetaSHA256: body.sum},
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(digest)),
	}
	if s.sse != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(s.sse)
	}
	if s.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.kmsKeyID)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return Object{}, s.fail("put", key, err)
	}
	return Object{Key: key, Size: body.size, ContentType: plan.contentType, SHA256: body.sum, ModTime: time.Now().UTC()}, nil
}

// spooled is a Put's source, read to the end and ready to send.
type spooled struct {
	r    io.ReadSeeker
	size int64
	sum  string
	file *os.File // nil when in memory
}

func (b *spooled) close() {
	if b.file != nil {
		_ = b.file.Close()
		_ = os.Remove(b.file.Name())
	}
}

func (s *S3) spool(ctx context.Context, key string, r io.Reader, maxBytes int64) (*spooled, error) {
	src := newCapped(ctx, r, maxBytes)
	var buf bytes.Buffer
	_, err := io.CopyN(&buf, src, s3MemSpool+1)
	switch {
	case errors.Is(err, io.EOF): // the whole source fits in memory
		size, sum, err := src.result(key)
		if err != nil {
			return nil, err
		}
		return &spooled{r: bytes.NewReader(buf.Bytes()), size: size, sum: sum}, nil
	case err != nil:
		return nil, fmt.Errorf("blob %q: read source: %w", key, err)
	}
	f, err := os.CreateTemp(s.spoolDir, "autopulse-blob-*")
	if err != nil {
		return nil, fmt.Errorf("blob %q: spool: %w", key, err)
	}
	b := &spooled{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.close()
		return nil, fmt.Errorf("blob %q: spool: %w", key, err)
	}
	buf = bytes.Buffer{}
	if _, err := io.Copy(f, src); err != nil {
		b.close()
		return nil, fmt.Errorf("blob %q: read source: %w", key, err)
	}
	if b.size, b.sum, err = src.result(key); err != nil {
		b.close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.close()
		return nil, fmt.Errorf("blob %q: spool: %w", key, err)
	}
	b.r = f
	return b, nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: s.objectKey(key)})
	if err != nil {
		return nil, Object{}, s.fail("get", key, err)
	}
	return out.Body, objectOf(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified), nil
}

// GetRange implements Store with one ranged GetObject.
func (s *S3) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	if err := checkRangeArgs(key, offset, length); err != nil {
		return nil, Object{}, err
	}
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length > 0 && length <= math.MaxInt64-offset {
		rng += strconv.FormatInt(offset+length-1, 10)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: s.objectKey(key), Range: aws.String(rng)})
	if err != nil {
		return nil, Object{}, s.fail("get", key, err)
	}
	total, err := contentRangeTotal(aws.ToString(out.ContentRange))
	if err != nil {
		_ = out.Body.Close()
		return nil, Object{}, fmt.Errorf("blob %q: ranged get: %w", key, err)
	}
	obj := objectOf(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified)
	obj.Size = total
	return out.Body, obj, nil
}

// contentRangeTotal returns the complete length in "bytes 0-99/1000".
func contentRangeTotal(v string) (int64, error) {
	i := strings.LastIndexByte(v, '/')
	if !strings.HasPrefix(v, "bytes ") || i < 0 {
		return 0, fmt.Errorf("the server answered without a usable Content-Range (%q)", v)
	}
	total, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil || total < 0 {
		return 0, fmt.Errorf("the server answered Content-Range %q", v)
	}
	return total, nil
}

// Open implements Store: one HeadObject now, one ranged GetObject per read
// after a seek.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: s.objectKey(key)})
	if err != nil {
		return nil, Object{}, s.fail("head", key, err)
	}
	obj := objectOf(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified)
	return &s3Reader{ctx: ctx, s: s, key: key, etag: aws.ToString(out.ETag), size: obj.Size}, obj, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: s.objectKey(key)})
	if err != nil {
		return Object{}, s.fail("head", key, err)
	}
	return objectOf(key, out.ContentLength, out.ContentType, out.Metadata, out.LastModified), nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: s.objectKey(key)})
	if err != nil {
		if err = s.fail("delete", key, err); errors.Is(err, ErrNotFound) {
			return nil // S3 answers 204 for an absent key; other servers may say 404
		}
		return err
	}
	return nil
}

// fail translates an S3 error at the boundary: a missing key becomes
// ErrNotFound, 416 ErrInvalidRange, 412 (If-Match) ErrChanged.
func (s *S3) fail(op, key string, err error) error {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		var code string
		if api, ok := errors.AsType[smithy.APIError](err); ok {
			code = api.ErrorCode()
		}
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			if code != "NoSuchBucket" {
				return fmt.Errorf("blob %q: %w", key, ErrNotFound)
			}
		case http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("blob %q: %w", key, ErrInvalidRange)
		case http.StatusPreconditionFailed:
			return fmt.Errorf("blob %q: %w", key, ErrChanged)
		}
	}
	return fmt.Errorf("blob %q: s3 %s: %w", key, op, err)
}

func objectOf(key string, size *int64, contentType *string, meta map[string]string, modTime *time.Time) Object {
	obj := Object{Key: key, Size: aws.ToInt64(size), ContentType: aws.ToString(contentType), ModTime: aws.ToTime(modTime)}
	for k, v := range meta {
		// The SDK lower-cases metadata names; other servers may not.
		if strings.EqualFold(k, s3MetaSHA256) {
			if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
				obj.SHA256 = strings.ToLower(v)
			}
		}
	}
	return obj
}

// s3Reader is Open's reader. Seek only moves the position; the next Read
// opens a GetObject for "bytes=pos-" with If-Match on the ETag that Open
// saw, and later reads continue on that response until the next seek.
type s3Reader struct {
	ctx    context.Context
	s      *S3
	key    string
	etag   string
	size   int64
	pos    int64
	body   io.ReadCloser
	closed bool
}

func (r *s3Reader) Read(p []byte) (int, error) {
	switch {
	case r.closed:
		return 0, os.ErrClosed
	case r.pos >= r.size:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	if r.body == nil {
		in := &s3.GetObjectInput{
			Bucket: aws.String(r.s.bucket),
			Key:    r.s.objectKey(r.key),
			Range:  aws.String(fmt.Sprintf("bytes=%d-", r.pos)),
		}
		if r.etag != "" {
			in.IfMatch = aws.String(r.etag)
		}
		out, err := r.s.client.GetObject(r.ctx, in)
		if err != nil {
			return 0, r.s.fail("get", r.key, err)
		}
		r.body = out.Body
	}
	if rest := r.size - r.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.body.Read(p)
	r.pos += int64(n)
	if errors.Is(err, io.EOF) {
		_ = r.body.Close()
		r.body = nil
		if r.pos < r.size {
			return n, fmt.Errorf("blob %q: object ended at %d of %d bytes: %w", r.key, r.pos, r.size, io.ErrUnexpectedEOF)
		}
		return n, io.EOF
	}
	return n, err
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, fmt.Errorf("blob: seek whence %d", whence)
	}
	if abs < 0 {
		return 0, errors.New("blob: seek to a negative position")
	}
	if abs != r.pos && r.body != nil {
		_ = r.body.Close()
		r.body = nil
	}
	r.pos = abs
	return abs, nil
}

func (r *s3Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}
