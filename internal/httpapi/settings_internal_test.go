package httpapi

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/setting"
)

// The path's pattern (a struct tag cannot name a constant) must be the
// domain's.
func TestSettingKeyPathPattern(t *testing.T) {
	t.Parallel()
	f, ok := reflect.TypeFor[SettingKeyPath]().FieldByName("Key")
	require.True(t, ok)
	require.Equal(t, setting.KeyPattern, f.Tag.Get("pattern"))
}
