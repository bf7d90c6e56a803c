package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/autopulse/autopulse/internal/logging"
)

func TestTraceIDs(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	tests := []struct {
		name      string
		ctx       func() context.Context
		wantTrace bool
	}{
		{name: "no span", ctx: context.Background},
		{name: "recording span", wantTrace: true, ctx: func() context.Context {
			ctx, span := tp.Tracer("test").Start(context.Background(), "op")
			t.Cleanup(func() { span.End() })
			return ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := logging.New(&buf, "json", "info")
			ctx := tt.ctx()

			log.InfoContext(ctx, "hello")

			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			if !tt.wantTrace {
				require.NotContains(t, line, "trace_id")
				require.NotContains(t, line, "span_id")
				return
			}
			sc := trace.SpanContextFromContext(ctx)
			require.Equal(t, sc.TraceID().String(), line["trace_id"])
			require.Equal(t, sc.SpanID().String(), line["span_id"])
		})
	}
}
