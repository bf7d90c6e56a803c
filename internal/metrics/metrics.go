// Package metrics is AutoPulse's Prometheus instrumentation: one registry
// per process with the HTTP, database pool, job queue and call pipeline
// families, plus the Go runtime and process collectors. It is served on its
// own listener (AUTOPULSE_METRICS_LISTEN), never on the public API.
//
// Every method is safe on a nil *Metrics and then does nothing, so code
// under test can run without a registry.
//
// Label values must come from closed sets (route templates, provider names,
// event types we know): each distinct value is a new time series. The typed
// helpers fold anything that does not look like an identifier into "other".
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
)

const namespace = "autopulse"

// Metrics holds the registry and the families the application updates.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	jobsWorked  *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec

	callsDialed    *prometheus.CounterVec
	callsCompleted *prometheus.CounterVec
	webhookEvents  *prometheus.CounterVec

	pools     *poolCollector
	queueOnce sync.Once
}

// New builds a registry with every AutoPulse family and the Go and process
// collectors. version is exported as autopulse_build_info.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served, by chi route template, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by chi route template and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		jobsWorked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "river", Name: "jobs_worked_total",
			Help: "River job runs, by kind and outcome (completed, failed, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "river", Name: "job_duration_seconds",
			Help:    "Time a River job run took, by kind.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}, []string{"kind"}),
		callsDialed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "calls", Name: "dialed_total",
			Help: "Outbound calls handed to a voice provider.",
		}, []string{"provider"}),
		callsCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "calls", Name: "completed_total",
			Help: "Calls that ended, by provider and outcome.",
		}, []string{"provider", "outcome"}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "webhook", Name: "events_total",
			Help: "Provider webhook events received, by provider, event type and result.",
		}, []string{"provider", "type", "result"}),
		pools: &poolCollector{},
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.httpRequests, m.httpDuration,
		m.jobsWorked, m.jobDuration,
		m.callsDialed, m.callsCompleted, m.webhookEvents,
		m.pools,
	)
	return m
}

// Registry is the registry behind Handler (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text format, or OpenMetrics
// (with trace exemplars) when the scraper asks for it. A collector that
// fails (the queue query, say) is logged and left out of that scrape rather
// than failing the whole page.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		EnableOpenMetrics:   true,
	})
}

// ObserveHTTP records one served request. route is the chi route template
// ("/api/v1/users/{id}"), never the raw path.
func (m *Metrics) ObserveHTTP(ctx context.Context, route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	method = normalizeMethod(method)
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	observe(ctx, m.httpDuration.WithLabelValues(route, method), took.Seconds())
}

// CallDialed counts an outbound call handed to provider.
func (m *Metrics) CallDialed(provider string) {
	if m == nil {
		return
	}
	m.callsDialed.WithLabelValues(label(provider)).Inc()
}

// Call outcomes: how a call ended, for CallCompleted.
const (
	CallAnswered  = "answered"
	CallNoAnswer  = "no_answer"
	CallBusy      = "busy"
	CallVoicemail = "voicemail"
	CallFailed    = "failed"
	CallCanceled  = "canceled"
)

// CallCompleted counts a call that ended with outcome (one of the Call…
// constants, or another short identifier).
func (m *Metrics) CallCompleted(provider, outcome string) {
	if m == nil {
		return
	}
	m.callsCompleted.WithLabelValues(label(provider), label(outcome)).Inc()
}

// WebhookResult is what became of a webhook event.
type WebhookResult string

// Webhook results.
const (
	WebhookAccepted  WebhookResult = "accepted"  // verified, stored and queued
	WebhookDuplicate WebhookResult = "duplicate" // already seen (deduplicated on the event id)
	WebhookRejected  WebhookResult = "rejected"  // bad signature or malformed payload
	WebhookIgnored   WebhookResult = "ignored"   // verified, but a type we do not act on
	WebhookFailed    WebhookResult = "failed"    // our error; the provider will retry
)

// WebhookEvent counts one webhook event from provider of eventType.
func (m *Metrics) WebhookEvent(provider, eventType string, result WebhookResult) {
	if m == nil {
		return
	}
	m.webhookEvents.WithLabelValues(label(provider), label(eventType), label(string(result))).Inc()
}

// observe records v, with the trace id as an exemplar when ctx carries a
// sampled span, so a latency spike on a dashboard links to a trace.
func observe(ctx context.Context, o prometheus.Observer, v float64) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	o.Observe(v)
}

func normalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// label keeps a label value to a short identifier: empty becomes
// "unknown", and anything long or with unexpected characters (a sign it
// came from untrusted input) becomes "other".
func label(v string) string {
	if v == "" {
		return "unknown"
	}
	if len(v) > 64 {
		return "other"
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == ':', c == '/':
		default:
			return "other"
		}
	}
	return v
}
