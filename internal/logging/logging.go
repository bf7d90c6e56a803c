// Package logging builds the process logger: slog with JSON (or text)
// output, every line carrying the request id, tenant, user and trace of its
// context, and values of secret-looking keys redacted.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/autopulse/autopulse/internal/access"
)

// New returns a logger writing to w. level is debug, info, warn or error.
func New(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redact}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(contextHandler{h})
}

// secretSuffixes end the keys of attributes whose values never reach a log
// line ("refresh_token" is redacted; a count named "refresh_tokens" is not).
var secretSuffixes = []string{"password", "secret", "token", "authorization", "api_key", "apikey", "cookie", "dsn", "database_url", "key_hash"}

// Redacted replaces a secret value.
const Redacted = "[REDACTED]"

func redact(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return slog.String(a.Key, Redacted)
		}
	}
	return a
}

// contextHandler adds the request's id, tenant and actor to each record,
// and the OpenTelemetry trace and span ids when the context carries a span,
// so a log line leads to its trace.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if req := access.RequestFrom(ctx); req.ID != "" {
		r.AddAttrs(slog.String("request_id", req.ID))
	}
	if p := access.PrincipalFrom(ctx); p != nil {
		r.AddAttrs(slog.String("organization_id", p.OrgID.String()))
		if p.UserID != uuid.Nil {
			r.AddAttrs(slog.String("user_id", p.UserID.String()))
		} else {
			r.AddAttrs(slog.String("api_key_id", p.APIKeyID.String()))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
