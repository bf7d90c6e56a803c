// Package blob stores large, write-once byte objects (call recordings first)
// behind one Store interface with two backends: the local file system, the
// default, under AUTOPULSE_DATA_DIR/blobs, and S3 for production.
//
// Both backends keep the same promises, and one conformance suite checks
// them against each:
//
//   - A Put is all or nothing. A reader sees the previous object or the new
//     one, never a part of one. A failed Put (over MaxBytes, a checksum
//     mismatch, a failing source, a cancelled context) leaves whatever was
//     stored under the key before, and no temporary file or object behind.
//   - Put streams. It hashes the bytes with SHA-256 as it copies them and
//     never holds the whole object in memory; the S3 backend spools to a
//     temporary file once an object passes 1 MiB, so that it can send the
//     length and the checksum up front.
//   - Keys are checked before any I/O (ValidateKey), so no key can name
//     anything outside the store. The file system backend also goes through
//     an os.Root, so a symbolic link planted inside the root cannot lead out.
//   - Ranged reads are native on both backends: GetRange reads one window,
//     and Open returns an io.ReadSeekCloser that http.ServeContent can serve
//     single and multiple Range requests from.
//   - Delete of an absent key succeeds, so a retried job can delete twice.
//
// Errors are sentinels that carry a fault code, so errors.Is works and the
// HTTP layer maps them without knowing this package: ErrNotFound is
// fault.NotFound; ErrInvalidKey, ErrTooLarge, ErrChecksumMismatch and
// ErrInvalidRange are fault.Invalid; ErrChanged is fault.Conflict. Anything
// else (a disk or network failure) has no code and is an internal error.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/autopulse/autopulse/internal/fault"
)

// Store keeps objects by key. Implementations are safe for concurrent use.
type Store interface {
	// Put stores the bytes of r under key, replacing any object there, and
	// returns what it stored. It fails with ErrInvalidKey, ErrTooLarge,
	// ErrChecksumMismatch or the error of r or ctx; on failure the previous
	// object, if any, is left as it was.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Object, error)

	// Get returns the whole object. The caller closes the reader. It fails
	// with ErrInvalidKey or ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)

	// GetRange returns length bytes from offset (fewer at the end of the
	// object; length -1 reads to the end). Object describes the whole object,
	// so Object.Size is the total for a Content-Range header. An offset at
	// or past the end, a negative offset, or a length of 0 or below -1 fail
	// with ErrInvalidRange, which is also what an empty object answers.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Object, error)

	// Open returns a seekable reader over the object, for http.ServeContent.
	// Seeking costs nothing; on S3 each read after a seek opens one ranged
	// GET from the new position, bound to the object's ETag so that a
	// concurrent overwrite fails with ErrChanged instead of mixing versions.
	// The reader uses ctx for those requests, so ctx must outlive it. Set
	// the response's Content-Type from Object.ContentType before calling
	// http.ServeContent; otherwise it sniffs the first 512 bytes and seeks
	// back, which on S3 costs an extra GET.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error)

	// Stat describes the object without reading it. It fails with
	// ErrInvalidKey or ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)

	// Delete removes the object. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
	// SHA256 is the lowercase hex digest of the content. It is empty only
	// for an S3 object that another tool wrote without our metadata.
	SHA256 string
	// ModTime is when the object was written. On S3 the value Put returns is
	// the local clock when the upload finished; Stat and Get return the
	// server's Last-Modified, which has one-second precision.
	ModTime time.Time
}

// PutOptions tune one Put.
type PutOptions struct {
	// ContentType is a media type such as "audio/wav"; empty means
	// DefaultContentType.
	ContentType string
	// MaxBytes caps the object: a source that yields more fails the Put with
	// ErrTooLarge. Zero means DefaultMaxBytes; the cap may not exceed
	// MaxPutBytes.
	MaxBytes int64
	// ExpectedSHA256, when set, is the hex digest the content must have;
	// a mismatch fails the Put with ErrChecksumMismatch.
	ExpectedSHA256 string
}

// Limits and defaults.
const (
	DefaultContentType = "application/octet-stream"
	// DefaultMaxBytes is the cap when PutOptions.MaxBytes is zero.
	DefaultMaxBytes int64 = 1 << 30
	// MaxPutBytes is the largest object a Put accepts: the limit of a single
	// S3 PutObject, kept on both backends so they behave alike.
	MaxPutBytes int64 = 5 << 30
)

// The errors. Each carries a fault code; wrapped ones name the key.
var (
	ErrNotFound         = &fault.Error{Code: fault.NotFound, Message: "blob not found"}
	ErrInvalidKey       = &fault.Error{Code: fault.Invalid, Message: "invalid blob key"}
	ErrTooLarge         = &fault.Error{Code: fault.Invalid, Message: "blob exceeds its size limit"}
	ErrChecksumMismatch = &fault.Error{Code: fault.Invalid, Message: "blob content does not match its expected SHA-256"}
	ErrInvalidRange     = &fault.Error{Code: fault.Invalid, Message: "requested range not satisfiable"}
	ErrChanged          = &fault.Error{Code: fault.Conflict, Message: "blob changed while it was being read"}
)

// Key limits. Keys stay well under S3's 1,024 bytes with a prefix, and a
// segment leaves room under the 255-byte file name limit of common file
// systems.
const (
	MaxKeyLen     = 512
	maxSegmentLen = 200
)

// ValidateKey reports whether key may name an object. A key is one or more
// segments joined by "/"; each segment is 1 to 200 of the characters
// A-Z a-z 0-9 . _ - and starts with a letter or a digit, which rules out
// ".", "..", hidden names and the backends' own temporary names. A key has
// no leading, trailing or doubled "/" and is at most MaxKeyLen bytes. It
// returns an error wrapping ErrInvalidKey.
func ValidateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("blob key %q: %s: %w", truncate(key, 80), reason, ErrInvalidKey)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "empty segment (leading, trailing or doubled /)"
		case len(seg) > maxSegmentLen:
			return fmt.Sprintf("segment longer than %d bytes", maxSegmentLen)
		case !isAlnum(seg[0]):
			return "segment must start with a letter or a digit"
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return fmt.Sprintf("character %q not allowed", c)
			}
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// putPlan is a PutOptions checked and filled with defaults.
type putPlan struct {
	contentType string
	maxBytes    int64
	expected    string // lowercase hex, or empty
}

func (o PutOptions) plan() (putPlan, error) {
	p := putPlan{contentType: strings.TrimSpace(o.ContentType), maxBytes: o.MaxBytes}
	if p.contentType == "" {
		p.contentType = DefaultContentType
	} else if _, _, err := mime.ParseMediaType(p.contentType); err != nil || len(p.contentType) > 255 {
		return putPlan{}, fault.InvalidField("content_type", fmt.Sprintf("%q is not a media type", truncate(p.contentType, 80)))
	}
	switch {
	case p.maxBytes == 0:
		p.maxBytes = DefaultMaxBytes
	case p.maxBytes < 0 || p.maxBytes > MaxPutBytes:
		return putPlan{}, fault.InvalidField("max_bytes", fmt.Sprintf("%d: want 1 to %d, or 0 for the default", p.maxBytes, MaxPutBytes))
	}
	if o.ExpectedSHA256 != "" {
		p.expected = strings.ToLower(o.ExpectedSHA256)
		if b, err := hex.DecodeString(p.expected); err != nil || len(b) != sha256.Size {
			return putPlan{}, fault.InvalidField("expected_sha256", "want 64 hex digits")
		}
	}
	return p, nil
}

// check compares a computed digest with the expected one.
func (p putPlan) check(key, sum string) error {
	if p.expected != "" && p.expected != sum {
		return fmt.Errorf("blob %q: got sha256 %s, want %s: %w", key, sum, p.expected, ErrChecksumMismatch)
	}
	return nil
}

// capped reads src through a SHA-256 and a limit of max+1 bytes, so that a
// source longer than max is detected without reading it all.
type capped struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	max int64
}

func newCapped(ctx context.Context, src io.Reader, maxBytes int64) *capped {
	h := sha256.New()
	return &capped{
		r:   io.TeeReader(io.LimitReader(contextReader{ctx: ctx, r: src}, maxBytes+1), h),
		h:   h,
		max: maxBytes,
	}
}

func (c *capped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// result returns the byte count and digest once the source is drained, or
// ErrTooLarge.
func (c *capped) result(key string) (int64, string, error) {
	if c.n > c.max {
		return 0, "", fmt.Errorf("blob %q: more than %d bytes: %w", key, c.max, ErrTooLarge)
	}
	return c.n, hex.EncodeToString(c.h.Sum(nil)), nil
}

// contextReader stops a copy when its context ends, so a cancelled Put does
// not wait for a slow source to finish.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// checkRangeArgs rejects GetRange arguments that no object satisfies.
func checkRangeArgs(key string, offset, length int64) error {
	if offset < 0 || length == 0 || length < -1 {
		return fmt.Errorf("blob %q: range offset %d length %d: %w", key, offset, length, ErrInvalidRange)
	}
	return nil
}

// clampRange fits a GetRange window to an object of size bytes and returns
// the number of bytes it covers.
func clampRange(key string, offset, length, size int64) (int64, error) {
	if err := checkRangeArgs(key, offset, length); err != nil {
		return 0, err
	}
	if offset >= size {
		return 0, fmt.Errorf("blob %q: range offset %d of %d bytes: %w", key, offset, size, ErrInvalidRange)
	}
	if length == -1 || length > size-offset {
		return size - offset, nil
	}
	return length, nil
}
