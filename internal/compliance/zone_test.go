package compliance_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/compliance"
)

const (
	ny  = compliance.Eastern
	chi = compliance.Central
	den = compliance.Mountain
	phx = compliance.Arizona
	la  = compliance.Pacific
)

func TestResolveZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		postal, state, phone string
		zones                []string
		states               []string
		source               compliance.Source
	}{
		// ZIP prefixes, including the multi-zone states.
		{name: "New York", postal: "10001", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourcePostalCode},
		{name: "ZIP+4", postal: "12345-6789", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourcePostalCode},
		{name: "ZIP+4 without dash", postal: "123456789", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourcePostalCode},
		{name: "Boston, leading zero", postal: "02134", zones: []string{ny}, states: []string{"MA"}, source: compliance.SourcePostalCode},
		{name: "Pensacola is Central", postal: "32501", zones: []string{chi}, states: []string{"FL"}, source: compliance.SourcePostalCode},
		{name: "Panama City straddles", postal: "32401", zones: []string{chi, ny}, states: []string{"FL"}, source: compliance.SourcePostalCode},
		{name: "Tallahassee is Eastern", postal: "32301", zones: []string{ny}, states: []string{"FL"}, source: compliance.SourcePostalCode},
		{name: "Miami", postal: "33101", zones: []string{ny}, states: []string{"FL"}, source: compliance.SourcePostalCode},
		{name: "Phoenix", postal: "85001", zones: []string{phx}, states: []string{"AZ"}, source: compliance.SourcePostalCode},
		{name: "Tuba City, Navajo Nation", postal: "86045", zones: []string{den, phx}, states: []string{"AZ"}, source: compliance.SourcePostalCode},
		{name: "Hammond, Indiana", postal: "46320", zones: []string{chi}, states: []string{"IN"}, source: compliance.SourcePostalCode},
		{name: "Indianapolis", postal: "46204", zones: []string{ny}, states: []string{"IN"}, source: compliance.SourcePostalCode},
		{name: "Evansville", postal: "47708", zones: []string{chi}, states: []string{"IN"}, source: compliance.SourcePostalCode},
		{name: "Louisville", postal: "40202", zones: []string{ny}, states: []string{"KY"}, source: compliance.SourcePostalCode},
		{name: "Bowling Green", postal: "42101", zones: []string{chi}, states: []string{"KY"}, source: compliance.SourcePostalCode},
		{name: "Campbellsville straddles", postal: "42718", zones: []string{chi, ny}, states: []string{"KY"}, source: compliance.SourcePostalCode},
		{name: "Detroit", postal: "48201", zones: []string{ny}, states: []string{"MI"}, source: compliance.SourcePostalCode},
		{name: "Iron Mountain, Upper Peninsula", postal: "49801", zones: []string{chi, ny}, states: []string{"MI"}, source: compliance.SourcePostalCode},
		{name: "Nashville", postal: "37201", zones: []string{chi}, states: []string{"TN"}, source: compliance.SourcePostalCode},
		{name: "Chattanooga", postal: "37402", zones: []string{ny}, states: []string{"TN"}, source: compliance.SourcePostalCode},
		{name: "Jasper, Tennessee straddles", postal: "37347", zones: []string{chi, ny}, states: []string{"TN"}, source: compliance.SourcePostalCode},
		{name: "Boise", postal: "83702", zones: []string{den}, states: []string{"ID"}, source: compliance.SourcePostalCode},
		{name: "Coeur d'Alene", postal: "83814", zones: []string{la}, states: []string{"ID"}, source: compliance.SourcePostalCode},
		{name: "Lewiston straddles", postal: "83501", zones: []string{den, la}, states: []string{"ID"}, source: compliance.SourcePostalCode},
		{name: "Portland", postal: "97201", zones: []string{la}, states: []string{"OR"}, source: compliance.SourcePostalCode},
		{name: "Ontario, Oregon", postal: "97914", zones: []string{den, la}, states: []string{"OR"}, source: compliance.SourcePostalCode},
		{name: "Omaha", postal: "68102", zones: []string{chi}, states: []string{"NE"}, source: compliance.SourcePostalCode},
		{name: "Scottsbluff", postal: "69361", zones: []string{den}, states: []string{"NE"}, source: compliance.SourcePostalCode},
		{name: "Goodland, Kansas", postal: "67735", zones: []string{chi, den}, states: []string{"KS"}, source: compliance.SourcePostalCode},
		{name: "Wichita", postal: "67202", zones: []string{chi}, states: []string{"KS"}, source: compliance.SourcePostalCode},
		{name: "Rapid City", postal: "57701", zones: []string{den}, states: []string{"SD"}, source: compliance.SourcePostalCode},
		{name: "Sioux Falls", postal: "57104", zones: []string{chi}, states: []string{"SD"}, source: compliance.SourcePostalCode},
		{name: "Fargo", postal: "58102", zones: []string{chi}, states: []string{"ND"}, source: compliance.SourcePostalCode},
		{name: "Dickinson, North Dakota", postal: "58601", zones: []string{chi, den}, states: []string{"ND"}, source: compliance.SourcePostalCode},
		{name: "El Paso", postal: "79901", zones: []string{den}, states: []string{"TX"}, source: compliance.SourcePostalCode},
		{name: "El Paso PO boxes", postal: "88510", zones: []string{den}, states: []string{"TX"}, source: compliance.SourcePostalCode},
		{name: "Dallas", postal: "75201", zones: []string{chi}, states: []string{"TX"}, source: compliance.SourcePostalCode},
		{name: "Austin IRS", postal: "73301", zones: []string{chi}, states: []string{"TX"}, source: compliance.SourcePostalCode},
		{name: "Las Vegas", postal: "89101", zones: []string{la}, states: []string{"NV"}, source: compliance.SourcePostalCode},
		{name: "West Wendover", postal: "89883", zones: []string{den, la}, states: []string{"NV"}, source: compliance.SourcePostalCode},
		{name: "Anchorage area holds Adak", postal: "99546", zones: []string{"America/Adak", "America/Anchorage"}, states: []string{"AK"}, source: compliance.SourcePostalCode},
		{name: "Fairbanks", postal: "99701", zones: []string{"America/Anchorage"}, states: []string{"AK"}, source: compliance.SourcePostalCode},
		{name: "Honolulu", postal: "96813", zones: []string{"Pacific/Honolulu"}, states: []string{"HI"}, source: compliance.SourcePostalCode},
		{name: "American Samoa", postal: "96799", zones: []string{"Pacific/Pago_Pago"}, states: []string{"AS"}, source: compliance.SourcePostalCode},
		{name: "Guam", postal: "96910", zones: []string{"Pacific/Guam"}, states: []string{"GU"}, source: compliance.SourcePostalCode},
		{name: "Saipan", postal: "96950", zones: []string{"Pacific/Guam"}, states: []string{"MP"}, source: compliance.SourcePostalCode},
		{name: "San Juan", postal: "00901", zones: []string{"America/Puerto_Rico"}, states: []string{"PR"}, source: compliance.SourcePostalCode},
		{name: "St. Thomas", postal: "00802", zones: []string{"America/Puerto_Rico"}, states: []string{"VI"}, source: compliance.SourcePostalCode},
		{name: "Phenix City keeps Eastern", postal: "36867", zones: []string{chi, ny}, states: []string{"AL"}, source: compliance.SourcePostalCode},
		{name: "Birmingham", postal: "35203", zones: []string{chi}, states: []string{"AL"}, source: compliance.SourcePostalCode},

		// ZIP and state disagree: both count.
		{name: "ZIP and state disagree", postal: "10001", state: "CA", zones: []string{la, ny}, states: []string{"CA", "NY"}, source: compliance.SourcePostalCode},
		{name: "ZIP and state agree", postal: "10001", state: "ny", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourcePostalCode},

		// State when the ZIP is absent or unusable.
		{name: "state only", state: "TX", zones: []string{chi, den}, states: []string{"TX"}, source: compliance.SourceState},
		{name: "military ZIP falls to state", postal: "09001", state: "NY", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourceState},
		{name: "garbage ZIP falls to state", postal: "ABCDE", state: "WA", zones: []string{la}, states: []string{"WA"}, source: compliance.SourceState},
		{name: "Palau ZIP is not US", postal: "96940", state: "HI", zones: []string{"Pacific/Honolulu"}, states: []string{"HI"}, source: compliance.SourceState},

		// Area code when there is no address.
		{name: "Miami number", phone: "+13055550100", zones: []string{ny}, states: []string{"FL"}, source: compliance.SourcePhone},
		{name: "panhandle number", phone: "+18505550100", zones: []string{chi, ny}, states: []string{"FL"}, source: compliance.SourcePhone},
		{name: "Orlando overlay", phone: "+16895550100", zones: []string{ny}, states: []string{"FL"}, source: compliance.SourcePhone},
		{name: "Idaho number", phone: "+12085550100", zones: []string{den, la}, states: []string{"ID"}, source: compliance.SourcePhone},
		{name: "Arizona number", phone: "+16025550100", zones: []string{phx}, states: []string{"AZ"}, source: compliance.SourcePhone},
		{name: "unknown state falls to phone", state: "ZZ", phone: "+12125550100", zones: []string{ny}, states: []string{"NY"}, source: compliance.SourcePhone},
		{name: "Canadian number", phone: "+14165550100", zones: []string{"America/Toronto"}, source: compliance.SourcePhone},
		{name: "UK number", phone: "+442079460958", zones: []string{"Europe/London"}, source: compliance.SourcePhone},

		// Florida's area-code presumption adds Florida to any address.
		{name: "New York address, Miami number", postal: "10001", phone: "+13055550100", zones: []string{ny}, states: []string{"FL", "NY"}, source: compliance.SourcePostalCode},
		{name: "California address, panhandle number", postal: "90210", phone: "+18505550100", zones: []string{chi, la, ny}, states: []string{"CA", "FL"}, source: compliance.SourcePostalCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z, source := compliance.ResolveZone(tt.postal, tt.state, tt.phone)
			require.Equal(t, tt.source, source)
			require.Equal(t, tt.zones, z.Names)
			require.Equal(t, tt.states, z.States)
		})
	}

	t.Run("nothing usable is the strictest", func(t *testing.T) {
		t.Parallel()
		for _, phone := range []string{"", "+18005551212", "+15555555555", "not a phone", "+1"} {
			z, source := compliance.ResolveZone("", "", phone)
			require.Equal(t, compliance.SourceStrictest, source, phone)
			require.Equal(t, compliance.Strictest(), z, phone)
		}
		z := compliance.Strictest()
		require.Equal(t, []string{"America/Adak", "America/Anchorage", chi, den, la, ny, phx, "Pacific/Honolulu"}, z.Names)
		require.Len(t, z.States, 51)
		require.Contains(t, z.States, "FL", "an unknown recipient may be in Florida")
	})
}

func FuzzResolveZone(f *testing.F) {
	f.Add("32501", "FL", "+18505550100")
	f.Add("96799", "", "")
	f.Add("12345-678", "ny", "+1")
	f.Add("", "", "+442079460958")
	f.Add("00000", "ZZ", "+18005551212")
	f.Fuzz(func(t *testing.T, postal, state, phone string) {
		z, source := compliance.ResolveZone(postal, state, phone)
		switch source {
		case compliance.SourcePostalCode, compliance.SourceState, compliance.SourcePhone, compliance.SourceStrictest:
		default:
			t.Fatalf("unknown source %q", source)
		}
		if len(z.Names) == 0 || !slices.IsSorted(z.Names) || len(slices.Compact(slices.Clone(z.Names))) != len(z.Names) {
			t.Fatalf("zones %v: want a sorted, non-empty set", z.Names)
		}
		if !slices.IsSorted(z.States) || len(slices.Compact(slices.Clone(z.States))) != len(z.States) {
			t.Fatalf("states %v: want a sorted set", z.States)
		}
		for _, n := range z.Names {
			if _, err := time.LoadLocation(n); err != nil {
				t.Fatalf("zone %q: %v", n, err)
			}
		}
		if len(phone) == 12 && strings.HasPrefix(phone, "+1850") && !slices.Contains(z.States, "FL") {
			t.Fatalf("a Florida area code must bring Florida's rules: %v", z)
		}
		// Whatever the zones, a lawful instant exists within a day.
		now := time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC)
		if _, ok := compliance.NextWindowStart(now, z, compliance.Schedule{}); !ok && len(z.Names) < 8 {
			t.Fatalf("no window for %v", z)
		}
	})
}
