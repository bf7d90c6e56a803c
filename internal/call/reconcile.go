package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/voice"
)

// Lost reports. A webhook can be lost (the provider gives up, our API is
// down longer than its retries): the call would stay "in progress", its
// target in_call, and its campaign never complete. ReconcileReports asks
// the provider about every call whose report is overdue and applies what
// it says exactly as the report would have been applied (applyReport is
// once per call, so a report arriving afterwards changes nothing).
const (
	// DefaultReportOverdue is when a report counts as lost: well past the
	// longest call (Vapi ends calls at maxDurationSeconds, 10 minutes by
	// default) and the provider's webhook retries.
	DefaultReportOverdue = 30 * time.Minute
	// ReconcileInterval is the period of the reconciling job.
	ReconcileInterval = 5 * time.Minute
	// reportGiveUp: a call the provider still shows live this long after
	// it was placed, or one it does not know, is ended as lost.
	reportGiveUp = 24 * time.Hour
	// reconcileBatch caps the calls one run asks about.
	reconcileBatch = 200
)

// EndedReasonReportLost is calls.ended_reason of a call ended by
// ReconcileReports without a report: the provider no longer knows it, or
// still shows it live a day after it was placed.
const EndedReasonReportLost = "autopulse-report-lost"

// ReconcileResult counts what one ReconcileReports run did.
type ReconcileResult struct {
	Asked     int // calls asked about
	Finalized int // calls finalized from the provider's answer
	Lost      int // calls ended as lost
	Live      int // calls the provider still shows live
}

// ReconcileReports finalizes, at most reconcileBatch at a time, the calls
// whose end-of-call report is overdue at now: with the provider's report
// when it has ended the call; as lost (outcome failed: the target is tried
// again while attempts remain) when it does not know the call or still
// shows it live after a day. A call the provider shows live is left for
// the next run. Errors of single calls are joined; the others go on.
func (s *Service) ReconcileReports(ctx context.Context, now time.Time) (ReconcileResult, error) {
	var res ReconcileResult
	if s.Provider == nil {
		return res, nil
	}
	overdue := s.ReportOverdue
	if overdue <= 0 {
		overdue = DefaultReportOverdue
	}
	var rows []db.CallOverdueReportsRow
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.CallOverdueReports(ctx, now.Add(-overdue), reconcileBatch)
		return err
	})
	if err != nil {
		return res, err
	}
	var errs []error
	for _, r := range rows {
		if r.Provider != ProviderVapi {
			continue
		}
		res.Asked++
		report, err := s.providerReport(ctx, r, now)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("call %s: %w", r.CallID, err))
			continue
		case report == nil:
			res.Live++
			continue
		}
		outcome, err := s.applyReconciled(ctx, r, report)
		if err != nil {
			errs = append(errs, fmt.Errorf("call %s: %w", r.CallID, err))
			continue
		}
		if outcome == "" {
			continue // reported meanwhile
		}
		if report.EndedReason == EndedReasonReportLost {
			res.Lost++
		} else {
			res.Finalized++
		}
		s.Metrics.CallCompleted(r.Provider, metricOutcome(outcome))
		s.log().InfoContext(ctx, "call finalized without its webhook", "organization_id", r.OrganizationID,
			"call_id", r.CallID, "provider_call_id", r.ProviderCallID, "ended_reason", report.EndedReason, "outcome", outcome)
	}
	return res, errors.Join(errs...)
}

// providerReport is the report to apply to an overdue call: the
// provider's, a lost one, or nil while the call is live.
func (s *Service) providerReport(ctx context.Context, r db.CallOverdueReportsRow, now time.Time) (*voice.EndOfCallReport, error) {
	st, err := s.Provider.GetCall(ctx, r.ProviderCallID)
	switch {
	case errors.Is(err, voice.ErrNotFound):
		return lostReport(r, now), nil
	case err != nil:
		return nil, err
	case st.Status == voice.StatusEnded && st.Report != nil:
		return st.Report, nil
	case now.Sub(r.CreatedAt) > reportGiveUp:
		return lostReport(r, now), nil
	}
	return nil, nil //nolint:nilnil // live: nothing to apply yet
}

func lostReport(r db.CallOverdueReportsRow, now time.Time) *voice.EndOfCallReport {
	return &voice.EndOfCallReport{
		ProviderCallID: r.ProviderCallID, CallID: r.CallID, OrganizationID: r.OrganizationID,
		Direction: voice.Outbound, EndedReason: EndedReasonReportLost, EndedAt: now,
	}
}

// applyReconciled applies report to the call in its tenant, as the webhook
// would have; "" when the call was reported (or deleted) meanwhile.
func (s *Service) applyReconciled(ctx context.Context, r db.CallOverdueReportsRow, report *voice.EndOfCallReport) (voice.Outcome, error) {
	var outcome voice.Outcome
	err := s.DB.InTenant(ctx, r.OrganizationID, func(tx *postgres.Tx) error {
		c, err := tx.CallGetForUpdate(ctx, r.OrganizationID, r.CallID)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.ProviderCallID == nil || *c.ProviderCallID != r.ProviderCallID {
			return nil
		}
		outcome, _, err = s.applyReport(ctx, tx, c, report)
		return err
	})
	return outcome, err
}

// ReconcileArgs runs ReconcileReports (kind call.reconcile_reports).
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "call.reconcile_reports" }

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Service
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	_, err := w.s.ReconcileReports(ctx, w.s.now())
	return err
}

// PeriodicJobs returns the call pipeline's periodic job: ReconcileReports
// every ReconcileInterval.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(ReconcileInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil }, nil),
	}
}
