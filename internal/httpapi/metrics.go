package httpapi

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// unmatchedRoute labels requests that matched no route: the raw path would
// make every scanner's probe a new time series.
const unmatchedRoute = "unmatched"

// observe records each request in the HTTP metrics (Options.Metrics) by its
// chi route template, and names the request's trace span after the same
// template. It runs first, so it also sees the 500s the recoverer writes.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		// chi fills the route context in place while routing, so the
		// template is known once the handler has run.
		route := unmatchedRoute
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(r.Method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		s.opts.Metrics.ObserveHTTP(r.Context(), route, r.Method, status, time.Since(start))
	})
}
