package record

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts small secrets at rest with AES-256-GCM.
//
// A sealed value is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The key id is the first four bytes of SHA-256 of the key, so a value
// names the key that sealed it: to rotate, make the new key primary and
// keep the old one among the previous keys until every value has been
// re-sealed (any update of a DMS integration re-seals its secrets). The
// nonce is random; a key seals far fewer than the 2^32 values that random
// 96-bit nonces allow. The caller's additional data binds a value to its
// row (organization and id), so a sealed value copied into another row,
// or another tenant's, does not open.
type Sealer struct {
	primary keyring
	keys    map[uint32]cipher.AEAD
}

type keyring struct {
	id   uint32
	aead cipher.AEAD
}

const (
	sealVersion  = 1
	sealOverhead = 1 + 4 + 12 // before the ciphertext; GCM adds its tag
	// KeySize is the length of an encryption key: AES-256.
	KeySize = 32
)

// ErrUnsealable means a sealed value is malformed, was sealed by a key the
// Sealer does not hold, or was tampered with.
var ErrUnsealable = errors.New("sealed value cannot be opened: wrong key, wrong row, or tampered")

// NewSealer seals with primary and opens values sealed by primary or any
// of previous. Each key is KeySize bytes.
func NewSealer(primary []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{keys: make(map[uint32]cipher.AEAD)}
	for i, k := range append([][]byte{primary}, previous...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("encryption key %d: want %d bytes, got %d", i, KeySize, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := keyID(k)
		if _, dup := s.keys[id]; dup {
			return nil, fmt.Errorf("encryption key %d is given twice", i)
		}
		s.keys[id] = aead
		if i == 0 {
			s.primary = keyring{id: id, aead: aead}
		}
	}
	return s, nil
}

func keyID(k []byte) uint32 {
	sum := sha256.Sum256(k)
	return binary.BigEndian.Uint32(sum[:4])
}

// Seal encrypts plaintext, bound to additionalData.
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, sealOverhead, sealOverhead+len(plaintext)+s.primary.aead.Overhead())
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], s.primary.id)
	nonce := out[5:sealOverhead]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.primary.aead.Seal(out, nonce, plaintext, additionalData), nil
}

// Open decrypts a value made by Seal with the same additionalData. It
// returns ErrUnsealable for anything else.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < sealOverhead+16 || sealed[0] != sealVersion {
		return nil, ErrUnsealable
	}
	aead, ok := s.keys[binary.BigEndian.Uint32(sealed[1:5])]
	if !ok {
		return nil, ErrUnsealable
	}
	plain, err := aead.Open(nil, sealed[5:sealOverhead], sealed[sealOverhead:], additionalData)
	if err != nil {
		return nil, ErrUnsealable
	}
	return plain, nil
}

// ParseKey decodes an encryption key given as base64 (standard or URL
// alphabet, padded or not), as AUTOPULSE_ENCRYPTION_KEY holds it.
func ParseKey(encoded string) ([]byte, error) {
	encoded = strings.TrimSpace(encoded)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(encoded); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("the encryption key is %d bytes; want %d (generate one with `openssl rand -base64 32`)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("the encryption key is not base64 (generate one with `openssl rand -base64 32`)")
}

// DevelopmentKey is the fixed key development uses when none is configured.
// Anything it seals is readable by anyone with this source code; production
// refuses to start without a key of its own.
func DevelopmentKey() []byte {
	sum := sha256.Sum256([]byte("autopulse development encryption key: never use in production"))
	return sum[:]
}
