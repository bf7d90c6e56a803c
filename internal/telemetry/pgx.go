package telemetry

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

const instrumentationName = "github.com/autopulse/autopulse/internal/telemetry"

// QueryTracer is a pgx v5 tracer (pgx.QueryTracer, pgx.BatchTracer,
// pgx.CopyFromTracer and pgx.ConnectTracer) that makes a client span for
// every statement, batch, COPY FROM and connection attempt. Set it as
// pgx.ConnConfig.Tracer (postgres.WithTracer does).
//
// A span is named after the sqlc query ("-- name: UserGetByID :one" gives
// "UserGetByID"; River's queries are sqlc queries too), else after the
// statement's first keyword ("BEGIN", "SELECT"). Arguments are never
// recorded, and the statement text only for sqlc queries, which are
// parameterized by construction: an ad-hoc statement may carry a literal
// secret (ALTER ROLE … PASSWORD).
type QueryTracer struct {
	tracer trace.Tracer
	// Roots also traces statements run outside any span, such as River's
	// fetch polling and the pool's health checks. Off by default: each
	// would be a trace of its own, every second.
	Roots bool
}

// NewQueryTracer returns a tracer whose spans come from tp.
func NewQueryTracer(tp trace.TracerProvider) *QueryTracer {
	return &QueryTracer{tracer: tp.Tracer(instrumentationName)}
}

var (
	_ pgx.QueryTracer    = (*QueryTracer)(nil)
	_ pgx.BatchTracer    = (*QueryTracer)(nil)
	_ pgx.CopyFromTracer = (*QueryTracer)(nil)
	_ pgx.ConnectTracer  = (*QueryTracer)(nil)
)

// spanKey marks the span this tracer started, so the end hook never ends a
// caller's span when the start hook declined to make one.
type spanKey struct{}

// TraceQueryStart implements pgx.QueryTracer.
func (t *QueryTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	name, op := statementName(data.SQL)
	attrs := []attribute.KeyValue{semconv.DBOperationName(op)}
	if isSQLC(data.SQL) {
		attrs = append(attrs, semconv.DBQuerySummary(name), semconv.DBQueryText(data.SQL))
	}
	return t.start(ctx, connConfig(conn), name, attrs)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(ctx, data.CommandTag, data.Err)
}

// TraceBatchStart implements pgx.BatchTracer.
func (t *QueryTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	name, size := "BATCH", 0
	if data.Batch != nil {
		size = data.Batch.Len()
		var names []string
		for _, q := range data.Batch.QueuedQueries {
			if n, _ := statementName(q.SQL); len(names) < 4 {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			name += " " + strings.Join(names, ",")
			if size > len(names) {
				name += ",…"
			}
		}
	}
	return t.start(ctx, connConfig(conn), name, []attribute.KeyValue{
		semconv.DBOperationName("BATCH"), semconv.DBOperationBatchSize(size),
	})
}

// TraceBatchQuery implements pgx.BatchTracer: each statement of the batch is
// an event on the batch's span.
func (t *QueryTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	name, op := statementName(data.SQL)
	attrs := []attribute.KeyValue{semconv.DBOperationName(op), semconv.DBQuerySummary(name)}
	if data.Err != nil {
		attrs = append(attrs, attribute.String("error", data.Err.Error()))
		if code := sqlState(data.Err); code != "" {
			attrs = append(attrs, semconv.DBResponseStatusCode(code))
		}
	}
	span.AddEvent("query", trace.WithAttributes(attrs...))
}

// TraceBatchEnd implements pgx.BatchTracer.
func (t *QueryTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(ctx, pgconn.CommandTag{}, data.Err)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (t *QueryTracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	table := data.TableName.Sanitize()
	return t.start(ctx, connConfig(conn), "COPY "+table, []attribute.KeyValue{
		semconv.DBOperationName("COPY"), semconv.DBCollectionName(table),
	})
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (t *QueryTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromEndData) {
	end(ctx, data.CommandTag, data.Err)
}

// TraceConnectStart implements pgx.ConnectTracer.
func (t *QueryTracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	var cfg *pgconn.Config
	if data.ConnConfig != nil {
		cfg = &data.ConnConfig.Config
	}
	return t.start(ctx, cfg, "connect", nil)
}

// TraceConnectEnd implements pgx.ConnectTracer.
func (t *QueryTracer) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	end(ctx, pgconn.CommandTag{}, data.Err)
}

func (t *QueryTracer) start(ctx context.Context, cfg *pgconn.Config, name string, attrs []attribute.KeyValue) context.Context {
	if !t.Roots && !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	attrs = append(attrs, semconv.DBSystemNamePostgreSQL)
	if cfg != nil {
		attrs = append(attrs, semconv.DBNamespace(cfg.Database), semconv.ServerAddress(cfg.Host), semconv.ServerPort(int(cfg.Port)))
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, spanKey{}, span)
}

func end(ctx context.Context, tag pgconn.CommandTag, err error) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	defer span.End()
	switch {
	case tag.Select():
		span.SetAttributes(semconv.DBResponseReturnedRows(int(tag.RowsAffected())))
	case tag.Insert(), tag.Update(), tag.Delete(), strings.HasPrefix(tag.String(), "COPY"), strings.HasPrefix(tag.String(), "MERGE"):
		span.SetAttributes(attribute.Int64("db.response.affected_rows", tag.RowsAffected()))
	}
	if err != nil {
		if code := sqlState(err); code != "" {
			span.SetAttributes(semconv.DBResponseStatusCode(code), semconv.ErrorTypeKey.String(code))
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

func connConfig(conn *pgx.Conn) *pgconn.Config {
	if conn == nil {
		return nil
	}
	return &conn.Config().Config
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var sqlcName = regexp.MustCompile(`^\s*-- name: ([A-Za-z_][A-Za-z0-9_]*)`)

func isSQLC(sql string) bool { return sqlcName.MatchString(sql) }

// statementName returns the span name and the operation (first keyword) of
// sql: the sqlc query name when there is one, else the keyword.
func statementName(sql string) (name, op string) {
	op = firstKeyword(sql)
	if m := sqlcName.FindStringSubmatch(sql); m != nil {
		return m[1], op
	}
	return op, op
}

// firstKeyword is the statement's first word, uppercased, after leading
// comments; "postgresql" when there is none.
func firstKeyword(sql string) string {
	s := sql
	for {
		s = strings.TrimLeft(s, " \t\r\n(")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return "postgresql"
			}
			s = s[i+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return "postgresql"
			}
			s = s[i+2:]
			continue
		}
		break
	}
	i := 0
	for i < len(s) && i < 32 && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 {
		return "postgresql"
	}
	return strings.ToUpper(s[:i])
}
