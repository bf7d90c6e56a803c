package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Role is a role as the API shows it, with its effective permissions: for
// a system role those defined in code, for a custom role those stored.
type Role struct {
	ID          uuid.UUID           `json:"id"`
	Key         string              `json:"key" doc:"Stable identifier, unique in the organization"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	IsSystem    bool                `json:"is_system" doc:"System roles are built in and read-only"`
	Permissions []access.Permission `json:"permissions"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

// RoleFromRow converts a row.
func RoleFromRow(r db.Role) Role {
	return Role{
		ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, IsSystem: r.IsSystem,
		Permissions: rolePermissions(r.Key, r.IsSystem, r.Permissions), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// RoleInput creates a custom role.
type RoleInput struct {
	Key         string   `json:"key,omitempty" pattern:"^[a-z0-9][a-z0-9_-]{0,62}$" doc:"Defaults to one derived from the name"`
	Name        string   `json:"name" minLength:"1" maxLength:"100"`
	Description string   `json:"description,omitempty" maxLength:"500"`
	Permissions []string `json:"permissions" maxItems:"64" doc:"Permissions from GET /api/v1/permissions"`
}

// RolePatch changes a custom role; nil fields are unchanged.
type RolePatch struct {
	Name        *string
	Description *string
	// Permissions, when set, replaces the role's permissions.
	Permissions *[]string
}

// PermissionInfo describes one permission of the catalog.
type PermissionInfo struct {
	Permission  access.Permission `json:"permission"`
	Description string            `json:"description"`
	OwnerOnly   bool              `json:"owner_only" doc:"Held only by the owner role; never granted to a custom role"`
	SystemRoles []string          `json:"system_roles" doc:"The system roles that hold it"`
}

// Permissions lists the permission catalog.
func Permissions() []PermissionInfo {
	out := make([]PermissionInfo, len(access.Catalog))
	for i, c := range access.Catalog {
		roles := []string{}
		for _, r := range access.SystemRoles {
			if slices.Contains(r.Permissions, c.Permission) {
				roles = append(roles, r.Key)
			}
		}
		out[i] = PermissionInfo{Permission: c.Permission, Description: c.Description, OwnerOnly: c.OwnerOnly, SystemRoles: roles}
	}
	return out
}

// checkPermissions validates a custom role's permissions: each known, none
// reserved to owners. It returns them sorted and without duplicates.
func checkPermissions(location string, in []string) ([]access.Permission, error) {
	perms := make([]access.Permission, 0, len(in))
	for i, p := range in {
		perm := access.Permission(p)
		switch {
		case !access.Known(perm):
			return nil, fault.InvalidField(fmt.Sprintf("%s[%d]", location, i), "unknown permission "+p+"; see GET /api/v1/permissions")
		case access.OwnerOnly(perm):
			return nil, fault.InvalidField(fmt.Sprintf("%s[%d]", location, i), p+" is reserved to the owner role")
		}
		perms = append(perms, perm)
	}
	slices.Sort(perms)
	return slices.Compact(perms), nil
}

// checkGrant refuses to let actor hand out permissions it does not hold:
// nobody escalates through a role they assign or edit.
func checkGrant(actor *access.Principal, perms []access.Permission) error {
	if actor.CanAll(perms) {
		return nil
	}
	var missing []string
	for _, p := range perms {
		if !actor.Can(p) {
			missing = append(missing, string(p))
		}
	}
	return fault.Errorf(fault.Forbidden, "you cannot grant permissions you do not hold: %s", strings.Join(missing, ", "))
}

func permissionStrings(perms []access.Permission) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return out
}

func roleKeyFromName(name string) string {
	key := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(key) > 63 {
		key = strings.TrimRight(key[:63], "-")
	}
	if key == "" {
		key = "role"
	}
	return key
}

func checkRoleText(name, description *string) error {
	if name != nil {
		*name = strings.TrimSpace(*name)
		if *name == "" || utf8.RuneCountInString(*name) > 100 {
			return fault.InvalidField("body.name", "must be 1 to 100 characters")
		}
	}
	if description != nil {
		*description = strings.TrimSpace(*description)
		if utf8.RuneCountInString(*description) > 500 {
			return fault.InvalidField("body.description", "must be at most 500 characters")
		}
	}
	return nil
}

var errSystemRole = fault.Errorf(fault.Conflict, "system roles are read-only; create a custom role instead")

// ListRoles returns org's roles, newest first (custom roles before the
// system roles, which every organization gets when it is created).
func (s *Service) ListRoles(ctx context.Context, org uuid.UUID, pr page.Request) ([]Role, string, error) {
	var rows []db.Role
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.RoleList(ctx, db.RoleListParams{OrganizationID: org, After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	roles, next := page.Map(pr, rows, func(r db.Role) uuid.UUID { return r.ID }, RoleFromRow)
	return roles, next, nil
}

// GetRole returns one role of org, or fault.NotFound.
func (s *Service) GetRole(ctx context.Context, org, id uuid.UUID) (Role, error) {
	var r Role
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RoleGet(ctx, org, id)
		r = RoleFromRow(row)
		return err
	})
	return r, err
}

// GetRoleByKey returns the role of org with key (such as a system role's
// key), or fault.NotFound.
func (s *Service) GetRoleByKey(ctx context.Context, org uuid.UUID, key string) (Role, error) {
	var r Role
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RoleGetByKey(ctx, org, key)
		r = RoleFromRow(row)
		return err
	})
	return r, err
}

// CreateRole adds a custom role to actor's organization. Its permissions
// must be known, not reserved to owners (fault.Invalid), and held by actor
// (fault.Forbidden). A taken key is a fault.Conflict.
func (s *Service) CreateRole(ctx context.Context, actor *access.Principal, in RoleInput) (Role, error) {
	if err := checkRoleText(&in.Name, &in.Description); err != nil {
		return Role{}, err
	}
	keyLocation := "body.key"
	if in.Key == "" {
		in.Key, keyLocation = roleKeyFromName(in.Name), "body.name"
	}
	perms, err := checkPermissions("body.permissions", in.Permissions)
	if err != nil {
		return Role{}, err
	}
	if err := checkGrant(actor, perms); err != nil {
		return Role{}, err
	}
	org := actor.OrgID
	var r Role
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RoleInsert(ctx, db.RoleInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Key: in.Key, Name: in.Name,
			Description: in.Description, IsSystem: false, Permissions: permissionStrings(perms),
		})
		if err != nil {
			if fault.Is(postgres.Translate(err), fault.Conflict) {
				return &fault.Error{Code: fault.Conflict, Message: "a role with the key " + in.Key + " already exists",
					Fields: []fault.FieldError{{Location: keyLocation, Message: "gives the key " + in.Key + ", which is taken"}}}
			}
			return err
		}
		r = RoleFromRow(row)
		return audit.Record(ctx, tx, audit.Create, "role", r.ID, nil, r)
	})
	return r, err
}

// UpdateRole changes a custom role. System roles are read-only
// (fault.Conflict). actor must hold every permission the role has and will
// have (fault.Forbidden): editing a role changes what its holders can do.
// Changes take effect on the holders' next request.
func (s *Service) UpdateRole(ctx context.Context, actor *access.Principal, id uuid.UUID, p RolePatch) (Role, error) {
	if err := checkRoleText(p.Name, p.Description); err != nil {
		return Role{}, err
	}
	var newPerms []access.Permission
	if p.Permissions != nil {
		var err error
		if newPerms, err = checkPermissions("body.permissions", *p.Permissions); err != nil {
			return Role{}, err
		}
	}
	org := actor.OrgID
	var r Role
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RoleGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if row.IsSystem {
			return errSystemRole
		}
		old := RoleFromRow(row)
		if err := checkGrant(actor, old.Permissions); err != nil {
			return err
		}
		if p.Permissions != nil {
			if err := checkGrant(actor, newPerms); err != nil {
				return err
			}
			row.Permissions = permissionStrings(newPerms)
		}
		if p.Name != nil {
			row.Name = *p.Name
		}
		if p.Description != nil {
			row.Description = *p.Description
		}
		if r = RoleFromRow(row); row.Name == old.Name && row.Description == old.Description && slices.Equal(r.Permissions, old.Permissions) {
			r = old
			return nil
		}
		row, err = tx.RoleUpdate(ctx, db.RoleUpdateParams{
			OrganizationID: org, ID: id, Name: row.Name, Description: row.Description, Permissions: row.Permissions,
		})
		if err != nil {
			return err
		}
		r = RoleFromRow(row)
		return audit.Record(ctx, tx, audit.Update, "role", id, old, r)
	})
	return r, err
}

// DeleteRole removes a custom role. System roles are read-only, and a role
// still held by a user or an unrevoked API key cannot go (both
// fault.Conflict). Revoked keys of the role are deleted with it.
func (s *Service) DeleteRole(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.RoleGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if row.IsSystem {
			return errSystemRole
		}
		usage, err := tx.RoleUsage(ctx, org, id)
		if err != nil {
			return err
		}
		if usage.Users > 0 || usage.ApiKeys > 0 {
			return roleInUse(usage.Users, usage.ApiKeys)
		}
		if _, err := tx.APIKeyDeleteRevokedByRole(ctx, org, id); err != nil {
			return err
		}
		if _, err := tx.RoleDelete(ctx, org, id); err != nil {
			// A user or key that took the role after the check above.
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23503" {
				return roleInUse(1, 0)
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "role", id, RoleFromRow(row), nil)
	})
}

func roleInUse(users, keys int64) error {
	return fault.Errorf(fault.Conflict,
		"the role is in use by %d user(s) and %d active API key(s); reassign or revoke them first", users, keys)
}
