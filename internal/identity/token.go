package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// accessTokenType marks access tokens in the typ claim, so no other token
// we might sign can be used in their place.
const accessTokenType = "access"

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Org  uuid.UUID `json:"org"`
	Role string    `json:"role"`
	Typ  string    `json:"typ"`
}

// Tokens signs and verifies access tokens: JWT, HS256 only. The algorithm
// is pinned by the verifier, never taken from the token's header.
type Tokens struct {
	Secret   []byte
	Issuer   string
	Audience string
	TTL      time.Duration
	Now      func() time.Time // for tests; time.Now when nil
}

// ErrBadToken is every reason a token is refused. The reasons are not told
// apart to clients.
var ErrBadToken = errors.New("invalid or expired access token")

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Issue signs an access token for user in org with role.
func (t *Tokens) Issue(user, org uuid.UUID, role string) (token string, expiresAt time.Time, err error) {
	now := t.now().Truncate(time.Second)
	expiresAt = now.Add(t.TTL)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer,
			Subject:   user.String(),
			Audience:  jwt.ClaimStrings{t.Audience},
			ExpiresAt: jwt.NewNumericDate(expiresAt),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.Must(uuid.NewV7()).String(),
		},
		Org:  org,
		Role: role,
		Typ:  accessTokenType,
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.Secret)
	return token, expiresAt, err
}

// Parse verifies an access token and returns its claims. It refuses any
// algorithm but HS256 (including "none"), a wrong issuer or audience, an
// expired or future token, a tampered signature, tokens of another typ, and
// any spelling of a token but its canonical one.
func (t *Tokens) Parse(raw string) (*AccessClaims, error) {
	claims := &AccessClaims{}
	_, err := jwt.ParseWithClaims(raw, claims,
		func(*jwt.Token) (any, error) { return t.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.Issuer),
		jwt.WithAudience(t.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second),
		// Lenient base64 ignores a segment's padding bits, so one token
		// would have several accepted spellings.
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if claims.Typ != accessTokenType {
		return nil, fmt.Errorf("%w: typ %q", ErrBadToken, claims.Typ)
	}
	if _, err := uuid.Parse(claims.Subject); err != nil || claims.Org == uuid.Nil {
		return nil, fmt.Errorf("%w: subject", ErrBadToken)
	}
	return claims, nil
}
