package telemetry_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
	"github.com/autopulse/autopulse/internal/telemetry"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type pgxEnv struct {
	spans  *tracetest.InMemoryExporter
	tracer trace.Tracer
	qt     *telemetry.QueryTracer
	pool   *pgxpool.Pool
}

// setupPgx opens a pool on a fresh database through postgres.Open with a
// QueryTracer that reports to an in-memory exporter.
func setupPgx(t *testing.T) *pgxEnv {
	t.Helper()
	d := pgtest.New(t)
	spans := tracetest.NewInMemoryExporter()
	tel := telemetry.NewForTest(spans)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	qt := telemetry.NewQueryTracer(tel.Provider())
	pool, err := postgres.Open(context.Background(), d.OwnerDSN, 2, postgres.WithTracer(qt))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	spans.Reset() // the connect of Open's ping has no parent, but be sure
	return &pgxEnv{spans: spans, tracer: tel.Provider().Tracer("test"), qt: qt, pool: pool}
}

// inSpan runs fn under a parent span and returns the spans ended by then,
// the parent last.
func (e *pgxEnv) inSpan(t *testing.T, fn func(ctx context.Context)) (children []tracetest.SpanStub, parent tracetest.SpanStub) {
	t.Helper()
	e.spans.Reset()
	ctx, span := e.tracer.Start(context.Background(), "parent")
	fn(ctx)
	span.End()
	got := e.spans.GetSpans()
	require.NotEmpty(t, got)
	parent = got[len(got)-1]
	require.Equal(t, "parent", parent.Name)
	return got[:len(got)-1], parent
}

func attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestQueryTracerNamesSQLCQueriesAndRecordsTheirText(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)

	children, parent := e.inSpan(t, func(ctx context.Context) {
		_, err := db.New(e.pool).SchemaVersion(ctx)
		require.NoError(t, err)
	})

	require.Len(t, children, 1)
	s := children[0]
	require.Equal(t, "SchemaVersion", s.Name)
	require.Equal(t, trace.SpanKindClient, s.SpanKind)
	require.Equal(t, parent.SpanContext.SpanID(), s.Parent.SpanID(), "the query span is a child of the caller's span")
	require.Equal(t, parent.SpanContext.TraceID(), s.SpanContext.TraceID())
	v, ok := attr(s, "db.system.name")
	require.True(t, ok)
	require.Equal(t, "postgresql", v.AsString())
	v, ok = attr(s, "db.query.text")
	require.True(t, ok)
	require.Contains(t, v.AsString(), "goose_db_version")
	v, ok = attr(s, "db.operation.name")
	require.True(t, ok)
	require.Equal(t, "SELECT", v.AsString())
	v, ok = attr(s, "db.response.returned_rows")
	require.True(t, ok)
	require.EqualValues(t, 1, v.AsInt64())
	_, ok = attr(s, "db.namespace")
	require.True(t, ok)
}

func TestQueryTracerKeepsAdHocStatementTextOut(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)

	children, _ := e.inSpan(t, func(ctx context.Context) {
		_, err := e.pool.Exec(ctx, "SELECT 'hunter2-literal-secret'")
		require.NoError(t, err)
	})

	require.Len(t, children, 1)
	require.Equal(t, "SELECT", children[0].Name)
	_, ok := attr(children[0], "db.query.text")
	require.False(t, ok, "an ad-hoc statement may carry a literal secret")
	for _, kv := range children[0].Attributes {
		require.NotContains(t, kv.Value.String(), "hunter2")
	}
}

func TestQueryTracerRecordsErrors(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)

	children, _ := e.inSpan(t, func(ctx context.Context) {
		_, err := e.pool.Exec(ctx, "SELECT * FROM no_such_table")
		require.Error(t, err)
	})

	require.Len(t, children, 1)
	s := children[0]
	require.Equal(t, codes.Error, s.Status.Code)
	v, ok := attr(s, "db.response.status_code")
	require.True(t, ok)
	require.Equal(t, "42P01", v.AsString())
	require.NotEmpty(t, s.Events, "the error is recorded as an exception event")
}

func TestQueryTracerSkipsRootStatementsUnlessAsked(t *testing.T) {
	e := setupPgx(t)

	e.spans.Reset()
	_, err := e.pool.Exec(context.Background(), "SELECT 1")
	require.NoError(t, err)
	require.Empty(t, e.spans.GetSpans(), "no span without a parent")

	e.qt.Roots = true
	t.Cleanup(func() { e.qt.Roots = false })
	_, err = e.pool.Exec(context.Background(), "SELECT 1")
	require.NoError(t, err)
	got := e.spans.GetSpans()
	require.Len(t, got, 1)
	require.False(t, got[0].Parent.IsValid(), "a root span")
}

func TestQueryTracerBatch(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)

	children, parent := e.inSpan(t, func(ctx context.Context) {
		b := &pgx.Batch{}
		b.Queue("-- name: One :one\nSELECT 1")
		b.Queue("SELECT 2")
		b.Queue("SELECT 3")
		require.NoError(t, e.pool.SendBatch(ctx, b).Close())
	})

	require.Len(t, children, 1, "one span for the whole batch")
	s := children[0]
	require.Equal(t, "BATCH One,SELECT,SELECT", s.Name)
	require.Equal(t, parent.SpanContext.SpanID(), s.Parent.SpanID())
	v, ok := attr(s, "db.operation.batch.size")
	require.True(t, ok)
	require.EqualValues(t, 3, v.AsInt64())
	var queries []string
	for _, ev := range s.Events {
		if ev.Name == "query" {
			for _, kv := range ev.Attributes {
				if kv.Key == "db.query.summary" {
					queries = append(queries, kv.Value.AsString())
				}
			}
		}
	}
	require.Equal(t, []string{"One", "SELECT", "SELECT"}, queries, "each statement is an event")
	require.NotEqual(t, codes.Error, s.Status.Code)
}

func TestQueryTracerBatchError(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)

	children, _ := e.inSpan(t, func(ctx context.Context) {
		b := &pgx.Batch{}
		b.Queue("SELECT 1")
		b.Queue("SELECT * FROM no_such_table")
		require.Error(t, e.pool.SendBatch(ctx, b).Close())
	})

	require.Len(t, children, 1)
	require.Equal(t, codes.Error, children[0].Status.Code)
}

func TestQueryTracerCopyFrom(t *testing.T) {
	t.Parallel()
	e := setupPgx(t)
	conn, err := e.pool.Acquire(context.Background())
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(context.Background(), "CREATE TEMP TABLE copied (n int)")
	require.NoError(t, err)

	children, _ := e.inSpan(t, func(ctx context.Context) {
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"copied"}, []string{"n"}, pgx.CopyFromRows([][]any{{1}, {2}, {3}}))
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
	})

	require.Len(t, children, 1)
	s := children[0]
	require.Equal(t, `COPY "copied"`, s.Name)
	v, ok := attr(s, "db.response.affected_rows")
	require.True(t, ok)
	require.EqualValues(t, 3, v.AsInt64())
}
