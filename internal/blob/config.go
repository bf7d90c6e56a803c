package blob

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Backends.
const (
	BackendFS = "fs"
	BackendS3 = "s3"
)

// Config chooses and sets up a backend. ConfigFromEnv reads it from the
// environment; Open turns it into a Store.
type Config struct {
	Backend string // BackendFS or BackendS3
	Dir     string // the file store's root

	S3Bucket    string
	S3Prefix    string
	S3Endpoint  string // a custom endpoint (MinIO, tests); empty means AWS
	S3PathStyle bool   // path-style addressing, usual for custom endpoints
	S3Region    string // empty means the standard AWS chain (AWS_REGION, shared config)
	S3SSE       string // SSEAES256 (default), SSEKMS or SSENone
	S3KMSKeyID  string // with SSEKMS
	SpoolDir    string // where S3 Puts spool; empty means os.TempDir()
}

// ConfigFromEnv reads the blob configuration. dataDir is AUTOPULSE_DATA_DIR.
//
//	AUTOPULSE_BLOB_BACKEND        fs or s3; default s3 when a bucket is set, else fs
//	AUTOPULSE_BLOB_DIR            file store root; default <dataDir>/blobs
//	AUTOPULSE_BLOB_S3_BUCKET      bucket (required for s3)
//	AUTOPULSE_BLOB_S3_PREFIX      key prefix, e.g. "recordings"
//	AUTOPULSE_BLOB_S3_ENDPOINT    custom endpoint URL (MinIO, tests)
//	AUTOPULSE_BLOB_S3_PATH_STYLE  true/false; default true when an endpoint is set
//	AUTOPULSE_BLOB_S3_SSE         AES256 (default), aws:kms or none
//	AUTOPULSE_BLOB_S3_KMS_KEY_ID  KMS key id or ARN, with aws:kms
//	AUTOPULSE_BLOB_SPOOL_DIR      where S3 uploads spool; default the system temp dir
//
// Region and credentials come from the standard AWS sources (AWS_REGION,
// AWS_PROFILE, the shared files, the container or instance role).
func ConfigFromEnv(getenv func(string) string, dataDir string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		Backend:    get("AUTOPULSE_BLOB_BACKEND"),
		Dir:        get("AUTOPULSE_BLOB_DIR"),
		S3Bucket:   get("AUTOPULSE_BLOB_S3_BUCKET"),
		S3Prefix:   get("AUTOPULSE_BLOB_S3_PREFIX"),
		S3Endpoint: get("AUTOPULSE_BLOB_S3_ENDPOINT"),
		S3SSE:      get("AUTOPULSE_BLOB_S3_SSE"),
		S3KMSKeyID: get("AUTOPULSE_BLOB_S3_KMS_KEY_ID"),
		SpoolDir:   get("AUTOPULSE_BLOB_SPOOL_DIR"),
	}
	var errs []error
	if c.Backend == "" {
		c.Backend = BackendFS
		if c.S3Bucket != "" {
			c.Backend = BackendS3
		}
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(dataDir, "blobs")
	}
	c.S3PathStyle = c.S3Endpoint != ""
	if v := get("AUTOPULSE_BLOB_S3_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AUTOPULSE_BLOB_S3_PATH_STYLE=%q: want true or false", v))
		}
		c.S3PathStyle = b
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem with c, naming the variables to fix.
func (c Config) Validate() error {
	var errs []error
	switch c.Backend {
	case BackendFS:
		if c.Dir == "" {
			errs = append(errs, errors.New("AUTOPULSE_BLOB_DIR: the file store needs a directory"))
		}
	case BackendS3:
		if c.S3Bucket == "" {
			errs = append(errs, errors.New("AUTOPULSE_BLOB_S3_BUCKET is required with AUTOPULSE_BLOB_BACKEND=s3"))
		}
		if c.S3Endpoint != "" {
			if u, err := url.Parse(c.S3Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("AUTOPULSE_BLOB_S3_ENDPOINT=%q: want an http or https URL", c.S3Endpoint))
			}
		}
		if c.S3Prefix != "" {
			if reason := keyProblem(strings.Trim(c.S3Prefix, "/")); reason != "" {
				errs = append(errs, fmt.Errorf("AUTOPULSE_BLOB_S3_PREFIX=%q: %s", c.S3Prefix, reason))
			}
		}
		if err := WithSSE(c.S3SSE, c.S3KMSKeyID)(&S3{}); err != nil {
			errs = append(errs, fmt.Errorf("AUTOPULSE_BLOB_S3_SSE / AUTOPULSE_BLOB_S3_KMS_KEY_ID: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("AUTOPULSE_BLOB_BACKEND=%q: want %s or %s", c.Backend, BackendFS, BackendS3))
	}
	return errors.Join(errs...)
}

// Open returns the configured store: an *FS or an *S3. For S3 it loads the
// AWS configuration (region, credentials) but makes no request, so a wrong
// bucket or missing permission shows on the first use.
func Open(ctx context.Context, c Config) (Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Backend == BackendFS {
		return NewFS(c.Dir)
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	if c.S3Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(c.S3Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("blob: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if c.S3Endpoint == "" {
			return nil, errors.New("blob: no AWS region for S3; set AWS_REGION")
		}
		awsCfg.Region = "us-east-1" // what S3-compatible servers expect when none is set
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(c.S3Endpoint)
		}
		o.UsePathStyle = c.S3PathStyle
	})
	return NewS3(client, c.S3Bucket, c.S3Prefix, WithSSE(c.S3SSE, c.S3KMSKeyID), WithSpoolDir(c.SpoolDir))
}
