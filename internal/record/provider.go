package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/record/csvimport"
)

// DMSProvider is the adapter of one dealer management system for
// pull-sync. docs/DMS.md states what an adapter for CDK, Reynolds &
// Reynolds, Dealertrack or Tekion must do; this build has the CSV adapter
// (an export the DMS publishes at a URL) and API push (the DMS, or its
// middleware, posts to /api/v1/service-records/batch, so there is nothing
// to pull).
//
// Errors should be *ProviderError, so the sync knows whether to retry.
type DMSProvider interface {
	// Test checks connectivity and credentials, changing nothing anywhere.
	Test(ctx context.Context) error
	// Pull returns the service records changed since since (the zero time
	// for everything the DMS offers), as rows of the CSV import's shape.
	// The caller closes the source.
	Pull(ctx context.Context, since time.Time) (RowSource, error)
}

// RowSource yields service records in the shape the CSV reader produces,
// so every source goes through the same checks and load. Next returns
// io.EOF at the end; row errors reject one row; any other error stops the
// pull.
type RowSource interface {
	Next() (row csvimport.Row, rowErrs []csvimport.RowError, err error)
	Close() error
}

// ErrorClass says what a provider failure means for a sync.
type ErrorClass string

// The classes of ProviderError.
const (
	ClassAuth          ErrorClass = "auth"           // credentials refused: fix the integration; no retry
	ClassRateLimited   ErrorClass = "rate_limited"   // retry after RetryAfter
	ClassUnavailable   ErrorClass = "unavailable"    // network or server trouble: retry with backoff
	ClassInvalidConfig ErrorClass = "invalid_config" // the settings are wrong: no retry
	ClassBadData       ErrorClass = "bad_data"       // the DMS sent something unreadable: no retry
)

// ProviderError is a classified adapter failure.
type ProviderError struct {
	Class      ErrorClass
	RetryAfter time.Duration // with ClassRateLimited, when known
	Err        error
}

func (e *ProviderError) Error() string { return string(e.Class) + ": " + e.Err.Error() }
func (e *ProviderError) Unwrap() error { return e.Err }

// Retryable reports whether a later attempt may succeed.
func (e *ProviderError) Retryable() bool {
	return e.Class == ClassRateLimited || e.Class == ClassUnavailable
}

func classOf(err error) ErrorClass {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Class
	}
	if fault.Is(err, fault.Invalid) {
		return ClassBadData
	}
	return ClassUnavailable
}

// provider builds the adapter of an integration.
func (s *Service) provider(r db.DmsIntegration, timezone string) (DMSProvider, error) {
	switch r.Type {
	case DMSAPIPush:
		return pushProvider{}, nil
	case DMSCSV:
	default:
		return nil, fault.Errorf(fault.Invalid, "no %s adapter in this build yet (see docs/DMS.md)", r.Type)
	}
	secrets, err := s.openSecrets(r)
	if err != nil {
		return nil, err
	}
	v, err := s.integrationView(r)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		loc = time.UTC
	}
	p := &csvProvider{ //nolint:gosec // G101: the secrets come from the sealed column, not from the source
		client: s.httpClient(), timeout: time.Duration(r.TimeoutSeconds) * time.Second, loc: loc,
		password: secrets["password"], token: secrets["token"], apiKey: secrets["api_key"], apiKeyHeader: "X-API-Key",
	}
	p.url, _ = v.Config["url"].(string)
	p.sinceParam, _ = v.Config["since_param"].(string)
	p.username, _ = v.Config["username"].(string)
	if h, ok := v.Config["api_key_header"].(string); ok {
		p.apiKeyHeader = h
	}
	if d, ok := v.Config["delimiter"].(string); ok {
		p.delimiter, _ = utf8.DecodeRuneInString(d)
	}
	return p, nil
}

// pushProvider is API push: the DMS sends records; there is nothing to
// pull, and nothing to test on our side (an API key with records:write is
// the credential).
type pushProvider struct{}

func (pushProvider) Test(context.Context) error { return nil }

func (pushProvider) Pull(context.Context, time.Time) (RowSource, error) {
	return nil, &ProviderError{Class: ClassInvalidConfig, Err: errors.New("api_push integrations are pushed to, not pulled")}
}

// csvProvider pulls a CSV export over HTTPS: the form most DMSs can
// schedule (CDK and Reynolds report writers, Dealertrack and Tekion
// exports to a file drop behind HTTPS). Authentication is HTTP Basic
// (username + password), a bearer token, or an API key header. With
// since_param, the pull asks for records changed since the last sync
// (…?modified_since=2026-03-02T00:00:00Z); without it, every pull reads
// the whole export, which the load's idempotency makes safe.
type csvProvider struct {
	client       *http.Client
	timeout      time.Duration
	loc          *time.Location
	url          string
	sinceParam   string
	delimiter    rune
	username     string
	password     string
	token        string
	apiKey       string
	apiKeyHeader string
}

// Test fetches the export and checks its header.
func (p *csvProvider) Test(ctx context.Context) error {
	rs, err := p.Pull(ctx, time.Time{})
	if err != nil {
		return err
	}
	return rs.Close()
}

// Pull fetches the export and reads its header; the rows stream as the
// caller reads them. timeout bounds the wait for the response headers, not
// the download.
func (p *csvProvider) Pull(ctx context.Context, since time.Time) (RowSource, error) {
	u, err := url.Parse(p.url)
	if err != nil {
		return nil, &ProviderError{Class: ClassInvalidConfig, Err: err}
	}
	if p.sinceParam != "" && !since.IsZero() {
		q := u.Query()
		q.Set(p.sinceParam, since.UTC().Format(time.RFC3339))
		u.RawQuery = q.Encode()
	}
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		cancel()
		return nil, &ProviderError{Class: ClassInvalidConfig, Err: err}
	}
	req.Header.Set("Accept", "text/csv, text/plain;q=0.9, */*;q=0.1")
	switch {
	case p.username != "":
		req.SetBasicAuth(p.username, p.password)
	case p.token != "":
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	if p.apiKey != "" {
		req.Header.Set(p.apiKeyHeader, p.apiKey)
	}
	headers := time.AfterFunc(p.timeout, cancel)
	resp, err := p.client.Do(req)
	headers.Stop()
	if err != nil {
		cancel()
		return nil, &ProviderError{Class: ClassUnavailable, Err: fmt.Errorf("GET %s: %w", u.Redacted(), err)}
	}
	if err := statusError(resp); err != nil {
		_ = resp.Body.Close()
		cancel()
		return nil, err
	}
	rd, err := csvimport.NewReader(resp.Body, csvimport.Options{Delimiter: p.delimiter, Location: p.loc})
	if err != nil {
		_ = resp.Body.Close()
		cancel()
		if fault.Is(err, fault.Invalid) {
			return nil, &ProviderError{Class: ClassBadData, Err: err}
		}
		return nil, &ProviderError{Class: ClassUnavailable, Err: err}
	}
	return &csvRows{Reader: rd, body: resp.Body, cancel: cancel}, nil
}

// statusError classifies a response that is not a 2xx.
func statusError(resp *http.Response) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err := fmt.Errorf("the export answered HTTP %d", code)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &ProviderError{Class: ClassAuth, Err: err}
	case code == http.StatusTooManyRequests:
		pe := &ProviderError{Class: ClassRateLimited, Err: err}
		if secs, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && secs > 0 {
			pe.RetryAfter = time.Duration(secs) * time.Second
		}
		return pe
	case code >= 500:
		return &ProviderError{Class: ClassUnavailable, Err: err}
	}
	return &ProviderError{Class: ClassInvalidConfig, Err: err}
}

// csvRows is the rows of a fetched export.
type csvRows struct {
	*csvimport.Reader
	body   io.Closer
	cancel context.CancelFunc
}

func (c *csvRows) Close() error {
	err := c.body.Close()
	c.cancel()
	return err
}

// httpClient is Service.HTTPClient, or one that refuses private, loopback
// and link-local addresses: an integration's URL is set by a tenant, and
// must not reach the server's own network.
func (s *Service) httpClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return publicHTTPClient
}

var publicHTTPClient = func() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: refusePrivate}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial on our behalf, past refusePrivate
	tr.DialContext = dialer.DialContext
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" {
				return errors.New("redirect away from https refused")
			}
			return nil
		},
	}
}()

// errPrivateAddress refuses a connection to the server's own networks.
var errPrivateAddress = errors.New("refusing to connect to a private, loopback or link-local address")

// refusePrivate runs after name resolution, so a name that resolves to a
// private address is refused too.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return errPrivateAddress
	}
	return nil
}
