package identity

import (
	"context"
	"errors"
	"strings"
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

// UserInput creates a user.
type UserInput struct {
	Email    string    `json:"email" format:"email" maxLength:"254" doc:"Unique across AutoPulse: it is the login"`
	FullName string    `json:"full_name" minLength:"1" maxLength:"200"`
	Password string    `json:"password" minLength:"12" maxLength:"256" doc:"The initial password, at least 12 characters"`
	RoleID   uuid.UUID `json:"role_id" format:"uuid"`
}

// UserPatch changes a user; nil fields are unchanged.
type UserPatch struct {
	FullName *string
	RoleID   *uuid.UUID
	IsActive *bool
}

// ListUsers returns org's users, newest first.
func (s *Service) ListUsers(ctx context.Context, org uuid.UUID, pr page.Request) ([]User, string, error) {
	var rows []db.UserListRow
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.UserList(ctx, db.UserListParams{OrganizationID: org, After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := page.Result(pr, rows, func(r db.UserListRow) uuid.UUID { return r.ID })
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = User{
			ID: r.ID, Email: r.Email, FullName: r.FullName, RoleID: r.RoleID, Role: r.RoleKey, IsActive: r.IsActive,
			IsPlatformAdmin: r.IsPlatformAdmin, LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		}
	}
	return users, next, nil
}

// GetUser returns one user of org, or fault.NotFound.
func (s *Service) GetUser(ctx context.Context, org, id uuid.UUID) (User, error) {
	var u User
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.UserGetWithRole(ctx, org, id)
		u = UserFromRow(row.User, row.RoleKey)
		return err
	})
	return u, err
}

// CreateUser adds a user with a role and an initial password to actor's
// organization. It returns fault.Invalid for bad input or an unknown role,
// fault.Forbidden when the role grants permissions actor does not hold,
// and fault.Conflict when the email is registered anywhere (the message is
// the same whichever tenant holds it).
func (s *Service) CreateUser(ctx context.Context, actor *access.Principal, in UserInput) (User, error) {
	email, err := NormalizeEmail("body.email", in.Email)
	if err != nil {
		return User{}, err
	}
	name, err := checkFullName(in.FullName)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword("body.password", in.Password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	org := actor.OrgID
	var u User
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		role, err := assignableRole(ctx, tx, actor, in.RoleID)
		if err != nil {
			return err
		}
		row, err := tx.UserInsert(ctx, db.UserInsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Email: email, FullName: name,
			PasswordHash: hash, RoleID: role.ID,
		})
		if err != nil {
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.ConstraintName == "users_email_key" {
				return &fault.Error{Code: fault.Conflict, Message: "an account with this email already exists",
					Fields: []fault.FieldError{{Location: "body.email", Message: "is already registered"}}}
			}
			return err
		}
		u = UserFromRow(row, role.Key)
		return audit.Record(ctx, tx, audit.Create, "user", u.ID, nil, u)
	})
	return u, err
}

// UpdateUser changes a user of actor's organization. The rules, each a
// fault.Forbidden:
//   - nobody changes their own role or deactivates themselves;
//   - nobody changes a user whose role holds permissions they lack (so only
//     an owner changes an owner);
//   - nobody assigns a role with permissions they lack.
//
// Demoting or deactivating the last active owner is a fault.Conflict. An
// unknown role is fault.Invalid; an unknown user fault.NotFound.
func (s *Service) UpdateUser(ctx context.Context, actor *access.Principal, id uuid.UUID, p UserPatch) (User, error) {
	var name string
	if p.FullName != nil {
		var err error
		if name, err = checkFullName(*p.FullName); err != nil {
			return User{}, err
		}
	}
	org := actor.OrgID
	self := actor.UserID == id
	var u User
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		cur, err := tx.UserGetWithRoleForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if err := checkManage(actor, cur.RoleKey, cur.RoleIsSystem, cur.RolePermissions); err != nil {
			return err
		}
		old := UserFromRow(cur.User, cur.RoleKey)
		next, roleKey := cur.User, cur.RoleKey
		if p.FullName != nil {
			next.FullName = name
		}
		if p.RoleID != nil && *p.RoleID != cur.User.RoleID {
			if self {
				return fault.Errorf(fault.Forbidden, "you cannot change your own role")
			}
			role, err := assignableRole(ctx, tx, actor, *p.RoleID)
			if err != nil {
				return err
			}
			next.RoleID, roleKey = role.ID, role.Key
		}
		if p.IsActive != nil && *p.IsActive != cur.User.IsActive {
			if self {
				return fault.Errorf(fault.Forbidden, "you cannot deactivate yourself")
			}
			next.IsActive = *p.IsActive
		}
		if next.FullName == cur.User.FullName && next.RoleID == cur.User.RoleID && next.IsActive == cur.User.IsActive {
			u = old
			return nil
		}
		if isActiveOwner(cur.User, cur.RoleKey, cur.RoleIsSystem) && (next.RoleID != cur.User.RoleID || !next.IsActive) {
			if err := keepAnOwner(ctx, tx, cur.User.RoleID); err != nil {
				return err
			}
		}
		row, err := tx.UserUpdate(ctx, db.UserUpdateParams{
			OrganizationID: org, ID: id, FullName: next.FullName, RoleID: next.RoleID, IsActive: next.IsActive,
		})
		if err != nil {
			return err
		}
		u = UserFromRow(row, roleKey)
		return audit.Record(ctx, tx, audit.Update, "user", id, old, u)
	})
	return u, err
}

// DeleteUser removes a user of actor's organization for good; audit rows
// keep their id. Nobody deletes themselves or a user whose role holds
// permissions they lack (fault.Forbidden), and the last active owner stays
// (fault.Conflict).
func (s *Service) DeleteUser(ctx context.Context, actor *access.Principal, id uuid.UUID) error {
	org := actor.OrgID
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		cur, err := tx.UserGetWithRoleForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		if actor.UserID == id {
			return fault.Errorf(fault.Forbidden, "you cannot delete yourself")
		}
		if err := checkManage(actor, cur.RoleKey, cur.RoleIsSystem, cur.RolePermissions); err != nil {
			return err
		}
		if isActiveOwner(cur.User, cur.RoleKey, cur.RoleIsSystem) {
			if err := keepAnOwner(ctx, tx, cur.User.RoleID); err != nil {
				return err
			}
		}
		if _, err := tx.UserDelete(ctx, org, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "user", id, UserFromRow(cur.User, cur.RoleKey), nil)
	})
}

func checkFullName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return "", fault.InvalidField("body.full_name", "must be 1 to 200 characters")
	}
	return name, nil
}

// assignableRole loads the role id names and checks that actor may hand it
// out: it exists in the tenant (else fault.Invalid) and grants nothing
// actor lacks (else fault.Forbidden).
func assignableRole(ctx context.Context, tx *postgres.Tx, actor *access.Principal, id uuid.UUID) (db.Role, error) {
	role, err := tx.RoleGet(ctx, tx.Org, id)
	if fault.Is(postgres.Translate(err), fault.NotFound) {
		return db.Role{}, fault.InvalidField("body.role_id", "is not a role of this organization")
	}
	if err != nil {
		return db.Role{}, err
	}
	return role, checkGrant(actor, rolePermissions(role.Key, role.IsSystem, role.Permissions))
}

// checkManage refuses to let actor change a user whose role holds more
// than actor does: an admin cannot demote, deactivate or delete an owner.
func checkManage(actor *access.Principal, roleKey string, system bool, stored []string) error {
	if actor.CanAll(rolePermissions(roleKey, system, stored)) {
		return nil
	}
	if system && roleKey == access.RoleOwner {
		return fault.Errorf(fault.Forbidden, "only an owner can change or delete an owner")
	}
	return fault.Errorf(fault.Forbidden, "you cannot change a user whose role has permissions you do not hold")
}

func isActiveOwner(u db.User, roleKey string, system bool) bool {
	return u.IsActive && system && roleKey == access.RoleOwner
}

// keepAnOwner refuses a change that would leave the organization without
// an active owner. It locks the owner role first, so two owners demoting
// each other at once cannot both succeed; the count runs after the lock and
// so sees the other's committed change.
func keepAnOwner(ctx context.Context, tx *postgres.Tx, ownerRole uuid.UUID) error {
	if _, err := tx.RoleLockByKey(ctx, tx.Org, access.RoleOwner); err != nil {
		return err
	}
	n, err := tx.UserCountByRole(ctx, tx.Org, ownerRole)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fault.Errorf(fault.Conflict, "the organization must keep at least one active owner; make someone else an owner first")
	}
	return nil
}
