package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/logging"
)

func TestContextAndRedaction(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, "json", "info")
	org, user := uuid.New(), uuid.New()
	ctx := access.WithRequest(context.Background(), access.Request{ID: "req-1"})
	ctx = access.WithPrincipal(ctx, &access.Principal{OrgID: org, UserID: user})

	log.InfoContext(ctx, "hello", "password", "hunter22", "refresh_token", "abc", "jwt_secret", "s", "count", 3)

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "req-1", line["request_id"])
	require.Equal(t, org.String(), line["organization_id"])
	require.Equal(t, user.String(), line["user_id"])
	require.Equal(t, logging.Redacted, line["password"])
	require.Equal(t, logging.Redacted, line["refresh_token"])
	require.Equal(t, logging.Redacted, line["jwt_secret"])
	require.InDelta(t, 3, line["count"], 0)
	require.NotContains(t, buf.String(), "hunter22")
}
