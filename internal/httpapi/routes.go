package httpapi

import (
	"net/http"

	"github.com/autopulse/autopulse/internal/access"
)

// Access rules beyond the permission catalog.
const (
	public        access.Permission = "public"         // no credential needed
	authenticated access.Permission = "authenticated"  // any valid credential of an active organization
	platformAdmin access.Permission = "platform_admin" // AutoPulse staff only
)

// routes is the API: every operation, its path and the access it requires,
// in one table. Handlers live in one file per resource.
func (s *Server) routes() []route {
	return []route{
		// Health and operations.
		{http.MethodGet, "/healthz", public, "healthz", "Liveness: the process is up", 0, handle(s.healthz)},
		{http.MethodGet, "/readyz", public, "readyz", "Readiness: database reachable, schema current", 0, handle(s.readyz)},

		// Tags.
		{http.MethodGet, "/api/v1/tags", access.TagsRead, "tag-list", "List tags", 0, handle(s.tagList)},
		{http.MethodPost, "/api/v1/tags", access.TagsWrite, "tag-create", "Create a tag", http.StatusCreated, handle(s.tagCreate)},
		{http.MethodGet, "/api/v1/tags/{id}", access.TagsRead, "tag-get", "Get a tag", 0, handle(s.tagGet)},
		{http.MethodPut, "/api/v1/tags/{id}", access.TagsWrite, "tag-update", "Replace a tag", 0, handle(s.tagUpdate)},
		{http.MethodDelete, "/api/v1/tags/{id}", access.TagsWrite, "tag-delete", "Delete a tag", http.StatusNoContent, handle(s.tagDelete)},

		// Audit log.
		{http.MethodGet, "/api/v1/audit-logs", access.AuditRead, "audit-log-list", "List audit log entries", 0, handle(s.auditLogList)},

		// Authentication.

		// Organizations (and platform administration).

		// Users.

		// Roles and permissions.

		// API keys.

		// Settings.
	}
}
