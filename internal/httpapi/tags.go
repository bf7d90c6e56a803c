package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/tag"
)

type tagListInput struct {
	ListParams
	Type string `query:"type" enum:"service_type,focus_area,inquiry_topic,custom" doc:"Only tags of this type"`
}

func (s *Server) tagList(ctx context.Context, in *tagListInput) (*body[list[tag.Tag]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Tags.List(ctx, org(ctx), in.Type, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type tagInput struct {
	Body tag.Input
}

func (s *Server) tagCreate(ctx context.Context, in *tagInput) (*body[tag.Tag], error) {
	t, err := s.deps.Tags.Create(ctx, org(ctx), in.Body)
	return bodyOf(t), err
}

func (s *Server) tagGet(ctx context.Context, in *IDPath) (*body[tag.Tag], error) {
	t, err := s.deps.Tags.Get(ctx, org(ctx), in.id())
	return bodyOf(t), err
}

type tagUpdateInput struct {
	IDPath
	Body tag.Input
}

func (s *Server) tagUpdate(ctx context.Context, in *tagUpdateInput) (*body[tag.Tag], error) {
	t, err := s.deps.Tags.Update(ctx, org(ctx), in.id(), in.Body)
	return bodyOf(t), err
}

func (s *Server) tagDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Tags.Delete(ctx, org(ctx), in.id())
}
