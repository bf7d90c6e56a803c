package httpapi

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/compliance"
)

// Schedule shares its name with campaign.Schedule and compliance.Schedule.
type Schedule struct {
	Note string `json:"note"`
}

func TestSchemaNamesQualifyCollisions(t *testing.T) {
	t.Parallel()
	r := newSchemaRegistry()
	names := map[string]reflect.Type{}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[campaign.Schedule](),
		reflect.TypeFor[*Schedule](),
		reflect.TypeFor[compliance.Schedule](),
		reflect.TypeFor[campaign.Schedule](), // again: the same name as the first time
	} {
		ref := r.Schema(typ, true, "").Ref
		require.NotEmpty(t, ref)
		names[ref] = typ
	}
	require.Equal(t, map[string]reflect.Type{
		"#/components/schemas/Schedule":           reflect.TypeFor[campaign.Schedule](),
		"#/components/schemas/HttpapiSchedule":    reflect.TypeFor[*Schedule](),
		"#/components/schemas/ComplianceSchedule": reflect.TypeFor[compliance.Schedule](),
	}, names)
	for _, name := range []string{"Schedule", "HttpapiSchedule", "ComplianceSchedule"} {
		require.Contains(t, r.Map(), name)
	}
}
