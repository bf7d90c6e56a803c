package page_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
)

func TestParse(t *testing.T) {
	t.Parallel()
	id := uuid.Must(uuid.NewV7())
	tests := []struct {
		name   string
		limit  int
		cursor string
		want   page.Request
		bad    bool
	}{
		{name: "defaults", want: page.Request{Limit: 50}},
		{name: "max", limit: 200, want: page.Request{Limit: 200}},
		{name: "over max", limit: 201, bad: true},
		{name: "negative", limit: -1, bad: true},
		{name: "cursor", limit: 10, cursor: page.Encode(id), want: page.Request{Limit: 10, After: &id}},
		{name: "garbage cursor", cursor: "!!!", bad: true},
		{name: "base64 not json", cursor: "aGVsbG8", bad: true},
		{name: "nil id", cursor: page.Encode(uuid.Nil), bad: true},
		{name: "huge", cursor: string(make([]byte, 500)), bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := page.Parse(tt.limit, tt.cursor)
			if tt.bad {
				require.True(t, fault.Is(err, fault.Invalid), "got %v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestResult(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	r := page.Request{Limit: 2}
	items, next := page.Result(r, ids, func(u uuid.UUID) uuid.UUID { return u })
	require.Equal(t, ids[:2], items)
	after, err := page.Decode(next)
	require.NoError(t, err)
	require.Equal(t, ids[1], after)

	items, next = page.Result(r, ids[:2], func(u uuid.UUID) uuid.UUID { return u })
	require.Len(t, items, 2)
	require.Empty(t, next)
}

func FuzzDecode(f *testing.F) {
	f.Add(page.Encode(uuid.Must(uuid.NewV7())))
	f.Add("")
	f.Add("eyJhIjoiMCJ9")
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := page.Decode(raw)
		if err != nil {
			require.True(t, fault.Is(err, fault.Invalid))
			return
		}
		require.NotEqual(t, uuid.Nil, id)
		// A cursor that decodes re-encodes to one that decodes the same.
		again, err := page.Decode(page.Encode(id))
		require.NoError(t, err)
		require.Equal(t, id, again)
	})
}

func TestMap(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	self := func(u uuid.UUID) uuid.UUID { return u }
	items, next := page.Map(page.Request{Limit: 2}, ids, self, uuid.UUID.String)
	require.Equal(t, []string{ids[0].String(), ids[1].String()}, items)
	after, err := page.Decode(next)
	require.NoError(t, err)
	require.Equal(t, ids[1], after)

	items, next = page.Map(page.Request{Limit: 5}, ids, self, uuid.UUID.String)
	require.Len(t, items, 3)
	require.Empty(t, next)
}
