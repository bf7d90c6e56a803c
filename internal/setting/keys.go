package setting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones validate the same in a bare container image

	"github.com/autopulse/autopulse/internal/fault"
)

// Key names a known setting whose value has the Go type T.
type Key[T any] struct{ name string }

// String returns the key's name.
func (k Key[T]) String() string { return k.name }

// The known keys.
var (
	KeyTimezone               = Key[string]{"timezone"}
	KeyLocale                 = Key[string]{"locale"}
	KeyBusinessHours          = Key[BusinessHours]{"business_hours"}
	KeyCallerID               = Key[string]{"caller_id"}
	KeyDefaultMaxAttempts     = Key[int]{"default_max_attempts"}
	KeyDefaultRetryGapMinutes = Key[int]{"default_retry_gap_minutes"}
	KeySMSEnabled             = Key[bool]{"sms_enabled"}
	KeyReviewLink             = Key[string]{"review_link"}
	KeyEscalationEmail        = Key[string]{"escalation_email"}
)

// definitions is the one table of known settings: type (through the Key),
// category, description, default and validation.
var definitions = sortedByKey([]definition{
	define(KeyTimezone, CategoryGeneral,
		"IANA time zone of the dealership, such as America/Chicago; defaults to the organization's time zone",
		func(p profile) *string { return &p.timezone }, checkTimezone),
	define(KeyLocale, CategoryGeneral,
		"Language and region for calls and messages (BCP 47, such as en-US or es-MX)",
		always("en-US"), checkLocale),
	define(KeyBusinessHours, CategoryCalling,
		"Opening hours of the service department: ISO weekdays (1 = Monday … 7 = Sunday) and a local start and end time (HH:MM)",
		always(BusinessHours{Days: []int{1, 2, 3, 4, 5}, Start: "08:00", End: "18:00"}), checkBusinessHours),
	define(KeyCallerID, CategoryCalling,
		"Phone number shown to customers on outbound calls, in E.164 (+13125550100); none by default",
		none[string], checkE164),
	define(KeyDefaultMaxAttempts, CategoryCalling,
		"Default maximum call attempts per target for new campaigns (1-10)",
		always(3), intRange(1, 10)),
	define(KeyDefaultRetryGapMinutes, CategoryCalling,
		"Default minimum gap between attempts to one target for new campaigns, in minutes (15-10080)",
		always(1440), intRange(15, 10080)),
	define(KeySMSEnabled, CategoryMessaging,
		"Whether AutoPulse may send SMS (review links, confirmations) for the organization",
		always(false), func(*bool) []fault.FieldError { return nil }),
	define(KeyReviewLink, CategoryMessaging,
		"https link sent to promoters to leave a review; defaults to the organization's Google review link",
		func(p profile) *string { return p.reviewLink }, checkHTTPSURL),
	define(KeyEscalationEmail, CategoryMessaging,
		"Address that receives detractor escalations; none by default",
		none[string], checkEmail),
})

// definition is one known key, erased of its Go type.
type definition struct {
	key, category, description string
	// fallback is the default for an organization, as JSON (null: none).
	fallback func(profile) json.RawMessage
	// parse decodes, validates and normalizes a value; it returns the
	// canonical JSON to store.
	parse func(json.RawMessage) (json.RawMessage, error)
}

func (d *definition) defaultSetting(p profile) Setting {
	return Setting{Key: d.key, Value: d.fallback(p), Category: d.category, Description: d.description, IsDefault: true}
}

// define builds a definition from a typed key, its default and its check.
// check reports field errors and may normalize the value in place.
func define[T any](k Key[T], category, description string, fallback func(profile) *T, check func(*T) []fault.FieldError) definition {
	return definition{
		key: k.name, category: category, description: description,
		fallback: func(p profile) json.RawMessage {
			v := fallback(p)
			if v == nil {
				return json.RawMessage("null")
			}
			b, err := json.Marshal(v)
			if err != nil {
				panic(err) // defaults are constants of marshalable types
			}
			return b
		},
		parse: func(raw json.RawMessage) (json.RawMessage, error) {
			var v T
			if err := decodeStrict(raw, &v); err != nil {
				return nil, err
			}
			if errs := check(&v); len(errs) > 0 {
				return nil, &fault.Error{Code: fault.Invalid, Message: "validation failed", Fields: errs}
			}
			return json.Marshal(v)
		},
	}
}

func always[T any](v T) func(profile) *T { return func(profile) *T { return &v } }

func none[T any](profile) *T { return nil }

func sortedByKey(defs []definition) []definition {
	slices.SortFunc(defs, func(a, b definition) int { return strings.Compare(a.key, b.key) })
	return defs
}

func definitionOf(key string) *definition {
	i, ok := slices.BinarySearchFunc(definitions, key, func(d definition, k string) int { return strings.Compare(d.key, k) })
	if !ok {
		return nil
	}
	return &definitions[i]
}

func knownKeys() []string {
	keys := make([]string, len(definitions))
	for i, d := range definitions {
		keys[i] = d.key
	}
	return keys
}

const valueLoc = "body.value"

// decodeStrict decodes a known key's value: no null, no unknown fields, no
// type coercion.
func decodeStrict(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return fault.InvalidField(valueLoc, "must not be null; DELETE the setting to restore its default")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("json: trailing data after the value")
	}
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		loc := valueLoc
		if te.Field != "" {
			loc += "." + te.Field
		}
		return fault.InvalidField(loc, "must be "+kindName(te.Type))
	}
	return fault.InvalidField(valueLoc, strings.TrimPrefix(err.Error(), "json: "))
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "of type " + t.String()
	}
}

func invalid(message string) []fault.FieldError {
	return []fault.FieldError{{Location: valueLoc, Message: message}}
}

func checkTimezone(v *string) []fault.FieldError {
	// LoadLocation also accepts "" and "Local" (UTC and the server's zone).
	if *v == "" || *v == "Local" || len(*v) > 64 {
		return invalid("must be an IANA time zone name, such as America/Chicago")
	}
	if _, err := time.LoadLocation(*v); err != nil {
		return invalid("must be an IANA time zone name, such as America/Chicago")
	}
	return nil
}

var localeRe = regexp.MustCompile(`^([a-zA-Z]{2,3})(-[a-zA-Z]{4})?(-(?:[a-zA-Z]{2}|[0-9]{3}))?$`)

// checkLocale accepts language[-Script][-REGION] and writes it in the
// canonical case (es-mx → es-MX, zh-hant-tw → zh-Hant-TW).
func checkLocale(v *string) []fault.FieldError {
	m := localeRe.FindStringSubmatch(*v)
	if m == nil {
		return invalid("must be a language tag such as en-US (language, optional script, optional region)")
	}
	out := strings.ToLower(m[1])
	if m[2] != "" {
		s := strings.ToLower(m[2][1:])
		out += "-" + strings.ToUpper(s[:1]) + s[1:]
	}
	if m[3] != "" {
		out += "-" + strings.ToUpper(m[3][1:])
	}
	*v = out
	return nil
}

var e164Re = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func checkE164(v *string) []fault.FieldError {
	if !e164Re.MatchString(*v) {
		return invalid("must be a phone number in E.164 form, such as +13125550100")
	}
	return nil
}

func checkHTTPSURL(v *string) []fault.FieldError {
	u, err := url.Parse(*v)
	switch {
	case len(*v) > 2048 || strings.ContainsAny(*v, " \t\r\n"):
		return invalid("must be an https URL of at most 2048 characters")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "":
		return invalid("must be an absolute https URL, such as https://g.page/r/your-dealership/review")
	case u.User != nil:
		return invalid("must not carry a user name or password")
	}
	return nil
}

func checkEmail(v *string) []fault.FieldError {
	a, err := mail.ParseAddress(*v)
	if err != nil || a.Address != *v || len(*v) > 254 || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
		return invalid("must be a plain email address, such as service-manager@example.com")
	}
	return nil
}

func intRange(lo, hi int) func(*int) []fault.FieldError {
	return func(v *int) []fault.FieldError {
		if *v < lo || *v > hi {
			return invalid(fmt.Sprintf("must be between %d and %d", lo, hi))
		}
		return nil
	}
}

// BusinessHours are the service department's opening hours: the same
// local start and end time on each of Days.
type BusinessHours struct {
	// Days are ISO weekdays, 1 = Monday … 7 = Sunday, ascending.
	Days []int `json:"days"`
	// Start and End are local times of day, "HH:MM", Start before End.
	Start string `json:"start"`
	End   string `json:"end"`
}

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func checkBusinessHours(v *BusinessHours) []fault.FieldError {
	var errs []fault.FieldError
	add := func(field, msg string) {
		errs = append(errs, fault.FieldError{Location: valueLoc + "." + field, Message: msg})
	}
	if len(v.Days) == 0 {
		add("days", "must list at least one ISO weekday (1 = Monday … 7 = Sunday)")
	}
	seen := map[int]bool{}
	for _, d := range v.Days {
		switch {
		case d < 1 || d > 7:
			add("days", "must hold ISO weekdays from 1 (Monday) to 7 (Sunday)")
		case seen[d]:
			add("days", "must not repeat a day")
		}
		seen[d] = true
	}
	slices.Sort(v.Days)
	startOK, endOK := clockRe.MatchString(v.Start), clockRe.MatchString(v.End)
	if !startOK {
		add("start", "must be a time of day as HH:MM (00:00-23:59)")
	}
	if !endOK {
		add("end", "must be a time of day as HH:MM (00:00-23:59)")
	}
	if startOK && endOK && v.Start >= v.End {
		add("end", "must be after start")
	}
	return errs
}

// Contains reports whether t, read in its own location, falls within the
// hours: on one of Days, at or after Start and before End.
func (b BusinessHours) Contains(t time.Time) bool {
	day := int(t.Weekday())
	if day == 0 {
		day = 7
	}
	if !slices.Contains(b.Days, day) {
		return false
	}
	now := t.Format("15:04")
	return now >= b.Start && now < b.End
}
