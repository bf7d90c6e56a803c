package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// value returns the value of the series name{labels} in reg, and whether
// it exists. Counters, gauges and untyped report their value, histograms
// their sample count.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			default:
				return m.GetUntyped().GetValue(), true
			}
		}
	}
	return 0, false
}

func scrape(t *testing.T, h http.Handler, accept string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestFamiliesAreExported(t *testing.T) {
	t.Parallel()
	m := metrics.New("v9.9.9")
	m.ObserveHTTP(context.Background(), "/api/v1/users/{id}", http.MethodGet, 200, 30*time.Millisecond)
	m.CallDialed("vapi")
	m.CallCompleted("vapi", metrics.CallAnswered)
	m.WebhookEvent("vapi", "end-of-call-report", metrics.WebhookAccepted)

	body := scrape(t, m.Handler(nil), "")
	for _, want := range []string{
		`autopulse_http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"} 1`,
		`autopulse_http_request_duration_seconds_bucket{method="GET",route="/api/v1/users/{id}",le="0.05"} 1`,
		`autopulse_calls_dialed_total{provider="vapi"} 1`,
		`autopulse_calls_completed_total{outcome="answered",provider="vapi"} 1`,
		`autopulse_webhook_events_total{provider="vapi",result="accepted",type="end-of-call-report"} 1`,
		`autopulse_build_info{goversion="go`,
		`version="v9.9.9"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		require.Contains(t, body, want)
	}
}

func TestLabelsStayBounded(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	m.WebhookEvent("vapi", "<script>"+strings.Repeat("x", 100), metrics.WebhookRejected)
	m.WebhookEvent("", "status-update", metrics.WebhookAccepted)
	m.ObserveHTTP(context.Background(), "unmatched", "BREW", 405, time.Millisecond)

	v, ok := value(t, m.Registry(), "autopulse_webhook_events_total", map[string]string{"provider": "vapi", "type": "other", "result": "rejected"})
	require.True(t, ok, "a type from untrusted input is folded into other")
	require.InDelta(t, 1, v, 0)
	_, ok = value(t, m.Registry(), "autopulse_webhook_events_total", map[string]string{"provider": "unknown", "type": "status-update"})
	require.True(t, ok)
	_, ok = value(t, m.Registry(), "autopulse_http_requests_total", map[string]string{"method": "OTHER", "route": "unmatched", "status": "405"})
	require.True(t, ok, "an unknown method is OTHER")
}

func TestNilMetricsIsANoOp(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	require.NotPanics(t, func() {
		m.ObserveHTTP(context.Background(), "/x", "GET", 200, time.Millisecond)
		m.CallDialed("vapi")
		m.CallCompleted("vapi", metrics.CallBusy)
		m.WebhookEvent("vapi", "x", metrics.WebhookFailed)
		m.RegisterPool("app", nil)
		m.RegisterRiverQueues(nil)
		require.Nil(t, m.Registry())
	})
}

func TestExemplarLinksLatencyToTrace(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "req")
	defer span.End()
	m := metrics.New("test")

	m.ObserveHTTP(ctx, "/healthz", http.MethodGet, 200, 2*time.Millisecond)

	body := scrape(t, m.Handler(nil), "application/openmetrics-text; version=1.0.0")
	require.Contains(t, body, `# {trace_id="`+span.SpanContext().TraceID().String()+`"}`)
}
