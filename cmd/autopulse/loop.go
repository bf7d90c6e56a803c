package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// loop is the core loop's services: records in, campaigns out, calls
// through the voice provider, results back.
type loop struct {
	records   *record.Service
	campaigns *campaign.Service
	dispatch  *dispatch.Service
	calls     *call.Service
	// sim is the in-process voice simulator (development without a Vapi
	// account); nil when calls go to AUTOPULSE_VAPI_BASE_URL.
	sim *voicesim.Server
}

// newLoop builds the loop's services. With no Vapi base URL (development
// only; production refuses it) the voice provider is the simulator, which
// runs in-process on AUTOPULSE_VOICESIM_LISTEN and posts its webhooks back to
// this server's own listener.
func newLoop(ctx context.Context, cfg *config.Config, log *slog.Logger, pdb *postgres.DB, m *metrics.Metrics) (*loop, error) {
	blobCfg, err := blob.ConfigFromEnv(os.Getenv, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	store, err := blob.Open(ctx, blobCfg)
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	sealer, err := newSealer(cfg, log)
	if err != nil {
		return nil, err
	}

	provider := &vapi.Client{
		BaseURL: cfg.VapiBaseURL, APIKey: cfg.VapiAPIKey,
		AssistantID: cfg.VapiAssistantID, PhoneNumberID: cfg.VapiPhoneNumberID,
	}
	secret := cfg.VapiWebhookSecret
	recordingHosts := []string{"*.vapi.ai", "storage.googleapis.com", "*.cloudfront.net"}
	l := &loop{}
	if cfg.VoiceSimulated() {
		simCfg, err := voicesim.FromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		simCfg.WebhookURL = selfURL(cfg.Listen) + "/api/v1/webhooks/vapi"
		if os.Getenv("AUTOPULSE_VOICESIM_SPEED") == "" {
			simCfg.Speed = cfg.VoicesimSpeed
		}
		simCfg.Logger = log.With("component", "voicesim")
		if l.sim, err = voicesim.New(simCfg); err != nil {
			return nil, err
		}
		provider = &vapi.Client{
			BaseURL: selfURL(simCfg.Listen), APIKey: simCfg.APIKey,
			AssistantID: "voicesim-assistant", PhoneNumberID: simCfg.PhoneNumberID,
		}
		secret = simCfg.WebhookSecret
		recordingHosts = []string{hostPort(simCfg.Listen)}
		log.Info("voice provider: in-process simulator", "url", provider.BaseURL, "speed", simCfg.Speed)
	}

	l.records = &record.Service{DB: pdb, Blob: store, Sealer: sealer, Log: log}
	l.campaigns = &campaign.Service{DB: pdb}
	l.dispatch = &dispatch.Service{
		DB: pdb, Provider: provider, Finder: provider, Metrics: m, Log: log,
		ActivateDue: campaign.ActivateDueTx, CompleteIfDone: campaign.CompleteIfDoneTx,
	}
	l.calls = &call.Service{
		DB: pdb, Blob: store, WebhookSecret: []byte(secret), RecordingHosts: recordingHosts, Metrics: m,
		Provider: provider, Log: log, CompleteIfDone: campaign.CompleteIfDoneTx,
	}
	return l, nil
}

// register adds the loop's workers to workers.
func (l *loop) register(workers *river.Workers) error {
	record.RegisterWorkers(workers, l.records)
	call.RegisterWorkers(workers, l.calls)
	return dispatch.RegisterWorkers(workers, l.dispatch)
}

// periodic is the loop's periodic jobs: the scheduler's pass, and the
// search for lost end-of-call reports.
func (l *loop) periodic() []*river.PeriodicJob {
	return append(dispatch.PeriodicJobs(l.dispatch.Interval), call.PeriodicJobs()...)
}

// useJobs hands the River client to the services that enqueue jobs in
// their own transactions.
func (l *loop) useJobs(rc *river.Client[pgx.Tx]) {
	l.records.Jobs = rc
	l.campaigns.Jobs = rc
	l.dispatch.Jobs = rc
	l.calls.Jobs = rc
}

// runSim serves the simulator until ctx ends (no-op without one).
func (l *loop) runSim(ctx context.Context, log *slog.Logger) {
	if l.sim == nil {
		return
	}
	go func() {
		if err := l.sim.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("voicesim stopped", "err", err)
		}
	}()
}

// selfURL is the http URL of a listen address, with a wildcard host
// replaced by loopback.
func selfURL(listen string) string { return "http://" + hostPort(listen) }

func hostPort(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return (&url.URL{Host: net.JoinHostPort(host, port)}).Host
}

// runVoicesim is `autopulse voicesim`: the simulator on its own, configured
// by the AUTOPULSE_VOICESIM_* variables, until SIGINT/SIGTERM.
func runVoicesim(ctx context.Context, log *slog.Logger) error {
	cfg, err := voicesim.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Logger = log
	sim, err := voicesim.New(cfg)
	if err != nil {
		return err
	}
	return sim.Run(ctx)
}
