package dispatch

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// waitingStates are the job states in which a dispatch job is unique: a
// second insert of the same arguments is skipped while one waits or runs.
// Completed jobs are left out on purpose: a dial job that found its target
// held completes without dialing, and the target's next pass must be able
// to enqueue the same attempt again (the claim, not the queue, is what
// makes a dial happen once).
var waitingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// ScheduleArgs asks the scheduler to look for due targets now rather than
// at its next period: a launch or resume enqueues one (in its own
// transaction) so the first calls go out without waiting. OrganizationID
// narrows the pass to one tenant; uuid.Nil means all.
type ScheduleArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return "dispatch.schedule" }

// InsertOpts makes passes unique while one waits or runs: launches in
// quick succession, and periods that come while a pass runs, add nothing.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// DialArgs places one call: a campaign target's attempt (TargetID and
// Attempt, the target's attempts counting this one), or a call placed by
// hand (CallID). The job is unique per arguments while it waits or runs.
type DialArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	TargetID       uuid.UUID `json:"target_id"`
	Attempt        int       `json:"attempt"`
	CallID         uuid.UUID `json:"call_id"`
}

// Kind implements river.JobArgs.
func (DialArgs) Kind() string { return "dispatch.dial" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DialArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// ScheduleWorker runs scheduler passes.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	Service *Service
}

// Work runs one pass at the service's clock.
func (w *ScheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	_, err := w.Service.Pass(ctx, w.Service.now(), job.Args.OrganizationID)
	return err
}

// Timeout leaves a pass its interval plus room for its last batch.
func (w *ScheduleWorker) Timeout(*river.Job[ScheduleArgs]) time.Duration {
	return w.Service.interval() + 2*time.Minute
}

// DialWorker runs dial jobs.
type DialWorker struct {
	river.WorkerDefaults[DialArgs]
	Service *Service
}

// Work claims, dials, records or reconciles (see the package doc).
func (w *DialWorker) Work(ctx context.Context, job *river.Job[DialArgs]) error {
	return w.Service.dial(ctx, job)
}

// RegisterWorkers adds the scheduler's and the dial job's workers.
func RegisterWorkers(workers *river.Workers, s *Service) error {
	if err := river.AddWorkerSafely(workers, &ScheduleWorker{Service: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(workers, &DialWorker{Service: s})
}

// PeriodicJobs returns the scheduler's periodic pass, every interval
// (ClampInterval: 30 s for zero, else 15–60 s), also run when a client
// becomes the leader.
func PeriodicJobs(interval time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(ClampInterval(interval)),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}
