package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/identity"
)

// Content types of bodies the auth operations read themselves.
const (
	formContentType = "application/x-www-form-urlencoded"
	jsonContentType = "application/json"
)

// OAuth2 grant types the token endpoint accepts.
const (
	grantPassword     = "password"
	grantRefreshToken = "refresh_token"
)

// tokenForm is the token endpoint's form (RFC 6749 §4.3.2 and §6), read as
// FastAPI's OAuth2PasswordRequestForm reads it: grant_type defaults to
// password, an empty value counts as absent, and parameters it does not
// know are ignored (RFC 6749 §3.2). Passwords are checked in code, never by
// the schema, so a rejected one is not echoed in the error.
type tokenForm struct {
	_            struct{} `additionalProperties:"true"`
	GrantType    string   `json:"grant_type,omitempty" enum:"password,refresh_token" default:"password" doc:"password (the default) or refresh_token"`
	Username     string   `json:"username,omitempty" maxLength:"254" doc:"The account's email (grant_type=password)"`
	Password     string   `json:"password,omitempty" doc:"The account's password (grant_type=password)"`
	RefreshToken string   `json:"refresh_token,omitempty" doc:"A refresh token from an earlier response (grant_type=refresh_token)"`
	Scope        string   `json:"scope,omitempty" doc:"Ignored: what a token allows follows the user's role"`
	ClientID     string   `json:"client_id,omitempty" doc:"Ignored"`
	ClientSecret string   `json:"client_secret,omitempty" doc:"Ignored"`
}

// logoutForm is the body of POST /auth/logout, as a form or as JSON.
type logoutForm struct {
	RefreshToken string `json:"refresh_token" minLength:"1" doc:"The refresh token of the session to end"`
}

// RawBodyInput is the input of an operation that decodes its own body:
// huma hands over the bytes and, through Resolve, the Content-Type.
type RawBodyInput struct {
	RawBody     []byte `contentType:"application/x-www-form-urlencoded"`
	contentType string
}

// Resolve implements huma.Resolver.
func (in *RawBodyInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	return nil
}

// handleRaw registers h like handle, then documents its request body as B
// under each content type: on its own huma shows a raw body as bytes.
func handleRaw[I, O, B any](h func(context.Context, *I) (*O, error), contentTypes ...string) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		handle(h)(s, api, op)
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[B](), true, "")
		item := api.OpenAPI().Paths[op.Path]
		registered := map[string]*huma.Operation{
			http.MethodPost: item.Post, http.MethodPut: item.Put, http.MethodPatch: item.Patch,
		}[op.Method]
		content := make(map[string]*huma.MediaType, len(contentTypes))
		for _, ct := range contentTypes {
			content[ct] = &huma.MediaType{Schema: schema}
		}
		registered.RequestBody.Content = content
	}
}

// decodeBody reads a form or JSON body (of the allowed content types) into
// T after validating it against T's schema in registry, as huma validates
// JSON bodies: malformed bodies are 400, a content type not allowed 415,
// and invalid values 422 with one error per field. Unknown JSON fields are
// rejected like everywhere in the API; unknown form parameters are
// dropped, as OAuth2 requires.
func decodeBody[T any](registry huma.Registry, contentType string, raw []byte, allowed ...string) (T, error) {
	var out T
	mediaType := allowed[0]
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || !slices.Contains(allowed, mt) {
			return out, huma.Error415UnsupportedMediaType("send the body as " + strings.Join(allowed, " or "))
		}
		mediaType = mt
	}
	schema := registry.Schema(reflect.TypeFor[T](), true, "")
	var parsed any
	switch mediaType {
	case formContentType:
		values, err := url.ParseQuery(string(raw))
		if err != nil {
			// The error would quote the body, which may hold a password.
			return out, huma.Error400BadRequest("malformed form body: bad percent-encoding or separator")
		}
		fields := map[string]any{}
		var dup []error
		props := schema.Properties
		if schema.Ref != "" {
			props = registry.SchemaFromRef(schema.Ref).Properties
		}
		for name, vs := range values {
			if _, known := props[name]; !known {
				continue
			}
			if len(vs) > 1 { // RFC 6749 §3.2: parameters must not repeat
				dup = append(dup, &huma.ErrorDetail{Location: "body." + name, Message: "must be sent once"})
				continue
			}
			if !utf8.ValidString(vs[0]) {
				return out, huma.Error400BadRequest("malformed form body: " + name + " is not UTF-8")
			}
			if vs[0] != "" {
				fields[name] = vs[0]
			}
		}
		if len(dup) > 0 {
			return out, huma.Error422UnprocessableEntity("validation failed", dup...)
		}
		parsed = fields
		if raw, err = json.Marshal(fields); err != nil {
			return out, err
		}
	default:
		if err := json.Unmarshal(raw, &parsed); err != nil {
			return out, huma.Error400BadRequest("malformed JSON body: " + err.Error())
		}
	}
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer([]byte{}, 0)
	pb.Push("body")
	huma.Validate(registry, schema, pb, huma.ModeWriteToServer, parsed, res)
	if len(res.Errors) > 0 {
		for _, e := range res.Errors {
			var d *huma.ErrorDetail
			if errors.As(e, &d) {
				d.Value = nil // may be a secret
			}
		}
		return out, huma.Error422UnprocessableEntity("validation failed", res.Errors...)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body", Message: err.Error()})
	}
	return out, nil
}

// parseTokenRequest decodes and checks a token request: the grant's own
// parameters are required.
func parseTokenRequest(registry huma.Registry, contentType string, raw []byte) (tokenForm, error) {
	f, err := decodeBody[tokenForm](registry, contentType, raw, formContentType)
	if err != nil {
		return f, err
	}
	if f.GrantType == "" {
		f.GrantType = grantPassword
	}
	var missing []fault.FieldError
	need := func(name, value string) {
		if value == "" {
			missing = append(missing, fault.FieldError{Location: "body." + name, Message: "is required with grant_type=" + f.GrantType})
		}
	}
	switch f.GrantType {
	case grantPassword:
		need("username", f.Username)
		need("password", f.Password)
	case grantRefreshToken:
		need("refresh_token", f.RefreshToken)
	}
	if len(missing) > 0 {
		return f, &fault.Error{Code: fault.Invalid, Message: "validation failed", Fields: missing}
	}
	return f, nil
}

type tokenInput struct {
	RawBodyInput
}

type tokenOutput struct {
	CacheControl string `header:"Cache-Control"`
	Pragma       string `header:"Pragma"`
	Body         identity.TokenPair
}

// authToken is the OAuth2 token endpoint. Its responses must never be
// cached (RFC 6749 §5.1).
func (s *Server) authToken(ctx context.Context, in *tokenInput) (*tokenOutput, error) {
	req, err := parseTokenRequest(s.api.OpenAPI().Components.Schemas, in.contentType, in.RawBody)
	if err != nil {
		return nil, err
	}
	var pair identity.TokenPair
	if req.GrantType == grantRefreshToken {
		pair, err = s.deps.Identity.Refresh(ctx, req.RefreshToken)
	} else {
		pair, err = s.deps.Identity.Login(ctx, req.Username, req.Password)
	}
	if err != nil {
		return nil, err
	}
	return &tokenOutput{CacheControl: "no-store", Pragma: "no-cache", Body: pair}, nil
}

type logoutInput struct {
	RawBodyInput
}

func (s *Server) authLogout(ctx context.Context, in *logoutInput) (*noContent, error) {
	f, err := decodeBody[logoutForm](s.api.OpenAPI().Components.Schemas, in.contentType, in.RawBody, formContentType, jsonContentType)
	if err != nil {
		return nil, err
	}
	return nil, s.deps.Identity.Logout(ctx, f.RefreshToken)
}

type registerInput struct {
	Body identity.Registration
}

func (s *Server) authRegister(ctx context.Context, in *registerInput) (*body[identity.Registered], error) {
	r, err := s.deps.Identity.Register(ctx, in.Body)
	return bodyOf(r), err
}

func (s *Server) authMe(ctx context.Context, _ *struct{}) (*body[identity.Me], error) {
	me, err := s.deps.Identity.Me(ctx, principal(ctx))
	return bodyOf(me), err
}

type passwordInput struct {
	Body identity.PasswordChange
}

func (s *Server) authPassword(ctx context.Context, in *passwordInput) (*noContent, error) {
	return nil, s.deps.Identity.ChangePassword(ctx, principal(ctx), in.Body)
}
