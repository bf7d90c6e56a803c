package campaign

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Status is where a campaign is in its life.
type Status string

// The statuses.
const (
	Draft     Status = "draft"     // being edited; no targets
	Scheduled Status = "scheduled" // launched, its start still ahead
	Active    Status = "active"    // being called
	Paused    Status = "paused"    // launched, calls stopped until resumed
	Completed Status = "completed" // every target done
	Cancelled Status = "cancelled" // stopped for good
)

// Event moves a campaign from one status to another.
type Event string

// The events: launch, pause, resume and cancel come from people; start and
// complete from the dispatcher.
const (
	Launch   Event = "launch"
	Start    Event = "start"
	Pause    Event = "pause"
	Resume   Event = "resume"
	Cancel   Event = "cancel"
	Complete Event = "complete"
)

// transitions is the state machine: for each event, the statuses it
// leaves and the status it reaches. A launch reaches active, or scheduled
// when the campaign starts later (see Launch).
var transitions = map[Event]map[Status]Status{
	Launch:   {Draft: Active},
	Start:    {Scheduled: Active},
	Pause:    {Active: Paused},
	Resume:   {Paused: Active},
	Cancel:   {Scheduled: Cancelled, Active: Cancelled, Paused: Cancelled},
	Complete: {Active: Completed, Paused: Completed},
}

// Transition returns the status ev leads to from from, or fault.Conflict
// naming the current status when ev is not allowed there.
func Transition(from Status, ev Event) (Status, error) {
	if to, ok := transitions[ev][from]; ok {
		return to, nil
	}
	return "", fault.Errorf(fault.Conflict, "cannot %s a campaign that is %s", ev, from)
}

// AudienceCount is the size of a campaign's audience: the targets to call
// and those skipped, by reason (no_phone, dnc, duplicate_phone).
type AudienceCount struct {
	Targets         int64            `json:"targets" doc:"Customers to call"`
	Skipped         int64            `json:"skipped" doc:"Customers matched but not to be called"`
	SkippedByReason map[string]int64 `json:"skipped_by_reason" doc:"no_phone, dnc (on the do-not-call list), duplicate_phone (a household member with a later visit is called)"`
}

func countOf[R any](rows []R, reason func(R) (string, int64)) AudienceCount {
	c := AudienceCount{SkippedByReason: map[string]int64{}}
	for _, r := range rows {
		why, n := reason(r)
		if why == "" {
			c.Targets += n
			continue
		}
		c.Skipped += n
		c.SkippedByReason[why] += n
	}
	return c
}

// Launched is the result of a launch.
type Launched struct {
	Campaign Campaign      `json:"campaign"`
	Audience AudienceCount `json:"audience"`
}

// transition is an audit row's view of a status change.
type transition struct {
	Event    Event          `json:"event,omitempty"`
	Status   Status         `json:"status"`
	Audience *AudienceCount `json:"audience,omitempty"`
	// TargetsCancelled counts the waiting targets a cancel closed.
	TargetsCancelled *int64 `json:"targets_cancelled,omitempty"`
}

// Preview counts who a launch would target now, by skip reason, writing
// nothing. It runs the launch's own audience query (campaign_audience).
func (s *Service) Preview(ctx context.Context, org, id uuid.UUID) (AudienceCount, error) {
	var out AudienceCount
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CampaignGet(ctx, org, id)
		if err != nil {
			return err
		}
		c, err := fromRow(row, nil)
		if err != nil {
			return err
		}
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		a := c.Audience.args(s.now(), prof.Timezone)
		rows, err := tx.TargetCountAudience(ctx, db.TargetCountAudienceParams{
			OrganizationID: org, Timezone: a.Timezone, ServiceFrom: a.ServiceFrom, ServiceTo: a.ServiceTo,
			ServiceTypes: a.ServiceTypes, Makes: a.Makes, Tags: a.Tags, NotCalledSince: a.NotCalledSince,
		})
		if err != nil {
			return err
		}
		out = countOf(rows, func(r db.TargetCountAudienceRow) (string, int64) { return r.SkipReason, r.Targets })
		return nil
	})
	return out, err
}

// Launch materializes a draft's targets and starts it, in one transaction:
// one target per matching customer (skipped ones with their reason), first
// attempt at the later of now and starts_at; the campaign becomes active,
// or scheduled when it starts later; the scheduler is asked for a pass.
// A launch whose audience has nobody to call is refused (fault.Conflict)
// and leaves the draft as it was, as does any failure.
func (s *Service) Launch(ctx context.Context, org, id uuid.UUID) (Launched, error) {
	var out Launched
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CampaignGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		old, err := load(ctx, tx, row)
		if err != nil {
			return err
		}
		to, err := Transition(old.Status, Launch)
		if err != nil {
			return err
		}
		now := s.now()
		if old.EndsAt != nil && !old.EndsAt.After(now) {
			return fault.Errorf(fault.Conflict, "the campaign ended at %s: move ends_at before launching", old.EndsAt.UTC().Format(time.RFC3339))
		}
		first := now
		if old.StartsAt != nil && old.StartsAt.After(now) {
			to, first = Scheduled, *old.StartsAt
		}
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		a := old.Audience.args(now, prof.Timezone)
		rows, err := tx.TargetInsertAudience(ctx, db.TargetInsertAudienceParams{
			OrganizationID: org, CampaignID: id, NextAttemptAt: first, Timezone: a.Timezone,
			ServiceFrom: a.ServiceFrom, ServiceTo: a.ServiceTo, ServiceTypes: a.ServiceTypes, Makes: a.Makes,
			Tags: a.Tags, NotCalledSince: a.NotCalledSince,
		})
		if err != nil {
			return err
		}
		count := countOf(rows, func(r db.TargetInsertAudienceRow) (string, int64) { return r.SkipReason, r.Targets })
		if count.Targets == 0 {
			return fault.Errorf(fault.Conflict, "the audience has nobody to call (%d matched, all skipped): nothing was launched", count.Skipped)
		}
		if row, err = tx.CampaignSetStatus(ctx, db.CampaignSetStatusParams{
			OrganizationID: org, ID: id, Status: string(to), Launched: true, Actor: actor(ctx),
		}); err != nil {
			return err
		}
		if out.Campaign, err = fromRow(row, old.Schedule); err != nil {
			return err
		}
		out.Audience = count
		if err := audit.Record(ctx, tx, audit.Update, "campaign", id,
			transition{Status: old.Status}, transition{Event: Launch, Status: to, Audience: &count}); err != nil {
			return err
		}
		if to == Active {
			return s.kick(ctx, tx)
		}
		return nil
	})
	return out, err
}

// Pause stops calling an active campaign; targets keep their state.
func (s *Service) Pause(ctx context.Context, org, id uuid.UUID) (Campaign, error) {
	return s.move(ctx, org, id, Pause)
}

// Resume calls a paused campaign again, at once.
func (s *Service) Resume(ctx context.Context, org, id uuid.UUID) (Campaign, error) {
	return s.move(ctx, org, id, Resume)
}

// Cancel stops a campaign for good. Its targets waiting for a call are
// cancelled; a call in progress finishes and is recorded.
func (s *Service) Cancel(ctx context.Context, org, id uuid.UUID) (Campaign, error) {
	return s.move(ctx, org, id, Cancel)
}

func (s *Service) move(ctx context.Context, org, id uuid.UUID, ev Event) (Campaign, error) {
	var c Campaign
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		if c, err = moveTx(ctx, tx, id, ev); err != nil {
			return err
		}
		if c.Status == Active {
			return s.kick(ctx, tx)
		}
		return nil
	})
	return c, err
}

// moveTx applies ev to a campaign inside tx, with its side effects and
// audit row.
func moveTx(ctx context.Context, tx *postgres.Tx, id uuid.UUID, ev Event) (Campaign, error) {
	row, err := tx.CampaignGetForUpdate(ctx, tx.Org, id)
	if err != nil {
		return Campaign{}, err
	}
	from := Status(row.Status)
	to, err := Transition(from, ev)
	if err != nil {
		return Campaign{}, err
	}
	after := transition{Event: ev, Status: to}
	if ev == Cancel {
		n, err := tx.TargetCancelOpenByCampaign(ctx, tx.Org, id)
		if err != nil {
			return Campaign{}, err
		}
		after.TargetsCancelled = &n
	}
	if row, err = tx.CampaignSetStatus(ctx, db.CampaignSetStatusParams{
		OrganizationID: tx.Org, ID: id, Status: string(to), Actor: actor(ctx),
	}); err != nil {
		return Campaign{}, err
	}
	c, err := load(ctx, tx, row)
	if err != nil {
		return Campaign{}, err
	}
	return c, audit.Record(ctx, tx, audit.Update, "campaign", id, transition{Status: from}, after)
}

// kick asks the scheduler, in tx, for a pass over the tenant now.
func (s *Service) kick(ctx context.Context, tx *postgres.Tx) error {
	if s.Jobs == nil {
		return nil
	}
	_, err := s.Jobs.InsertTx(ctx, tx.Tx, dispatch.ScheduleArgs{OrganizationID: tx.Org}, nil)
	return err
}

// CompleteIfDoneTx completes an active or paused campaign that has no open
// target left (pending, dialing, in_call or retry), inside the caller's
// tenant transaction, and reports whether it did. For the dispatcher and
// the call-result job: call it after settling a target. A campaign in any
// other status, or with open targets, is left as it is.
func CompleteIfDoneTx(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) (bool, error) {
	row, err := tx.CampaignGetForUpdate(ctx, tx.Org, campaignID)
	if err != nil {
		return false, err
	}
	if _, err := Transition(Status(row.Status), Complete); err != nil {
		return false, nil //nolint:nilerr // not completable in this status: nothing to do
	}
	open, err := tx.TargetHasOpen(ctx, tx.Org, campaignID)
	if err != nil || open {
		return false, err
	}
	if _, err := moveTx(ctx, tx, campaignID, Complete); err != nil {
		return false, err
	}
	return true, nil
}

// CompleteIfDone is CompleteIfDoneTx in a transaction of its own.
func (s *Service) CompleteIfDone(ctx context.Context, org, campaignID uuid.UUID) (bool, error) {
	var done bool
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		done, err = CompleteIfDoneTx(ctx, tx, campaignID)
		return err
	})
	return done, err
}

// ActivateDue starts the organization's scheduled campaigns whose
// starts_at has come (scheduled → active) and returns their ids. For the
// dispatcher: call it at the start of each scheduler pass over a tenant,
// then consider the targets of active campaigns only.
func (s *Service) ActivateDue(ctx context.Context, org uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		ids, err = ActivateDueTx(ctx, tx, s.now())
		return err
	})
	return ids, err
}

// ActivateDueTx is ActivateDue inside the caller's tenant transaction, at
// instant now. Campaigns locked by another transaction are left for the
// next pass.
func ActivateDueTx(ctx context.Context, tx *postgres.Tx, now time.Time) ([]uuid.UUID, error) {
	rows, err := tx.CampaignListStartDue(ctx, tx.Org, now)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		if _, err := moveTx(ctx, tx, r.ID, Start); err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}
