// Package config reads AutoPulse's configuration from the environment.
//
// Every secret can also be given as a file: NAME_FILE=/run/secrets/x reads
// the value from that file (trailing newline trimmed), which is how container
// orchestrators hand secrets over. Setting both NAME and NAME_FILE is an error.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/autopulse/autopulse/internal/config/env"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// DevJWTSecret signs tokens in development when no secret is configured.
// Production refuses to start with it.
const DevJWTSecret = "autopulse-development-secret-do-not-use-in-production" //nolint:gosec // G101: the published development default that production refuses

// Config is the whole runtime configuration.
type Config struct {
	Env string // AUTOPULSE_ENV: development (default) or production

	Listen        string // AUTOPULSE_LISTEN, default 127.0.0.1:8080
	MetricsListen string // AUTOPULSE_METRICS_LISTEN, default 127.0.0.1:9090; "off" disables
	DataDir       string // AUTOPULSE_DATA_DIR, default ./.autopulse

	// DatabaseURL is the application role's connection (DATABASE_URL); empty
	// means the embedded cluster under DataDir. Host, user and password may
	// be left out and given by the libpq variables PGHOST, PGUSER, PGPASSWORD.
	DatabaseURL string
	// OwnerDatabaseURL is the migration owner's connection
	// (DATABASE_OWNER_URL); migrate falls back to DatabaseURL.
	OwnerDatabaseURL string
	// AppDBPassword (AUTOPULSE_APP_DB_PASSWORD) is set on the application
	// role by `migrate up`, so one secret provisions both sides.
	AppDBPassword string

	JWTSecret       []byte        // AUTOPULSE_JWT_SECRET
	JWTIssuer       string        // AUTOPULSE_JWT_ISSUER, default "autopulse"
	JWTAudience     string        // AUTOPULSE_JWT_AUDIENCE, default "autopulse-api"
	AccessTokenTTL  time.Duration // AUTOPULSE_ACCESS_TOKEN_TTL, default 15m
	RefreshTokenTTL time.Duration // AUTOPULSE_REFRESH_TOKEN_TTL, default 720h

	// DBMaxConns (AUTOPULSE_DB_MAX_CONNS, default 20) sizes the application
	// role's pool; pgx's own default (4 on small machines) queues requests.
	DBMaxConns int32

	ShutdownTimeout time.Duration // AUTOPULSE_SHUTDOWN_TIMEOUT, default 25s
	RequestTimeout  time.Duration // AUTOPULSE_REQUEST_TIMEOUT, default 30s
	MaxBodyBytes    int64         // AUTOPULSE_MAX_BODY_BYTES, default 1 MiB

	// ProxyHops (AUTOPULSE_PROXY_HOPS) is how many trusted proxies stand in
	// front of the server and append to X-Forwarded-For (CloudFront and an
	// ALB: 2). Zero, the default, ignores the header.
	ProxyHops int
	// Workers (AUTOPULSE_WORKERS, default true) runs the job workers inside
	// `serve`; turn off when `autopulse worker` runs separately.
	Workers bool
	// JobWorkers (AUTOPULSE_JOB_WORKERS, default 25) is how many jobs one
	// process works at once. Dial jobs mostly wait on the voice provider,
	// holding no database connection meanwhile, so it may exceed
	// DBMaxConns.
	JobWorkers int
	// SeedDemo (AUTOPULSE_SEED_DEMO) seeds demo data on first start; the
	// default is on for the embedded database and off otherwise.
	SeedDemo bool

	AdminEmail    string // AUTOPULSE_ADMIN_EMAIL: platform admin created by seed
	AdminPassword string // AUTOPULSE_ADMIN_PASSWORD

	LogLevel  string // AUTOPULSE_LOG_LEVEL: debug, info (default), warn, error
	LogFormat string // AUTOPULSE_LOG_FORMAT: json (default) or text

	// The voice provider (Vapi). With no AUTOPULSE_VAPI_BASE_URL in
	// development, `serve` runs the voice simulator in-process and points
	// these at it.
	VapiBaseURL       string // AUTOPULSE_VAPI_BASE_URL, e.g. https://api.vapi.ai
	VapiAPIKey        string // AUTOPULSE_VAPI_API_KEY
	VapiAssistantID   string // AUTOPULSE_VAPI_ASSISTANT_ID
	VapiPhoneNumberID string // AUTOPULSE_VAPI_PHONE_NUMBER_ID
	VapiWebhookSecret string // AUTOPULSE_VAPI_WEBHOOK_SECRET
	// VoicesimSpeed (AUTOPULSE_VOICESIM_SPEED) compresses the in-process
	// simulator's call timings for demos; 1 is real time.
	VoicesimSpeed float64

	// Blob storage for recordings: the local file system under DataDir by
	// default, or S3 when AUTOPULSE_BLOB_S3_BUCKET is set.
	BlobS3Bucket   string // AUTOPULSE_BLOB_S3_BUCKET
	BlobS3Prefix   string // AUTOPULSE_BLOB_S3_PREFIX
	BlobS3Endpoint string // AUTOPULSE_BLOB_S3_ENDPOINT (MinIO, tests)

	// EncryptionKey (AUTOPULSE_ENCRYPTION_KEY, 32 bytes base64) seals
	// integration secrets at rest with AES-256-GCM.
	EncryptionKey string
}

// VoiceSimulated reports whether calls go to the in-process simulator.
func (c *Config) VoiceSimulated() bool { return c.VapiBaseURL == "" }

// Embedded reports whether the embedded cluster is used.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// Load reads and validates the configuration.
func Load() (*Config, error) { return load(os.Getenv) }

func load(getenv func(string) string) (*Config, error) {
	r := env.Reader{Getenv: getenv}
	c := &Config{
		Env:              r.Str("AUTOPULSE_ENV", Development),
		Listen:           r.Str("AUTOPULSE_LISTEN", "127.0.0.1:8080"),
		MetricsListen:    r.Str("AUTOPULSE_METRICS_LISTEN", "127.0.0.1:9090"),
		DataDir:          r.Str("AUTOPULSE_DATA_DIR", ".autopulse"),
		DatabaseURL:      r.Secret("DATABASE_URL"),
		OwnerDatabaseURL: r.Secret("DATABASE_OWNER_URL"),
		AppDBPassword:    r.Secret("AUTOPULSE_APP_DB_PASSWORD"),
		JWTSecret:        []byte(r.Secret("AUTOPULSE_JWT_SECRET")),
		JWTIssuer:        r.Str("AUTOPULSE_JWT_ISSUER", "autopulse"),
		JWTAudience:      r.Str("AUTOPULSE_JWT_AUDIENCE", "autopulse-api"),
		AccessTokenTTL:   r.Duration("AUTOPULSE_ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTokenTTL:  r.Duration("AUTOPULSE_REFRESH_TOKEN_TTL", 30*24*time.Hour),
		DBMaxConns:       int32(r.Int("AUTOPULSE_DB_MAX_CONNS", 20)), //nolint:gosec // G115: validated below
		ShutdownTimeout:  r.Duration("AUTOPULSE_SHUTDOWN_TIMEOUT", 25*time.Second),
		RequestTimeout:   r.Duration("AUTOPULSE_REQUEST_TIMEOUT", 30*time.Second),
		MaxBodyBytes:     r.Int("AUTOPULSE_MAX_BODY_BYTES", 1<<20),
		ProxyHops:        int(r.Int("AUTOPULSE_PROXY_HOPS", 0)),
		Workers:          r.Bool("AUTOPULSE_WORKERS", true),
		JobWorkers:       int(r.Int("AUTOPULSE_JOB_WORKERS", 25)),
		AdminEmail:       r.Str("AUTOPULSE_ADMIN_EMAIL", ""),
		AdminPassword:    r.Secret("AUTOPULSE_ADMIN_PASSWORD"),
		LogLevel:         r.Str("AUTOPULSE_LOG_LEVEL", "info"),
		LogFormat:        r.Str("AUTOPULSE_LOG_FORMAT", "json"),

		VapiBaseURL:       r.Str("AUTOPULSE_VAPI_BASE_URL", ""),
		VapiAPIKey:        r.Secret("AUTOPULSE_VAPI_API_KEY"),
		VapiAssistantID:   r.Str("AUTOPULSE_VAPI_ASSISTANT_ID", ""),
		VapiPhoneNumberID: r.Str("AUTOPULSE_VAPI_PHONE_NUMBER_ID", ""),
		VapiWebhookSecret: r.Secret("AUTOPULSE_VAPI_WEBHOOK_SECRET"),
		VoicesimSpeed:     r.Float("AUTOPULSE_VOICESIM_SPEED", 20),
		BlobS3Bucket:      r.Str("AUTOPULSE_BLOB_S3_BUCKET", ""),
		BlobS3Prefix:      r.Str("AUTOPULSE_BLOB_S3_PREFIX", "recordings/"),
		BlobS3Endpoint:    r.Str("AUTOPULSE_BLOB_S3_ENDPOINT", ""),
		EncryptionKey:     r.Secret("AUTOPULSE_ENCRYPTION_KEY"),
	}
	c.SeedDemo = r.Bool("AUTOPULSE_SEED_DEMO", c.Embedded() && c.Env == Development)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	switch c.Env {
	case Development:
		if len(c.JWTSecret) == 0 {
			c.JWTSecret = []byte(DevJWTSecret)
		}
	case Production:
		if c.VoiceSimulated() {
			errs = append(errs, errors.New("AUTOPULSE_VAPI_BASE_URL is required in production (the voice simulator is for development)"))
		} else if c.VapiAPIKey == "" || c.VapiWebhookSecret == "" {
			errs = append(errs, errors.New("AUTOPULSE_VAPI_API_KEY and AUTOPULSE_VAPI_WEBHOOK_SECRET are required with AUTOPULSE_VAPI_BASE_URL"))
		}
		if c.EncryptionKey == "" {
			errs = append(errs, errors.New("AUTOPULSE_ENCRYPTION_KEY (32 random bytes, base64) is required in production"))
		}
		switch {
		case len(c.JWTSecret) == 0:
			errs = append(errs, errors.New("AUTOPULSE_JWT_SECRET (or AUTOPULSE_JWT_SECRET_FILE) is required in production"))
		case string(c.JWTSecret) == DevJWTSecret:
			errs = append(errs, errors.New("AUTOPULSE_JWT_SECRET is the development default; set a random secret in production"))
		case len(c.JWTSecret) < 32:
			errs = append(errs, errors.New("AUTOPULSE_JWT_SECRET must be at least 32 bytes in production"))
		}
	default:
		errs = append(errs, fmt.Errorf("AUTOPULSE_ENV=%q: want %q or %q", c.Env, Development, Production))
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > time.Hour {
		errs = append(errs, fmt.Errorf("AUTOPULSE_ACCESS_TOKEN_TTL=%s: want between 1m and 1h", c.AccessTokenTTL))
	}
	if c.RefreshTokenTTL < time.Hour {
		errs = append(errs, fmt.Errorf("AUTOPULSE_REFRESH_TOKEN_TTL=%s: want at least 1h", c.RefreshTokenTTL))
	}
	if c.VoicesimSpeed <= 0 {
		errs = append(errs, fmt.Errorf("AUTOPULSE_VOICESIM_SPEED=%v: want a positive number", c.VoicesimSpeed))
	}
	if c.JobWorkers < 1 || c.JobWorkers > 1000 {
		errs = append(errs, fmt.Errorf("AUTOPULSE_JOB_WORKERS=%d: want 1-1000", c.JobWorkers))
	}
	if c.DBMaxConns < 2 || c.DBMaxConns > 1000 {
		errs = append(errs, fmt.Errorf("AUTOPULSE_DB_MAX_CONNS=%d: want 2-1000", c.DBMaxConns))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("AUTOPULSE_MAX_BODY_BYTES=%d: want at least 1024", c.MaxBodyBytes))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("AUTOPULSE_LOG_FORMAT=%q: want json or text", c.LogFormat))
	}
	return errors.Join(errs...)
}
