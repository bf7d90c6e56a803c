package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJobsUIBrowserSession: a platform administrator reaches the River UI
// from a plain browser by signing in at /admin/login; the cookie works
// only on the admin pages, only for administrators, and not for writes
// from another origin.
func TestJobsUIBrowserSession(t *testing.T) {
	t.Parallel()
	e := setup(t, withJobsUI())
	tn := e.newTenant(t)
	staff := e.newPlatformAdmin(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// reply is what the browser sees of a response.
	type reply struct {
		StatusCode int
		Header     http.Header
		cookies    []*http.Cookie
	}
	send := func(method, path string, body url.Values, header ...string) (*reply, string) {
		t.Helper()
		var r io.Reader = http.NoBody
		if body != nil {
			r = strings.NewReader(body.Encode())
		}
		req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, r)
		require.NoError(t, err)
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return &reply{StatusCode: res.StatusCode, Header: res.Header, cookies: res.Cookies()}, string(b)
	}
	sessionOf := func(res *reply) *http.Cookie {
		for _, c := range res.cookies {
			if c.Name == "autopulse_admin" {
				return c
			}
		}
		return nil
	}

	// A browser without a session is sent to the form; an API client gets 401.
	res, _ := send(http.MethodGet, "/admin/jobs/queues", nil, "Accept", "text/html,application/xhtml+xml")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/admin/login?next="+url.QueryEscape("/admin/jobs/queues"), res.Header.Get("Location"))
	res, _ = send(http.MethodGet, "/admin/jobs/queues", nil)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, page := send(http.MethodGet, "/admin/login?next=/admin/jobs/queues", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, page, `<form method="post" action="/admin/login">`)
	require.Contains(t, page, `value="/admin/jobs/queues"`)

	// Wrong password, and a tenant's owner: no session.
	res, page = send(http.MethodPost, "/admin/login", url.Values{"email": {staff.Email}, "password": {"not-the-password"}})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, page, "role=\"alert\"")
	require.Nil(t, sessionOf(res))
	res, page = send(http.MethodPost, "/admin/login", url.Values{"email": {tn.Owner.Email}, "password": {tn.Owner.Password}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, page, "platform administrators only")
	require.Nil(t, sessionOf(res))

	// The administrator signs in and lands where they were going; a next
	// that leaves the admin pages is ignored.
	res, _ = send(http.MethodPost, "/admin/login", url.Values{"email": {staff.Email}, "password": {staff.Password}, "next": {"/admin/jobs/queues"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "%v", res.Header)
	require.Equal(t, "/admin/jobs/queues", res.Header.Get("Location"))
	session := sessionOf(res)
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, session.SameSite)
	require.Equal(t, "/admin/", session.Path)
	require.Positive(t, session.MaxAge)
	res, _ = send(http.MethodPost, "/admin/login", url.Values{"email": {staff.Email}, "password": {staff.Password}, "next": {"https://evil.example/"}})
	require.Equal(t, "/admin/jobs/", res.Header.Get("Location"))

	cookie := "autopulse_admin=" + session.Value
	res, page = send(http.MethodGet, "/admin/jobs/", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	res, page = send(http.MethodGet, "/admin/jobs/api/jobs?state=available", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, page, `"data"`)

	// The cookie is no credential for the API, and a write from another
	// origin is refused before it reaches the UI.
	res, _ = send(http.MethodGet, "/api/v1/auth/me", nil, "Cookie", cookie)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, page = send(http.MethodPost, "/admin/jobs/api/jobs/cancel", nil, "Cookie", cookie, "Origin", "https://evil.example",
		"Content-Type", "application/json")
	require.Equal(t, http.StatusForbidden, res.StatusCode, page)
	require.Contains(t, page, "cross-origin")

	// Signing out clears the cookie.
	res, _ = send(http.MethodPost, "/admin/logout", nil, "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	cleared := sessionOf(res)
	require.NotNil(t, cleared)
	require.Negative(t, cleared.MaxAge)
}
