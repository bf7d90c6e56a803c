package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/fault"
)

// FuzzTokenForm feeds the token endpoint's body parser arbitrary bodies and
// content types. It must never panic; it must answer every bad body with a
// client error (a 4xx status or a fault code, never an internal error);
// and whatever it accepts must be a complete request of a supported grant
// that reads back the same when encoded again.
func FuzzTokenForm(f *testing.F) {
	seeds := []struct{ ctype, body string }{
		{formContentType, "grant_type=password&username=a%40example.com&password=correct-horse-battery"},
		{formContentType, "username=a@example.com&password=x&scope=read+write&client_id=c"},
		{formContentType, "grant_type=refresh_token&refresh_token=rt_abc"},
		{formContentType + "; charset=utf-8", "grant_type=client_credentials"},
		{formContentType, "username=a&username=b&password=x"},
		{formContentType, "password=%zz"},
		{formContentType, "grant_type=&username=a&password=b"},
		{formContentType, ";;&&=="},
		{"application/json", `{"username":"a","password":"b"}`},
		{"", "username=a&password=b"},
		{"text/plain; charset", "x"},
	}
	for _, s := range seeds {
		f.Add(s.ctype, []byte(s.body))
	}
	registry := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		req, err := parseTokenRequest(registry, ctype, body)
		if err != nil {
			var se huma.StatusError
			var fe *fault.Error
			switch {
			case errors.As(err, &se):
				if se.GetStatus() < 400 || se.GetStatus() >= 500 {
					t.Fatalf("status %d for a bad body: %v", se.GetStatus(), err)
				}
			case errors.As(err, &fe):
				if fe.Code == fault.Internal {
					t.Fatalf("internal error for a bad body: %v", err)
				}
			default:
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		switch req.GrantType {
		case grantPassword:
			if req.Username == "" || req.Password == "" {
				t.Fatalf("accepted a password grant without credentials: %+v", req)
			}
		case grantRefreshToken:
			if req.RefreshToken == "" {
				t.Fatalf("accepted a refresh grant without a token: %+v", req)
			}
		default:
			t.Fatalf("accepted grant_type %q", req.GrantType)
		}
		again := url.Values{"grant_type": {req.GrantType}}
		for name, v := range map[string]string{"username": req.Username, "password": req.Password, "refresh_token": req.RefreshToken} {
			if v != "" {
				again.Set(name, v)
			}
		}
		back, err := parseTokenRequest(registry, formContentType, []byte(again.Encode()))
		if err != nil {
			t.Fatalf("re-encoded request refused: %v", err)
		}
		if back.GrantType != req.GrantType || back.Username != req.Username || back.Password != req.Password || back.RefreshToken != req.RefreshToken {
			t.Fatalf("round trip changed the request: %+v != %+v", back, req)
		}
	})
}

func TestParseTokenRequestStatuses(t *testing.T) {
	t.Parallel()
	registry := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	tests := []struct {
		name   string
		ctype  string
		body   string
		status int // 0: accepted
	}{
		{"password grant", formContentType, "grant_type=password&username=a&password=b", 0},
		{"default grant", formContentType, "username=a&password=b", 0},
		{"refresh grant", formContentType, "grant_type=refresh_token&refresh_token=rt_x", 0},
		{"no content type", "", "username=a&password=b", 0},
		{"json", "application/json", `{}`, http.StatusUnsupportedMediaType},
		{"bad media type", "text/plain; charset", "x", http.StatusUnsupportedMediaType},
		{"bad escape", formContentType, "username=%zz", http.StatusBadRequest},
		{"unknown grant", formContentType, "grant_type=implicit", http.StatusUnprocessableEntity},
		{"repeated", formContentType, "username=a&username=b&password=c", http.StatusUnprocessableEntity},
		{"missing password", formContentType, "username=a", http.StatusUnprocessableEntity},
		{"refresh without token", formContentType, "grant_type=refresh_token&username=a&password=b", http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTokenRequest(registry, tt.ctype, []byte(tt.body))
			if tt.status == 0 {
				require.NoError(t, err)
				return
			}
			var se huma.StatusError
			var fe *fault.Error
			switch {
			case errors.As(err, &se):
				require.Equal(t, tt.status, se.GetStatus(), "%v", err)
			case errors.As(err, &fe):
				require.Equal(t, fault.Invalid, fe.Code, "%v", err)
				require.Equal(t, http.StatusUnprocessableEntity, tt.status, "%v", err)
			default:
				require.Fail(t, "uncoded error", "%v", err)
			}
		})
	}
}
