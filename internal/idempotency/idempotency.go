// Package idempotency stores the outcome of POST requests sent with an
// Idempotency-Key, Stripe-style, so a retried request replays the first
// response instead of acting twice.
//
// A key is scoped to (organization, actor, key): two users, or a user and
// an API key, never see each other's records. A record is claimed before
// the request runs (status in_progress), then completed with the response,
// and kept for Store.TTL. A key reused with a different request (method,
// path or body) is refused with fault.Mismatch; a key whose first request
// is still running is refused with fault.Conflict.
//
// # Why the record has its own transactions, and what that guarantees
//
// A request touches the database three times, in three transactions:
//
//  1. Begin commits the in_progress claim;
//  2. the handler's service method commits its own transaction (a public
//     service method owns its transaction; the HTTP layer has none to lend);
//  3. Complete commits the response (or Release deletes the claim).
//
// The claim must be committed before the handler starts: only a committed
// row is visible to a concurrent duplicate, which then gets an immediate
// 409 instead of running the handler a second time or waiting on the
// handler's locks. So the record cannot share the handler's transaction,
// and the two are not atomic. What that gives:
//
//   - Duplicates never run concurrently, and a duplicate of a completed
//     request replays the stored response without running the handler.
//   - If the process dies, or the database becomes unreachable, between
//     (1) and (2), nothing happened; the claim is left in_progress and
//     duplicates get 409 until it goes stale (Store.Lease), after which a
//     retry runs the request once.
//   - If it dies between (2) and (3), the effect has happened but no
//     response was stored. Duplicates get 409 until the claim goes stale,
//     then a retry runs the handler again: a replay-less retry. For a
//     handler that is itself idempotent (a unique constraint, a natural
//     key, a state-machine guard) the retry gets that handler's own answer
//     (typically 409 Conflict), never a second effect. For a handler that
//     is not, this window is the one place where a second effect is
//     possible. Handlers that must be exactly-once under crashes (money)
//     have to check their own natural key inside their transaction; the
//     idempotency record narrows the window, it does not close it.
//
// Responses with a status of 500 or more are not stored, nor 401, 403,
// 408, 429 and 499 (see Storable): the claim is released so the client
// can retry. A response marked Cache-Control: no-store (a fresh secret, such
// as a new API key or a token) is not stored either: the secret must not
// sit in this table for a day, so such a request is simply not replayable.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Defaults for a zero Store.TTL and Store.Lease.
const (
	DefaultTTL = 24 * time.Hour
	// DefaultLease must exceed the longest a request may run (the server's
	// request timeout, 30 s by default): a claim older than the lease is
	// taken for dead and handed to the next request with its key.
	DefaultLease = 5 * time.Minute
)

// MaxKeyLength is the longest Idempotency-Key accepted.
const MaxKeyLength = 255

// Store keeps idempotency records for TTL.
type Store struct {
	DB  *postgres.DB
	TTL time.Duration
	// Lease is how long an in_progress claim blocks its key before it is
	// taken for abandoned (DefaultLease when zero).
	Lease time.Duration
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// Request identifies one idempotent request: who sent it, with which key,
// and a fingerprint of what it asked for.
type Request struct {
	Org, Actor   uuid.UUID
	Key          string
	Method, Path string
	Fingerprint  []byte
}

// NewRequest validates key and fingerprints the request. It returns
// fault.Invalid when the key is empty, longer than MaxKeyLength, or holds
// anything but printable ASCII.
func NewRequest(org, actor uuid.UUID, key, method, path string, body []byte) (Request, error) {
	if err := ValidateKey(key); err != nil {
		return Request{}, err
	}
	return Request{
		Org: org, Actor: actor, Key: key, Method: method, Path: path,
		Fingerprint: Fingerprint(method, path, body),
	}, nil
}

// ValidateKey accepts 1 to MaxKeyLength printable ASCII characters
// (0x20–0x7E), enough for a UUID or any client's own scheme.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fault.InvalidField("header.Idempotency-Key", "must not be empty")
	case len(key) > MaxKeyLength:
		return fault.InvalidField("header.Idempotency-Key", "must be at most 255 characters")
	}
	for i := range len(key) {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return fault.InvalidField("header.Idempotency-Key", "must be printable ASCII")
		}
	}
	return nil
}

// Fingerprint is the SHA-256 of method, path and body, each prefixed with
// its length so no two different requests share an encoding.
func Fingerprint(method, path string, body []byte) []byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{[]byte(method), []byte(path), body} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return h.Sum(nil)
}

// Response is a stored HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Storable reports whether a response with status may be stored and
// replayed. Server errors, a timeout (408), throttling (429) and a closed
// client (499) are transient, and 401 and 403 are decided before anything
// runs (a retry after the credential or role is fixed must run): the
// client can retry all of these for real.
func Storable(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests, 499:
		return false
	}
	return status < 500
}

// Claim is the outcome of Begin: either a stored response to replay, or
// the right to run the request, to be ended by Complete or Release.
type Claim struct {
	// Replay, when set, is the stored response of the first request; the
	// request must not run.
	Replay *Response
	org    uuid.UUID
	id     uuid.UUID
}

// Begin claims req's key. It returns a Claim holding either a response to
// replay or the right to run the request; fault.Mismatch when the key was
// used for a different request; fault.Conflict when the key's first
// request is still running. Expired records, and claims older than Lease,
// count as absent.
func (s *Store) Begin(ctx context.Context, req Request) (*Claim, error) {
	now := s.now()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	var claim *Claim
	err = s.DB.InTenant(ctx, req.Org, func(tx *postgres.Tx) error {
		claimed, err := tx.IdempotencyKeyClaim(ctx, db.IdempotencyKeyClaimParams{
			OrganizationID: req.Org, ID: id, ActorID: req.Actor, Key: req.Key,
			RequestMethod: req.Method, RequestPath: req.Path, RequestHash: req.Fingerprint,
			ExpiresAt: now.Add(s.ttl()), Now: now, StaleBefore: now.Add(-s.lease()),
		})
		if err == nil {
			claim = &Claim{org: req.Org, id: claimed}
			return nil
		}
		if !fault.Is(postgres.Translate(err), fault.NotFound) {
			return err
		}
		// A live record holds the key.
		rec, err := tx.IdempotencyKeyGet(ctx, db.IdempotencyKeyGetParams{OrganizationID: req.Org, ActorID: req.Actor, Key: req.Key})
		if fault.Is(postgres.Translate(err), fault.NotFound) {
			// Released between our two statements: its request failed.
			return inProgress()
		}
		if err != nil {
			return err
		}
		claim, err = replay(rec, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return claim, nil
}

func replay(rec db.IdempotencyKey, req Request) (*Claim, error) {
	if string(rec.RequestHash) != string(req.Fingerprint) {
		return nil, &fault.Error{Code: fault.Mismatch, Message: "this Idempotency-Key was already used with a different request " +
			"(method, path or body); use a new key for a new request"}
	}
	if rec.Status != "completed" || rec.ResponseStatus == nil {
		return nil, inProgress()
	}
	res := &Response{Status: int(*rec.ResponseStatus), Body: rec.ResponseBody, Header: http.Header{}}
	if len(rec.ResponseHeaders) > 0 {
		if err := json.Unmarshal(rec.ResponseHeaders, &res.Header); err != nil {
			return nil, err
		}
	}
	return &Claim{Replay: res, org: rec.OrganizationID, id: rec.ID}, nil
}

func inProgress() error {
	return &fault.Error{Code: fault.Conflict, Message: "a request with this Idempotency-Key is still in progress; retry later"}
}

// Complete stores res as the claim's outcome. If the claim was taken over
// meanwhile (it outlived Lease), the other execution's record is left
// alone and Complete returns nil.
func (s *Store) Complete(ctx context.Context, c *Claim, res Response) error {
	headers, err := json.Marshal(res.Header)
	if err != nil {
		return err
	}
	status := int32(res.Status)
	return s.DB.InTenant(ctx, c.org, func(tx *postgres.Tx) error {
		_, err := tx.IdempotencyKeyComplete(ctx, db.IdempotencyKeyCompleteParams{
			OrganizationID: c.org, ID: c.id, ResponseStatus: &status, ResponseHeaders: headers,
			ResponseBody: nonNil(res.Body), Now: s.now(),
		})
		return err
	})
}

// Release deletes the claim, so the key's next request runs afresh.
func (s *Store) Release(ctx context.Context, c *Claim) error {
	return s.DB.InTenant(ctx, c.org, func(tx *postgres.Tx) error {
		_, err := tx.IdempotencyKeyRelease(ctx, c.org, c.id)
		return err
	})
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

func (s *Store) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
