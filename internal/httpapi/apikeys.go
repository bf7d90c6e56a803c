package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/identity"
)

func (s *Server) apiKeyList(ctx context.Context, in *ListParams) (*body[list[identity.APIKey]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Identity.ListAPIKeys(ctx, org(ctx), pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type apiKeyCreateInput struct {
	Body identity.APIKeyInput
}

// apiKeyCreated carries a secret shown once: no-store keeps it out of
// caches and out of the idempotency store, so a retry issues a new key
// rather than replaying this one.
type apiKeyCreated struct {
	CacheControl string `header:"Cache-Control"`
	Body         identity.CreatedAPIKey
}

func (s *Server) apiKeyCreate(ctx context.Context, in *apiKeyCreateInput) (*apiKeyCreated, error) {
	k, err := s.deps.Identity.CreateAPIKey(ctx, principal(ctx), in.Body)
	if err != nil {
		return nil, err
	}
	return &apiKeyCreated{CacheControl: "no-store", Body: k}, nil
}

func (s *Server) apiKeyGet(ctx context.Context, in *IDPath) (*body[identity.APIKey], error) {
	k, err := s.deps.Identity.GetAPIKey(ctx, org(ctx), in.id())
	return bodyOf(k), err
}

func (s *Server) apiKeyRevoke(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Identity.RevokeAPIKey(ctx, org(ctx), in.id())
}
