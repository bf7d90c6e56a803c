package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/autopulse/autopulse/internal/fault"
)

// The federal calling window: no telephone solicitation before 8 a.m. or
// after 9 p.m. local time at the called party's location (47 CFR
// 64.1200(c)(1)). Windows are half-open: 08:00:00 is inside, 21:00:00 is
// not.
const (
	FederalStart = 8 * time.Hour
	FederalEnd   = 21 * time.Hour
)

// MaxCallsPerNumber24h caps calls to one number in any rolling 24 hours,
// across all of an organization's campaigns (AutoPulse policy; DESIGN.md).
const MaxCallsPerNumber24h = 3

// StateRule is a state's own calling rule, stricter than the federal one,
// applied when the recipient may be in that state.
type StateRule struct {
	State      string
	WindowRule string        // decision rule code of the window
	Start, End time.Duration // the state's calling window, local time
	// MaxCallsSameSubject24h caps calls on the same subject in any rolling
	// 24 hours (0: no such cap); FrequencyRule is its decision rule code.
	MaxCallsSameSubject24h int
	FrequencyRule          string
	Citation               string
}

// stateRules: only Florida is modelled (see the package doc).
var stateRules = []StateRule{{
	State:                  "FL",
	WindowRule:             RuleWindowFlorida,
	Start:                  8 * time.Hour,
	End:                    20 * time.Hour,
	MaxCallsSameSubject24h: 3,
	FrequencyRule:          RuleFrequencyFlorida,
	Citation:               "Fla. Stat. §501.616(6)",
}}

// StateRules returns the state rules in force.
func StateRules() []StateRule { return slices.Clone(stateRules) }

// Days is a set of weekdays.
type Days uint8

// Common day sets.
const (
	EveryDay Days = 1<<7 - 1
	Weekdays Days = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday
)

// DaysOf returns the set of the given weekdays.
func DaysOf(days ...time.Weekday) Days {
	var d Days
	for _, w := range days {
		d |= 1 << (w % 7)
	}
	return d
}

// Has reports whether w is in the set.
func (d Days) Has(w time.Weekday) bool { return d&(1<<(w%7)) != 0 }

func (d Days) String() string {
	if d&EveryDay == EveryDay {
		return "every day"
	}
	var names []string
	for w := time.Monday; ; w = (w + 1) % 7 {
		if d.Has(w) {
			names = append(names, w.String()[:3])
		}
		if w == time.Sunday {
			break
		}
	}
	if len(names) == 0 {
		return "no day"
	}
	return strings.Join(names, ", ")
}

// Schedule is a campaign's or organization's own calling hours, in its own
// zone (schedule_configs). The zero Schedule (nil Location) restricts
// nothing: only the legal windows apply.
type Schedule struct {
	Location *time.Location
	Days     Days
	Start    time.Duration // local wall clock from midnight, inclusive
	End      time.Duration // exclusive; after Start, at most 24h
	Disabled bool          // automatic calling switched off (auto_call_enabled = false)
}

// The built-in default schedule, which governs when neither a campaign nor
// its organization stores one: Monday to Friday, 09:00–18:00 in the
// organization's time zone, calling automatically.
var (
	DefaultScheduleDays  = []int16{1, 2, 3, 4, 5} // ISO weekdays
	DefaultScheduleStart = 9 * time.Hour
	DefaultScheduleEnd   = 18 * time.Hour
)

// DefaultSchedule returns the built-in default schedule in timezone.
func DefaultSchedule(timezone string) (Schedule, error) {
	return NewSchedule(timezone, DefaultScheduleDays, DefaultScheduleStart, DefaultScheduleEnd, true)
}

// NewSchedule builds a Schedule from a schedule_configs row: an IANA zone,
// active days as ISO weekdays (1 = Monday … 7 = Sunday; 0 is accepted for
// Sunday), and start and end as offsets from local midnight (pgtype.Time
// microseconds × time.Microsecond). It returns fault.Invalid for a bad zone,
// day or time range.
func NewSchedule(timezone string, activeDays []int16, start, end time.Duration, autoCallEnabled bool) (Schedule, error) {
	loc, err := loadLocation(timezone)
	if err != nil {
		return Schedule{}, fault.InvalidField("timezone", fmt.Sprintf("%q is not an IANA time zone", timezone))
	}
	var days Days
	for _, d := range activeDays {
		if d < 0 || d > 7 {
			return Schedule{}, fault.InvalidField("active_days", fmt.Sprintf("%d is not an ISO weekday (1 = Monday … 7 = Sunday)", d))
		}
		days |= DaysOf(time.Weekday(d % 7))
	}
	if start < 0 || end > 24*time.Hour || start >= end {
		return Schedule{}, fault.InvalidField("start_time", "start_time must be before end_time, within one day")
	}
	return Schedule{Location: loc, Days: days, Start: start, End: end, Disabled: !autoCallEnabled}, nil
}

func (s Schedule) String() string {
	if s.Location == nil {
		return "no schedule"
	}
	return fmt.Sprintf("%s %s–%s %s", s.Days, clock(s.Start), clock(s.End), s.Location)
}

// clock formats an offset from midnight as HH:MM (HH:MM:SS when needed).
func clock(d time.Duration) string {
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

// wall returns the local wall-clock time of day of t in loc, and its
// weekday.
func wall(t time.Time, loc *time.Location) (time.Duration, time.Weekday) {
	lt := t.In(loc)
	h, m, s := lt.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second +
		time.Duration(lt.Nanosecond()), lt.Weekday()
}

// legalWindow is one legal rule's window, applied in every recipient zone.
type legalWindow struct {
	rule, name, citation string
	start, end           time.Duration
}

// plan evaluates the calling windows of one recipient under one schedule.
type plan struct {
	zones      []*time.Location
	zoneNames  []string
	windows    []legalWindow // the federal window first
	start, end time.Duration // their intersection
	sched      Schedule
	fellBack   bool // the zones were unusable: the strictest assumption is in force
}

// searchHorizon bounds the search for the next window: any weekly schedule
// that opens at all opens within 8 days.
const searchHorizon = 8 * 24 * time.Hour

func newPlan(z Zones, s Schedule) *plan {
	p := &plan{sched: s}
	if !p.setZones(z) {
		p.fellBack = true
		z = Strictest()
		p.setZones(z)
	}
	p.windows = append(p.windows, legalWindow{rule: RuleWindowFederal, name: "federal", citation: "47 CFR 64.1200(c)(1)", start: FederalStart, end: FederalEnd})
	for _, r := range stateRules {
		if z.in(r.State) {
			p.windows = append(p.windows, legalWindow{rule: r.WindowRule, name: r.State, citation: r.Citation, start: r.Start, end: r.End})
		}
	}
	p.start, p.end = 0, 24*time.Hour
	for _, w := range p.windows {
		p.start, p.end = max(p.start, w.start), min(p.end, w.end)
	}
	return p
}

func (p *plan) setZones(z Zones) bool {
	if len(z.Names) == 0 {
		return false
	}
	p.zones, p.zoneNames = p.zones[:0], p.zoneNames[:0]
	for _, name := range z.Names {
		loc, err := loadLocation(name)
		if err != nil {
			return false
		}
		p.zones = append(p.zones, loc)
		p.zoneNames = append(p.zoneNames, name)
	}
	return true
}

// allowed reports whether every window admits a call at t.
func (p *plan) allowed(t time.Time) bool {
	if s := p.sched; s.Location != nil {
		w, day := wall(t, s.Location)
		if !s.Days.Has(day) || w < s.Start || w >= s.End {
			return false
		}
	}
	for _, loc := range p.zones {
		if w, _ := wall(t, loc); w < p.start || w >= p.end {
			return false
		}
	}
	return true
}

// violation returns the first window rule that forbids a call at t, legal
// rules first, with a reason; "" when none does.
func (p *plan) violation(t time.Time) (rule, reason string) {
	for _, lw := range p.windows {
		for i, loc := range p.zones {
			if w, _ := wall(t, loc); w < lw.start || w >= lw.end {
				reason = fmt.Sprintf("it is %s in %s, outside the %s calling window %s–%s (%s)",
					t.In(loc).Format("Mon 15:04 MST"), p.zoneNames[i], lw.name, clock(lw.start), clock(lw.end), lw.citation)
				if p.fellBack {
					reason += "; the recipient's location is unknown, so every US zone must be inside the window"
				}
				return lw.rule, reason
			}
		}
	}
	if s := p.sched; s.Location != nil {
		w, day := wall(t, s.Location)
		local := t.In(s.Location).Format("Mon 15:04 MST")
		if !s.Days.Has(day) {
			return RuleScheduleDay, fmt.Sprintf("it is %s in %s; the schedule calls on %s", local, s.Location, s.Days)
		}
		if w < s.Start || w >= s.End {
			return RuleScheduleHours, fmt.Sprintf("it is %s in %s, outside the schedule's hours %s–%s", local, s.Location, clock(s.Start), clock(s.End))
		}
	}
	return "", ""
}

// next returns the earliest instant in [from, limit) at which a call is
// allowed.
func (p *plan) next(from, limit time.Time) (time.Time, bool) {
	return p.search(from, limit, true)
}

// closes returns the first instant after from at which calls stop being
// allowed (from must be allowed).
func (p *plan) closes(from time.Time) time.Time {
	t, _ := p.search(from, from.Add(48*time.Hour), false)
	return t
}

// search finds the earliest instant in [from, limit) whose allowed state is
// want. The allowed state can change only where some zone's wall clock
// reaches a window edge or local midnight, or where a zone's UTC offset
// changes (a DST jump), and it is constant from one such instant to the
// next; so only those instants need testing, and the answer is exact to
// the nanosecond across DST gaps and repeated hours.
func (p *plan) search(from, limit time.Time, want bool) (time.Time, bool) {
	if p.allowed(from) == want {
		return from, true
	}
	const chunk = 24 * time.Hour
	cands := make([]time.Time, 0, 64)
	for lo := from; lo.Before(limit); lo = lo.Add(chunk) {
		hi := lo.Add(chunk)
		if hi.After(limit) {
			hi = limit
		}
		cands = cands[:0]
		for _, loc := range p.zones {
			cands = crossings(cands, loc, []time.Duration{p.start, p.end}, lo, hi)
		}
		if s := p.sched; s.Location != nil {
			cands = crossings(cands, s.Location, []time.Duration{0, s.Start, s.End}, lo, hi)
		}
		slices.SortFunc(cands, time.Time.Compare)
		for _, c := range cands {
			if c.Before(limit) && p.allowed(c) == want {
				return c, true
			}
		}
	}
	return time.Time{}, false
}

// crossings appends every instant in (from, to] at which loc's wall clock
// shows one of walls, and every instant in (from, to] at which loc's UTC
// offset changes.
func crossings(out []time.Time, loc *time.Location, walls []time.Duration, from, to time.Time) []time.Time {
	// The offset periods around [from, to]: a local date's instants lie
	// within 38 hours of its midnight read as UTC, for any real offset.
	type period struct {
		start, end time.Time // zero start: since ever; zero end: for ever
		off        time.Duration
	}
	var periods [4]period
	n := 0
	for t, limit := from.Add(-38*time.Hour), to.Add(38*time.Hour); n < len(periods); n++ {
		lt := t.In(loc)
		_, off := lt.Zone()
		start, end := lt.ZoneBounds()
		periods[n] = period{start: start, end: end, off: time.Duration(off) * time.Second}
		if !end.IsZero() && end.After(from) && !end.After(to) {
			out = append(out, end)
		}
		if end.IsZero() || !end.Before(limit) {
			n++
			break
		}
		t = end
	}
	fy, fm, fd := from.In(loc).Date()
	ty, tm, td := to.In(loc).Date()
	last := time.Date(ty, tm, td+1, 0, 0, 0, 0, time.UTC)
	// day is a local date written as midnight UTC; a wall time on it maps
	// to an instant through the offset of the period that instant falls in
	// (none in a DST gap, two in a repeated hour).
	for day := time.Date(fy, fm, fd-1, 0, 0, 0, 0, time.UTC); !day.After(last); day = day.AddDate(0, 0, 1) {
		for _, w := range walls {
			naive := day.Add(w)
			for _, p := range periods[:n] {
				inst := naive.Add(-p.off)
				if (p.start.IsZero() || !inst.Before(p.start)) && (p.end.IsZero() || inst.Before(p.end)) &&
					inst.After(from) && !inst.After(to) {
					out = append(out, inst)
				}
			}
		}
	}
	return out
}

// NextWindowStart returns the earliest instant at or after now at which the
// legal windows of the recipient's zones and the schedule's hours all admit
// a call, searching 8 days ahead; ok is false when they never meet. It
// ignores Schedule.Disabled.
func NextWindowStart(now time.Time, zones Zones, schedule Schedule) (t time.Time, ok bool) {
	return newPlan(zones, schedule).next(now, now.Add(searchHorizon))
}
