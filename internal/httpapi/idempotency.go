package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/idempotency"
)

// Idempotency headers.
const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
)

// replayedHeaders are the response headers stored with a response and
// replayed with it; the others (request id, rate limits) belong to the
// request that carries them.
var replayedHeaders = []string{"Content-Type", "Location"}

// storeTimeout bounds the write-back of a response, which runs even when
// the request's own context is done (the handler's effect has happened,
// so its record should be kept).
const storeTimeout = 5 * time.Second

// idempotent makes POST requests that carry an Idempotency-Key safe to
// retry, Stripe-style (see package idempotency for the states and for
// what the separate transactions guarantee):
//
//   - the first request with a key runs, and its response is stored;
//   - a retry with the same key, method, path and body replays that
//     response with Idempotent-Replayed: true, without running anything;
//   - the same key with another request is a 422, and a retry while the
//     first is still running is a 409;
//   - keys are per actor (user or API key) and live for the store's TTL.
//
// It runs after authenticate: requests without a principal, without the
// header, or with another method pass straight through. The response is
// buffered, stored, then sent, so a client that retries the moment it has
// an answer finds the record complete.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := access.PrincipalFrom(r.Context())
		keys := r.Header.Values(idempotencyKeyHeader)
		if r.Method != http.MethodPost || len(keys) == 0 || p == nil || p.OrgID == uuid.Nil || p.ActorID() == uuid.Nil ||
			!idempotencyApplies(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if len(keys) > 1 {
			writeKeyProblem(w, "send one Idempotency-Key header, not several")
			return
		}
		body, err := io.ReadAll(r.Body) // limited by the limits middleware
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeProblem(w, http.StatusRequestEntityTooLarge, "request body too large")
				return
			}
			writeProblem(w, http.StatusBadRequest, "could not read the request body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		req, err := idempotency.NewRequest(p.OrgID, p.ActorID(), keys[0], r.Method, requestTarget(r), body)
		if err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) && len(fe.Fields) > 0 {
				writeKeyProblem(w, fe.Fields[0].Message)
				return
			}
			writeKeyProblem(w, "invalid Idempotency-Key")
			return
		}
		claim, err := s.deps.Idempotency.Begin(r.Context(), req)
		if err != nil {
			s.writeFault(w, r, err)
			return
		}
		if claim.Replay != nil {
			writeReplay(w, claim.Replay)
			return
		}
		s.runClaimed(w, r, next, claim)
	})
}

// runClaimed runs the request under claim, stores its response when it
// may be replayed (or releases the claim when not), then sends it.
func (s *Server) runClaimed(w http.ResponseWriter, r *http.Request, next http.Handler, claim *idempotency.Claim) {
	// The record must be settled even if the request's context is done or
	// the handler panics; the store gets a short deadline of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
	defer cancel()
	settled := false
	defer func() {
		if !settled { // the handler panicked: the recoverer answers 500
			s.release(ctx, claim)
		}
	}()

	rec := &recorder{ResponseWriter: w}
	next.ServeHTTP(rec, r)
	status := rec.statusOr200()
	res := idempotency.Response{Status: status, Header: http.Header{}, Body: rec.body.Bytes()}
	for _, h := range replayedHeaders {
		if v := w.Header().Values(h); len(v) > 0 {
			res.Header[h] = v
		}
	}
	if idempotency.Storable(status) && !noStore(w.Header()) {
		if err := s.deps.Idempotency.Complete(ctx, claim, res); err != nil {
			// The effect stands and the client gets its answer; the claim
			// stays in_progress and frees itself after the store's lease.
			s.log.ErrorContext(r.Context(), "store idempotent response", "err", err)
		}
	} else {
		s.release(ctx, claim)
	}
	settled = true
	w.WriteHeader(status)
	_, _ = w.Write(res.Body)
}

func (s *Server) release(ctx context.Context, claim *idempotency.Claim) {
	if err := s.deps.Idempotency.Release(ctx, claim); err != nil {
		s.log.ErrorContext(ctx, "release idempotency key", "err", err)
	}
}

// requestTarget is the path and query the request was sent to: the same
// key sent to another target is another request.
func requestTarget(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return r.URL.EscapedPath()
	}
	return r.URL.EscapedPath() + "?" + r.URL.RawQuery
}

// noStore reports a response that must not be kept (it carries a secret
// shown once).
func noStore(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-store") {
				return true
			}
		}
	}
	return false
}

func writeReplay(w http.ResponseWriter, res *idempotency.Response) {
	for k, vs := range res.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	w.Header().Set(replayedHeader, "true")
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body) //nolint:gosec // G705: our own earlier response, replayed with its own Content-Type
}

// writeKeyProblem answers 400 about the Idempotency-Key header. The key is
// not echoed: it may be long or unprintable.
func writeKeyProblem(w http.ResponseWriter, message string) {
	const status = http.StatusBadRequest
	b, _ := jsonMarshal(&huma.ErrorModel{
		Title: http.StatusText(status), Status: status, Detail: "invalid Idempotency-Key header",
		Errors: []*huma.ErrorDetail{{Location: "header." + idempotencyKeyHeader, Message: message}},
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeFault writes a service error as a problem outside huma.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, err error) {
	perr := toProblem(r.Context(), s.log, err)
	var model *huma.ErrorModel
	if !errors.As(perr, &model) {
		writeProblem(w, http.StatusInternalServerError, "internal error")
		return
	}
	var he huma.HeadersError
	if asHeaders(perr, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	b, merr := jsonMarshal(model)
	if merr != nil {
		writeProblem(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(model.Status)
	_, _ = w.Write(b)
}

// recorder buffers a response: status and body are held back until the
// record is stored; headers go to the real writer's map.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 && status >= 200 {
		rec.status = status
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

// Flush is a no-op: nothing may reach the client before the record is
// settled.
func (rec *recorder) Flush() {}

// Unwrap lets http.ResponseController reach the connection (huma sets read
// deadlines through it).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) statusOr200() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// idempotencyApplies leaves out the routes where a stored response would do
// harm or buffering would: the auth endpoints (their responses carry fresh
// tokens, which must never be replayed from storage) and streamed CSV
// uploads (imports are idempotent on RO numbers by themselves).
func idempotencyApplies(path string) bool {
	return !strings.HasPrefix(path, "/api/v1/auth/") && path != "/api/v1/service-records/imports"
}
