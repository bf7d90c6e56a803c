package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// PassResult counts what a pass decided.
type PassResult struct {
	Organizations int // organization passes run (one per organization and batch)
	Allowed       int // dial jobs enqueued
	Held          int
	Blocked       int
	Skipped       int // due targets left alone: locked by a dial job or by another pass
	Requeued      int // dial jobs enqueued again for claims left behind
}

// Decided is the number of decisions stored.
func (r PassResult) Decided() int { return r.Allowed + r.Held + r.Blocked }

func (r *PassResult) add(o PassResult) {
	r.Organizations += o.Organizations
	r.Allowed += o.Allowed
	r.Held += o.Held
	r.Blocked += o.Blocked
	r.Skipped += o.Skipped
	r.Requeued += o.Requeued
}

// Pass decides the due targets at instant now, of every organization or
// only of org (uuid.Nil: all), and enqueues dial jobs for the allowed ones.
// It takes batches from the fair scan until a batch comes back short,
// nothing was decided, or the scheduler's interval has passed (wall clock).
// An organization whose pass another worker is running is skipped.
func (s *Service) Pass(ctx context.Context, now time.Time, org uuid.UUID) (PassResult, error) {
	var total PassResult
	deadline := time.Now().Add(s.interval())
	var only *uuid.UUID
	if org != uuid.Nil {
		only = &org
	} else {
		n, err := s.requeueStale(ctx, now)
		if err != nil {
			return total, err
		}
		total.Requeued = n
	}
	var errs []error
	for {
		var due []db.DispatchDueTargetsRow
		err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
			var err error
			due, err = tx.DispatchDueTargets(ctx, db.DispatchDueTargetsParams{
				Now: now, PerOrg: int32(s.perOrgLimit()), Total: int32(s.passLimit()), OnlyOrg: only, //nolint:gosec // small configured limits
			})
			return err
		})
		if err != nil {
			return total, err
		}
		var batch PassResult
		for _, g := range groupByOrg(due) {
			r, err := s.passOrg(ctx, g.org, g.targets, now)
			if err != nil {
				if ctx.Err() != nil {
					return total, err
				}
				// One tenant's failure must not stop the others' calls.
				s.log().ErrorContext(ctx, "dispatch pass failed for an organization", "organization_id", g.org, "err", err)
				errs = append(errs, fmt.Errorf("organization %s: %w", g.org, err))
				continue
			}
			batch.add(r)
		}
		total.add(batch)
		if len(due) < s.passLimit() || batch.Decided() == 0 || time.Now().After(deadline) {
			break
		}
	}
	if total.Decided() > 0 || total.Requeued > 0 {
		s.log().InfoContext(ctx, "dispatch pass", "organizations", total.Organizations, "allowed", total.Allowed,
			"held", total.Held, "blocked", total.Blocked, "skipped", total.Skipped, "requeued", total.Requeued)
	}
	return total, errors.Join(errs...)
}

// requeueStale enqueues again the dial jobs of claims left behind longer
// than StaleClaimAfter (a job discarded, or lost with its worker before
// River's rescuer could retry it). Uniqueness skips the jobs still alive;
// the others reconcile before they dial. It returns how many it enqueued.
func (s *Service) requeueStale(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.DB.InSystem(ctx, func(tx *postgres.Tx) error {
		rows, err := tx.DispatchStaleClaims(ctx, now.Add(-s.staleClaimAfter()), int32(s.passLimit())) //nolint:gosec // a small configured limit
		if err != nil || len(rows) == 0 {
			return err
		}
		jobs := make([]river.InsertManyParams, len(rows))
		for i, r := range rows {
			jobs[i] = river.InsertManyParams{Args: DialArgs{
				OrganizationID: r.OrganizationID, TargetID: r.TargetID, Attempt: int(r.Attempts), CallID: r.CallID,
			}}
		}
		res, err := s.Jobs.InsertManyTx(ctx, tx.Tx, jobs)
		for _, r := range res {
			if !r.UniqueSkippedAsDuplicate {
				n++
			}
		}
		return err
	})
	return n, err
}

type orgTargets struct {
	org     uuid.UUID
	targets []uuid.UUID
}

// groupByOrg groups the scan's rows per organization, in the order each
// organization first appears (the scan's fair order).
func groupByOrg(rows []db.DispatchDueTargetsRow) []orgTargets {
	var out []orgTargets
	index := map[uuid.UUID]int{}
	for _, r := range rows {
		i, ok := index[r.OrganizationID]
		if !ok {
			i = len(out)
			index[r.OrganizationID] = i
			out = append(out, orgTargets{org: r.OrganizationID})
		}
		out[i].targets = append(out[i].targets, r.TargetID)
	}
	return out
}

// passOrg decides one organization's due targets in its tenant
// transaction: every decision stored in one statement, the dial jobs of
// the allowed ones enqueued in the same transaction.
func (s *Service) passOrg(ctx context.Context, org uuid.UUID, ids []uuid.UUID, now time.Time) (PassResult, error) {
	var res PassResult
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		res = PassResult{}
		locked, err := tx.DispatchTryLockPass(ctx, org)
		if err != nil || !locked {
			res.Skipped = len(ids)
			return err
		}
		res.Organizations = 1
		if s.ActivateDue != nil {
			if _, err := s.ActivateDue(ctx, tx, now); err != nil {
				return err
			}
		}
		rows, err := tx.TargetListForDecision(ctx, db.TargetListForDecisionParams{OrganizationID: org, Ids: ids, Now: now})
		if err != nil {
			return err
		}
		res.Skipped = len(ids) - len(rows)
		if len(rows) == 0 {
			return nil
		}
		subjects := make([]subject, len(rows))
		for i, r := range rows {
			subjects[i] = subjectOfTarget(db.TargetGetForDialRow(r))
		}
		f, err := s.gather(ctx, tx, now, subjects, gatherOpts{countLeased: true})
		if err != nil {
			return err
		}

		n := len(rows)
		p := db.TargetRecordDecisionsParams{
			DecidedAt: now, OrganizationID: org,
			Ids: make([]uuid.UUID, n), Statuses: make([]string, n), NextAttempts: make([]time.Time, n),
			SkipReasons: make([]string, n), Verdicts: make([]string, n), Rules: make([]string, n), Reasons: make([]string, n),
		}
		var jobs []river.InsertManyParams
		var ended []uuid.UUID // campaigns that lost targets for good
		busy := f.busy
		for i, r := range rows {
			d := s.decide(now, subjects[i], f, busy)
			p.Ids[i], p.Verdicts[i], p.Rules[i], p.Reasons[i] = r.ID, string(d.Verdict), d.Rule, d.Reason
			p.Statuses[i] = r.Status
			switch d.Verdict {
			case compliance.Allow:
				// The call is as good as placed: the next decisions of the
				// batch count its line and its number.
				busy++
				ph := subjects[i].phone
				f.recent[ph] = append(f.recent[ph], priorCall{campaignID: &r.CampaignID, at: now, live: true})
				res.Allowed++
				p.NextAttempts[i] = now.Add(s.dialLease())
				jobs = append(jobs, river.InsertManyParams{Args: DialArgs{
					OrganizationID: org, TargetID: r.ID, Attempt: int(r.Attempts) + 1,
				}})
			case compliance.Hold:
				res.Held++
				p.NextAttempts[i] = s.nextAttempt(now, d)
			case compliance.Block:
				res.Blocked++
				p.Statuses[i] = blockStatus(d.Rule)
				p.SkipReasons[i] = d.Rule
				p.NextAttempts[i] = now
				if !slices.Contains(ended, r.CampaignID) {
					ended = append(ended, r.CampaignID)
				}
			}
		}
		if _, err := tx.TargetRecordDecisions(ctx, p); err != nil {
			return err
		}
		if len(jobs) > 0 {
			if _, err := s.Jobs.InsertManyTx(ctx, tx.Tx, jobs); err != nil {
				return err
			}
		}
		return s.completeIfDone(ctx, tx, ended...)
	})
	return res, err
}

// completeIfDone offers each campaign to the campaign lifecycle's
// completion check.
func (s *Service) completeIfDone(ctx context.Context, tx *postgres.Tx, campaigns ...uuid.UUID) error {
	if s.CompleteIfDone == nil {
		return nil
	}
	for _, id := range campaigns {
		if _, err := s.CompleteIfDone(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}
