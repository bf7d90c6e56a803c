// Package setting manages an organization's settings: typed, validated
// values for known keys (time zone, business hours, caller id, review link,
// …) and free-form values under the custom. namespace.
//
// The known keys are defined once, in the definitions table of keys.go,
// with their type, category, description, default and validation. Code
// that needs a value reads it typed through Get (or Read inside its own
// transaction): Get(ctx, settings, org, setting.KeyBusinessHours) returns
// a BusinessHours, the stored one or the default.
package setting

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Categories group settings in lists.
const (
	CategoryGeneral   = "general"
	CategoryCalling   = "calling"
	CategoryMessaging = "messaging"
	CategoryCustom    = "custom"
)

// Limits on custom settings.
const (
	CustomPrefix = "custom."
	// MaxCustomValueBytes caps a custom value, measured as compact JSON.
	MaxCustomValueBytes = 8 << 10
	// MaxCustomSettings caps the custom keys of one organization. The
	// check and the insert are not serialized, so concurrent writes of new
	// keys may pass it by a few; it bounds abuse, not an invariant.
	MaxCustomSettings = 100
	// MaxDescription caps a custom setting's description, in bytes.
	MaxDescription = 500
)

// KeyPattern is the format of a setting key: a known key's name, or
// custom. followed by 1 to 64 of [a-z0-9_.-].
const KeyPattern = `^([a-z][a-z0-9_]{0,63}|custom\.[a-z0-9_.-]{1,64})$`

var keyRe = regexp.MustCompile(KeyPattern)

// Setting is one setting as the API shows it.
type Setting struct {
	Key         string          `json:"key" example:"timezone"`
	Value       json.RawMessage `json:"value" doc:"Typed per known key; any JSON under custom.; null when a known key has no default"`
	Category    string          `json:"category" enum:"general,calling,messaging,custom"`
	Description string          `json:"description"`
	IsDefault   bool            `json:"is_default" doc:"True when the key is not set and value is its default"`
	CreatedAt   *time.Time      `json:"created_at" doc:"null for a default"`
	UpdatedAt   *time.Time      `json:"updated_at" doc:"null for a default"`
}

// Change is the body of a PUT: a setting's new value.
type Change struct {
	Value       json.RawMessage `json:"value" doc:"The new value; its type depends on the key"`
	Description *string         `json:"description,omitempty" maxLength:"500" doc:"For custom. keys; a known key's description is fixed"`
}

// Filter narrows List.
type Filter struct {
	Category string
}

// Service manages settings. Its methods return fault.Invalid for a
// malformed key or a value that fails validation (with field-level
// detail), fault.NotFound for a key that is neither known nor a custom key
// that is set, and fault.Conflict when an organization has too many custom
// keys.
type Service struct {
	DB *postgres.DB
}

// List returns org's settings ordered by key: every known key (stored or
// default) and every custom key set, limit at a time, resuming after
// cursor.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter, limit int, cursor string) ([]Setting, string, error) {
	switch {
	case limit == 0:
		limit = page.DefaultLimit
	case limit < 1 || limit > page.MaxLimit:
		return nil, "", fault.InvalidField("query.limit", "must be between 1 and 200")
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var rows []db.Setting
	var prof profile
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		rows, err = tx.SettingList(ctx, db.SettingListParams{
			OrganizationID: org, Category: optional(f.Category), After: optional(after), Lim: int32(limit) + 1,
		})
		if err != nil {
			return err
		}
		prof, err = readProfile(ctx, tx)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	// Merge in the defaults of known keys not stored. Only the limit+1
	// smallest stored keys were read; a known key stored beyond them sorts
	// after all of them, so the cut below drops its stand-in default.
	stored := make(map[string]bool, len(rows))
	items := make([]Setting, 0, len(rows)+len(definitions))
	for _, r := range rows {
		stored[r.Key] = true
		items = append(items, fromRow(r))
	}
	for i := range definitions {
		d := &definitions[i]
		if d.key > after && !stored[d.key] && (f.Category == "" || f.Category == d.category) {
			items = append(items, d.defaultSetting(prof))
		}
	}
	slices.SortFunc(items, func(a, b Setting) int { return strings.Compare(a.Key, b.Key) })
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = encodeCursor(items[limit-1].Key)
	}
	return items, next, nil
}

// Get returns one setting: the stored value, or a known key's default.
func (s *Service) Get(ctx context.Context, org uuid.UUID, key string) (Setting, error) {
	def, err := lookup(key, fault.NotFound)
	if err != nil {
		return Setting{}, err
	}
	var out Setting
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, found, err := getRow(ctx, tx, key)
		switch {
		case err != nil:
			return err
		case found:
			out = fromRow(row)
			return nil
		case def == nil:
			return notSet(key)
		}
		prof, err := readProfile(ctx, tx)
		out = def.defaultSetting(prof)
		return err
	})
	return out, err
}

// Put sets key to in.Value. A known key's value is validated and stored in
// canonical form; a custom key takes any JSON up to MaxCustomValueBytes.
// Writing the value already stored changes nothing and audits nothing.
func (s *Service) Put(ctx context.Context, org uuid.UUID, key string, in Change) (Setting, error) {
	def, err := lookup(key, fault.Invalid)
	if err != nil {
		return Setting{}, err
	}
	value, category, description, err := prepare(def, in)
	if err != nil {
		return Setting{}, err
	}
	var out Setting
	err = s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		old, found, err := getRow(ctx, tx, key)
		if err != nil {
			return err
		}
		if !found && def == nil {
			n, err := tx.SettingCountCustom(ctx, org)
			if err != nil {
				return err
			}
			if n >= MaxCustomSettings {
				return fault.Errorf(fault.Conflict, "an organization may set at most %d custom settings; delete one first", MaxCustomSettings)
			}
		}
		row, err := tx.SettingUpsert(ctx, db.SettingUpsertParams{
			OrganizationID: org, ID: uuid.Must(uuid.NewV7()), Key: key, Value: value, Category: category, Description: description,
		})
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			// Unchanged (possibly written concurrently since we looked).
			row, err = tx.SettingGet(ctx, org, key)
			out = fromRow(row)
			return err
		}
		if err != nil {
			return err
		}
		out = fromRow(row)
		switch {
		case found:
			return audit.Record(ctx, tx, audit.Update, "setting", name(key), fromRow(old), out)
		case def != nil:
			prof, err := readProfile(ctx, tx)
			if err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Create, "setting", name(key), def.defaultSetting(prof), out)
		default:
			return audit.Record(ctx, tx, audit.Create, "setting", name(key), nil, out)
		}
	})
	return out, err
}

// Delete removes key's stored value: a known key returns to its default
// (deleting one already at its default does nothing), a custom key
// disappears (fault.NotFound if it is not set).
func (s *Service) Delete(ctx context.Context, org uuid.UUID, key string) error {
	def, err := lookup(key, fault.NotFound)
	if err != nil {
		return err
	}
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		row, err := tx.SettingDelete(ctx, org, key)
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			if def != nil {
				return nil
			}
			return notSet(key)
		}
		if err != nil {
			return err
		}
		if def == nil {
			return audit.Record(ctx, tx, audit.Delete, "setting", name(key), fromRow(row), nil)
		}
		prof, err := readProfile(ctx, tx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Delete, "setting", name(key), fromRow(row), def.defaultSetting(prof))
	})
}

// Get reads a known setting of org, typed: the stored value, or the
// default (the zero value for keys without one, such as caller_id).
func Get[T any](ctx context.Context, s *Service, org uuid.UUID, k Key[T]) (T, error) {
	var v T
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		v, err = Read(ctx, tx, k)
		return err
	})
	return v, err
}

// Read is Get inside the caller's transaction, for the tenant tx.Org.
func Read[T any](ctx context.Context, tx *postgres.Tx, k Key[T]) (T, error) {
	var v T
	def := definitionOf(k.name)
	if def == nil {
		return v, fmt.Errorf("setting: %q is not a known key", k.name)
	}
	row, found, err := getRow(ctx, tx, k.name)
	if err != nil {
		return v, err
	}
	raw := row.Value
	if !found {
		prof, err := readProfile(ctx, tx)
		if err != nil {
			return v, err
		}
		raw = def.fallback(prof)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("setting: stored %s does not decode: %w", k.name, err)
	}
	return v, nil
}

// BusinessHours returns org's business hours.
func (s *Service) BusinessHours(ctx context.Context, org uuid.UUID) (BusinessHours, error) {
	return Get(ctx, s, org, KeyBusinessHours)
}

// Location returns org's time zone.
func (s *Service) Location(ctx context.Context, org uuid.UUID) (*time.Location, error) {
	name, err := Get(ctx, s, org, KeyTimezone)
	if err != nil {
		return nil, err
	}
	return time.LoadLocation(name)
}

// RetryGap returns org's default gap between call attempts.
func (s *Service) RetryGap(ctx context.Context, org uuid.UUID) (time.Duration, error) {
	m, err := Get(ctx, s, org, KeyDefaultRetryGapMinutes)
	return time.Duration(m) * time.Minute, err
}

// lookup validates key's format and returns its definition: nil for a
// custom key. A well-formed key that is neither known nor custom is an
// error of code unknown (NotFound for reads, Invalid for writes).
func lookup(key string, unknown fault.Code) (*definition, error) {
	if !keyRe.MatchString(key) {
		return nil, fault.InvalidField("path.key", "must be a known setting key or custom.<name> with 1-64 of [a-z0-9_.-]")
	}
	if strings.HasPrefix(key, CustomPrefix) {
		return nil, nil
	}
	if def := definitionOf(key); def != nil {
		return def, nil
	}
	if unknown == fault.Invalid {
		return nil, &fault.Error{Code: fault.Invalid, Message: "validation failed", Fields: []fault.FieldError{{
			Location: "path.key", Message: "unknown setting; known keys are " + strings.Join(knownKeys(), ", ") + ", or use custom.<name>",
		}}}
	}
	return nil, fault.NotFoundf("no setting %q; known keys are %s, or custom.<name>", key, strings.Join(knownKeys(), ", "))
}

// prepare validates in for key (def nil: custom) and returns what to store.
func prepare(def *definition, in Change) (value json.RawMessage, category, description string, err error) {
	if def != nil {
		if in.Description != nil && *in.Description != def.description {
			return nil, "", "", fault.InvalidField("body.description", "a known setting's description is fixed; omit it")
		}
		value, err = def.parse(in.Value)
		return value, def.category, def.description, err
	}
	if in.Description != nil {
		description = strings.TrimSpace(*in.Description)
		if len(description) > MaxDescription {
			return nil, "", "", fault.InvalidField("body.description", "must be at most 500 bytes")
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, in.Value); err != nil || buf.Len() == 0 {
		return nil, "", "", fault.InvalidField("body.value", "must be a JSON value")
	}
	if buf.Len() > MaxCustomValueBytes {
		return nil, "", "", fault.InvalidField("body.value", "must be at most 8 KiB of JSON")
	}
	return buf.Bytes(), CategoryCustom, description, nil
}

func getRow(ctx context.Context, tx *postgres.Tx, key string) (db.Setting, bool, error) {
	row, err := tx.SettingGet(ctx, tx.Org, key)
	if fault.Is(postgres.Translate(err), fault.NotFound) {
		return db.Setting{}, false, nil
	}
	return row, err == nil, err
}

// profile holds the organization's own values that serve as defaults.
type profile struct {
	timezone   string
	reviewLink *string
}

func readProfile(ctx context.Context, tx *postgres.Tx) (profile, error) {
	r, err := tx.SettingOrganizationProfile(ctx, tx.Org)
	return profile{timezone: r.Timezone, reviewLink: r.GoogleReviewLink}, err
}

func notSet(key string) error { return fault.NotFoundf("setting %q is not set", key) }

// fromRow shows a stored setting. A known key's category and description
// come from its definition, so a reworded description shows at once.
func fromRow(r db.Setting) Setting {
	created, updated := r.CreatedAt, r.UpdatedAt
	s := Setting{
		Key: r.Key, Value: r.Value, Category: r.Category, Description: r.Description,
		CreatedAt: &created, UpdatedAt: &updated,
	}
	if def := definitionOf(r.Key); def != nil {
		s.Category, s.Description = def.category, def.description
	}
	return s
}

// name makes a key an audit entity id: settings are audited by key, which
// outlives the row (a delete and a new write make a new row).
type name string

func (n name) String() string { return string(n) }

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !keyRe.Match(b) {
		return "", fault.InvalidField("query.cursor", "malformed cursor")
	}
	return string(b), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
