// Package campaign manages call campaigns: their audience, agent
// configuration, schedule and lifecycle, the targets a launch materializes,
// the do-not-call list, and campaign statistics.
//
// A campaign is edited as a draft, then launched: the launch writes one
// campaign_targets row per matching customer in one statement (skipped rows
// say why), and the dispatcher (internal/dispatch) calls the targets under
// the compliance rules. The methods the dispatcher uses are documented as
// such: CompleteIfDoneTx, ActivateDue and EffectiveScheduleTx.
package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Campaign types.
const (
	TypePostServiceFeedback = "post_service_feedback"
	TypeServiceReminder     = "service_reminder"
	TypeRecall              = "recall"
	TypeDeclinedService     = "declined_service"
	TypeCustom              = "custom"
)

var types = []string{TypePostServiceFeedback, TypeServiceReminder, TypeRecall, TypeDeclinedService, TypeCustom}

// Attempt and retry-gap bounds and defaults (the columns' defaults).
const (
	MinAttempts            = 1
	MaxAttempts            = 10
	DefaultMaxAttempts     = 3
	MinRetryGapMinutes     = 15
	MaxRetryGapMinutes     = 7 * 24 * 60
	DefaultRetryGapMinutes = 240
)

// Campaign is a campaign as the API shows it.
type Campaign struct {
	ID              uuid.UUID   `json:"id"`
	Name            string      `json:"name"`
	Description     string      `json:"description"`
	Type            string      `json:"type" enum:"post_service_feedback,service_reminder,recall,declined_service,custom"`
	Status          Status      `json:"status" enum:"draft,scheduled,active,paused,completed,cancelled"`
	Audience        Audience    `json:"audience"`
	Agent           AgentConfig `json:"agent"`
	MaxAttempts     int         `json:"max_attempts" doc:"Calls per target at most"`
	RetryGapMinutes int         `json:"retry_gap_minutes" doc:"Minimum minutes between two attempts on a target"`
	StartsAt        *time.Time  `json:"starts_at" doc:"No call before; null: from launch"`
	EndsAt          *time.Time  `json:"ends_at" doc:"No call after; null: until every target is done"`
	LaunchedAt      *time.Time  `json:"launched_at"`
	Schedule        *Schedule   `json:"schedule" doc:"The campaign's own calling schedule; null when the organization default applies"`
	CreatedBy       *uuid.UUID  `json:"created_by"`
	UpdatedBy       *uuid.UUID  `json:"updated_by"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// RetryGap is the minimum time between two attempts on a target.
func (c Campaign) RetryGap() time.Duration { return time.Duration(c.RetryGapMinutes) * time.Minute }

// Spec defines a campaign (what Create takes). Omitted numbers take their
// defaults; an omitted disclosure takes one that names the organization;
// an omitted schedule means the organization's default schedule applies.
type Spec struct {
	Name            string         `json:"name" minLength:"1" maxLength:"200"`
	Description     string         `json:"description,omitempty" maxLength:"2000"`
	Type            string         `json:"type" enum:"post_service_feedback,service_reminder,recall,declined_service,custom"`
	Audience        Audience       `json:"audience,omitempty" doc:"Who is called; an empty audience matches every customer with a service record"`
	Agent           AgentConfig    `json:"agent"`
	MaxAttempts     int            `json:"max_attempts,omitempty" minimum:"1" maximum:"10" doc:"Calls per target at most (default 3)"`
	RetryGapMinutes int            `json:"retry_gap_minutes,omitempty" minimum:"15" maximum:"10080" doc:"Minimum minutes between attempts (default 240)"`
	StartsAt        *time.Time     `json:"starts_at,omitempty" doc:"No call before; a launch before it leaves the campaign scheduled"`
	EndsAt          *time.Time     `json:"ends_at,omitempty" doc:"No call after; must be in the future and after starts_at"`
	Schedule        *ScheduleInput `json:"schedule,omitempty" doc:"The campaign's own calling schedule; omitted: the organization default"`
}

// Patch changes a campaign; nil fields are unchanged. Which fields may
// change depends on the status: everything in a draft; once launched the
// name, description, agent, attempts, retry gap, end and schedule (the
// audience, type and start are fixed by the launch); once finished only the
// name and description.
type Patch struct {
	Name            *string
	Description     *string
	Type            *string
	Audience        *Audience
	Agent           *AgentConfig
	MaxAttempts     *int
	RetryGapMinutes *int
	StartsAt        Optional[time.Time]
	EndsAt          Optional[time.Time]
	// Schedule replaces the campaign's own schedule (ClearCampaignSchedule
	// removes it).
	Schedule *ScheduleInput
}

// Optional is a patch field that can be cleared: unset leaves the value,
// set with a nil Value clears it.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// Filter narrows List.
type Filter struct {
	Status string
	Type   string
}

// JobInserter enqueues a River job inside the caller's transaction; a
// *river.Client[pgx.Tx] is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service manages campaigns, their schedules and targets, and the
// do-not-call list. Its methods return fault.NotFound for an id outside the
// organization, fault.Invalid (with the fields) for bad input, and
// fault.Conflict for a change the campaign's status does not allow (the
// message names the status).
type Service struct {
	DB *postgres.DB
	// Jobs enqueues, in the launch or resume transaction, a
	// dispatch.ScheduleArgs job so the scheduler passes over the
	// organization at once. Nil enqueues nothing (tests); the periodic
	// scheduler then finds the targets at its next period.
	Jobs JobInserter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Create adds a draft campaign, with its own schedule if given.
func (s *Service) Create(ctx context.Context, org uuid.UUID, in Spec) (Campaign, error) {
	var c Campaign
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		if err := in.normalize(s.now(), prof.Name, prof.Timezone, true); err != nil {
			return err
		}
		row, err := tx.CampaignInsert(ctx, insertParams(org, uuid.Must(uuid.NewV7()), in, actor(ctx)))
		if err != nil {
			return err
		}
		var own *Schedule
		if in.Schedule != nil {
			sc, err := setCampaignSchedule(ctx, tx, row.ID, *in.Schedule)
			if err != nil {
				return err
			}
			v := scheduleFromRow(sc, SourceCampaign)
			own = &v
		}
		if c, err = fromRow(row, own); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Create, "campaign", c.ID, nil, c)
	})
	return c, err
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Campaign, error) {
	var c Campaign
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CampaignGet(ctx, org, id)
		if err != nil {
			return err
		}
		c, err = load(ctx, tx, row)
		return err
	})
	return c, err
}

// List returns campaigns, newest first.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter, pr page.Request) ([]Campaign, string, error) {
	var out []Campaign
	var next string
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		rows, err := tx.CampaignList(ctx, db.CampaignListParams{
			OrganizationID: org, Status: optional(f.Status), Type: optional(f.Type), After: pr.After, Lim: pr.Fetch(),
		})
		if err != nil {
			return err
		}
		rows, next = page.Result(pr, rows, func(r db.Campaign) uuid.UUID { return r.ID })
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			if r.ScheduleConfigID != nil {
				ids = append(ids, r.ID)
			}
		}
		own := map[uuid.UUID]*Schedule{}
		if len(ids) > 0 {
			scheds, err := tx.ScheduleConfigListByCampaigns(ctx, org, ids)
			if err != nil {
				return err
			}
			for _, sc := range scheds {
				v := scheduleFromRow(sc, SourceCampaign)
				own[*sc.CampaignID] = &v
			}
		}
		out = make([]Campaign, len(rows))
		for i, r := range rows {
			if out[i], err = fromRow(r, own[r.ID]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// Update applies p, within what the campaign's status allows.
func (s *Service) Update(ctx context.Context, org, id uuid.UUID, p Patch) (Campaign, error) {
	var c Campaign
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CampaignGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		old, err := load(ctx, tx, row)
		if err != nil {
			return err
		}
		if err := p.allowedIn(old.Status); err != nil {
			return err
		}
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		in := p.apply(old)
		if err := in.normalize(s.now(), prof.Name, prof.Timezone, p.EndsAt.Set); err != nil {
			return err
		}
		ins := insertParams(org, id, in, actor(ctx))
		row, err = tx.CampaignUpdate(ctx, db.CampaignUpdateParams{
			OrganizationID: org, ID: id, Name: ins.Name, Description: ins.Description, Type: ins.Type,
			AudienceFilter: ins.AudienceFilter, AgentConfig: ins.AgentConfig, MaxAttempts: ins.MaxAttempts,
			RetryGapMinutes: ins.RetryGapMinutes, StartsAt: ins.StartsAt, EndsAt: ins.EndsAt, Actor: ins.Actor,
		})
		if err != nil {
			return err
		}
		own := old.Schedule
		if in.Schedule != nil {
			sc, err := setCampaignSchedule(ctx, tx, id, *in.Schedule)
			if err != nil {
				return err
			}
			v := scheduleFromRow(sc, SourceCampaign)
			own = &v
		}
		if c, err = fromRow(row, own); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Update, "campaign", id, old, c)
	})
	return c, err
}

// Delete removes a draft or cancelled campaign with its targets and
// schedule; other statuses are a conflict (cancel first).
func (s *Service) Delete(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.CampaignGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if st := Status(row.Status); st != Draft && st != Cancelled {
			return fault.Errorf(fault.Conflict, "the campaign is %s: only a draft or cancelled campaign can be deleted (cancel it first)", st)
		}
		old, err := load(ctx, tx, row)
		if err != nil {
			return err
		}
		if _, err := tx.CampaignDelete(ctx, org, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "campaign", id, old, nil)
	})
}

// normalize trims and validates in, filling defaults. endsChanged asks
// that ends_at, when set, lie in the future (an old campaign keeps its
// past end through unrelated edits).
func (in *Spec) normalize(now time.Time, orgName, orgTimezone string, endsChanged bool) error {
	var v problems
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	if in.Name == "" {
		v.add("body.name", "must not be blank")
	}
	if len(in.Name) > 200 {
		v.add("body.name", "must be at most 200 characters")
	}
	if len(in.Description) > 2000 {
		v.add("body.description", "must be at most 2000 characters")
	}
	if !slices.Contains(types, in.Type) {
		v.add("body.type", "must be one of "+strings.Join(types, ", "))
	}
	if in.MaxAttempts == 0 {
		in.MaxAttempts = DefaultMaxAttempts
	}
	if in.MaxAttempts < MinAttempts || in.MaxAttempts > MaxAttempts {
		v.add("body.max_attempts", fmt.Sprintf("must be between %d and %d", MinAttempts, MaxAttempts))
	}
	if in.RetryGapMinutes == 0 {
		in.RetryGapMinutes = DefaultRetryGapMinutes
	}
	if in.RetryGapMinutes < MinRetryGapMinutes || in.RetryGapMinutes > MaxRetryGapMinutes {
		v.add("body.retry_gap_minutes", fmt.Sprintf("must be between %d and %d minutes", MinRetryGapMinutes, MaxRetryGapMinutes))
	}
	if in.StartsAt != nil && in.EndsAt != nil && !in.StartsAt.Before(*in.EndsAt) {
		v.add("body.ends_at", "must be after starts_at")
	}
	if endsChanged && in.EndsAt != nil && !in.EndsAt.After(now) {
		v.add("body.ends_at", "must be in the future")
	}
	in.Audience.normalize(&v, "body.audience")
	in.Agent.normalize(&v, "body.agent", orgName)
	if in.Schedule != nil {
		in.Schedule.normalize(&v, "body.schedule", orgTimezone)
	}
	return v.err()
}

// allowedIn refuses the fields p changes that status fixes.
func (p Patch) allowedIn(status Status) error {
	var fixed []string
	switch status {
	case Draft:
		return nil
	case Scheduled, Active, Paused:
		fixed = p.sent(map[string]bool{"type": p.Type != nil, "audience": p.Audience != nil, "starts_at": p.StartsAt.Set})
	case Completed, Cancelled:
		fixed = p.sent(map[string]bool{
			"type": p.Type != nil, "audience": p.Audience != nil, "starts_at": p.StartsAt.Set,
			"agent": p.Agent != nil, "max_attempts": p.MaxAttempts != nil, "retry_gap_minutes": p.RetryGapMinutes != nil,
			"ends_at": p.EndsAt.Set, "schedule": p.Schedule != nil,
		})
	}
	if len(fixed) > 0 {
		return fault.Errorf(fault.Conflict, "the campaign is %s: %s can no longer change", status, strings.Join(fixed, ", "))
	}
	return nil
}

func (Patch) sent(fields map[string]bool) []string {
	var out []string
	for _, name := range []string{"type", "audience", "starts_at", "agent", "max_attempts", "retry_gap_minutes", "ends_at", "schedule"} {
		if fields[name] {
			out = append(out, name)
		}
	}
	return out
}

// apply returns c's fields as a Spec with p applied. The schedule is
// handled apart (it lives in its own table).
func (p Patch) apply(c Campaign) Spec {
	in := Spec{
		Name: c.Name, Description: c.Description, Type: c.Type, Audience: c.Audience, Agent: c.Agent,
		MaxAttempts: c.MaxAttempts, RetryGapMinutes: c.RetryGapMinutes, StartsAt: c.StartsAt, EndsAt: c.EndsAt,
	}
	if p.Name != nil {
		in.Name = *p.Name
	}
	if p.Description != nil {
		in.Description = *p.Description
	}
	if p.Type != nil {
		in.Type = *p.Type
	}
	if p.Audience != nil {
		in.Audience = *p.Audience
	}
	if p.Agent != nil {
		in.Agent = *p.Agent
	}
	if p.MaxAttempts != nil {
		in.MaxAttempts = *p.MaxAttempts
	}
	if p.RetryGapMinutes != nil {
		in.RetryGapMinutes = *p.RetryGapMinutes
	}
	if p.StartsAt.Set {
		in.StartsAt = p.StartsAt.Value
	}
	if p.EndsAt.Set {
		in.EndsAt = p.EndsAt.Value
	}
	in.Schedule = p.Schedule
	return in
}

func insertParams(org, id uuid.UUID, in Spec, by *uuid.UUID) db.CampaignInsertParams {
	audience, _ := json.Marshal(in.Audience) //nolint:errchkjson // plain struct of strings and ints
	agent, _ := json.Marshal(in.Agent)       //nolint:errchkjson // plain struct of strings
	return db.CampaignInsertParams{
		OrganizationID: org, ID: id, Name: in.Name, Description: in.Description, Type: in.Type,
		AudienceFilter: audience, AgentConfig: agent, MaxAttempts: int32(in.MaxAttempts), //nolint:gosec // validated 1–10
		RetryGapMinutes: int32(in.RetryGapMinutes), //nolint:gosec // validated ≤ 10080
		StartsAt:        in.StartsAt, EndsAt: in.EndsAt, Actor: by,
	}
}

// load reads a campaign row's own schedule and builds the API view.
func load(ctx context.Context, tx *postgres.Tx, r db.Campaign) (Campaign, error) {
	var own *Schedule
	if r.ScheduleConfigID != nil {
		sc, err := tx.ScheduleConfigGetByCampaign(ctx, r.OrganizationID, &r.ID)
		if err != nil {
			return Campaign{}, err
		}
		v := scheduleFromRow(sc, SourceCampaign)
		own = &v
	}
	return fromRow(r, own)
}

func fromRow(r db.Campaign, own *Schedule) (Campaign, error) {
	c := Campaign{
		ID: r.ID, Name: r.Name, Description: r.Description, Type: r.Type, Status: Status(r.Status),
		MaxAttempts: int(r.MaxAttempts), RetryGapMinutes: int(intervalDuration(r.RetryGap) / time.Minute),
		StartsAt: r.StartsAt, EndsAt: r.EndsAt, LaunchedAt: r.LaunchedAt, Schedule: own,
		CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if err := json.Unmarshal(r.AudienceFilter, &c.Audience); err != nil {
		return Campaign{}, fmt.Errorf("campaign %s: audience_filter: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.AgentConfig, &c.Agent); err != nil {
		return Campaign{}, fmt.Errorf("campaign %s: agent_config: %w", r.ID, err)
	}
	return c, nil
}

// intervalDuration converts an interval of days and time (never months:
// retry gaps are written as minutes) to a Duration.
func intervalDuration(iv pgtype.Interval) time.Duration {
	return time.Duration(iv.Microseconds)*time.Microsecond +
		time.Duration(iv.Days)*24*time.Hour + time.Duration(iv.Months)*30*24*time.Hour
}

// actor is the user acting, for created_by and updated_by (nil for an API
// key or a system caller).
func actor(ctx context.Context) *uuid.UUID {
	p := access.PrincipalFrom(ctx)
	if p == nil || p.UserID == uuid.Nil {
		return nil
	}
	id := p.UserID
	return &id
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// problems collects field errors so a request learns all of them at once.
type problems []fault.FieldError

func (p *problems) add(location, message string) {
	*p = append(*p, fault.FieldError{Location: location, Message: message})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &fault.Error{Code: fault.Invalid, Message: "validation failed", Fields: p}
}
