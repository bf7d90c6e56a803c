package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

func TestEnabled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr string
	}{
		{name: "nothing set: off"},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, want: true},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, want: true},
		{name: "exporter otlp alone uses the default endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, want: true},
		{name: "exporter none wins over an endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{name: "sdk disabled wins", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}},
		{name: "http/protobuf accepted", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, want: true},
		{name: "grpc refused", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "only http/protobuf"},
		{name: "traces protocol overrides", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, want: true},
		{name: "unknown exporter refused", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "only otlp and none"},
		{name: "grpc irrelevant when off", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := enabled(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSetupOffByDefault(t *testing.T) {
	t.Parallel()
	tr, err := Setup(context.Background(), func(string) string { return "" }, "v1", nil)
	require.NoError(t, err)
	require.False(t, tr.Enabled())
	require.Nil(t, tr.QueryTracer())
	require.Nil(t, tr.RiverMiddleware())
	require.IsType(t, http.HandlerFunc(nil), tr.HTTPHandler(http.NotFoundHandler()), "no wrapping when off")
	require.NoError(t, tr.Shutdown(context.Background()))
}

func TestServiceName(t *testing.T) {
	// Not parallel: the resource reads the process environment.
	for _, tc := range []struct{ env, want string }{{"", ServiceName}, {"autopulse-worker", "autopulse-worker"}} {
		t.Setenv("OTEL_SERVICE_NAME", tc.env)
		exp := tracetest.NewInMemoryExporter()
		tr, err := newTracing(context.Background(), exp, "v1.2.3")
		require.NoError(t, err)
		_, span := tr.Provider().Tracer("test").Start(context.Background(), "op")
		span.End()
		require.NoError(t, tr.sdk.ForceFlush(context.Background()))
		spans := exp.GetSpans()
		require.Len(t, spans, 1)
		attrs := spans[0].Resource.Set()
		v, ok := attrs.Value(semconv.ServiceNameKey)
		require.True(t, ok)
		require.Equal(t, tc.want, v.AsString())
		v, ok = attrs.Value(semconv.ServiceVersionKey)
		require.True(t, ok)
		require.Equal(t, "v1.2.3", v.AsString())
		require.NoError(t, tr.Shutdown(context.Background()))
	}
}

func TestHTTPHandler(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tr := NewForTest(exp)
	var seen trace.SpanContext
	h := tr.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))

	// A caller's traceparent is linked, not adopted.
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users", nil)
	req.Header.Set("Traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	require.True(t, seen.IsValid(), "the handler runs inside a span")
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	require.Equal(t, trace.SpanKindServer, spans[0].SpanKind)
	require.Equal(t, "GET", spans[0].Name)
	require.NotEqual(t, callerTrace, spans[0].SpanContext.TraceID().String())
	require.False(t, spans[0].Parent.IsValid())
	require.Len(t, spans[0].Links, 1)
	require.Equal(t, callerTrace, spans[0].Links[0].SpanContext.TraceID().String())

	// Health checks are not traced.
	exp.Reset()
	seen = trace.SpanContext{}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.False(t, seen.IsValid())
	require.Empty(t, exp.GetSpans())
}
