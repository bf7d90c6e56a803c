package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/fault"
)

// statusOf is the one table from fault codes to HTTP statuses.
var statusOf = map[fault.Code]int{
	fault.Invalid:         http.StatusUnprocessableEntity,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.Unauthorized:    http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.TooManyRequests: http.StatusTooManyRequests,
	fault.Mismatch:        http.StatusUnprocessableEntity,
}

// toProblem turns a service error into an RFC 9457 problem. Errors without a
// code are logged with the request id and shown only as "internal error".
func toProblem(ctx context.Context, log *slog.Logger, err error) error {
	var se huma.StatusError
	if errors.As(err, &se) {
		return err
	}
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code == fault.Internal {
		if errors.Is(err, context.DeadlineExceeded) {
			return huma.Error503ServiceUnavailable("the request took too long")
		}
		if errors.Is(err, context.Canceled) {
			return huma.NewError(499, "client closed request")
		}
		log.ErrorContext(ctx, "internal error", "err", err)
		return huma.Error500InternalServerError("internal error")
	}
	status := statusOf[fe.Code]
	details := make([]error, len(fe.Fields))
	for i, f := range fe.Fields {
		details[i] = &huma.ErrorDetail{Location: f.Location, Message: f.Message}
	}
	problem := huma.NewError(status, fe.Message, details...)
	headers := http.Header{}
	switch fe.Code {
	case fault.TooManyRequests:
		secs := int(fe.RetryAfter.Seconds() + 0.999)
		headers.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	case fault.Unauthorized:
		headers.Set("WWW-Authenticate", `Bearer realm="autopulse"`)
	default: // no headers for the other codes
	}
	if len(headers) > 0 {
		return huma.ErrorWithHeaders(problem, headers)
	}
	return problem
}

// writeProblem writes a problem outside huma (router-level middleware).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(problemJSON(status, detail))
}

func problemJSON(status int, detail string) []byte {
	b, _ := jsonMarshal(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	return b
}

func asHeaders(err error, target *huma.HeadersError) bool { return errors.As(err, target) }

func asStatus(err error, target *huma.StatusError) bool { return errors.As(err, target) }
