package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/fault"
)

const accessKey = "access"

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a well-formed X-Request-Id from the client or makes one,
// echoes it in the response, and puts it (with the client address) in the
// context for logs and audit rows.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRe.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := access.WithRequest(r.Context(), access.Request{
			ID: id, IP: s.clientIP(r), UserAgent: truncate(r.UserAgent(), 512),
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientIP is the peer address, or with ProxyHops trusted proxies the
// address the outermost trusted proxy saw.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.ProxyHops > 0 {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			var hops []string
			for _, v := range xff {
				for h := range strings.SplitSeq(v, ",") {
					hops = append(hops, strings.TrimSpace(h))
				}
			}
			if i := len(hops) - s.opts.ProxyHops; i >= 0 && net.ParseIP(hops[i]) != nil {
				return hops[i]
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// recoverer turns a panic into a logged 500 problem; the process lives on.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint,err113 // sentinel re-panicked as documented by net/http
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()))
				writeProblem(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one line per request with its route template, status
// and duration; the request id, tenant and user come from the context.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		// The principal is set further in; a holder lets it reach this line.
		holder := &principalHolder{}
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), principalHolderKey{}, holder)))
		ctx := r.Context()
		if holder.p != nil {
			ctx = access.WithPrincipal(ctx, holder.p)
		}
		route := r.URL.Path
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		level := s.log.InfoContext
		if status >= 500 {
			level = s.log.ErrorContext
		}
		level(ctx, "request", "method", r.Method, "route", route, "status", status,
			"bytes", ww.BytesWritten(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type principalHolderKey struct{}

type principalHolder struct{ p *access.Principal }

// limits caps the body size and the time a request may take. The few
// routes that take files have allowances of their own (largeBodyOf).
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		maxBytes, timeout := s.opts.MaxBodyBytes, s.opts.RequestTimeout
		if lb, ok := s.largeBodyOf(r); ok {
			maxBytes, timeout = lb.maxBytes, lb.timeout
		}
		if r.ContentLength > maxBytes {
			writeProblem(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type authResultKey struct{}

type authResult struct {
	principal *access.Principal
	err       error
}

// authenticate resolves the bearer credential, if any. It never rejects a
// request itself: the route's access rule decides (see enforceAccess), so a
// public route ignores a stale token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res authResult
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, cred, ok := strings.Cut(h, " ")
			switch {
			case !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" || len(cred) > 4096:
				res.err = &fault.Error{Code: fault.Unauthorized, Message: "the Authorization header must be `Bearer <token>`"}
			default:
				res.principal, res.err = s.deps.Identity.Authenticate(r.Context(), strings.TrimSpace(cred))
			}
		} else {
			// The admin pages' browser session (adminsession.go).
			cred, err := adminCookieCredential(r)
			switch {
			case err != nil:
				res.err = err
			case cred == "":
				next.ServeHTTP(w, r)
				return
			case len(cred) > 4096:
				res.err = &fault.Error{Code: fault.Unauthorized, Message: "invalid admin session"}
			default:
				res.principal, res.err = s.deps.Identity.Authenticate(r.Context(), cred)
			}
		}
		ctx := context.WithValue(r.Context(), authResultKey{}, res)
		if res.principal != nil {
			ctx = access.WithPrincipal(ctx, res.principal)
			if holder, ok := ctx.Value(principalHolderKey{}).(*principalHolder); ok {
				holder.p = res.principal
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// enforceAccess applies the route's access rule from the route table:
// 401 without a valid credential, 403 for a suspended organization or a
// missing permission.
func (s *Server) enforceAccess(ctx huma.Context, next func(huma.Context)) {
	rule, _ := ctx.Operation().Metadata[accessKey].(access.Permission)
	if rule == public {
		next(ctx)
		return
	}
	res, _ := ctx.Context().Value(authResultKey{}).(authResult)
	if res.err != nil {
		s.writeErr(ctx, res.err)
		return
	}
	p := res.principal
	switch {
	case p == nil:
		s.writeErr(ctx, &fault.Error{Code: fault.Unauthorized, Message: "authentication required"})
		return
	case rule == authenticated:
	case rule == platformAdmin:
		if !p.PlatformAdmin {
			s.writeErr(ctx, &fault.Error{Code: fault.Forbidden, Message: "platform administrators only"})
			return
		}
	case !p.Can(rule):
		s.writeErr(ctx, &fault.Error{Code: fault.Forbidden, Message: "your role lacks the permission " + string(rule)})
		return
	}
	next(ctx)
}

func (s *Server) writeErr(ctx huma.Context, err error) {
	perr := toProblem(ctx.Context(), s.log, err)
	var he huma.HeadersError
	if ok := asHeaders(perr, &he); ok {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	var se huma.StatusError
	if asStatus(perr, &se) {
		_ = huma.WriteErr(s.api, ctx, se.GetStatus(), se.Error())
		return
	}
	_ = huma.WriteErr(s.api, ctx, http.StatusInternalServerError, "internal error")
}

// truncate cuts s to at most n bytes of valid UTF-8: header values may hold
// any bytes, and they end up in text columns (audit rows) and logs.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
