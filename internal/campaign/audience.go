package campaign

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/autopulse/autopulse/internal/dispatch"
)

// Audience selects who a campaign calls: customers with a phone whose
// latest service record matching the filter falls in it. Every condition
// given must hold; within a list, any entry matches. An empty Audience
// matches every customer with a service record.
type Audience struct {
	ServiceDaysAgo  *DayRange `json:"service_days_ago,omitempty" doc:"The service closed between min and max days ago (inclusive), counted in the organization's time zone at launch: {min:1,max:3} is 1 to 3 days ago"`
	ServiceDateFrom string    `json:"service_date_from,omitempty" format:"date" example:"2025-01-01" doc:"The service day is on or after this date (not with service_days_ago)"`
	ServiceDateTo   string    `json:"service_date_to,omitempty" format:"date" example:"2025-03-31" doc:"The service day is on or before this date (not with service_days_ago)"`
	ServiceTypes    []string  `json:"service_types,omitempty" maxItems:"50" doc:"Service types, case-insensitive"`
	Makes           []string  `json:"makes,omitempty" maxItems:"50" doc:"Vehicle makes, case-insensitive"`
	CustomerTags    []string  `json:"customer_tags,omitempty" maxItems:"50" doc:"Customers with any of these tags (exact)"`
	NotCalledInDays int       `json:"not_called_in_days,omitempty" minimum:"1" maximum:"365" doc:"Skip numbers called (by any campaign) in this many days"`
}

// DayRange is a window of days before today.
type DayRange struct {
	Min int `json:"min" minimum:"0" maximum:"3650" doc:"Days ago, nearest (0 is today)"`
	Max int `json:"max" minimum:"0" maximum:"3650" doc:"Days ago, farthest"`
}

const (
	maxListEntries = 50
	maxEntryLength = 100
	maxDaysAgo     = 3650
)

func (a *Audience) normalize(v *problems, location string) {
	if r := a.ServiceDaysAgo; r != nil {
		if r.Min < 0 || r.Max > maxDaysAgo || r.Min > r.Max {
			v.add(location+".service_days_ago", fmt.Sprintf("needs 0 ≤ min ≤ max ≤ %d", maxDaysAgo))
		}
		if a.ServiceDateFrom != "" || a.ServiceDateTo != "" {
			v.add(location+".service_days_ago", "give either service_days_ago or service_date_from/service_date_to, not both")
		}
	}
	from, okFrom := parseDay(a.ServiceDateFrom)
	if !okFrom {
		v.add(location+".service_date_from", "must be a date, YYYY-MM-DD")
	}
	to, okTo := parseDay(a.ServiceDateTo)
	if !okTo {
		v.add(location+".service_date_to", "must be a date, YYYY-MM-DD")
	}
	if okFrom && okTo && !from.IsZero() && !to.IsZero() && to.Before(from) {
		v.add(location+".service_date_to", "must not be before service_date_from")
	}
	a.ServiceTypes = normalizeList(v, location+".service_types", a.ServiceTypes, true)
	a.Makes = normalizeList(v, location+".makes", a.Makes, true)
	a.CustomerTags = normalizeList(v, location+".customer_tags", a.CustomerTags, false)
	if a.NotCalledInDays < 0 || a.NotCalledInDays > 365 {
		v.add(location+".not_called_in_days", "must be between 1 and 365")
	}
}

// normalizeList trims (and with fold, lowercases) entries, drops
// duplicates, and refuses blank or long ones. An empty list is nil (no
// filter).
func normalizeList(v *problems, location string, in []string, fold bool) []string {
	if len(in) > maxListEntries {
		v.add(location, fmt.Sprintf("must have at most %d entries", maxListEntries))
		return in
	}
	var out []string
	seen := map[string]bool{}
	for i, s := range in {
		s = strings.TrimSpace(s)
		if fold {
			s = strings.ToLower(s)
		}
		switch {
		case s == "":
			v.add(fmt.Sprintf("%s[%d]", location, i), "must not be blank")
		case utf8.RuneCountInString(s) > maxEntryLength:
			v.add(fmt.Sprintf("%s[%d]", location, i), fmt.Sprintf("must be at most %d characters", maxEntryLength))
		case !seen[s]:
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// parseDay reads YYYY-MM-DD; "" is the zero time (no bound).
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// audienceArgs are campaign_audience()'s arguments.
type audienceArgs struct {
	Timezone                  string
	ServiceFrom, ServiceTo    pgtype.Date
	ServiceTypes, Makes, Tags []string
	NotCalledSince            *time.Time
}

// args resolves the filter at instant now in the organization's zone:
// relative days become dates, "not called in N days" an instant.
func (a Audience) args(now time.Time, timezone string) audienceArgs {
	out := audienceArgs{Timezone: timezone, ServiceTypes: a.ServiceTypes, Makes: a.Makes, Tags: a.CustomerTags}
	var from, to time.Time
	if r := a.ServiceDaysAgo; r != nil {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		from, to = today.AddDate(0, 0, -r.Max), today.AddDate(0, 0, -r.Min)
	} else {
		from, _ = parseDay(a.ServiceDateFrom)
		to, _ = parseDay(a.ServiceDateTo)
	}
	if !from.IsZero() {
		out.ServiceFrom = pgtype.Date{Time: from, Valid: true}
	}
	if !to.IsZero() {
		out.ServiceTo = pgtype.Date{Time: to, Valid: true}
	}
	if a.NotCalledInDays > 0 {
		since := now.AddDate(0, 0, -a.NotCalledInDays)
		out.NotCalledSince = &since
	}
	return out
}

// AgentConfig is what the voice agent is given for the campaign's calls.
// It names a provider assistant, or carries the prompt and first message
// itself.
type AgentConfig struct {
	AssistantID  string            `json:"assistant_id,omitempty" maxLength:"128" doc:"The provider's assistant; or give prompt and first_message"`
	Prompt       string            `json:"prompt,omitempty" maxLength:"20000" doc:"The agent's instructions (without assistant_id)"`
	FirstMessage string            `json:"first_message,omitempty" maxLength:"2000" doc:"What the agent says after the disclosure (without assistant_id)"`
	Variables    map[string]string `json:"variables,omitempty" doc:"Values passed to the agent, by name ([A-Za-z_][A-Za-z0-9_]*, at most 50)"`
	Disclosure   string            `json:"disclosure,omitempty" maxLength:"1000" doc:"Said first on every call: who is calling and that the call is recorded. Defaults to a text naming the organization"`
	ReviewLink   string            `json:"review_link,omitempty" maxLength:"2048" doc:"https link sent to promoters instead of the organization's"`
}

const (
	maxVariables     = 50
	maxVariableValue = 1000
)

var variableNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// DefaultDisclosure is the disclosure of a campaign that gives none: the
// dispatcher's text, so a campaign call and a one-off call open alike.
func DefaultDisclosure(orgName string) string { return dispatch.DefaultDisclosure(orgName) }

func (a *AgentConfig) normalize(v *problems, location, orgName string) {
	a.AssistantID = strings.TrimSpace(a.AssistantID)
	a.Prompt = strings.TrimSpace(a.Prompt)
	a.FirstMessage = strings.TrimSpace(a.FirstMessage)
	a.Disclosure = strings.TrimSpace(a.Disclosure)
	a.ReviewLink = strings.TrimSpace(a.ReviewLink)
	switch {
	case a.AssistantID != "" && (a.Prompt != "" || a.FirstMessage != ""):
		v.add(location+".assistant_id", "give assistant_id, or prompt and first_message, not both")
	case a.AssistantID == "":
		if a.Prompt == "" {
			v.add(location+".prompt", "is required without assistant_id")
		}
		if a.FirstMessage == "" {
			v.add(location+".first_message", "is required without assistant_id")
		}
	}
	if len(a.Variables) > maxVariables {
		v.add(location+".variables", fmt.Sprintf("must have at most %d entries", maxVariables))
	}
	for name, value := range a.Variables {
		if !variableNameRe.MatchString(name) {
			v.add(location+".variables."+name, "a name is a letter or _ then letters, digits or _ (at most 64)")
		}
		if utf8.RuneCountInString(value) > maxVariableValue {
			v.add(location+".variables."+name, fmt.Sprintf("must be at most %d characters", maxVariableValue))
		}
	}
	if len(a.Variables) == 0 {
		a.Variables = nil
	}
	if a.Disclosure == "" {
		a.Disclosure = DefaultDisclosure(orgName)
	} else if !strings.Contains(strings.ToLower(a.Disclosure), "record") {
		v.add(location+".disclosure", "must tell the customer the call is recorded")
	}
	if a.ReviewLink != "" {
		u, err := url.Parse(a.ReviewLink)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			v.add(location+".review_link", "must be an https URL")
		}
	}
}
