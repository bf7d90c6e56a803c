package httpapi

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/autopulse/autopulse/internal/fault"
)

// The browser session of the admin pages (the River UI at JobsUIPath).
// A browser cannot send a Bearer header, so a platform administrator signs
// in at AdminLoginPath with email and password; the server checks them as
// the token endpoint does (throttling included), keeps only the access
// token, in a cookie scoped to /admin/ (HttpOnly, SameSite=Strict, Secure
// behind TLS), and ends the refresh session at once: the browser session
// lasts as long as the access token. The cookie is honoured only under
// /admin/, and only when no Authorization header is sent; a state-changing
// request that carries it must come from this origin.
const (
	AdminLoginPath  = "/admin/login"
	AdminLogoutPath = "/admin/logout"
	adminCookie     = "autopulse_admin"
	adminPrefix     = "/admin/"
)

var adminLoginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AutoPulse admin sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box}input{margin:.25rem 0 1rem;padding:.5rem}
button{padding:.6rem}p.error{color:#b00020}</style></head>
<body><h1>AutoPulse admin</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="next" value="{{.Next}}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></body></html>
`))

type adminLoginView struct {
	Action, Next, Email, Error string
}

// adminNext keeps a post-login redirect on the admin pages of this
// server: a path under /admin/ (after cleaning), with its query; anything
// else goes to the River UI.
func adminNext(raw string) string {
	const home = JobsUIPath + "/"
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.ContainsAny(raw, "\\\x00") {
		return home
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if !strings.HasPrefix(clean, adminPrefix) {
		return home
	}
	return (&url.URL{Path: clean, RawQuery: u.Query().Encode()}).String()
}

func renderAdminLogin(w http.ResponseWriter, status int, v adminLoginView) {
	v.Action = AdminLoginPath
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = adminLoginPage.Execute(w, v) //nolint:errcheck // the client went away
}

// adminLogin serves the sign-in form (GET) and signs in (POST).
func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		renderAdminLogin(w, http.StatusOK, adminLoginView{Next: adminNext(r.URL.Query().Get("next"))})
		return
	}
	if err := r.ParseForm(); err != nil {
		renderAdminLogin(w, http.StatusBadRequest, adminLoginView{Error: "The form could not be read."})
		return
	}
	v := adminLoginView{Next: adminNext(r.PostForm.Get("next")), Email: r.PostForm.Get("email")}
	expires, token, err := s.adminSignIn(r.Context(), v.Email, r.PostForm.Get("password"))
	if err != nil {
		status, msg := http.StatusInternalServerError, "Signing in failed; try again."
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Code != fault.Internal {
			status, msg = statusOf[fe.Code], fe.Message
			if len(fe.Fields) > 0 {
				msg = fe.Fields[0].Message
			}
			if fe.Code == fault.TooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(max(int(fe.RetryAfter.Seconds()+0.999), 1)))
			}
		} else {
			s.log.ErrorContext(r.Context(), "admin sign-in failed", "err", err)
		}
		v.Error = msg
		renderAdminLogin(w, status, v)
		return
	}
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure whenever the client came over TLS; make run serves plain HTTP on loopback
		Name: adminCookie, Value: token, Path: adminPrefix, Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: requestIsHTTPS(r),
	})
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// adminSignIn checks a platform administrator's credentials and returns an
// access token for the cookie and when it expires. The refresh session the
// sign-in opened is ended at once.
func (s *Server) adminSignIn(ctx context.Context, email, password string) (time.Time, string, error) {
	pair, err := s.deps.Identity.Login(ctx, email, password)
	if err != nil {
		return time.Time{}, "", err
	}
	if err := s.deps.Identity.Logout(ctx, pair.RefreshToken); err != nil {
		return time.Time{}, "", err
	}
	p, err := s.deps.Identity.Authenticate(ctx, pair.AccessToken)
	if err != nil {
		return time.Time{}, "", err
	}
	if !p.PlatformAdmin {
		return time.Time{}, "", &fault.Error{Code: fault.Forbidden, Message: "These pages are for platform administrators only."}
	}
	return time.Now().Add(time.Duration(pair.ExpiresIn) * time.Second), pair.AccessToken, nil
}

// adminLogout ends the browser session: the cookie is cleared.
func (s *Server) adminLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: as in adminLogin
		Name: adminCookie, Value: "", Path: adminPrefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: requestIsHTTPS(r),
	})
	http.Redirect(w, r, AdminLoginPath, http.StatusSeeOther)
}

// adminCookieCredential returns the admin session cookie's token for a
// request under /admin/, or "" when the cookie does not apply. A
// state-changing request must name this server as its Origin (or send
// none, as non-browser clients do): SameSite=Strict already keeps other
// sites' requests from carrying the cookie, and this is the second lock.
func adminCookieCredential(r *http.Request) (string, error) {
	if !strings.HasPrefix(r.URL.Path, adminPrefix) {
		return "", nil
	}
	c, err := r.Cookie(adminCookie)
	if err != nil || c.Value == "" {
		return "", nil //nolint:nilerr // no cookie: no credential
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				return "", &fault.Error{Code: fault.Forbidden, Message: "cross-origin request refused"}
			}
		}
	}
	return c.Value, nil
}

// requestIsHTTPS reports whether the client reached us over TLS, directly
// or through the load balancer.
func requestIsHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// adminBrowserRedirect sends a browser that asks for an admin page without
// a session to the sign-in form; API clients get the 401 problem.
func adminBrowserRedirect(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		return false
	}
	http.Redirect(w, r, AdminLoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return true
}
