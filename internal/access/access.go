// Package access defines who is acting and what they may do: the
// permission catalog, the system roles, and the Principal that
// authentication puts in every request's context.
package access

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Permission is one capability, "resource:verb".
type Permission string

// The permission catalog. Routes declare one of these; roles grant sets.
const (
	OrgRead        Permission = "org:read"        // see the organization's profile
	OrgWrite       Permission = "org:write"       // change the organization's profile
	OrgDelete      Permission = "org:delete"      // delete the organization (owners only)
	UsersRead      Permission = "users:read"      // list and view users
	UsersManage    Permission = "users:manage"    // invite, change, deactivate users
	RolesManage    Permission = "roles:manage"    // create and change custom roles
	SettingsRead   Permission = "settings:read"   // read settings
	SettingsWrite  Permission = "settings:write"  // change settings
	TagsRead       Permission = "tags:read"       // list tags
	TagsWrite      Permission = "tags:write"      // create, change, delete tags
	AuditRead      Permission = "audit:read"      // read the audit log
	APIKeysManage  Permission = "apikeys:manage"  // create and revoke API keys
	BillingRead    Permission = "billing:read"    // see plan, credits, payments
	BillingManage  Permission = "billing:manage"  // change plan, buy credits (owners only)
	RecordsRead    Permission = "records:read"    // service records, customers, vehicles
	RecordsWrite   Permission = "records:write"   // create, import, change records
	CampaignsRead  Permission = "campaigns:read"  // see campaigns and their targets
	CampaignsWrite Permission = "campaigns:write" // create, launch, pause campaigns
	CallsRead      Permission = "calls:read"      // calls, transcripts, recordings, bookings, inquiries
	CallsWrite     Permission = "calls:write"     // place calls, work bookings and inquiries
	AnalyticsRead  Permission = "analytics:read"  // KPIs and reports
)

// Catalog lists every permission with its meaning, in a stable order.
var Catalog = []struct {
	Permission  Permission
	Description string
	// OwnerOnly permissions are never granted to a custom role.
	OwnerOnly bool
}{
	{OrgRead, "View the organization's profile", false},
	{OrgWrite, "Change the organization's profile", false},
	{OrgDelete, "Delete the organization", true},
	{UsersRead, "List and view users", false},
	{UsersManage, "Create, change and deactivate users", false},
	{RolesManage, "Create and change custom roles", false},
	{SettingsRead, "Read settings", false},
	{SettingsWrite, "Change settings", false},
	{TagsRead, "List tags", false},
	{TagsWrite, "Create, change and delete tags", false},
	{AuditRead, "Read the audit log", false},
	{APIKeysManage, "Create and revoke API keys", false},
	{BillingRead, "View plan, credits and payments", false},
	{BillingManage, "Change plan and buy credits", true},
	{RecordsRead, "View service records, customers and vehicles", false},
	{RecordsWrite, "Create, import and change service records", false},
	{CampaignsRead, "View campaigns and their targets", false},
	{CampaignsWrite, "Create, launch, pause and cancel campaigns", false},
	{CallsRead, "View calls, transcripts, recordings, bookings and inquiries", false},
	{CallsWrite, "Place calls and work bookings and inquiries", false},
	{AnalyticsRead, "View KPIs and analytics", false},
}

// Known reports whether p is in the catalog.
func Known(p Permission) bool {
	for _, c := range Catalog {
		if c.Permission == p {
			return true
		}
	}
	return false
}

// OwnerOnly reports whether p is reserved to the owner role.
func OwnerOnly(p Permission) bool {
	for _, c := range Catalog {
		if c.Permission == p {
			return c.OwnerOnly
		}
	}
	return false
}

// System role keys.
const (
	RoleOwner   = "owner"
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleAgent   = "agent"
	RoleViewer  = "viewer"
)

// SystemRole is a built-in role. Each organization has a read-only row for
// every system role; its permissions are these, from code.
type SystemRole struct {
	Key         string
	Name        string
	Description string
	Permissions []Permission
}

var (
	viewerPerms  = []Permission{OrgRead, UsersRead, SettingsRead, TagsRead, RecordsRead, CampaignsRead, CallsRead, AnalyticsRead}
	agentPerms   = append(slices.Clone(viewerPerms), RecordsWrite, CallsWrite)
	managerPerms = append(slices.Clone(agentPerms), CampaignsWrite, TagsWrite, AuditRead)
	adminPerms   = append(slices.Clone(managerPerms), UsersManage, RolesManage, SettingsWrite, APIKeysManage, OrgWrite, BillingRead)
	ownerPerms   = append(slices.Clone(adminPerms), BillingManage, OrgDelete)
)

// SystemRoles are the built-in roles, most powerful first.
var SystemRoles = []SystemRole{
	{RoleOwner, "Owner", "Full control, including billing and deleting the organization", ownerPerms},
	{RoleAdmin, "Admin", "Manages users, roles, settings and integrations", adminPerms},
	{RoleManager, "Manager", "Runs campaigns and works escalations", managerPerms},
	{RoleAgent, "Agent", "Works calls, bookings and inquiries", agentPerms},
	{RoleViewer, "Viewer", "Reads everything, changes nothing", viewerPerms},
}

// SystemRoleByKey returns the system role with key.
func SystemRoleByKey(key string) (SystemRole, bool) {
	for _, r := range SystemRoles {
		if r.Key == key {
			return r, true
		}
	}
	return SystemRole{}, false
}

// Principal is the authenticated caller of a request.
type Principal struct {
	OrgID    uuid.UUID
	UserID   uuid.UUID // zero for an API key
	APIKeyID uuid.UUID // zero for a user
	Email    string
	RoleID   uuid.UUID
	RoleKey  string
	// Permissions the caller holds, sorted.
	Permissions []Permission
	// PlatformAdmin marks AutoPulse staff; it grants the /admin routes and
	// nothing inside any tenant.
	PlatformAdmin bool
}

// Can reports whether the principal holds p.
func (p *Principal) Can(perm Permission) bool {
	_, ok := slices.BinarySearch(p.Permissions, perm)
	return ok
}

// CanAll reports whether the principal holds every permission in perms:
// nobody grants what they do not hold.
func (p *Principal) CanAll(perms []Permission) bool {
	for _, perm := range perms {
		if !p.Can(perm) {
			return false
		}
	}
	return true
}

// ActorID is the user or API key acting, for audit and idempotency.
func (p *Principal) ActorID() uuid.UUID {
	if p.UserID != uuid.Nil {
		return p.UserID
	}
	return p.APIKeyID
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Request describes where a request came from, for audit rows and logs.
type Request struct {
	ID        string
	IP        string
	UserAgent string
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request description (zero outside a request).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
