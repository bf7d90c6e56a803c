package compliance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

func TestTablesAreConsistent(t *testing.T) {
	t.Parallel()
	for state, zones := range stateZones {
		require.NotEmpty(t, zones, state)
		for _, z := range zones {
			_, err := loadLocation(z)
			require.NoError(t, err, "%s: %s", state, z)
		}
	}
	for _, s := range usStates {
		require.Contains(t, stateZones, s)
	}
	require.Len(t, usStates, 51)

	// ZIP ranges: ordered, disjoint, known states.
	for i, r := range zip3Ranges {
		require.LessOrEqual(t, r.lo, r.hi)
		require.Contains(t, stateZones, r.state)
		if i > 0 {
			require.Greater(t, r.lo, zip3Ranges[i-1].hi, "range %v overlaps", r)
		}
	}
	// A narrowed prefix narrows within its state's zones, in a multi-zone state.
	for p, zones := range zip3Zones {
		state := ""
		for _, r := range zip3Ranges {
			if p >= r.lo && p <= r.hi {
				state = r.state
			}
		}
		require.NotEmpty(t, state, "prefix %03d is in no state", p)
		require.Greater(t, len(stateZones[state]), 1, "prefix %03d narrows a single-zone state", p)
		for _, z := range zones {
			require.Contains(t, stateZones[state], z, "prefix %03d", p)
		}
	}
	// Every area code of a multi-zone state has explicit zones; explicit
	// zones are within the state's.
	for npa, state := range areaCodes {
		if len(stateZones[state]) > 1 {
			require.Contains(t, areaCodeZones, npa, "area code %s (%s) needs explicit zones", npa, state)
		}
	}
	for npa, zones := range areaCodeZones {
		state, ok := areaCodes[npa]
		require.True(t, ok, "zones for unknown area code %s", npa)
		for _, z := range zones {
			require.Contains(t, stateZones[state], z, "area code %s", npa)
		}
	}
}

// clockRules identifies a zone by its UTC offsets in January and July 2026,
// so that equal clocks under different names compare equal.
func clockRules(t *testing.T, name string) [2]int {
	t.Helper()
	loc, err := loadLocation(name)
	require.NoError(t, err, name)
	_, jan := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	_, jul := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	return [2]int{jan, jul}
}

var geocodedStates = map[string]string{
	"Washington D.C.": "DC", "Washington State": "WA", "Puerto Rico": "PR", "U.S. Virgin Islands": "VI",
	"Guam": "GU", "Northern Mariana Islands": "MP", "American Samoa": "AS",
}

// stateOfGeocode turns libphonenumber's geocoding ("Florida", "Tampa, FL")
// into a state code.
func stateOfGeocode(g string) string {
	if i := strings.LastIndex(g, ", "); i >= 0 {
		return g[i+2:]
	}
	if s, ok := geocodedStates[g]; ok {
		return s
	}
	for code, name := range stateNames {
		if strings.EqualFold(name, g) {
			return code
		}
	}
	return g
}

var stateNames = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
	"CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
	"IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
	"ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
	"RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
	"UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}

// libraryZoneErrata are area codes where libphonenumber's time-zone data
// is known to be wrong, so the table deliberately disagrees.
var libraryZoneErrata = map[string]string{
	"689": "an Orlando overlay of 407: Eastern, not Central",
}

// The area-code table agrees with libphonenumber's geocoding on the state,
// covers every geographic US area code the library knows, and includes
// every zone the library assigns to any exchange of the area code.
func TestAreaCodesMatchLibrary(t *testing.T) {
	t.Parallel()
	for npa := 200; npa <= 999; npa++ {
		code := fmt.Sprint(npa)
		states := map[string]int{}
		libZones := map[[2]int]string{}
		step, found := 37, 0
		if _, inTable := areaCodes[code]; inTable && slices.Contains([]string{"340", "670", "671", "684"}, code) {
			step = 1 // territories with few assigned exchanges
		}
		for nxx := 201; nxx <= 999 && found < 25; nxx += step {
			num, err := phonenumbers.Parse(fmt.Sprintf("+1%s%d4567", code, nxx), "US")
			if err != nil || !phonenumbers.IsValidNumber(num) {
				continue
			}
			found++
			region := phonenumbers.GetRegionCodeForNumber(num)
			if region != "US" && !slices.Contains([]string{"PR", "VI", "GU", "MP", "AS"}, region) {
				break // Canada or another NANP country
			}
			g, err := phonenumbers.GetGeocodingForNumber(num, "en")
			require.NoError(t, err)
			if g == "United States" || g == "" {
				continue // non-geographic
			}
			states[stateOfGeocode(g)]++
			names, err := phonenumbers.GetTimezonesForNumber(num)
			require.NoError(t, err)
			for _, n := range names {
				libZones[clockRules(t, n)] = n
			}
		}
		if len(states) == 0 {
			_, inTable := areaCodes[code]
			require.False(t, inTable, "area code %s is not geographic in the library", code)
			continue
		}
		best, bestN := "", 0
		for s, n := range states {
			if n > bestN {
				best, bestN = s, n
			}
		}
		state, ok := areaCodes[code]
		require.True(t, ok, "area code %s (%s) is missing from the table", code, best)
		require.Equal(t, best, state, "area code %s", code)
		if _, known := libraryZoneErrata[code]; known {
			continue
		}
		mine := map[[2]int]bool{}
		for _, z := range areaCodeZonesOf(code, state) {
			mine[clockRules(t, z)] = true
		}
		for rules, name := range libZones {
			require.True(t, mine[rules], "area code %s: the library puts exchanges in %s, the table does not", code, name)
		}
	}
}
