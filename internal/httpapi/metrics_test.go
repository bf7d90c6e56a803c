package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/autopulse/autopulse/internal/httpapi"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/telemetry"
)

// Requests are counted by route template and method, never by raw path,
// and the server span is named after the template.
func TestMetricsByRouteTemplate(t *testing.T) {
	t.Parallel()
	m := metrics.New("test")
	spans := tracetest.NewInMemoryExporter()
	tel := telemetry.NewForTest(spans)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(httpapi.Deps{}, httpapi.Options{Version: "test", Metrics: m}, log)
	h := tel.HTTPHandler(api.Handler())

	requests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/healthz", http.StatusOK},
		// No credential: 401 from the route's access rule, after routing.
		{http.MethodGet, "/api/v1/tags/0190a9b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", http.StatusUnauthorized},
		{http.MethodGet, "/api/v1/tags/0190a9b2-7c3d-7e4f-8a5b-000000000000", http.StatusUnauthorized},
		{http.MethodGet, "/wp-login.php", http.StatusNotFound},
		{http.MethodGet, "/.env", http.StatusNotFound},
	}
	for _, r := range requests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, nil))
		require.Equal(t, r.want, rec.Code, r.path)
	}

	expected := `
# HELP autopulse_http_requests_total HTTP requests served, by chi route template, method and status code.
# TYPE autopulse_http_requests_total counter
autopulse_http_requests_total{method="GET",route="/api/v1/tags/{id}",status="401"} 2
autopulse_http_requests_total{method="GET",route="/healthz",status="200"} 2
autopulse_http_requests_total{method="GET",route="unmatched",status="404"} 2
`
	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(expected), "autopulse_http_requests_total"))
	require.Equal(t, 3, testutil.CollectAndCount(m.Registry(), "autopulse_http_request_duration_seconds"),
		"one histogram per route and method")

	var names []string
	for _, s := range spans.GetSpans() {
		names = append(names, s.Name)
	}
	require.ElementsMatch(t, []string{"GET /api/v1/tags/{id}", "GET /api/v1/tags/{id}", "GET unmatched", "GET unmatched"}, names,
		"spans are named by template; health checks are not traced")
}
