package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/identity"
)

func (s *Server) userList(ctx context.Context, in *ListParams) (*body[list[identity.User]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Identity.ListUsers(ctx, org(ctx), pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type userCreateInput struct {
	Body identity.UserInput
}

func (s *Server) userCreate(ctx context.Context, in *userCreateInput) (*body[identity.User], error) {
	u, err := s.deps.Identity.CreateUser(ctx, principal(ctx), in.Body)
	return bodyOf(u), err
}

func (s *Server) userGet(ctx context.Context, in *IDPath) (*body[identity.User], error) {
	u, err := s.deps.Identity.GetUser(ctx, org(ctx), in.id())
	return bodyOf(u), err
}

// userPatch is the body of PATCH /users/{id} (JSON merge patch).
type userPatch struct {
	FullName nullable[string]    `json:"full_name,omitempty" minLength:"1" maxLength:"200"`
	RoleID   nullable[uuid.UUID] `json:"role_id,omitempty" format:"uuid" doc:"Nobody changes their own role or grants permissions they lack"`
	IsActive nullable[bool]      `json:"is_active,omitempty" doc:"An inactive user cannot sign in; their tokens stop working at once"`
}

type userUpdateInput struct {
	IDPath
	Body userPatch
}

func (s *Server) userUpdate(ctx context.Context, in *userUpdateInput) (*body[identity.User], error) {
	var p identity.UserPatch
	var err error
	if p.FullName, err = present(in.Body.FullName, "body.full_name"); err != nil {
		return nil, err
	}
	if p.RoleID, err = present(in.Body.RoleID, "body.role_id"); err != nil {
		return nil, err
	}
	if p.IsActive, err = present(in.Body.IsActive, "body.is_active"); err != nil {
		return nil, err
	}
	u, err := s.deps.Identity.UpdateUser(ctx, principal(ctx), in.id(), p)
	return bodyOf(u), err
}

func (s *Server) userDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Identity.DeleteUser(ctx, principal(ctx), in.id())
}
