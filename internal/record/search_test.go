package record

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSearchPatterns(t *testing.T) {
	t.Parallel()
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	tests := []struct {
		q, prefix, phone string
	}{
		{"", "<nil>", "<nil>"},
		{"   ", "<nil>", "<nil>"},
		{"Lee", "lee%", "<nil>"},
		{" O'Brien ", "o'brien%", "<nil>"},
		{"RO-10", "ro-10%", "<nil>"},
		{"100%_\\", `100\%\_\\%`, "<nil>"},
		{"555", "555%", "<nil>"},
		{"0143", "0143%", "3410%"},
		{"(202) 555-0143", "(202) 555-0143%", "3410555202%"},
		{"+12025550143", "+12025550143%", "34105552021%"},
		{"Zoë", "zoë%", "<nil>"},
	}
	for _, tt := range tests {
		prefix, phone := searchPatterns(tt.q)
		require.Equal(t, tt.prefix, str(prefix), tt.q)
		require.Equal(t, tt.phone, str(phone), tt.q)
	}
	require.Equal(t, "ëoZ", reverse("Zoë"))
}
