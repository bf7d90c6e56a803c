package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/identity"
)

func (s *Server) roleList(ctx context.Context, in *ListParams) (*body[list[identity.Role]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Identity.ListRoles(ctx, org(ctx), pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type roleCreateInput struct {
	Body identity.RoleInput
}

func (s *Server) roleCreate(ctx context.Context, in *roleCreateInput) (*body[identity.Role], error) {
	r, err := s.deps.Identity.CreateRole(ctx, principal(ctx), in.Body)
	return bodyOf(r), err
}

func (s *Server) roleGet(ctx context.Context, in *IDPath) (*body[identity.Role], error) {
	r, err := s.deps.Identity.GetRole(ctx, org(ctx), in.id())
	return bodyOf(r), err
}

// rolePatch is the body of PATCH /roles/{id} (JSON merge patch).
type rolePatch struct {
	Name        nullable[string]   `json:"name,omitempty" minLength:"1" maxLength:"100"`
	Description nullable[string]   `json:"description,omitempty" nullable:"true" maxLength:"500" doc:"null clears"`
	Permissions nullable[[]string] `json:"permissions,omitempty" nullable:"false" maxItems:"64" doc:"Replaces the role's permissions"`
}

type roleUpdateInput struct {
	IDPath
	Body rolePatch
}

func (s *Server) roleUpdate(ctx context.Context, in *roleUpdateInput) (*body[identity.Role], error) {
	p := identity.RolePatch{Description: clearable(in.Body.Description)}
	var err error
	if p.Name, err = present(in.Body.Name, "body.name"); err != nil {
		return nil, err
	}
	if p.Permissions, err = present(in.Body.Permissions, "body.permissions"); err != nil {
		return nil, err
	}
	r, err := s.deps.Identity.UpdateRole(ctx, principal(ctx), in.id(), p)
	return bodyOf(r), err
}

func (s *Server) roleDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Identity.DeleteRole(ctx, org(ctx), in.id())
}

// permissionList is not paginated: the catalog is small and fixed.
func (s *Server) permissionList(_ context.Context, _ *struct{}) (*body[list[identity.PermissionInfo]], error) {
	return listOf(identity.Permissions(), ""), nil
}
