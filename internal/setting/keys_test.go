package setting

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
)

func TestDefinitions(t *testing.T) {
	t.Parallel()
	link := "https://g.page/r/dealer/review"
	prof := profile{timezone: "America/Chicago", reviewLink: &link}
	require.Equal(t, []string{
		"business_hours", "caller_id", "default_max_attempts", "default_retry_gap_minutes", "escalation_email",
		"locale", "review_link", "sms_enabled", "timezone",
	}, knownKeys(), "sorted, for lookups and merged lists")
	for _, d := range definitions {
		t.Run(d.key, func(t *testing.T) {
			t.Parallel()
			require.Regexp(t, keyRe, d.key)
			require.False(t, strings.HasPrefix(d.key, CustomPrefix))
			require.Contains(t, []string{CategoryGeneral, CategoryCalling, CategoryMessaging}, d.category)
			require.NotEmpty(t, d.description)
			require.Same(t, &definitions[indexOf(d.key)], definitionOf(d.key))
			// A default is either none or a value its own validation accepts,
			// already in canonical form.
			def := d.fallback(prof)
			if string(def) == "null" {
				return
			}
			canonical, err := d.parse(def)
			require.NoError(t, err, "default %s", def)
			require.JSONEq(t, string(def), string(canonical))
		})
	}
	require.Nil(t, definitionOf("custom.x"))
	require.Nil(t, definitionOf("nope"))
}

func indexOf(key string) int {
	for i, d := range definitions {
		if d.key == key {
			return i
		}
	}
	return -1
}

func TestParseKnownValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		raw  string
		want string // canonical JSON; empty when invalid
		loc  string // the field error's location when invalid
	}{
		{"timezone", `"America/Chicago"`, `"America/Chicago"`, ""},
		{"timezone", `"UTC"`, `"UTC"`, ""},
		{"timezone", `"Mars/Olympus_Mons"`, "", "body.value"},
		{"timezone", `"Local"`, "", "body.value"},
		{"timezone", `""`, "", "body.value"},
		{"timezone", `"../../etc/passwd"`, "", "body.value"},
		{"timezone", `5`, "", "body.value"},
		{"timezone", `null`, "", "body.value"},
		{"locale", `"es-mx"`, `"es-MX"`, ""},
		{"locale", `"zh-hant-tw"`, `"zh-Hant-TW"`, ""},
		{"locale", `"es-419"`, `"es-419"`, ""},
		{"locale", `"en"`, `"en"`, ""},
		{"locale", `"english"`, "", "body.value"},
		{"locale", `"en_US"`, "", "body.value"},
		{"business_hours", `{"days":[6,1,2],"start":"07:30","end":"19:00"}`, `{"days":[1,2,6],"start":"07:30","end":"19:00"}`, ""},
		{"business_hours", `{"days":[],"start":"07:30","end":"19:00"}`, "", "body.value.days"},
		{"business_hours", `{"days":[0,8],"start":"07:30","end":"19:00"}`, "", "body.value.days"},
		{"business_hours", `{"days":[1,1],"start":"07:30","end":"19:00"}`, "", "body.value.days"},
		{"business_hours", `{"days":[1],"start":"7:30","end":"19:00"}`, "", "body.value.start"},
		{"business_hours", `{"days":[1],"start":"07:30","end":"24:00"}`, "", "body.value.end"},
		{"business_hours", `{"days":[1],"start":"19:00","end":"07:30"}`, "", "body.value.end"},
		{"business_hours", `{"days":[1],"start":"09:00","end":"09:00"}`, "", "body.value.end"},
		{"business_hours", `{"days":[1],"start":"09:00"}`, "", "body.value.end"},
		{"business_hours", `{"days":["mon"],"start":"09:00","end":"17:00"}`, "", "body.value.days"},
		{"business_hours", `{"days":[1],"start":"09:00","end":"17:00","tz":"UTC"}`, "", "body.value"},
		{"business_hours", `"9-5"`, "", "body.value"},
		{"caller_id", `"+13125550100"`, `"+13125550100"`, ""},
		{"caller_id", `"3125550100"`, "", "body.value"},
		{"caller_id", `"+1 312 555 0100"`, "", "body.value"},
		{"caller_id", `"+0123"`, "", "body.value"},
		{"caller_id", `"+1234567890123456"`, "", "body.value"},
		{"review_link", `"https://g.page/r/dealer/review"`, `"https://g.page/r/dealer/review"`, ""},
		{"review_link", `"http://g.page/r/dealer/review"`, "", "body.value"},
		{"review_link", `"https://"`, "", "body.value"},
		{"review_link", `"https://user:pw@g.page/x"`, "", "body.value"},
		{"review_link", `"javascript:alert(1)"`, "", "body.value"},
		{"review_link", `"/relative"`, "", "body.value"},
		{"escalation_email", `"manager@dealer.example"`, `"manager@dealer.example"`, ""},
		{"escalation_email", `"Manager <manager@dealer.example>"`, "", "body.value"},
		{"escalation_email", `"manager"`, "", "body.value"},
		{"escalation_email", `"manager@localhost"`, "", "body.value"},
		{"default_max_attempts", `1`, `1`, ""},
		{"default_max_attempts", `10`, `10`, ""},
		{"default_max_attempts", `0`, "", "body.value"},
		{"default_max_attempts", `11`, "", "body.value"},
		{"default_max_attempts", `3.5`, "", "body.value"},
		{"default_max_attempts", `"3"`, "", "body.value"},
		{"default_max_attempts", `1e100`, "", "body.value"},
		{"default_retry_gap_minutes", `15`, `15`, ""},
		{"default_retry_gap_minutes", `10080`, `10080`, ""},
		{"default_retry_gap_minutes", `14`, "", "body.value"},
		{"default_retry_gap_minutes", `10081`, "", "body.value"},
		{"sms_enabled", `true`, `true`, ""},
		{"sms_enabled", `false`, `false`, ""},
		{"sms_enabled", `"yes"`, "", "body.value"},
		{"sms_enabled", `1`, "", "body.value"},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.raw, func(t *testing.T) {
			t.Parallel()
			d := definitionOf(tt.key)
			require.NotNil(t, d)
			got, err := d.parse(json.RawMessage(tt.raw))
			if tt.want != "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, string(got))
				return
			}
			require.True(t, fault.Is(err, fault.Invalid), "err: %v", err)
			var fe *fault.Error
			require.ErrorAs(t, err, &fe)
			require.NotEmpty(t, fe.Fields)
			require.Equal(t, tt.loc, fe.Fields[0].Location, "fields: %+v", fe.Fields)
			require.NotEmpty(t, fe.Fields[0].Message)
		})
	}
}

func TestPrepareCustom(t *testing.T) {
	t.Parallel()
	desc := "  Loaner car policy  "
	value, category, description, err := prepare(nil, Change{Value: json.RawMessage(`{ "max_days" : 3 }`), Description: &desc})
	require.NoError(t, err)
	require.Equal(t, `{"max_days":3}`, string(value), "compacted")
	require.Equal(t, CategoryCustom, category)
	require.Equal(t, "Loaner car policy", description)

	for _, v := range []string{`null`, `"text"`, `[1,2]`, `true`, `1.5`} {
		_, _, _, err := prepare(nil, Change{Value: json.RawMessage(v)})
		require.NoError(t, err, v)
	}
	fits := `"` + strings.Repeat("a", MaxCustomValueBytes-2) + `"`
	_, _, _, err = prepare(nil, Change{Value: json.RawMessage(fits)})
	require.NoError(t, err)
	_, _, _, err = prepare(nil, Change{Value: json.RawMessage(`"` + strings.Repeat("a", MaxCustomValueBytes-1) + `"`)})
	require.True(t, fault.Is(err, fault.Invalid))
	long := strings.Repeat("d", MaxDescription+1)
	_, _, _, err = prepare(nil, Change{Value: json.RawMessage(`1`), Description: &long})
	require.True(t, fault.Is(err, fault.Invalid))

	// A known key's description is fixed.
	tz := definitionOf("timezone")
	other := "my zone"
	_, _, _, err = prepare(tz, Change{Value: json.RawMessage(`"UTC"`), Description: &other})
	require.True(t, fault.Is(err, fault.Invalid))
	same := tz.description
	_, _, description, err = prepare(tz, Change{Value: json.RawMessage(`"UTC"`), Description: &same})
	require.NoError(t, err)
	require.Equal(t, tz.description, description)
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"timezone", "custom.a", "custom.loaner_car.max-days", "custom." + strings.Repeat("x", 64)} {
		_, err := lookup(key, fault.NotFound)
		require.NoError(t, err, key)
	}
	for _, key := range []string{"", "Timezone", "custom.", "custom.UPPER", "custom." + strings.Repeat("x", 65), "time zone", "1abc", "custom/x"} {
		_, err := lookup(key, fault.NotFound)
		require.True(t, fault.Is(err, fault.Invalid), "key %q: %v", key, err)
	}
	_, err := lookup("colour", fault.NotFound)
	require.True(t, fault.Is(err, fault.NotFound))
	_, err = lookup("colour", fault.Invalid)
	require.True(t, fault.Is(err, fault.Invalid))
}

func TestCursor(t *testing.T) {
	t.Parallel()
	after, err := decodeCursor(encodeCursor("custom.a"))
	require.NoError(t, err)
	require.Equal(t, "custom.a", after)
	for _, c := range []string{"!!", encodeCursor("NOT A KEY")} {
		_, err := decodeCursor(c)
		require.True(t, fault.Is(err, fault.Invalid), c)
	}
}

func TestBusinessHoursContains(t *testing.T) {
	t.Parallel()
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	b := BusinessHours{Days: []int{1, 2, 3, 4, 5, 7}, Start: "08:00", End: "18:00"}
	at := func(day, hh, mm int) time.Time { return time.Date(2025, 3, day, hh, mm, 0, 0, chicago) } // 2025-03-03 is a Monday
	require.True(t, b.Contains(at(3, 8, 0)), "opening minute")
	require.True(t, b.Contains(at(3, 17, 59)))
	require.False(t, b.Contains(at(3, 18, 0)), "closing minute")
	require.False(t, b.Contains(at(3, 7, 59)))
	require.False(t, b.Contains(at(8, 12, 0)), "Saturday")
	require.True(t, b.Contains(at(9, 12, 0)), "Sunday is day 7")
	// Read in the time's own location: 14:00 UTC is 08:00 in Chicago (CST).
	require.True(t, b.Contains(time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC).In(chicago)))
	require.False(t, b.Contains(time.Date(2025, 3, 3, 13, 59, 0, 0, time.UTC).In(chicago)))
}
