// Package httpapi is AutoPulse's HTTP API: huma operations on a chi router,
// one visible route table (routes.go), thin handlers (one file per
// resource), and the middleware every request passes through.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/swaggest/swgui/v5emb"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/idempotency"
	"github.com/autopulse/autopulse/internal/identity"
	"github.com/autopulse/autopulse/internal/metrics"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/record"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/tag"
)

// Deps are the services behind the API.
type Deps struct {
	DB          *postgres.DB
	Identity    *identity.Service
	Tags        *tag.Service
	Audit       *audit.Service
	Settings    *setting.Service
	Idempotency *idempotency.Store
	Records     *record.Service
	Campaigns   *campaign.Service
	Dispatch    *dispatch.Service
	Calls       *call.Service
}

// Options tune the HTTP layer.
type Options struct {
	Version        string
	MaxBodyBytes   int64         // per request body; 413 beyond
	RequestTimeout time.Duration // per request; 503 beyond
	// ProxyHops is how many trusted proxies append to X-Forwarded-For in
	// front of us (CloudFront + ALB = 2). Zero ignores the header.
	ProxyHops int
	// Metrics records each request by route template; nil records nothing.
	Metrics *metrics.Metrics
	// JobsUI is the River UI (NewJobsUI), mounted at /admin/jobs for
	// platform administrators only; nil mounts nothing.
	JobsUI http.Handler
}

// Server is the HTTP API.
type Server struct {
	deps    Deps
	opts    Options
	log     *slog.Logger
	api     huma.API
	handler http.Handler
}

// route is one operation of the API.
type route struct {
	Method   string
	Path     string
	Access   access.Permission
	ID       string
	Summary  string
	Status   int // success status; 0 means 200 (204 for noContent)
	register registrar
}

type registrar func(s *Server, api huma.API, op huma.Operation)

// handle adapts a typed handler: errors are translated to problems.
func handle[I, O any](h func(context.Context, *I) (*O, error)) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
			out, err := h(ctx, in)
			if err != nil {
				return nil, toProblem(ctx, s.log, err)
			}
			return out, nil
		})
	}
}

// New builds the API.
func New(deps Deps, opts Options, log *slog.Logger) *Server {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	s := &Server{deps: deps, opts: opts, log: log}

	router := chi.NewRouter()
	router.Use(s.observe, s.requestID, s.recoverer, s.accessLog, s.limits, s.authenticate, s.idempotent)
	router.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "no such route")
	})
	router.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, "method not allowed on this route")
	})

	config := huma.DefaultConfig("AutoPulse API", opts.Version)
	config.Info.Description = "The backend of AutoPulse, AI voice calls for car-dealership service departments. " +
		"Authenticate with POST /api/v1/auth/token, then send `Authorization: Bearer <access_token>` " +
		"(or an API key). Errors are RFC 9457 problem+json; lists are keyset-paginated with ?limit=&cursor=."
	config.CreateHooks = nil // no $schema links in bodies
	config.DocsPath = ""     // served below from embedded assets
	config.RejectUnknownQueryParameters = true
	config.Components.Schemas = newSchemaRegistry()
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT or API key", //nolint:gosec // G101: a description of the scheme, not a credential
			Description: "An access token from POST /api/v1/auth/token, or an API key (apk_…)"},
	}
	s.api = humachi.New(router, config)
	s.api.UseMiddleware(s.enforceAccess)

	for _, r := range s.routes() {
		op := huma.Operation{
			OperationID:   r.ID,
			Method:        r.Method,
			Path:          r.Path,
			Summary:       r.Summary,
			DefaultStatus: r.Status,
			MaxBodyBytes:  opts.MaxBodyBytes,
			Metadata:      map[string]any{accessKey: r.Access},
			Tags:          []string{tagOf(r.Path)},
		}
		if r.Access != public {
			op.Security = []map[string][]string{{"bearer": {}}}
			op.Description = "Requires: " + string(r.Access)
		}
		r.register(s, s.api, op)
	}

	docs := v5emb.New("AutoPulse API", "/openapi.json", "/docs/")
	router.Handle("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently))
	router.Handle("/docs/*", docs)
	if opts.JobsUI != nil {
		router.Mount(JobsUIPath, s.platformAdminOnly(opts.JobsUI))
		router.Get(AdminLoginPath, s.adminLogin)
		router.Post(AdminLoginPath, s.adminLogin)
		router.Post(AdminLogoutPath, s.adminLogout)
	}
	s.handler = router
	return s
}

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// API exposes the huma API (for the OpenAPI document and tests).
func (s *Server) API() huma.API { return s.api }

// Routes lists every operation with its access rule (for tests and docs).
func (s *Server) Routes() []RouteInfo {
	rs := s.routes()
	out := make([]RouteInfo, len(rs))
	for i, r := range rs {
		out[i] = RouteInfo{Method: r.Method, Path: r.Path, Access: string(r.Access), ID: r.ID}
	}
	return out
}

// RouteInfo describes one operation.
type RouteInfo struct {
	Method, Path, Access, ID string
}

// tagOf groups operations in the docs by their resource.
func tagOf(path string) string {
	const prefix = "/api/v1/"
	if len(path) <= len(prefix) || path[:len(prefix)] != prefix {
		return "operations"
	}
	rest := path[len(prefix):]
	for i, c := range rest {
		if c == '/' {
			return rest[:i]
		}
	}
	return rest
}
