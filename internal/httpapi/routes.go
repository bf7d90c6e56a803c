package httpapi

import (
	"net/http"

	"github.com/autopulse/autopulse/internal/access"
)

// Access rules beyond the permission catalog.
const (
	public        access.Permission = "public"         // no credential needed
	authenticated access.Permission = "authenticated"  // any valid credential of an active organization
	platformAdmin access.Permission = "platform_admin" // AutoPulse staff only
)

// routes is the API: every operation, its path and the access it requires,
// in one table. Handlers live in one file per resource.
func (s *Server) routes() []route {
	return []route{
		// Health and operations.
		{http.MethodGet, "/healthz", public, "healthz", "Liveness: the process is up", 0, handle(s.healthz)},
		{http.MethodGet, "/readyz", public, "readyz", "Readiness: database reachable, schema current", 0, handle(s.readyz)},

		// Tags.
		{http.MethodGet, "/api/v1/tags", access.TagsRead, "tag-list", "List tags", 0, handle(s.tagList)},
		{http.MethodPost, "/api/v1/tags", access.TagsWrite, "tag-create", "Create a tag", http.StatusCreated, handle(s.tagCreate)},
		{http.MethodGet, "/api/v1/tags/{id}", access.TagsRead, "tag-get", "Get a tag", 0, handle(s.tagGet)},
		{http.MethodPut, "/api/v1/tags/{id}", access.TagsWrite, "tag-update", "Replace a tag", 0, handle(s.tagUpdate)},
		{http.MethodDelete, "/api/v1/tags/{id}", access.TagsWrite, "tag-delete", "Delete a tag", http.StatusNoContent, handle(s.tagDelete)},

		// Audit log.
		{http.MethodGet, "/api/v1/audit-logs", access.AuditRead, "audit-log-list", "List audit log entries", 0, handle(s.auditLogList)},

		// Authentication.
		{http.MethodPost, "/api/v1/auth/register", public, "auth-register", "Register an organization and its owner", http.StatusCreated, handle(s.authRegister)},
		{http.MethodPost, "/api/v1/auth/token", public, "auth-token", "OAuth2 token endpoint: password and refresh_token grants (form-encoded)", 0, handleRaw[tokenInput, tokenOutput, tokenForm](s.authToken, formContentType)},
		{http.MethodPost, "/api/v1/auth/logout", public, "auth-logout", "End the session of a refresh token", http.StatusNoContent, handleRaw[logoutInput, noContent, logoutForm](s.authLogout, formContentType, jsonContentType)},
		{http.MethodGet, "/api/v1/auth/me", authenticated, "auth-me", "The caller: user, organization, role and permissions", 0, handle(s.authMe)},
		{http.MethodPost, "/api/v1/auth/password", authenticated, "auth-password", "Change your password; your other sessions end", http.StatusNoContent, handle(s.authPassword)},

		// Organizations (and platform administration).
		{http.MethodGet, "/api/v1/organizations/current", access.OrgRead, "organization-get", "Get the caller's organization", 0, handle(s.organizationGet)},
		{http.MethodPatch, "/api/v1/organizations/current", access.OrgWrite, "organization-update", "Change the organization's profile (JSON merge patch)", 0, handle(s.organizationUpdate)},
		{http.MethodDelete, "/api/v1/organizations/current", access.OrgDelete, "organization-delete", "Delete the organization: every later call of its users gets 403", http.StatusNoContent, handle(s.organizationDelete)},
		{http.MethodGet, "/api/v1/admin/organizations", platformAdmin, "admin-organization-list", "List every organization (platform admin)", 0, handle(s.adminOrganizationList)},
		{http.MethodPost, "/api/v1/admin/organizations", platformAdmin, "admin-organization-create", "Create an organization with its owner (platform admin)", http.StatusCreated, handle(s.adminOrganizationCreate)},
		{http.MethodGet, "/api/v1/admin/organizations/{id}", platformAdmin, "admin-organization-get", "Get any organization (platform admin)", 0, handle(s.adminOrganizationGet)},
		{http.MethodPost, "/api/v1/admin/organizations/{id}/suspend", platformAdmin, "admin-organization-suspend", "Suspend an organization: its users get 403 (platform admin)", 0, handle(s.adminOrganizationSuspend)},
		{http.MethodPost, "/api/v1/admin/organizations/{id}/reactivate", platformAdmin, "admin-organization-reactivate", "Lift a suspension (platform admin)", 0, handle(s.adminOrganizationReactivate)},

		// Users.
		{http.MethodGet, "/api/v1/users", access.UsersRead, "user-list", "List users", 0, handle(s.userList)},
		{http.MethodPost, "/api/v1/users", access.UsersManage, "user-create", "Create a user with a role and a password", http.StatusCreated, handle(s.userCreate)},
		{http.MethodGet, "/api/v1/users/{id}", access.UsersRead, "user-get", "Get a user", 0, handle(s.userGet)},
		{http.MethodPatch, "/api/v1/users/{id}", access.UsersManage, "user-update", "Change a user's name, role or active flag", 0, handle(s.userUpdate)},
		{http.MethodDelete, "/api/v1/users/{id}", access.UsersManage, "user-delete", "Delete a user", http.StatusNoContent, handle(s.userDelete)},

		// Roles and permissions.
		{http.MethodGet, "/api/v1/roles", access.UsersRead, "role-list", "List roles with their effective permissions", 0, handle(s.roleList)},
		{http.MethodPost, "/api/v1/roles", access.RolesManage, "role-create", "Create a custom role", http.StatusCreated, handle(s.roleCreate)},
		{http.MethodGet, "/api/v1/roles/{id}", access.UsersRead, "role-get", "Get a role", 0, handle(s.roleGet)},
		{http.MethodPatch, "/api/v1/roles/{id}", access.RolesManage, "role-update", "Change a custom role (system roles are read-only)", 0, handle(s.roleUpdate)},
		{http.MethodDelete, "/api/v1/roles/{id}", access.RolesManage, "role-delete", "Delete a custom role nobody holds", http.StatusNoContent, handle(s.roleDelete)},
		{http.MethodGet, "/api/v1/permissions", authenticated, "permission-list", "List the permission catalog", 0, handle(s.permissionList)},

		// API keys.
		{http.MethodGet, "/api/v1/api-keys", access.APIKeysManage, "api-key-list", "List API keys (never their secrets)", 0, handle(s.apiKeyList)},
		{http.MethodPost, "/api/v1/api-keys", access.APIKeysManage, "api-key-create", "Create an API key; the key is shown once", http.StatusCreated, handle(s.apiKeyCreate)},
		{http.MethodGet, "/api/v1/api-keys/{id}", access.APIKeysManage, "api-key-get", "Get an API key", 0, handle(s.apiKeyGet)},
		{http.MethodDelete, "/api/v1/api-keys/{id}", access.APIKeysManage, "api-key-revoke", "Revoke an API key, at once", http.StatusNoContent, handle(s.apiKeyRevoke)},

		// Settings.
		{http.MethodGet, "/api/v1/settings", access.SettingsRead, "setting-list", "List settings, with the defaults of known keys not set", 0, handle(s.settingList)},
		{http.MethodGet, "/api/v1/settings/{key}", access.SettingsRead, "setting-get", "Get a setting (or its default)", 0, handle(s.settingGet)},
		{http.MethodPut, "/api/v1/settings/{key}", access.SettingsWrite, "setting-put", "Set a setting", 0, handle(s.settingPut)},
		{http.MethodDelete, "/api/v1/settings/{key}", access.SettingsWrite, "setting-delete", "Restore a setting's default (or remove a custom. key)", http.StatusNoContent, handle(s.settingDelete)},

		// Service records, customers, vehicles, imports, DMS integrations.
		{http.MethodGet, "/api/v1/service-records", access.RecordsRead, "service-record-list", "List service records, latest service first (filters; q searches RO number, customer name and phone by prefix)", 0, handle(s.recordList)},
		{http.MethodPost, "/api/v1/service-records", access.RecordsWrite, "service-record-create", "Create a service record; its customer (by DMS id, else phone) and vehicle (by VIN) are matched or created. An RO number that exists is 409", http.StatusCreated, handle(s.recordCreate)},
		{http.MethodPost, "/api/v1/service-records/batch", access.RecordsWrite, "service-record-batch", "Push up to 1,000 records (DMS middleware, API keys): upsert on RO number in one transaction, a result per record; invalid records do not block valid ones", 0, withBodyLimit(batchMaxBodyBytes, handle(s.recordBatch))},
		{http.MethodGet, "/api/v1/service-records/imports", access.RecordsRead, "service-record-import-list", "List CSV imports, newest first", 0, handle(s.importList)},
		{http.MethodPost, "/api/v1/service-records/imports", access.RecordsWrite, "service-record-import-create", "Upload a CSV file (text/csv or multipart, up to 200 MiB) to import in the background; 202 with the import to poll", http.StatusAccepted, handleStreamUpload(s.importCreate)},
		{http.MethodGet, "/api/v1/service-records/imports/template", access.RecordsRead, "service-record-import-template", "The CSV template: the canonical headers and an example row", 0, handle(s.importTemplate)},
		{http.MethodGet, "/api/v1/service-records/imports/{id}", access.RecordsRead, "service-record-import-get", "An import's status, counts and row-level errors (line, column, reason)", 0, handle(s.importGet)},
		{http.MethodGet, "/api/v1/service-records/{id}", access.RecordsRead, "service-record-get", "Get a service record", 0, handle(s.recordGet)},
		{http.MethodPatch, "/api/v1/service-records/{id}", access.RecordsWrite, "service-record-update", "Change a service record (JSON merge patch)", 0, handle(s.recordUpdate)},
		{http.MethodDelete, "/api/v1/service-records/{id}", access.RecordsWrite, "service-record-delete", "Delete a service record (its customer and vehicle stay)", http.StatusNoContent, handle(s.recordDelete)},
		{http.MethodGet, "/api/v1/customers", access.RecordsRead, "customer-list", "List customers, newest first", 0, handle(s.customerList)},
		{http.MethodGet, "/api/v1/customers/{id}", access.RecordsRead, "customer-get", "Get a customer with its vehicles and latest service records", 0, handle(s.customerGet)},
		{http.MethodGet, "/api/v1/vehicles", access.RecordsRead, "vehicle-list", "List vehicles, newest first", 0, handle(s.vehicleList)},
		{http.MethodGet, "/api/v1/vehicles/{id}", access.RecordsRead, "vehicle-get", "Get a vehicle with its customer and latest service records", 0, handle(s.vehicleGet)},
		{http.MethodGet, "/api/v1/dms-integrations", access.RecordsRead, "dms-integration-list", "List DMS integrations (never their secrets)", 0, handle(s.dmsList)},
		{http.MethodPost, "/api/v1/dms-integrations", access.SettingsWrite, "dms-integration-create", "Create a DMS integration; secrets in config are sealed (AES-256-GCM) and never returned", http.StatusCreated, handle(s.dmsCreate)},
		{http.MethodGet, "/api/v1/dms-integrations/{id}", access.RecordsRead, "dms-integration-get", "Get a DMS integration (secrets_set names its secrets, never their values)", 0, handle(s.dmsGet)},
		{http.MethodPatch, "/api/v1/dms-integrations/{id}", access.SettingsWrite, "dms-integration-update", "Change a DMS integration; config is merge-patched (send a secret to rotate it, null to remove it)", 0, handle(s.dmsUpdate)},
		{http.MethodDelete, "/api/v1/dms-integrations/{id}", access.SettingsWrite, "dms-integration-delete", "Delete a DMS integration (its records stay)", http.StatusNoContent, handle(s.dmsDelete)},
		{http.MethodPost, "/api/v1/dms-integrations/{id}/test", access.SettingsWrite, "dms-integration-test", "Check a DMS integration's connection and credentials (changes nothing)", 0, handle(s.dmsTest)},
		{http.MethodPost, "/api/v1/dms-integrations/{id}/sync", access.RecordsWrite, "dms-integration-sync", "Pull records from a DMS integration in the background; 202 with the import to poll", http.StatusAccepted, handle(s.dmsSync)},

		// Campaigns, schedules, targets and the do-not-call list.
		{http.MethodGet, "/api/v1/campaigns", access.CampaignsRead, "campaign-list", "List campaigns", 0, handle(s.campaignList)},
		{http.MethodPost, "/api/v1/campaigns", access.CampaignsWrite, "campaign-create", "Create a draft campaign", http.StatusCreated, handle(s.campaignCreate)},
		{http.MethodGet, "/api/v1/campaigns/{id}", access.CampaignsRead, "campaign-get", "Get a campaign", 0, handle(s.campaignGet)},
		{http.MethodPatch, "/api/v1/campaigns/{id}", access.CampaignsWrite, "campaign-update", "Change a campaign (JSON merge patch; what may change depends on its status)", 0, handle(s.campaignUpdate)},
		{http.MethodDelete, "/api/v1/campaigns/{id}", access.CampaignsWrite, "campaign-delete", "Delete a draft or cancelled campaign", http.StatusNoContent, handle(s.campaignDelete)},
		{http.MethodPost, "/api/v1/campaigns/{id}/preview", access.CampaignsRead, "campaign-preview", "Dry run: who a launch would target now, and who it would skip and why; writes nothing", 0, handle(s.campaignPreview)},
		{http.MethodPost, "/api/v1/campaigns/{id}/launch", access.CampaignsWrite, "campaign-launch", "Launch a draft: materialize its targets and start calling (or wait for starts_at)", 0, handle(s.campaignLaunch)},
		{http.MethodPost, "/api/v1/campaigns/{id}/pause", access.CampaignsWrite, "campaign-pause", "Pause an active campaign", 0, handle(s.campaignPause)},
		{http.MethodPost, "/api/v1/campaigns/{id}/resume", access.CampaignsWrite, "campaign-resume", "Resume a paused campaign", 0, handle(s.campaignResume)},
		{http.MethodPost, "/api/v1/campaigns/{id}/cancel", access.CampaignsWrite, "campaign-cancel", "Cancel a campaign and its waiting targets", 0, handle(s.campaignCancel)},
		{http.MethodGet, "/api/v1/campaigns/{id}/targets", access.CampaignsRead, "campaign-target-list", "List a campaign's targets with their last decision", 0, handle(s.campaignTargetList)},
		{http.MethodGet, "/api/v1/campaigns/{id}/stats", access.CampaignsRead, "campaign-stats", "A campaign's targets by status and what its calls came to", 0, handle(s.campaignStats)},
		{http.MethodGet, "/api/v1/campaigns/{id}/schedule", access.CampaignsRead, "campaign-schedule-get", "The schedule that applies to a campaign (its own or the organization's)", 0, handle(s.campaignScheduleGet)},
		{http.MethodPut, "/api/v1/campaigns/{id}/schedule", access.CampaignsWrite, "campaign-schedule-put", "Set a campaign's own schedule", 0, handle(s.campaignSchedulePut)},
		{http.MethodDelete, "/api/v1/campaigns/{id}/schedule", access.CampaignsWrite, "campaign-schedule-delete", "Drop a campaign's own schedule: the organization's applies", 0, handle(s.campaignScheduleDelete)},
		{http.MethodGet, "/api/v1/schedule-config", access.CampaignsRead, "schedule-config-get", "The organization's default calling schedule", 0, handle(s.scheduleConfigGet)},
		{http.MethodPut, "/api/v1/schedule-config", access.CampaignsWrite, "schedule-config-put", "Set the organization's default calling schedule", 0, handle(s.scheduleConfigPut)},
		{http.MethodGet, "/api/v1/dnc", access.CampaignsRead, "dnc-list", "List the do-not-call list", 0, handle(s.dncList)},
		{http.MethodPost, "/api/v1/dnc", access.CampaignsWrite, "dnc-add", "Add a number (201; 200 with the existing entry when listed); cancels its waiting targets", http.StatusCreated, handle(s.dncAdd)},
		{http.MethodPost, "/api/v1/dnc/import", access.CampaignsWrite, "dnc-import", "Add the numbers of a CSV file; reports row-level errors", 0, handleUpload(s.dncImport)},
		{http.MethodGet, "/api/v1/dnc/{id}", access.CampaignsRead, "dnc-get", "Get a do-not-call entry", 0, handle(s.dncGet)},
		{http.MethodDelete, "/api/v1/dnc/{id}", access.CampaignsWrite, "dnc-delete", "Take a number off the do-not-call list", http.StatusNoContent, handle(s.dncDelete)},

		// Calls placed by hand, and the dispatcher's operator views.
		{http.MethodPost, "/api/v1/calls", access.CallsWrite, "call-place", "Place a one-off call to a service record's customer, under the compliance rules (202; 409 hold, 422 block)", http.StatusAccepted, handle(s.callPlace)},
		{http.MethodGet, "/api/v1/dispatch/targets/{id}/decision", access.CampaignsRead, "dispatch-target-decision", "Why a target was or wasn't called: its stored decision and the rules' verdict now", 0, handle(s.dispatchTargetDecision)},

		// Webhooks, calls, transcripts, recordings, bookings, inquiries.
		{http.MethodPost, "/api/v1/webhooks/vapi", public, "webhook-vapi", "Receive a Vapi server message (signed with X-Vapi-Signature)", 0, s.webhookVapiRoute()},
		{http.MethodGet, "/api/v1/calls", access.CallsRead, "call-list", "List calls", 0, handle(s.callList)},
		{http.MethodGet, "/api/v1/calls/{id}", access.CallsRead, "call-get", "Get a call with its recording's state", 0, handle(s.callGet)},
		{http.MethodGet, "/api/v1/calls/{id}/transcript", access.CallsRead, "call-transcript", "Get a call's transcript", 0, handle(s.callTranscript)},
		{http.MethodGet, "/api/v1/calls/{id}/recording", access.CallsRead, "call-recording", "Stream a call's recording (Range supported)", 0, streamAudio(s.callRecording)},
		{http.MethodGet, "/api/v1/transcripts/{id}", access.CallsRead, "transcript-get", "Get a transcript: a call has one, identified by the call's id", 0, handle(s.callTranscript)},
		{http.MethodGet, "/api/v1/bookings", access.CallsRead, "booking-list", "List bookings", 0, handle(s.bookingList)},
		{http.MethodPost, "/api/v1/bookings", access.CallsWrite, "booking-create", "Create a booking", http.StatusCreated, handle(s.bookingCreate)},
		{http.MethodGet, "/api/v1/bookings/{id}", access.CallsRead, "booking-get", "Get a booking", 0, handle(s.bookingGet)},
		{http.MethodPatch, "/api/v1/bookings/{id}", access.CallsWrite, "booking-update", "Change a scheduled booking", 0, handle(s.bookingUpdate)},
		{http.MethodDelete, "/api/v1/bookings/{id}", access.CallsWrite, "booking-delete", "Delete a booking", http.StatusNoContent, handle(s.bookingDelete)},
		{http.MethodPost, "/api/v1/bookings/{id}/status", access.CallsWrite, "booking-status", "Complete, cancel or mark a scheduled booking as no-show", 0, handle(s.bookingStatus)},
		{http.MethodGet, "/api/v1/inquiries", access.CallsRead, "inquiry-list", "List inquiries", 0, handle(s.inquiryList)},
		{http.MethodPost, "/api/v1/inquiries", access.CallsWrite, "inquiry-create", "Create an inquiry", http.StatusCreated, handle(s.inquiryCreate)},
		{http.MethodGet, "/api/v1/inquiries/{id}", access.CallsRead, "inquiry-get", "Get an inquiry", 0, handle(s.inquiryGet)},
		{http.MethodPatch, "/api/v1/inquiries/{id}", access.CallsWrite, "inquiry-update", "Change an inquiry's content", 0, handle(s.inquiryUpdate)},
		{http.MethodDelete, "/api/v1/inquiries/{id}", access.CallsWrite, "inquiry-delete", "Delete an inquiry", http.StatusNoContent, handle(s.inquiryDelete)},
		{http.MethodPost, "/api/v1/inquiries/{id}/assign", access.CallsWrite, "inquiry-assign", "Assign an inquiry to a user of the organization, or unassign it", 0, handle(s.inquiryAssign)},
		{http.MethodPost, "/api/v1/inquiries/{id}/status", access.CallsWrite, "inquiry-status", "Move an inquiry along new → in_progress → responded → closed", 0, handle(s.inquiryStatus)},
	}
}
