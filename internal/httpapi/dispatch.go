package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/fault"
)

type callPlaceInput struct {
	Body dispatch.OneOffCallInput
}

// callPlace places a one-off call. A call the rules allow is accepted
// (202) and dialled by a job within seconds; a hold is 409 with
// Retry-After, a block 422, both with the rule, the reason and (for a hold)
// the next eligible time.
func (s *Server) callPlace(ctx context.Context, in *callPlaceInput) (*body[dispatch.OneOffCall], error) {
	c, err := s.deps.Dispatch.PlaceCall(ctx, org(ctx), in.Body)
	if err != nil {
		return nil, notAllowedProblem(err)
	}
	return bodyOf(c), nil
}

func (s *Server) dispatchTargetDecision(ctx context.Context, in *IDPath) (*body[dispatch.TargetDecision], error) {
	d, err := s.deps.Dispatch.ExplainTarget(ctx, org(ctx), in.id())
	return bodyOf(d), err
}

// complianceError is the problem of a call the rules do not allow: RFC
// 9457 with the decision as extension members.
type complianceError struct {
	huma.ErrorModel
	Verdict        string     `json:"verdict" enum:"hold,block"`
	Rule           string     `json:"rule" example:"window.federal"`
	Reason         string     `json:"reason"`
	NextEligibleAt *time.Time `json:"next_eligible_at,omitempty"`
}

// notAllowedProblem turns dispatch's refusal into its problem; other
// errors pass through.
func notAllowedProblem(err error) error {
	var na *dispatch.NotAllowedError
	if !errors.As(err, &na) {
		return err
	}
	d := na.Decision
	status := http.StatusUnprocessableEntity
	if d.Verdict == "hold" {
		status = http.StatusConflict
	}
	p := &complianceError{
		ErrorModel: huma.ErrorModel{
			Title:  http.StatusText(status),
			Status: status,
			Detail: "the call is not allowed now: " + d.Reason,
		},
		Verdict: d.Verdict, Rule: d.Rule, Reason: d.Reason, NextEligibleAt: d.NextEligibleAt,
	}
	if d.NextEligibleAt == nil {
		return p
	}
	secs := int(d.NextEligibleAt.Sub(d.At).Seconds() + 0.999) // on the decision's clock
	return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}})
}

// JobsUIPath is where the River UI is mounted.
const JobsUIPath = "/admin/jobs"

// NewJobsUI builds the River UI for Options.JobsUI and starts its
// background services (until ctx ends). The server mounts it at
// JobsUIPath for authenticated platform administrators only.
func NewJobsUI(ctx context.Context, client *river.Client[pgx.Tx], log *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    log,
		Prefix:    JobsUIPath,
	})
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// platformAdminOnly lets through only requests whose credential (a Bearer
// header, or the admin session cookie) is a platform administrator's: 401
// without a valid credential (a browser is sent to the sign-in form
// instead), 403 for anybody else. It reads what the authenticate
// middleware resolved.
func (s *Server) platformAdminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _ := r.Context().Value(authResultKey{}).(authResult)
		var fe *fault.Error
		switch {
		case errors.As(res.err, &fe) && fe.Code == fault.Forbidden:
			// A suspended organization, or a cross-origin write.
			writeProblem(w, http.StatusForbidden, fe.Message)
		case res.principal == nil:
			if adminBrowserRedirect(w, r) {
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="autopulse"`)
			writeProblem(w, http.StatusUnauthorized, "authentication required")
		case !res.principal.PlatformAdmin:
			writeProblem(w, http.StatusForbidden, "platform administrators only")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
