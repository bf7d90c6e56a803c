package httpapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAdminNextStaysOnAdminPages(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"/admin/jobs/queues?x=1":      "/admin/jobs/queues?x=1",
		"":                            "/admin/jobs/",
		"https://evil.example/admin/": "/admin/jobs/",
		"//evil.example/admin/":       "/admin/jobs/",
		`/\evil.example/admin/`:       "/admin/jobs/",
		"/api/v1/users":               "/admin/jobs/",
		"/admin/../api/v1/users":      "/admin/jobs/",
		"javascript:alert(1)":         "/admin/jobs/",
	} {
		require.Equal(t, want, adminNext(raw), raw)
	}
}

// FuzzAdminNext: whatever the form says, the redirect after sign-in is a
// path on this server under /admin/.
func FuzzAdminNext(f *testing.F) {
	for _, s := range []string{"/admin/jobs/", "//x/admin/", "/admin/%2e%2e/api", "https://x/admin", "/admin/\x00", `/admin/\\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := adminNext(raw)
		u, err := url.Parse(got)
		require.NoError(t, err, got)
		require.Empty(t, u.Scheme, got)
		require.Empty(t, u.Host, got)
		require.True(t, strings.HasPrefix(got, adminPrefix), got)
		require.NotContains(t, got, "//")
		require.NotContains(t, got, `\`)
		require.NotContains(t, u.Path, "..", got)
	})
}
