package call

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// Job attempts. Processing retries with River's default backoff (attempt⁴
// seconds: about four hours over ten attempts); downloads with
// recordingBackoff (about three hours).
const (
	processMaxAttempts  = 10
	downloadMaxAttempts = 10
)

// ProcessEventArgs processes one stored webhook event (kind
// call.process_event). EventID is the webhook_events row's id.
type ProcessEventArgs struct {
	EventID uuid.UUID `json:"event_id"`
}

// Kind implements river.JobArgs.
func (ProcessEventArgs) Kind() string { return "call.process_event" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ProcessEventArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: processMaxAttempts}
}

// DownloadRecordingArgs downloads one call recording into blob storage
// (kind call.download_recording). The worker works in OrganizationID's
// tenant.
type DownloadRecordingArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	AudioFileID    uuid.UUID `json:"audio_file_id"`
}

// Kind implements river.JobArgs.
func (DownloadRecordingArgs) Kind() string { return "call.download_recording" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DownloadRecordingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: downloadMaxAttempts}
}

// RegisterWorkers adds the call pipeline's workers (call.process_event,
// call.download_recording, call.reconcile_reports) to workers. They run on
// the default queue.
func RegisterWorkers(workers *river.Workers, s *Service) {
	river.AddWorker(workers, &processEventWorker{s: s})
	river.AddWorker(workers, &downloadRecordingWorker{s: s})
	river.AddWorker(workers, &reconcileWorker{s: s})
}

type processEventWorker struct {
	river.WorkerDefaults[ProcessEventArgs]
	s *Service
}

// Work processes the event. An unknown call of ours within its grace
// snoozes the job (snoozes do not use up attempts); the last failing
// attempt marks the event failed, so nothing stays received forever.
func (w *processEventWorker) Work(ctx context.Context, job *river.Job[ProcessEventArgs]) error {
	err := w.s.ProcessEvent(ctx, job.Args.EventID)
	var orphan *OrphanError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &orphan):
		return river.JobSnooze(orphan.RetryAfter)
	case job.Attempt >= job.MaxAttempts:
		if markErr := w.s.MarkEventFailed(ctx, job.Args.EventID, "gave up after "+strconv.Itoa(job.Attempt)+" attempts: "+err.Error()); markErr != nil {
			return errors.Join(err, markErr)
		}
	}
	return err
}

type downloadRecordingWorker struct {
	river.WorkerDefaults[DownloadRecordingArgs]
	s *Service
}

// Work downloads the recording; the last failing attempt marks it failed.
func (w *downloadRecordingWorker) Work(ctx context.Context, job *river.Job[DownloadRecordingArgs]) error {
	err := w.s.DownloadRecording(ctx, job.Args.OrganizationID, job.Args.AudioFileID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		if markErr := w.s.MarkRecordingFailed(ctx, job.Args.OrganizationID, job.Args.AudioFileID, "gave up after "+strconv.Itoa(job.Attempt)+" attempts: "+err.Error()); markErr != nil {
			return errors.Join(err, markErr)
		}
	}
	return err
}

// NextRetry backs off from 10 s to an hour.
func (w *downloadRecordingWorker) NextRetry(job *river.Job[DownloadRecordingArgs]) time.Time {
	return time.Now().Add(recordingBackoff(job.Attempt))
}

// Timeout leaves the download its own timeout plus time to store it.
func (w *downloadRecordingWorker) Timeout(*river.Job[DownloadRecordingArgs]) time.Duration {
	t := w.s.RecordingTimeout
	if t <= 0 {
		t = DefaultRecordingTimeout
	}
	return t + time.Minute
}
