package call

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/voice"
)

func TestBookingDefaultTimeIsTheNextBusinessMorning(t *testing.T) {
	t.Parallel()
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	weekdays := setting.BusinessHours{Days: []int{1, 2, 3, 4, 5}, Start: "08:00", End: "18:00"}
	tests := []struct {
		name  string
		now   time.Time
		hours setting.BusinessHours
		want  time.Time
	}{
		{"monday noon → tuesday 9:00", time.Date(2025, 3, 3, 12, 0, 0, 0, chicago), weekdays, time.Date(2025, 3, 4, 9, 0, 0, 0, chicago)},
		{"friday → monday", time.Date(2025, 3, 7, 16, 0, 0, 0, chicago), weekdays, time.Date(2025, 3, 10, 9, 0, 0, 0, chicago)},
		{"late friday UTC is still friday in Chicago", time.Date(2025, 3, 8, 2, 0, 0, 0, time.UTC), weekdays, time.Date(2025, 3, 10, 9, 0, 0, 0, chicago)},
		// DST starts on Sunday 9 March 2025 in the US: Monday 9:00 is CDT.
		{"across DST", time.Date(2025, 3, 8, 10, 0, 0, 0, chicago), weekdays, time.Date(2025, 3, 10, 9, 0, 0, 0, chicago)},
		{"opens at 10", time.Date(2025, 3, 3, 12, 0, 0, 0, chicago), setting.BusinessHours{Days: []int{1, 2, 3, 4, 5}, Start: "10:00", End: "18:00"}, time.Date(2025, 3, 4, 10, 0, 0, 0, chicago)},
		{"saturdays only", time.Date(2025, 3, 3, 12, 0, 0, 0, chicago), setting.BusinessHours{Days: []int{6}, Start: "08:00", End: "12:00"}, time.Date(2025, 3, 8, 9, 0, 0, 0, chicago)},
	}
	for _, tt := range tests {
		got := nextBusinessMorning(tt.now, chicago, tt.hours)
		require.True(t, tt.want.Equal(got), "%s: got %s, want %s", tt.name, got.In(chicago), tt.want)
		require.Equal(t, time.UTC, got.Location())
	}
	// 09:00 CDT is 14:00 UTC, 09:00 CST 15:00 UTC.
	require.Equal(t, 14, nextBusinessMorning(time.Date(2025, 3, 8, 10, 0, 0, 0, chicago), chicago, weekdays).Hour())
	require.Equal(t, 15, nextBusinessMorning(time.Date(2025, 3, 3, 10, 0, 0, 0, chicago), chicago, weekdays).Hour())
}

func TestCallStatusMovesForwardOnly(t *testing.T) {
	t.Parallel()
	order := []string{StatusDialing, StatusQueued, StatusRinging, StatusInProgress, StatusForwarding, StatusEnded}
	for i := 1; i < len(order); i++ {
		require.Greater(t, rank(order[i]), rank(order[i-1]), order[i])
	}
	require.Equal(t, rank(StatusEnded), rank(StatusFailed), "failed is as final as ended")
	for _, st := range []voice.Status{voice.StatusQueued, voice.StatusRinging, voice.StatusInProgress, voice.StatusForwarding, voice.StatusEnded} {
		require.NotEmpty(t, dbStatus(st), st)
		require.Equal(t, st.Rank(), rank(dbStatus(st)), st)
	}
}

func TestWebhookPayloadIsStorable(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"message":{"type":"status-update","status":"queued"}}`)
	got, err := storablePayload(plain)
	require.NoError(t, err)
	require.Equal(t, string(plain), string(got), "ordinary bodies are stored as sent")

	for _, body := range []string{
		`{"message":{"type":"x\u0000y","k\u0000":"v"}}`,
		"{\"message\":{\"type\":\"a\xffb\"}}",
		`{"message":{"type":"\ud800"}}`,
		`{"n":1e400,"s":"\u00e9"}`,
	} {
		got, err := storablePayload([]byte(body))
		require.NoError(t, err, body)
		require.NotContains(t, string(got), `\u0000`)
		require.True(t, json.Valid(got), body)
	}
	got, err = storablePayload([]byte(`{"n":1e400}`))
	require.NoError(t, err)
	require.Contains(t, string(got), "1e400", "numbers keep their text")

	deep := strings.Repeat("[", maxPayloadDepth+1) + strings.Repeat("]", maxPayloadDepth+1)
	_, err = storablePayload([]byte(deep))
	require.Error(t, err)
	require.Equal(t, 3, depth([]byte(`{"a":[{"b":"[[[[{{"}]}`)), "brackets inside strings do not count")
}

func TestCallClipKeepsRunesWhole(t *testing.T) {
	t.Parallel()
	require.Equal(t, "abc", clip("abc", 5))
	require.Equal(t, "ab", clip("abc", 2))
	require.Equal(t, "a", clip("aé", 2), "never splits a rune")
}
