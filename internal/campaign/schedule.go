package campaign

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/compliance"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Where a schedule comes from.
const (
	SourceCampaign     = "campaign"     // the campaign's own
	SourceOrganization = "organization" // the organization default, as stored
	SourceDefault      = "default"      // nothing stored: the built-in default
)

// Schedule is a calling schedule: the days and hours, in its time zone,
// when the campaign's (or organization's) own rules allow calls. The
// dispatcher intersects it with the legal window in the recipient's zone.
type Schedule struct {
	Timezone        string `json:"timezone" example:"America/Chicago" doc:"IANA time zone of days and hours"`
	Days            []int  `json:"days" example:"[1,2,3,4,5]" doc:"ISO weekdays: 1 = Monday … 7 = Sunday"`
	StartTime       string `json:"start_time" example:"09:00" doc:"HH:MM, inclusive"`
	EndTime         string `json:"end_time" example:"18:00" doc:"HH:MM, exclusive"`
	AutoCallEnabled bool   `json:"auto_call_enabled" doc:"Whether the dispatcher calls on its own"`
	Source          string `json:"source" enum:"campaign,organization,default" doc:"campaign: its own; organization: the stored default; default: nothing stored"`
	// Start and End are StartTime and EndTime as offsets from local
	// midnight (for compliance.NewSchedule).
	Start time.Duration `json:"-"`
	End   time.Duration `json:"-"`
}

// ActiveDays returns Days as schedule_configs stores them (ISO weekdays),
// the form compliance.NewSchedule takes.
func (s Schedule) ActiveDays() []int16 {
	out := make([]int16, len(s.Days))
	for i, d := range s.Days {
		out[i] = int16(d) //nolint:gosec // 1–7
	}
	return out
}

// ScheduleInput sets a schedule.
type ScheduleInput struct {
	Timezone        string `json:"timezone,omitempty" maxLength:"64" example:"America/Chicago" doc:"IANA time zone; defaults to the organization's"`
	Days            []int  `json:"days" minItems:"1" maxItems:"7" example:"[1,2,3,4,5]" doc:"ISO weekdays: 1 = Monday … 7 = Sunday, each once"`
	StartTime       string `json:"start_time" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"09:00" doc:"HH:MM"`
	EndTime         string `json:"end_time" pattern:"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$" example:"18:00" doc:"HH:MM after start_time; 24:00 is midnight at the end of the day"`
	AutoCallEnabled *bool  `json:"auto_call_enabled,omitempty" doc:"Whether the dispatcher calls on its own (default true)"`
}

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// parseClock reads HH:MM as an offset from midnight; 24:00 only when
// endOfDay.
func parseClock(s string, endOfDay bool) (time.Duration, bool) {
	if endOfDay && s == "24:00" {
		return 24 * time.Hour, true
	}
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	var h, mi int
	_, _ = fmt.Sscanf(m[1]+" "+m[2], "%d %d", &h, &mi)
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute, true
}

func formatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// validTimezone reports whether name is an IANA zone this host knows.
func validTimezone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// normalize validates the schedule at location (body, body.schedule),
// defaulting the time zone to orgTimezone and auto-calling to on.
func (in *ScheduleInput) normalize(v *problems, location, orgTimezone string) {
	in.Timezone = strings.TrimSpace(in.Timezone)
	if in.Timezone == "" {
		in.Timezone = orgTimezone
	}
	if !validTimezone(in.Timezone) {
		v.add(location+".timezone", fmt.Sprintf("%q is not an IANA time zone (like America/Chicago)", in.Timezone))
	}
	if in.AutoCallEnabled == nil {
		on := true
		in.AutoCallEnabled = &on
	}
	if len(in.Days) == 0 {
		v.add(location+".days", "must name at least one day")
	}
	seen := map[int]bool{}
	for i, d := range in.Days {
		switch {
		case d < 1 || d > 7:
			v.add(fmt.Sprintf("%s.days[%d]", location, i), "must be an ISO weekday: 1 = Monday … 7 = Sunday")
		case seen[d]:
			v.add(fmt.Sprintf("%s.days[%d]", location, i), fmt.Sprintf("day %d is listed twice", d))
		}
		seen[d] = true
	}
	slices.Sort(in.Days)
	start, okStart := parseClock(in.StartTime, false)
	if !okStart {
		v.add(location+".start_time", "must be HH:MM (00:00–23:59)")
	}
	end, okEnd := parseClock(in.EndTime, true)
	if !okEnd {
		v.add(location+".end_time", "must be HH:MM (00:01–24:00)")
	}
	if okStart && okEnd && start >= end {
		v.add(location+".end_time", "must be after start_time (a window cannot span midnight)")
	}
}

func (in ScheduleInput) days() []int16 {
	out := make([]int16, len(in.Days))
	for i, d := range in.Days {
		out[i] = int16(d) //nolint:gosec // validated 1–7
	}
	return out
}

func (in ScheduleInput) clocks() (start, end pgtype.Time) {
	s, _ := parseClock(in.StartTime, false)
	e, _ := parseClock(in.EndTime, true)
	return pgtype.Time{Microseconds: s.Microseconds(), Valid: true}, pgtype.Time{Microseconds: e.Microseconds(), Valid: true}
}

func scheduleFromRow(r db.ScheduleConfig, source string) Schedule {
	days := make([]int, len(r.ActiveDays))
	for i, d := range r.ActiveDays {
		days[i] = int(d)
	}
	start := time.Duration(r.StartTime.Microseconds) * time.Microsecond
	end := time.Duration(r.EndTime.Microseconds) * time.Microsecond
	return Schedule{
		Timezone: r.Timezone, Days: days, StartTime: formatClock(start), EndTime: formatClock(end),
		AutoCallEnabled: r.AutoCallEnabled, Source: source, Start: start, End: end,
	}
}

// defaultSchedule is compliance's built-in default (the one the dispatcher
// applies when nothing is stored) in the organization's time zone.
func defaultSchedule(timezone string) Schedule {
	days := make([]int, len(compliance.DefaultScheduleDays))
	for i, d := range compliance.DefaultScheduleDays {
		days[i] = int(d)
	}
	start, end := compliance.DefaultScheduleStart, compliance.DefaultScheduleEnd
	return Schedule{
		Timezone: timezone, Days: days, StartTime: formatClock(start), EndTime: formatClock(end),
		AutoCallEnabled: true, Source: SourceDefault, Start: start, End: end,
	}
}

// OrgSchedule returns the organization's default schedule: the stored one,
// else the built-in default in the organization's time zone.
func (s *Service) OrgSchedule(ctx context.Context, org uuid.UUID) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		sc, err = orgSchedule(ctx, tx)
		return err
	})
	return sc, err
}

func orgSchedule(ctx context.Context, tx *postgres.Tx) (Schedule, error) {
	row, err := tx.ScheduleConfigGetDefault(ctx, tx.Org)
	if err == nil {
		return scheduleFromRow(row, SourceOrganization), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Schedule{}, err
	}
	prof, err := tx.CampaignOrgProfile(ctx, tx.Org)
	if err != nil {
		return Schedule{}, err
	}
	return defaultSchedule(prof.Timezone), nil
}

// SetOrgSchedule stores the organization's default schedule.
func (s *Service) SetOrgSchedule(ctx context.Context, org uuid.UUID, in ScheduleInput) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		var v problems
		in.normalize(&v, "body", prof.Timezone)
		if err := v.err(); err != nil {
			return err
		}
		old, err := orgSchedule(ctx, tx)
		if err != nil {
			return err
		}
		start, end := in.clocks()
		row, err := tx.ScheduleConfigUpsertDefault(ctx, db.ScheduleConfigUpsertDefaultParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Timezone: in.Timezone, ActiveDays: in.days(),
			StartTime: start, EndTime: end, AutoCallEnabled: *in.AutoCallEnabled,
		})
		if err != nil {
			return err
		}
		sc = scheduleFromRow(row, SourceOrganization)
		if old.Source == SourceDefault {
			return audit.Record(ctx, tx, audit.Create, "schedule_config", row.ID, nil, sc)
		}
		return audit.Record(ctx, tx, audit.Update, "schedule_config", row.ID, old, sc)
	})
	return sc, err
}

// CampaignSchedule returns the schedule that applies to a campaign: its
// own, else the organization's (Source says which).
func (s *Service) CampaignSchedule(ctx context.Context, org, id uuid.UUID) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if _, err := tx.CampaignGet(ctx, org, id); err != nil {
			return err
		}
		var err error
		sc, err = EffectiveScheduleTx(ctx, tx, id)
		return err
	})
	return sc, err
}

// SetCampaignSchedule gives a campaign its own schedule, or replaces it. A
// completed or cancelled campaign's schedule no longer changes
// (fault.Conflict).
func (s *Service) SetCampaignSchedule(ctx context.Context, org, id uuid.UUID, in ScheduleInput) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if err := lockChangeable(ctx, tx, id, "schedule"); err != nil {
			return err
		}
		prof, err := tx.CampaignOrgProfile(ctx, org)
		if err != nil {
			return err
		}
		var v problems
		in.normalize(&v, "body", prof.Timezone)
		if err := v.err(); err != nil {
			return err
		}
		old, err := ownSchedule(ctx, tx, id)
		if err != nil {
			return err
		}
		row, err := setCampaignSchedule(ctx, tx, id, in)
		if err != nil {
			return err
		}
		sc = scheduleFromRow(row, SourceCampaign)
		if old == nil {
			return audit.Record(ctx, tx, audit.Create, "schedule_config", row.ID, nil, sc)
		}
		return audit.Record(ctx, tx, audit.Update, "schedule_config", row.ID, old, sc)
	})
	return sc, err
}

// ClearCampaignSchedule removes a campaign's own schedule, so the
// organization's applies again, and returns that one. Clearing a schedule
// the campaign does not have changes nothing.
func (s *Service) ClearCampaignSchedule(ctx context.Context, org, id uuid.UUID) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if err := lockChangeable(ctx, tx, id, "schedule"); err != nil {
			return err
		}
		if err := clearCampaignSchedule(ctx, tx, id); err != nil {
			return err
		}
		var err error
		sc, err = orgSchedule(ctx, tx)
		return err
	})
	return sc, err
}

// EffectiveSchedule returns the schedule that governs a campaign's calls:
// its own, else the organization's stored default, else the built-in
// default. For the dispatcher; it does not check that the campaign exists.
func (s *Service) EffectiveSchedule(ctx context.Context, org, campaignID uuid.UUID) (Schedule, error) {
	var sc Schedule
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		sc, err = EffectiveScheduleTx(ctx, tx, campaignID)
		return err
	})
	return sc, err
}

// EffectiveScheduleTx is EffectiveSchedule inside the caller's tenant
// transaction (the dispatcher's scheduler pass): one query, two when
// nothing is stored.
func EffectiveScheduleTx(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) (Schedule, error) {
	rows, err := tx.ScheduleConfigEffective(ctx, tx.Org, &campaignID)
	if err != nil {
		return Schedule{}, err
	}
	if len(rows) == 1 {
		source := SourceOrganization
		if rows[0].CampaignID != nil {
			source = SourceCampaign
		}
		return scheduleFromRow(rows[0], source), nil
	}
	prof, err := tx.CampaignOrgProfile(ctx, tx.Org)
	if err != nil {
		return Schedule{}, err
	}
	return defaultSchedule(prof.Timezone), nil
}

// ownSchedule returns a campaign's own schedule, nil when it has none.
func ownSchedule(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) (*Schedule, error) {
	row, err := tx.ScheduleConfigGetByCampaign(ctx, tx.Org, &campaignID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil //nolint:nilnil // no own schedule is a normal answer
	}
	if err != nil {
		return nil, err
	}
	sc := scheduleFromRow(row, SourceCampaign)
	return &sc, nil
}

// setCampaignSchedule stores a campaign's own (normalized) schedule and
// points the campaign at it.
func setCampaignSchedule(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID, in ScheduleInput) (db.ScheduleConfig, error) {
	start, end := in.clocks()
	row, err := tx.ScheduleConfigUpsertCampaign(ctx, db.ScheduleConfigUpsertCampaignParams{
		OrganizationID: tx.Org, ID: uuid.Must(uuid.NewV7()), CampaignID: &campaignID, Timezone: in.Timezone,
		ActiveDays: in.days(), StartTime: start, EndTime: end, AutoCallEnabled: *in.AutoCallEnabled,
	})
	if err != nil {
		return db.ScheduleConfig{}, err
	}
	return row, tx.CampaignSetScheduleConfig(ctx, db.CampaignSetScheduleConfigParams{
		OrganizationID: tx.Org, ID: campaignID, ScheduleConfigID: &row.ID,
	})
}

// clearCampaignSchedule removes a campaign's own schedule, auditing it.
func clearCampaignSchedule(ctx context.Context, tx *postgres.Tx, campaignID uuid.UUID) error {
	rows, err := tx.ScheduleConfigDeleteByCampaign(ctx, tx.Org, &campaignID)
	if err != nil {
		return err
	}
	if err := tx.CampaignSetScheduleConfig(ctx, db.CampaignSetScheduleConfigParams{OrganizationID: tx.Org, ID: campaignID}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := audit.Record(ctx, tx, audit.Delete, "schedule_config", r.ID, scheduleFromRow(r, SourceCampaign), nil); err != nil {
			return err
		}
	}
	return nil
}

// lockChangeable locks a campaign whose settings may still change: not
// completed or cancelled (fault.Conflict naming what).
func lockChangeable(ctx context.Context, tx *postgres.Tx, id uuid.UUID, what string) error {
	row, err := tx.CampaignGetForUpdate(ctx, tx.Org, id)
	if err != nil {
		return err
	}
	if st := Status(row.Status); st == Completed || st == Cancelled {
		return fault.Errorf(fault.Conflict, "the campaign is %s: its %s can no longer change", st, what)
	}
	return nil
}
