package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// DMS integration types.
const (
	DMSCDK         = "cdk"
	DMSReynolds    = "reynolds"
	DMSDealertrack = "dealertrack"
	DMSTekion      = "tekion"
	DMSCSV         = "csv"
	DMSAPIPush     = "api_push"
)

// Integration is a connection to a dealer management system, as the API
// shows it: the settings without their secrets, and which secrets are set.
type Integration struct {
	ID     uuid.UUID      `json:"id"`
	Name   string         `json:"name"`
	Type   string         `json:"type" enum:"cdk,reynolds,dealertrack,tekion,csv,api_push"`
	Config map[string]any `json:"config" doc:"Settings, without secrets"`
	// SecretsSet names the secret settings that hold a value; the values
	// are sealed at rest and never returned.
	SecretsSet     []string `json:"secrets_set" example:"[\"api_key\"]"`
	TimeoutSeconds int32    `json:"timeout_seconds"`
	IsActive       bool     `json:"is_active"`
	// AdapterAvailable says this build can test and sync the type (csv and
	// api_push; see docs/DMS.md for the others).
	AdapterAvailable bool       `json:"adapter_available"`
	LastSyncAt       *time.Time `json:"last_sync_at"`
	LastSyncStatus   *string    `json:"last_sync_status" enum:"completed,failed"`
	LastSyncError    *string    `json:"last_sync_error"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// IntegrationInput creates an integration.
type IntegrationInput struct {
	Name string `json:"name" minLength:"1" maxLength:"100" example:"Nightly CDK export"`
	Type string `json:"type" enum:"cdk,reynolds,dealertrack,tekion,csv,api_push"`
	// Config holds settings and secrets together; keys named like secrets
	// (see IsSecretKey) are split off and sealed.
	Config         map[string]any `json:"config,omitempty" doc:"Settings. Secret keys (password, token, secret, api_key, client_secret, private_key, and any key ending in _password, _secret, _token or _key) are sealed with AES-256-GCM and never returned. csv: url (https, required), delimiter, since_param, api_key_header, username; secrets password, token or api_key"`
	TimeoutSeconds int32          `json:"timeout_seconds,omitempty" minimum:"1" maximum:"600" default:"30"`
	IsActive       *bool          `json:"is_active,omitempty" default:"true"`
}

// IntegrationPatch changes an integration; nil fields are unchanged.
// Config is a JSON merge patch of the settings: a key set to null is
// removed, any other value replaces (secrets included: send a secret to
// rotate it, null to remove it).
type IntegrationPatch struct {
	Name           *string
	Config         map[string]any
	TimeoutSeconds *int32
	IsActive       *bool
}

// Limits of an integration's settings.
const (
	maxConfigKeys   = 50
	maxConfigBytes  = 16 << 10
	maxSecretLength = 4096
)

var configKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// secretNames and secretSuffixes name the settings that are secrets.
var (
	secretNames    = []string{"password", "passphrase", "secret", "token", "api_key", "apikey", "client_secret", "private_key", "access_token", "refresh_token"}
	secretSuffixes = []string{"_password", "_passphrase", "_secret", "_token", "_key"}
)

// IsSecretKey reports whether a setting named key is a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	if slices.Contains(secretNames, k) {
		return true
	}
	for _, suffix := range secretSuffixes {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// adapterAvailable reports whether this build has an adapter for typ.
func adapterAvailable(typ string) bool { return typ == DMSCSV || typ == DMSAPIPush }

// splitConfig separates settings from secrets and checks both.
func splitConfig(config map[string]any) (settings map[string]any, secrets map[string]string, errs []fault.FieldError) {
	settings, secrets = map[string]any{}, map[string]string{}
	if len(config) > maxConfigKeys {
		return nil, nil, []fault.FieldError{{Location: "body.config", Message: fmt.Sprintf("must have at most %d keys", maxConfigKeys)}}
	}
	for k, v := range config {
		loc := "body.config." + k
		switch {
		case !configKeyRe.MatchString(k):
			errs = append(errs, fault.FieldError{Location: "body.config", Message: fmt.Sprintf("key %q must be snake_case (a-z, 0-9, _; at most 64)", truncateText(k, 70))})
		case IsSecretKey(k):
			s, ok := v.(string)
			switch {
			case !ok || s == "":
				errs = append(errs, fault.FieldError{Location: loc, Message: "a secret must be a non-empty string"})
			case len(s) > maxSecretLength:
				errs = append(errs, fault.FieldError{Location: loc, Message: fmt.Sprintf("must be at most %d bytes", maxSecretLength)})
			default:
				secrets[k] = s
			}
		default:
			settings[k] = v
		}
	}
	if b, err := json.Marshal(settings); err != nil || len(b) > maxConfigBytes {
		errs = append(errs, fault.FieldError{Location: "body.config", Message: fmt.Sprintf("must be at most %d bytes of JSON", maxConfigBytes)})
	}
	return settings, secrets, errs
}

// checkTypeConfig checks the settings a type's adapter needs.
func checkTypeConfig(typ string, settings map[string]any, secrets map[string]string) []fault.FieldError {
	if typ != DMSCSV {
		return nil
	}
	var errs []fault.FieldError
	raw, _ := settings["url"].(string)
	if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		errs = append(errs, fault.FieldError{Location: "body.config.url", Message: "csv integrations need the https URL of the export (credentials go in username/password, token or api_key)"})
	}
	if d, ok := settings["delimiter"]; ok {
		if s, isString := d.(string); !isString || utf8.RuneCountInString(s) != 1 || strings.ContainsAny(s, "\"\r\n") {
			errs = append(errs, fault.FieldError{Location: "body.config.delimiter", Message: "must be one character"})
		}
	}
	for _, k := range []string{"since_param", "api_key_header", "username"} {
		if v, ok := settings[k]; ok {
			if s, isString := v.(string); !isString || s == "" || len(s) > 200 {
				errs = append(errs, fault.FieldError{Location: "body.config." + k, Message: "must be a non-empty string"})
			}
		}
	}
	if _, hasUser := settings["username"]; hasUser && secrets["password"] == "" {
		errs = append(errs, fault.FieldError{Location: "body.config.password", Message: "is required with username"})
	}
	return errs
}

// IntegrationSecretAAD is the additional data an integration's secrets
// are sealed with: it binds the sealed value to its row, so a value copied
// into another integration, or another tenant's, does not open.
func IntegrationSecretAAD(org, id uuid.UUID) []byte {
	return []byte("dms_integrations/" + org.String() + "/" + id.String())
}

func (s *Service) sealSecrets(org, id uuid.UUID, secrets map[string]string) ([]byte, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if s.Sealer == nil {
		return nil, errors.New("record: no encryption key configured for DMS secrets")
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	return s.Sealer.Seal(plain, IntegrationSecretAAD(org, id))
}

func (s *Service) openSecrets(r db.DmsIntegration) (map[string]string, error) {
	secrets := map[string]string{}
	if len(r.ConfigSecret) == 0 {
		return secrets, nil
	}
	if s.Sealer == nil {
		return nil, errors.New("record: no encryption key configured for DMS secrets")
	}
	plain, err := s.Sealer.Open(r.ConfigSecret, IntegrationSecretAAD(r.OrganizationID, r.ID))
	if err != nil {
		return nil, fmt.Errorf("dms integration %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, fmt.Errorf("dms integration %s: secrets: %w", r.ID, err)
	}
	return secrets, nil
}

// CreateIntegration adds a DMS integration. A name in use is
// fault.Conflict.
func (s *Service) CreateIntegration(ctx context.Context, org uuid.UUID, in IntegrationInput) (Integration, error) {
	in.Name = strings.TrimSpace(in.Name)
	var errs []fault.FieldError
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		errs = append(errs, fault.FieldError{Location: "body.name", Message: "must be 1 to 100 characters"})
	}
	switch in.Type {
	case DMSCDK, DMSReynolds, DMSDealertrack, DMSTekion, DMSCSV, DMSAPIPush:
	default:
		errs = append(errs, fault.FieldError{Location: "body.type", Message: "must be cdk, reynolds, dealertrack, tekion, csv or api_push"})
	}
	if in.TimeoutSeconds == 0 {
		in.TimeoutSeconds = 30
	}
	if in.TimeoutSeconds < 1 || in.TimeoutSeconds > 600 {
		errs = append(errs, fault.FieldError{Location: "body.timeout_seconds", Message: "must be between 1 and 600"})
	}
	settings, secrets, cerrs := splitConfig(in.Config)
	errs = append(errs, cerrs...)
	if len(cerrs) == 0 {
		errs = append(errs, checkTypeConfig(in.Type, settings, secrets)...)
	}
	if len(errs) > 0 {
		return Integration{}, invalid(errs)
	}
	active := in.IsActive == nil || *in.IsActive
	id := uuid.Must(uuid.NewV7())
	sealed, err := s.sealSecrets(org, id, secrets)
	if err != nil {
		return Integration{}, err
	}
	config, err := json.Marshal(settings)
	if err != nil {
		return Integration{}, err
	}
	var out Integration
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DMSIntegrationInsert(ctx, db.DMSIntegrationInsertParams{
			OrganizationID: org, ID: id, Name: in.Name, Type: in.Type, Config: config, ConfigSecret: sealed,
			TimeoutSeconds: in.TimeoutSeconds, IsActive: active,
		})
		if err != nil {
			return err
		}
		out = integrationFromRow(row, secretNamesOf(secrets))
		return audit.Record(ctx, tx, audit.Create, "dms_integration", id, nil, out)
	})
	return out, err
}

// GetIntegration returns one integration.
func (s *Service) GetIntegration(ctx context.Context, org, id uuid.UUID) (Integration, error) {
	var out Integration
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DMSIntegrationGet(ctx, org, id)
		if err != nil {
			return err
		}
		out, err = s.integrationView(row)
		return err
	})
	return out, err
}

// ListIntegrations returns integrations, newest first, optionally of one
// type.
func (s *Service) ListIntegrations(ctx context.Context, org uuid.UUID, typ string, pr page.Request) ([]Integration, string, error) {
	var rows []db.DmsIntegration
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.DMSIntegrationList(ctx, db.DMSIntegrationListParams{OrganizationID: org, Type: nullable(typ), After: pr.After, Lim: pr.Fetch()})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := page.Result(pr, rows, func(r db.DmsIntegration) uuid.UUID { return r.ID })
	out := make([]Integration, len(rows))
	for i, r := range rows {
		if out[i], err = s.integrationView(r); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// UpdateIntegration applies p. Secrets are re-sealed with the primary key.
func (s *Service) UpdateIntegration(ctx context.Context, org, id uuid.UUID, p IntegrationPatch) (Integration, error) {
	var out Integration
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		cur, err := tx.DMSIntegrationGetForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		old, err := s.integrationView(cur)
		if err != nil {
			return err
		}
		secrets, err := s.openSecrets(cur)
		if err != nil {
			return err
		}
		merged := map[string]any{}
		for k, v := range old.Config {
			merged[k] = v
		}
		for k, v := range secrets {
			merged[k] = v
		}
		for k, v := range p.Config {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		params := db.DMSIntegrationUpdateParams{
			OrganizationID: org, ID: id, Name: cur.Name, TimeoutSeconds: cur.TimeoutSeconds, IsActive: cur.IsActive,
		}
		var errs []fault.FieldError
		if p.Name != nil {
			if params.Name = strings.TrimSpace(*p.Name); params.Name == "" || utf8.RuneCountInString(params.Name) > 100 {
				errs = append(errs, fault.FieldError{Location: "body.name", Message: "must be 1 to 100 characters"})
			}
		}
		if p.TimeoutSeconds != nil {
			if params.TimeoutSeconds = *p.TimeoutSeconds; params.TimeoutSeconds < 1 || params.TimeoutSeconds > 600 {
				errs = append(errs, fault.FieldError{Location: "body.timeout_seconds", Message: "must be between 1 and 600"})
			}
		}
		if p.IsActive != nil {
			params.IsActive = *p.IsActive
		}
		settings, newSecrets, cerrs := splitConfig(merged)
		errs = append(errs, cerrs...)
		if len(cerrs) == 0 {
			errs = append(errs, checkTypeConfig(cur.Type, settings, newSecrets)...)
		}
		if len(errs) > 0 {
			return invalid(errs)
		}
		if params.Config, err = json.Marshal(settings); err != nil {
			return err
		}
		if params.ConfigSecret, err = s.sealSecrets(org, id, newSecrets); err != nil {
			return err
		}
		row, err := tx.DMSIntegrationUpdate(ctx, params)
		if err != nil {
			return err
		}
		out = integrationFromRow(row, secretNamesOf(newSecrets))
		return audit.Record(ctx, tx, audit.Update, "dms_integration", id, old, out)
	})
	return out, err
}

// DeleteIntegration removes an integration; its records stay (their
// dms_integration_id is cleared).
func (s *Service) DeleteIntegration(ctx context.Context, org, id uuid.UUID) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DMSIntegrationDelete(ctx, org, id)
		if err != nil {
			return err
		}
		// An integration whose secrets no longer open (a lost key) can
		// still be deleted; its audit row then names no secrets.
		old, err := s.integrationView(row)
		if err != nil {
			s.log().WarnContext(ctx, "delete dms integration: secrets do not open", "id", id, "err", err)
			old = integrationFromRow(row, nil)
		}
		return audit.Record(ctx, tx, audit.Delete, "dms_integration", id, old, nil)
	})
}

// IntegrationTest is the outcome of TestIntegration.
type IntegrationTest struct {
	OK bool `json:"ok"`
	// Class of the failure (auth, rate_limited, unavailable, invalid_config,
	// bad_data), for a failed test.
	Class   string `json:"class,omitempty"`
	Message string `json:"message,omitempty"`
}

// TestIntegration checks an integration's connection and credentials
// through its adapter, within its timeout, changing nothing. A type
// without an adapter is fault.Invalid.
func (s *Service) TestIntegration(ctx context.Context, org, id uuid.UUID) (IntegrationTest, error) {
	var row db.DmsIntegration
	var tz string
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		if row, err = tx.DMSIntegrationGet(ctx, org, id); err != nil {
			return err
		}
		defaults, err := loadOrgDefaults(ctx, tx, org)
		tz = defaults.Timezone
		return err
	})
	if err != nil {
		return IntegrationTest{}, err
	}
	p, err := s.provider(row, tz)
	if err != nil {
		return IntegrationTest{}, err
	}
	tctx, cancel := context.WithTimeout(ctx, time.Duration(row.TimeoutSeconds)*time.Second)
	defer cancel()
	if err := p.Test(tctx); err != nil {
		return IntegrationTest{OK: false, Class: string(classOf(err)), Message: err.Error()}, nil
	}
	return IntegrationTest{OK: true}, nil
}

// SyncIntegration starts a pull: an import of source dms, loaded by the
// import worker from the integration's adapter, from its last successful
// sync on. An inactive integration, or one with a pull already waiting or
// running, is fault.Conflict; one whose type has no pull adapter (api_push,
// and the DMSs docs/DMS.md describes) is fault.Invalid.
func (s *Service) SyncIntegration(ctx context.Context, org, id uuid.UUID) (Import, error) {
	var out Import
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.DMSIntegrationGetForUpdate(ctx, org, id) // one sync request at a time
		if err != nil {
			return err
		}
		active, err := tx.RecordImportActiveForIntegration(ctx, org, &id)
		if err != nil {
			return err
		}
		switch {
		case !row.IsActive:
			return fault.Errorf(fault.Conflict, "the integration is inactive; activate it first")
		case active:
			return fault.Errorf(fault.Conflict, "a sync of this integration is already waiting or running")
		case row.Type == DMSAPIPush:
			return fault.Errorf(fault.Invalid, "api_push integrations are not pulled: the DMS pushes records to POST /api/v1/service-records/batch")
		case !adapterAvailable(row.Type):
			return fault.Errorf(fault.Invalid, "no %s adapter in this build yet (see docs/DMS.md)", row.Type)
		}
		imp, err := s.insertImport(ctx, tx, org, importInsert{Source: ImportSourceDMS, IntegrationID: &id, FileName: row.Name})
		if err != nil {
			return err
		}
		out = importFromRow(imp)
		return nil
	})
	return out, err
}

func (s *Service) integrationView(r db.DmsIntegration) (Integration, error) {
	secrets, err := s.openSecrets(r)
	if err != nil {
		return Integration{}, err
	}
	return integrationFromRow(r, secretNamesOf(secrets)), nil
}

func secretNamesOf(secrets map[string]string) []string {
	names := make([]string, 0, len(secrets))
	for k := range secrets {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func integrationFromRow(r db.DmsIntegration, secretsSet []string) Integration {
	config := map[string]any{}
	_ = json.Unmarshal(r.Config, &config) // jsonb written by us: an object
	return Integration{
		ID: r.ID, Name: r.Name, Type: r.Type, Config: config, SecretsSet: secretsSet, TimeoutSeconds: r.TimeoutSeconds,
		IsActive: r.IsActive, AdapterAvailable: adapterAvailable(r.Type), LastSyncAt: r.LastSyncAt,
		LastSyncStatus: r.LastSyncStatus, LastSyncError: r.LastSyncError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
