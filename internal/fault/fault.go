// Package fault gives errors a code that every layer understands. Domain
// code returns *fault.Error; the HTTP layer maps each code to one status and
// problem type; anything without a code is logged and shown as an internal
// error, so no detail of an unexpected failure reaches a client.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error.
type Code string

// The codes. The HTTP mapping lives in httpapi.
const (
	Internal        Code = "internal"
	Invalid         Code = "invalid"           // the request is well-formed but its values are not acceptable
	NotFound        Code = "not_found"         // absent, or belongs to another tenant
	Conflict        Code = "conflict"          // a uniqueness or state rule stops it
	Unauthorized    Code = "unauthorized"      // not authenticated
	Forbidden       Code = "forbidden"         // authenticated, but not allowed
	TooManyRequests Code = "too_many_requests" // throttled; see RetryAfter
	Mismatch        Code = "mismatch"          // an Idempotency-Key reused with another request
)

// FieldError points at one bad input value.
type FieldError struct {
	Location string // e.g. "body.email"
	Message  string
}

// Error is an error with a code and a message fit for the client.
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration // with TooManyRequests
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an error of the given code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns an Invalid error about one field.
func InvalidField(location, message string) *Error {
	return &Error{Code: Invalid, Message: "validation failed", Fields: []FieldError{{Location: location, Message: message}}}
}

// NotFoundf returns a NotFound error.
func NotFoundf(format string, args ...any) *Error { return Errorf(NotFound, format, args...) }

// CodeOf returns the code of err, or Internal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
