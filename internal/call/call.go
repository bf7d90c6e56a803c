// Package call turns the voice provider's webhooks into calls, transcripts,
// recordings and outcomes (bookings, inquiries, opt-outs, review-link
// messages), and serves them to the API.
//
// The path of a result, from the provider to the tenant's data:
//
//  1. ReceiveVapi authenticates a webhook on its raw bytes, stores it once in
//     webhook_events (deduplicated on the provider's event key) and, in the
//     same transaction, enqueues a ProcessEventArgs job. Nothing else runs
//     while the provider waits.
//  2. ProcessEvent (the job) routes the event to its tenant through the
//     privileged webhook_* functions, then applies it inside that tenant's
//     transaction, which also settles the event row: status updates move a
//     call forward only; the end-of-call report finalizes it once, with its
//     transcript, recording (a DownloadRecordingArgs job), charge and
//     outcome.
//  3. DownloadRecording (the job) fetches the recording from an allowed host
//     into blob storage.
//
// Every step is idempotent: River runs jobs at least once, providers deliver
// webhooks more than once and out of order, and a replayed report changes
// nothing.
//
// Wiring (the River client enqueues, so it is set after it is built):
//
//	calls := &call.Service{DB: database, Blob: store, WebhookSecret: secret,
//		RecordingHosts: []string{"storage.vapi.ai"}, Metrics: m, Log: log}
//	workers := river.NewWorkers()
//	call.RegisterWorkers(workers, calls)
//	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, ...})
//	calls.Jobs = client
package call

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/voice"
)

// JobInserter enqueues River jobs inside the caller's transaction;
// *river.Client[pgx.Tx] is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Defaults of the Service's tunables.
const (
	DefaultMaxRecordingBytes = 50 << 20
	DefaultRecordingTimeout  = 2 * time.Minute
	DefaultOrphanGrace       = 2 * time.Minute
	orphanRetry              = 10 * time.Second
)

// Service manages calls and their results. Its read and write methods
// return fault.NotFound for an id outside the organization (or absent),
// fault.Invalid for bad input and fault.Conflict for a state change the
// resource's state does not allow.
//
// Wiring: DB is required; Jobs and WebhookSecret for the webhook; Blob and
// RecordingHosts for recordings; Provider to recover lost reports; the
// rest have defaults. Register the jobs with RegisterWorkers and the
// periodic ones with PeriodicJobs.
type Service struct {
	DB *postgres.DB
	// Blob stores call recordings under orgs/<organization id>/recordings/.
	Blob blob.Store
	// Jobs enqueues the processing and download jobs in the transaction
	// that makes them necessary: the River client.
	Jobs JobInserter
	// WebhookSecret authenticates Vapi webhooks: the HMAC-SHA256 key of
	// X-Vapi-Signature (or the value of X-Vapi-Secret). Empty refuses every
	// webhook with a 500, as a misconfiguration.
	WebhookSecret []byte
	// Provider answers GET /call for a call whose end-of-call report is
	// overdue (see ReconcileReports); nil leaves such calls waiting.
	Provider voice.Provider
	// CompleteIfDone completes a campaign left without open targets after
	// a call ended one (campaign.CompleteIfDoneTx); nil skips it.
	CompleteIfDone func(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) (bool, error)
	// ReportOverdue is how long after it was placed a call without its
	// report is asked about (default DefaultReportOverdue).
	ReportOverdue time.Duration
	// RecordingHosts are the hosts recordings may be downloaded from: a
	// host name or IP ("storage.vapi.ai"), optionally with a port
	// ("127.0.0.1:8090"; without one, any port), or a wildcard for
	// subdomains ("*.vapi.ai"). Anything else, redirects included, is
	// refused: the recording URL comes from a webhook, so it must not make
	// the server fetch arbitrary (internal) addresses. Empty refuses all.
	RecordingHosts []string
	// HTTPClient downloads recordings (default: a plain client). Its
	// redirects are checked against RecordingHosts too.
	HTTPClient *http.Client
	// MaxRecordingBytes caps a recording (default DefaultMaxRecordingBytes).
	MaxRecordingBytes int64
	// RecordingTimeout bounds one download attempt (default
	// DefaultRecordingTimeout).
	RecordingTimeout time.Duration
	// OrphanGrace is how long an event naming a call id of ours that is
	// not (yet) in the database is retried before it is marked failed: the
	// dial's transaction may not have committed when the first webhook
	// comes (default DefaultOrphanGrace; negative means no grace).
	OrphanGrace time.Duration
	// Metrics counts webhook events and completed calls; nil records
	// nothing.
	Metrics *metrics.Metrics
	// Log receives what the jobs decide; nil discards.
	Log *slog.Logger
	// Now is the clock (default time.Now): retry times, default booking
	// times and report times use it.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// completeIfDone offers a campaign that lost an open target to the
// campaign lifecycle's completion check (CompleteIfDone).
func (s *Service) completeIfDone(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) error {
	if s.CompleteIfDone == nil {
		return nil
	}
	_, err := s.CompleteIfDone(ctx, tx, campaignID)
	return err
}

func (s *Service) orphanGrace() time.Duration {
	switch {
	case s.OrphanGrace < 0:
		return 0
	case s.OrphanGrace == 0:
		return DefaultOrphanGrace
	}
	return s.OrphanGrace
}

// Call statuses, as stored in calls.status.
const (
	StatusQueued     = "queued"
	StatusDialing    = "dialing"
	StatusRinging    = "ringing"
	StatusInProgress = "in_progress"
	StatusForwarding = "forwarding"
	StatusEnded      = "ended"
	StatusFailed     = "failed"
)

// Call is a call as the API shows it.
type Call struct {
	ID              uuid.UUID       `json:"id"`
	CampaignID      *uuid.UUID      `json:"campaign_id"`
	TargetID        *uuid.UUID      `json:"target_id"`
	ServiceRecordID *uuid.UUID      `json:"service_record_id"`
	CustomerID      *uuid.UUID      `json:"customer_id"`
	Direction       string          `json:"direction" enum:"outbound,inbound"`
	FromNumber      *string         `json:"from_number"`
	ToNumber        *string         `json:"to_number"`
	Status          string          `json:"status" enum:"queued,dialing,ringing,in_progress,forwarding,ended,failed"`
	Provider        string          `json:"provider"`
	ProviderCallID  *string         `json:"provider_call_id"`
	StartedAt       *time.Time      `json:"started_at"`
	AnsweredAt      *time.Time      `json:"answered_at"`
	EndedAt         *time.Time      `json:"ended_at"`
	DurationSec     *int32          `json:"duration_sec"`
	EndedReason     *string         `json:"ended_reason" doc:"The provider's reason, e.g. customer-did-not-answer"`
	CostAmount      *int64          `json:"cost_amount" doc:"The provider's charge in minor units of currency"`
	Currency        string          `json:"currency"`
	NPSScore        *int16          `json:"nps_score"`
	Sentiment       *string         `json:"sentiment" enum:"positive,neutral,negative"`
	Summary         *string         `json:"summary"`
	Outcome         *string         `json:"outcome" enum:"completed,no_answer,busy,voicemail,failed" doc:"Set by the end-of-call report"`
	Analysis        json.RawMessage `json:"analysis" doc:"structured_data, success_evaluation and problems from the report"`
	ReportedAt      *time.Time      `json:"reported_at" doc:"When the end-of-call report was applied"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// CallDetail is a call with its recording's state. (The API schema is
// named after the type alone, so "Detail" would be ambiguous.)
type CallDetail struct { //nolint:revive // see above
	Call
	Recording *Recording `json:"recording" doc:"null when the call has no recording"`
}

// Recording describes a call's audio file.
type Recording struct {
	ID          uuid.UUID `json:"id"`
	Status      string    `json:"status" enum:"pending,stored,failed"`
	ContentType *string   `json:"content_type"`
	SizeBytes   *int64    `json:"size_bytes"`
	SHA256      *string   `json:"sha256"`
	DurationSec *int32    `json:"duration_sec"`
	Error       *string   `json:"error" doc:"Why the download failed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TranscriptTurn is one spoken turn of a transcript.
type TranscriptTurn struct {
	ID      uuid.UUID `json:"id"`
	Seq     int32     `json:"seq"`
	Speaker string    `json:"speaker" enum:"agent,customer,system"`
	Text    string    `json:"text"`
	StartMs *int32    `json:"start_ms" doc:"From the start of the call"`
	EndMs   *int32    `json:"end_ms"`
}

// Transcript is a call's transcript: its turns in order. A call has one
// transcript, identified by the call's id.
type Transcript struct {
	CallID uuid.UUID        `json:"call_id"`
	Turns  []TranscriptTurn `json:"turns"`
}

// Filter narrows List.
type Filter struct {
	CampaignID *uuid.UUID
	CustomerID *uuid.UUID
	Status     string
	Outcome    string
	Direction  string
	// Since and Until bound created_at: [Since, Until).
	Since, Until *time.Time
}

// List returns org's calls, newest first.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter, pr page.Request) ([]Call, string, error) {
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return nil, "", fault.InvalidField("query.until", "must be after since")
	}
	var rows []db.Call
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.CallList(ctx, db.CallListParams{
			OrganizationID: org, CampaignID: f.CampaignID, CustomerID: f.CustomerID,
			Status: optional(f.Status), Outcome: optional(f.Outcome), Direction: optional(f.Direction),
			Since: f.Since, Until: f.Until, After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	calls, next := page.Map(pr, rows, func(r db.Call) uuid.UUID { return r.ID }, fromRow)
	return calls, next, nil
}

// Get returns one call with its recording's state.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (CallDetail, error) {
	var d CallDetail
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CallGet(ctx, org, id)
		if err != nil {
			return err
		}
		d.Call = fromRow(row)
		af, err := tx.AudioFileGetByCall(ctx, org, id)
		switch {
		case err == nil:
			r := recordingOf(af)
			d.Recording = &r
		case !isNoRows(err):
			return err
		}
		return nil
	})
	return d, err
}

// Transcript returns a call's transcript (empty until its report arrives).
func (s *Service) Transcript(ctx context.Context, org, callID uuid.UUID) (Transcript, error) {
	t := Transcript{CallID: callID, Turns: []TranscriptTurn{}}
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if _, err := tx.CallGet(ctx, org, callID); err != nil {
			return err
		}
		rows, err := tx.TranscriptListByCall(ctx, org, callID)
		for _, r := range rows {
			t.Turns = append(t.Turns, TranscriptTurn{ID: r.ID, Seq: r.Seq, Speaker: r.Speaker, Text: r.Text, StartMs: r.StartMs, EndMs: r.EndMs})
		}
		return err
	})
	return t, err
}

// OpenRecording returns a seekable reader over a call's stored recording
// (for ranged responses) and its description. A call without a recording,
// or whose recording is not stored (yet), is fault.NotFound. The caller
// closes the reader; ctx must outlive it.
func (s *Service) OpenRecording(ctx context.Context, org, callID uuid.UUID) (io.ReadSeekCloser, Recording, blob.Object, error) {
	var af db.AudioFile
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if _, err := tx.CallGet(ctx, org, callID); err != nil {
			return err
		}
		var err error
		af, err = tx.AudioFileGetByCall(ctx, org, callID)
		if isNoRows(err) {
			return fault.NotFoundf("the call has no recording")
		}
		return err
	})
	if err != nil {
		return nil, Recording{}, blob.Object{}, err
	}
	if af.Status != audioStored || af.StorageKey == nil {
		return nil, Recording{}, blob.Object{}, fault.NotFoundf("the recording is %s, not stored", af.Status)
	}
	if s.Blob == nil {
		return nil, Recording{}, blob.Object{}, errNoBlobStore
	}
	rs, obj, err := s.Blob.Open(ctx, *af.StorageKey)
	if err != nil {
		return nil, Recording{}, blob.Object{}, err
	}
	return rs, recordingOf(af), obj, nil
}

func fromRow(r db.Call) Call {
	return Call{
		ID: r.ID, CampaignID: r.CampaignID, TargetID: r.TargetID, ServiceRecordID: r.ServiceRecordID,
		CustomerID: r.CustomerID, Direction: r.Direction, FromNumber: r.FromNumber, ToNumber: r.ToNumber,
		Status: r.Status, Provider: r.Provider, ProviderCallID: r.ProviderCallID, StartedAt: r.StartedAt,
		AnsweredAt: r.AnsweredAt, EndedAt: r.EndedAt, DurationSec: r.DurationSec, EndedReason: r.EndedReason,
		CostAmount: r.CostAmount, Currency: r.Currency, NPSScore: r.NpsScore, Sentiment: r.Sentiment,
		Summary: r.Summary, Outcome: r.Outcome, Analysis: r.Analysis, ReportedAt: r.ReportReceivedAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func recordingOf(a db.AudioFile) Recording {
	return Recording{
		ID: a.ID, Status: a.Status, ContentType: a.ContentType, SizeBytes: a.SizeBytes, SHA256: a.Sha256,
		DurationSec: a.DurationSec, Error: a.Error, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
