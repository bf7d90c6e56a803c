package compliance

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	// The calling window is law: it must not depend on the zoneinfo files
	// of the machine (a scratch container has none). The embedded database
	// is used only when the system's cannot be found.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
)

// Source says where a recipient's zones came from.
type Source string

// The sources, most precise first.
const (
	SourcePostalCode Source = "postal_code"
	SourceState      Source = "state"
	SourcePhone      Source = "phone" // the area code
	SourceStrictest  Source = "strictest"
)

// Zones is where a recipient may be: every IANA zone they could be in and
// every state whose calling rules could apply. A call is allowed only when
// it is allowed in all of them.
type Zones struct {
	Names  []string // IANA zone names, sorted, deduplicated
	States []string // two-letter codes, sorted, deduplicated; may be empty (outside the US)
}

// String renders the zones for logs and decision reasons.
func (z Zones) String() string {
	s := strings.Join(z.Names, ", ")
	if len(z.States) > 0 && len(z.States) <= 3 {
		s += " (" + strings.Join(z.States, ", ") + ")"
	}
	return s
}

// in reports whether state may apply.
func (z Zones) in(state string) bool { return slices.Contains(z.States, state) }

// Strictest returns the assumption for a recipient of unknown location:
// any zone and any state of the 50 (and DC).
func Strictest() Zones {
	return Zones{Names: sortedUnique(strictestZones), States: slices.Clone(usStates)}
}

// ResolveZone works out where the recipient of a call may be, from the
// best information available:
//  1. the postal code (ZIP prefix → state and zones; when a state is also
//     given and disagrees, both count);
//  2. else the state;
//  3. else the phone number's area code (for +1 numbers, the table in this
//     package; for others, libphonenumber's time-zone data);
//  4. else the strictest assumption: every zone of the 50 states.
//
// Whatever the source, a phone number with a Florida area code adds Florida
// and that area code's zones: Florida presumes a call to a Florida area code
// is made to a Florida resident or to a person in Florida at the time of
// the call (Fla. Stat. §501.059).
func ResolveZone(postalCode, state, phoneE164 string) (Zones, Source) {
	var z Zones
	var source Source
	state = strings.ToUpper(strings.TrimSpace(state))
	if _, known := stateZones[state]; !known {
		state = ""
	}
	npa, npaState := areaCodeOf(phoneE164)

	if zipState, zones, ok := zipZones(postalCode); ok {
		z = Zones{Names: zones, States: []string{zipState}}
		if state != "" && state != zipState {
			z.Names = append(z.Names, stateZones[state]...)
			z.States = append(z.States, state)
		}
		source = SourcePostalCode
	} else if state != "" {
		z = Zones{Names: slices.Clone(stateZones[state]), States: []string{state}}
		source = SourceState
	} else if npaState != "" {
		z = Zones{Names: slices.Clone(areaCodeZonesOf(npa, npaState)), States: []string{npaState}}
		source = SourcePhone
	} else if zones, ok := phoneLibraryZones(phoneE164); ok {
		z = Zones{Names: zones}
		source = SourcePhone
	} else {
		return Strictest(), SourceStrictest
	}
	if npaState == "FL" && !z.in("FL") {
		z.Names = append(z.Names, areaCodeZonesOf(npa, npaState)...)
		z.States = append(z.States, "FL")
	}
	z.Names = sortedUnique(z.Names)
	z.States = sortedUnique(z.States)
	return z, source
}

// zipZones resolves a US ZIP code (12345, 12345-6789 or 123456789).
func zipZones(postal string) (state string, zones []string, ok bool) {
	p := strings.TrimSpace(postal)
	if len(p) < 5 {
		return "", nil, false
	}
	zip5 := 0
	for i := 0; i < 5; i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", nil, false
		}
		zip5 = zip5*10 + int(p[i]-'0')
	}
	if rest := p[5:]; rest != "" && !validPlus4(rest) {
		return "", nil, false
	}
	zip3 := zip5 / 100
	switch {
	case zip5 == 96799:
		return "AS", []string{Samoa}, true
	case zip5 >= 96950 && zip5 <= 96952:
		return "MP", []string{Chamorro}, true
	case zip3 == 969 && (zip5 < 96910 || zip5 > 96939):
		return "", nil, false // Palau, Micronesia, Marshall Islands: not US
	}
	for _, r := range zip3Ranges {
		if zip3 >= r.lo && zip3 <= r.hi {
			if zones, ok := zip3Zones[zip3]; ok {
				return r.state, slices.Clone(zones), true
			}
			return r.state, slices.Clone(stateZones[r.state]), true
		}
	}
	return "", nil, false
}

func validPlus4(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// areaCodeOf returns the area code of a +1 number and its state, or "".
func areaCodeOf(phone string) (npa, state string) {
	if len(phone) != 12 || !strings.HasPrefix(phone, "+1") {
		return "", ""
	}
	npa = phone[2:5]
	return npa, areaCodes[npa]
}

// areaCodeZonesOf returns the zones of a known area code.
func areaCodeZonesOf(npa, state string) []string {
	if zones, ok := areaCodeZones[npa]; ok {
		return zones
	}
	return stateZones[state]
}

// phoneLibraryZones asks libphonenumber for the zones of a number outside
// the area-code table (another country, or a US area code newer than the
// table). An answer naming more than a few zones (toll-free, "anywhere in
// the NANP") counts as no answer.
func phoneLibraryZones(phone string) (zones []string, ok bool) {
	defer func() {
		if recover() != nil { // a library bug must not stop the dispatcher
			zones, ok = nil, false
		}
	}()
	if strings.TrimSpace(phone) == "" {
		return nil, false
	}
	num, err := phonenumbers.Parse(phone, "US")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return nil, false
	}
	names, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(names) == 0 || len(names) > 4 {
		return nil, false
	}
	for _, n := range names {
		if _, err := loadLocation(n); err != nil {
			return nil, false
		}
	}
	return names, true
}

// locations caches loaded zones: time.LoadLocation reads and parses the
// zone file on every call.
var locations sync.Map // string → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		// time.LoadLocation reads these as UTC and the machine's zone: a
		// recipient's or schedule's zone must be named.
		return nil, fmt.Errorf("compliance: time zone %q is not an IANA zone name", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	locations.Store(name, l)
	return l, nil
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
