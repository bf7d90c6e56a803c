package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

type healthStatus struct {
	Status string `json:"status" example:"ok"`
	// SchemaVersion is the applied migration (readyz only).
	SchemaVersion int64 `json:"schema_version,omitempty"`
}

func (s *Server) healthz(context.Context, *struct{}) (*body[healthStatus], error) {
	return bodyOf(healthStatus{Status: "ok"}), nil
}

// readyz answers 200 only when the database answers within two seconds and
// its schema is the one this binary was built for, so a load balancer keeps
// traffic away from a task whose migrations have not run.
func (s *Server) readyz(ctx context.Context, _ *struct{}) (*body[healthStatus], error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := db.New(s.deps.DB.Pool).SchemaVersion(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "readiness: database unreachable", "err", err)
		return nil, huma.Error503ServiceUnavailable("database unreachable")
	}
	if want := postgres.LatestVersion(); v != want {
		return nil, huma.Error503ServiceUnavailable(fmt.Sprintf("database schema at version %d, binary needs %d: run `autopulse migrate up`", v, want))
	}
	return bodyOf(healthStatus{Status: "ok", SchemaVersion: v}), nil
}
