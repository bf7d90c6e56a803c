package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/record"
)

type dmsListInput struct {
	ListParams
	Type string `query:"type" enum:"cdk,reynolds,dealertrack,tekion,csv,api_push"`
}

func (s *Server) dmsList(ctx context.Context, in *dmsListInput) (*body[list[record.Integration]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Records.ListIntegrations(ctx, org(ctx), in.Type, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type dmsCreateInput struct {
	Body record.IntegrationInput
}

func (s *Server) dmsCreate(ctx context.Context, in *dmsCreateInput) (*body[record.Integration], error) {
	i, err := s.deps.Records.CreateIntegration(ctx, org(ctx), in.Body)
	return bodyOf(i), err
}

func (s *Server) dmsGet(ctx context.Context, in *IDPath) (*body[record.Integration], error) {
	i, err := s.deps.Records.GetIntegration(ctx, org(ctx), in.id())
	return bodyOf(i), err
}

// dmsPatch is the body of PATCH /dms-integrations/{id}.
type dmsPatch struct {
	Name           nullable[string] `json:"name,omitempty" minLength:"1" maxLength:"100"`
	Config         map[string]any   `json:"config,omitempty" doc:"A JSON merge patch of the settings: a key set to null is removed; any other value replaces. Send a secret to rotate it; secrets are never returned"`
	TimeoutSeconds nullable[int32]  `json:"timeout_seconds,omitempty" minimum:"1" maximum:"600"`
	IsActive       nullable[bool]   `json:"is_active,omitempty"`
}

type dmsUpdateInput struct {
	IDPath
	Body dmsPatch
}

func (s *Server) dmsUpdate(ctx context.Context, in *dmsUpdateInput) (*body[record.Integration], error) {
	b := in.Body
	p := record.IntegrationPatch{Config: b.Config}
	var err error
	if p.Name, err = present(b.Name, "body.name"); err != nil {
		return nil, err
	}
	if p.TimeoutSeconds, err = present(b.TimeoutSeconds, "body.timeout_seconds"); err != nil {
		return nil, err
	}
	if p.IsActive, err = present(b.IsActive, "body.is_active"); err != nil {
		return nil, err
	}
	i, err := s.deps.Records.UpdateIntegration(ctx, org(ctx), in.id(), p)
	return bodyOf(i), err
}

func (s *Server) dmsDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Records.DeleteIntegration(ctx, org(ctx), in.id())
}

func (s *Server) dmsTest(ctx context.Context, in *IDPath) (*body[record.IntegrationTest], error) {
	t, err := s.deps.Records.TestIntegration(ctx, org(ctx), in.id())
	return bodyOf(t), err
}

func (s *Server) dmsSync(ctx context.Context, in *IDPath) (*importAccepted, error) {
	imp, err := s.deps.Records.SyncIntegration(ctx, org(ctx), in.id())
	if err != nil {
		return nil, err
	}
	return &importAccepted{Location: importUploadPath + "/" + imp.ID.String(), Body: imp}, nil
}
