package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/telemetry"
)

// metricsServer serves /metrics on AUTOPULSE_METRICS_LISTEN, a listener of
// its own so the figures are never exposed on the public API. "off"
// disables it.
type metricsServer struct {
	srv *http.Server // nil when disabled
}

func startMetricsServer(ctx context.Context, cfg *config.Config, m *metrics.Metrics, log *slog.Logger) (*metricsServer, error) {
	if strings.EqualFold(cfg.MetricsListen, "off") {
		log.Info("metrics endpoint disabled")
		return &metricsServer{}, nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listener (AUTOPULSE_METRICS_LISTEN): %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return &metricsServer{srv: srv}, nil
}

// Shutdown stops the metrics server; it is the last listener to close, so
// the drain itself can still be scraped.
func (s *metricsServer) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

// stopJobs lets running jobs finish for most of ctx's time, then cancels
// what is still running (River retries those jobs later) so that the
// process exits within the shutdown timeout either way.
func stopJobs(ctx context.Context, rc *river.Client[pgx.Tx], log *slog.Logger) error {
	soft := ctx
	if deadline, ok := ctx.Deadline(); ok {
		grace := min(time.Until(deadline)/5, 5*time.Second)
		var cancel context.CancelFunc
		soft, cancel = context.WithDeadline(ctx, deadline.Add(-grace))
		defer cancel()
	}
	if err := rc.Stop(soft); err == nil {
		return nil
	}
	log.Warn("jobs still running near the shutdown timeout: cancelling them; River will retry them")
	if err := rc.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("drain jobs: %w", err)
	}
	return errors.New("drain jobs: running jobs were cancelled at the shutdown timeout")
}

// flushTraces exports the spans still buffered; it runs last.
func flushTraces(ctx context.Context, tel *telemetry.Tracing, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		log.Warn("flush traces", "err", err)
	}
}
