package identity

import "context"

// PlatformOrgName is the organization that holds platform administrators.
// It is a tenant like any other, with no customers; its users' platform
// flag, not their role, grants the /admin routes.
const PlatformOrgName = "AutoPulse Platform"

// EnsurePlatformAdmin creates a platform administrator with email unless
// that email is registered. It reports whether it created one.
func (s *Service) EnsurePlatformAdmin(ctx context.Context, email, password string) (bool, error) {
	exists, err := s.EmailRegistered(ctx, email)
	if err != nil || exists {
		return false, err
	}
	_, err = s.Register(ctx, Registration{
		OrganizationName: PlatformOrgName, FullName: "Platform Administrator", Email: email,
		Password: password, Timezone: "UTC", PlatformAdmin: true,
	})
	return err == nil, err
}
