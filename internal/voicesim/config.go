package voicesim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/autopulse/autopulse/internal/config/env"
	"github.com/autopulse/autopulse/internal/voice"
)

// Development defaults. They only make sense on one machine: the
// simulator and AutoPulse both read them when nothing else is configured.
const (
	DevAPIKey        = "voicesim-dev-api-key"        //nolint:gosec // a published development default
	DevWebhookSecret = "voicesim-dev-webhook-secret" //nolint:gosec // a published development default
	DevPhoneNumberID = "voicesim-line-1"
	DevPhoneNumber   = "+13125550100" // 555-01xx numbers are reserved for fiction
)

// Config configures a Server. FromEnv reads it from AUTOPULSE_VOICESIM_*
// variables; zero fields get the defaults listed with each.
type Config struct {
	// Listen is the address Run listens on (AUTOPULSE_VOICESIM_LISTEN,
	// default 127.0.0.1:8090).
	Listen string
	// PublicURL is the base of the recording URLs in reports
	// (AUTOPULSE_VOICESIM_PUBLIC_URL); empty means the scheme and host the
	// dial request came in on.
	PublicURL string

	APIKey        string // AUTOPULSE_VOICESIM_API_KEY[_FILE], default DevAPIKey
	PhoneNumberID string // AUTOPULSE_VOICESIM_PHONE_NUMBER_ID: the only id POST /call accepts; default DevPhoneNumberID
	PhoneNumber   string // AUTOPULSE_VOICESIM_PHONE_NUMBER: the line's own E.164 number; default DevPhoneNumber

	// WebhookURL receives the server messages (AUTOPULSE_VOICESIM_WEBHOOK_URL;
	// FromEnv defaults it to DefaultWebhookURL). Empty or "off" disables
	// delivery: calls still progress and can be read with GET /call/{id}.
	WebhookURL string
	// WebhookSecret signs each delivery: X-Vapi-Signature is the hex
	// HMAC-SHA256 of the body (AUTOPULSE_VOICESIM_WEBHOOK_SECRET[_FILE],
	// default DevWebhookSecret).
	WebhookSecret string
	// SendSecretHeader also sends the secret itself as X-Vapi-Secret, like
	// Vapi's older server-URL secret (AUTOPULSE_VOICESIM_SECRET_HEADER).
	SendSecretHeader bool
	// WebhookAttempts bounds deliveries of one message, first included
	// (AUTOPULSE_VOICESIM_WEBHOOK_ATTEMPTS, default 5). Attempts after a
	// transport error, 408, 429 or 5xx back off exponentially from
	// WebhookBackoff (AUTOPULSE_VOICESIM_WEBHOOK_BACKOFF, default 1s,
	// compressed by Speed like every delay). Other answers are final.
	WebhookAttempts int
	WebhookBackoff  time.Duration

	// Seed makes outcomes reproducible for the same sequence of dials
	// (AUTOPULSE_VOICESIM_SEED, default 1).
	Seed int64
	// Speed divides every simulated delay (AUTOPULSE_VOICESIM_SPEED,
	// default 1: real time). 20 suits a demo; tests use 1000 or more.
	// Reports state simulated durations; their timestamps are real.
	Speed float64

	// Rates are the outcome shares (AUTOPULSE_VOICESIM_RATE_*); nil means
	// DefaultRates.
	Rates  *Rates
	Faults Faults // AUTOPULSE_VOICESIM_DUPLICATE_RATE, _REORDER_RATE, _DROP_REPORT_RATE

	// Scripts force the outcome of calls to a number (E.164 → script).
	Scripts map[string]Script

	// MaxCalls bounds the calls kept for GET /call; the oldest ended ones
	// are forgotten first (default 10000).
	MaxCalls int

	HTTPClient *http.Client // delivers webhooks; default: 10 s timeout
	Logger     *slog.Logger // default: discard
}

// Rates are the shares of simulated outcomes, each in [0, 1].
type Rates struct {
	// Shares of outbound dials. The rest are answered and completed.
	NoAnswer, Busy, Voicemail, Failed float64
	// Shares of completed feedback calls; the rest are detractors (0–6).
	Promoter, Passive float64
	// Share of completed reminder, recall and declined-service calls that
	// book an appointment.
	Booking float64
	// Share of completed calls in which the customer opts out.
	OptOut float64
}

// DefaultRates are plausible figures for outbound service calls.
var DefaultRates = Rates{
	NoAnswer: 0.18, Busy: 0.04, Voicemail: 0.12, Failed: 0.02,
	Promoter: 0.55, Passive: 0.25,
	Booking: 0.35,
	OptOut:  0.04,
}

// Faults are the shares of calls whose webhooks misbehave on purpose.
type Faults struct {
	DuplicateRate float64 // every message of the call is delivered twice
	ReorderRate   float64 // the end-of-call report comes before the status updates
	// DropReportRate: the end-of-call report is never delivered (a lost
	// webhook); GET /call still shows the ended call with its results.
	DropReportRate float64
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	if c.APIKey == "" {
		c.APIKey = DevAPIKey
	}
	if c.PhoneNumberID == "" {
		c.PhoneNumberID = DevPhoneNumberID
	}
	if c.PhoneNumber == "" {
		c.PhoneNumber = DevPhoneNumber
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = DevWebhookSecret
	}
	if c.WebhookAttempts == 0 {
		c.WebhookAttempts = 5
	}
	if c.WebhookBackoff == 0 {
		c.WebhookBackoff = time.Second
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Speed == 0 {
		c.Speed = 1
	}
	if c.Rates == nil {
		r := DefaultRates
		c.Rates = &r
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 10000
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Speed <= 0 || c.Speed > 1e6 {
		bad("speed %v: want more than 0 and at most 1e6", c.Speed)
	}
	shares := map[string]float64{
		"no-answer rate": c.Rates.NoAnswer, "busy rate": c.Rates.Busy, "voicemail rate": c.Rates.Voicemail,
		"failed rate": c.Rates.Failed, "promoter rate": c.Rates.Promoter, "passive rate": c.Rates.Passive,
		"booking rate": c.Rates.Booking, "opt-out rate": c.Rates.OptOut,
		"duplicate rate": c.Faults.DuplicateRate, "reorder rate": c.Faults.ReorderRate, "drop-report rate": c.Faults.DropReportRate,
	}
	for name, v := range shares {
		if v < 0 || v > 1 {
			bad("%s %v: want a share between 0 and 1", name, v)
		}
	}
	if s := c.Rates.NoAnswer + c.Rates.Busy + c.Rates.Voicemail + c.Rates.Failed; s > 1 {
		bad("no-answer, busy, voicemail and failed rates add up to %v, more than 1", s)
	}
	if s := c.Rates.Promoter + c.Rates.Passive; s > 1 {
		bad("promoter and passive rates add up to %v, more than 1", s)
	}
	if !voice.ValidE164(c.PhoneNumber) {
		bad("phone number %q is not E.164", c.PhoneNumber)
	}
	if c.WebhookURL != "" && c.WebhookURL != "off" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhook URL %q is not an absolute http(s) URL", c.WebhookURL)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public URL %q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	if c.WebhookAttempts < 1 || c.WebhookAttempts > 20 {
		bad("webhook attempts %d: want 1 to 20", c.WebhookAttempts)
	}
	if c.WebhookBackoff < 0 {
		bad("webhook backoff %s is negative", c.WebhookBackoff)
	}
	if c.MaxCalls < 1 {
		bad("max calls %d: want at least 1", c.MaxCalls)
	}
	for number, s := range c.Scripts {
		if !voice.ValidE164(number) {
			bad("script for %q: not an E.164 number", number)
		}
		if err := s.validate(); err != nil {
			bad("script for %s: %v", number, err)
		}
	}
	return errors.Join(errs...)
}

// DefaultWebhookURL is where AutoPulse listens for Vapi webhooks by default.
const DefaultWebhookURL = "http://127.0.0.1:8080/api/v1/webhooks/vapi"

// FromEnv reads a Config from AUTOPULSE_VOICESIM_* variables through getenv
// (os.Getenv in production, a map in tests). Secrets may come from
// NAME_FILE instead of NAME. Errors name the variable.
func FromEnv(getenv func(string) string) (Config, error) {
	r := env.Reader{Getenv: getenv}
	const p = "AUTOPULSE_VOICESIM_"
	c := Config{
		Listen:           r.Str(p+"LISTEN", ""),
		PublicURL:        r.Str(p+"PUBLIC_URL", ""),
		APIKey:           r.Secret(p + "API_KEY"),
		PhoneNumberID:    r.Str(p+"PHONE_NUMBER_ID", ""),
		PhoneNumber:      r.Str(p+"PHONE_NUMBER", ""),
		WebhookURL:       r.Str(p+"WEBHOOK_URL", DefaultWebhookURL),
		WebhookSecret:    r.Secret(p + "WEBHOOK_SECRET"),
		SendSecretHeader: r.Bool(p+"SECRET_HEADER", false),
		WebhookAttempts:  int(r.Int(p+"WEBHOOK_ATTEMPTS", 0)),
		WebhookBackoff:   r.Duration(p+"WEBHOOK_BACKOFF", 0),
		Seed:             r.Int(p+"SEED", 0),
		Speed:            r.Float(p+"SPEED", 0),
		Rates: &Rates{
			NoAnswer:  r.Float(p+"RATE_NO_ANSWER", DefaultRates.NoAnswer),
			Busy:      r.Float(p+"RATE_BUSY", DefaultRates.Busy),
			Voicemail: r.Float(p+"RATE_VOICEMAIL", DefaultRates.Voicemail),
			Failed:    r.Float(p+"RATE_FAILED", DefaultRates.Failed),
			Promoter:  r.Float(p+"RATE_PROMOTER", DefaultRates.Promoter),
			Passive:   r.Float(p+"RATE_PASSIVE", DefaultRates.Passive),
			Booking:   r.Float(p+"RATE_BOOKING", DefaultRates.Booking),
			OptOut:    r.Float(p+"RATE_OPT_OUT", DefaultRates.OptOut),
		},
		Faults: Faults{
			DuplicateRate:  r.Float(p+"DUPLICATE_RATE", 0),
			ReorderRate:    r.Float(p+"REORDER_RATE", 0),
			DropReportRate: r.Float(p+"DROP_REPORT_RATE", 0),
		},
		MaxCalls: int(r.Int(p+"MAX_CALLS", 0)),
	}
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	c.setDefaults()
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
