// Package env reads typed settings from environment variables, collecting
// every bad value instead of stopping at the first, so a misconfigured
// process names all its mistakes at once. Values are trimmed of spaces; an
// unset or blank variable gives the default.
package env

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables through Getenv (os.Getenv, or a map in tests).
type Reader struct {
	Getenv func(string) string
	errs   []error
}

// Err joins the problems found so far (nil when there were none).
func (r *Reader) Err() error { return errors.Join(r.errs...) }

func (r *Reader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}

func (r *Reader) get(name string) string { return strings.TrimSpace(r.Getenv(name)) }

// Str returns name's value, or def.
func (r *Reader) Str(name, def string) string {
	if v := r.get(name); v != "" {
		return v
	}
	return def
}

// Secret returns NAME, or the content of the file named by NAME_FILE
// (without its trailing line break); setting both is an error.
func (r *Reader) Secret(name string) string {
	v, file := r.Getenv(name), r.Getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		r.fail("both %s and %s_FILE are set; set one", name, name)
		return ""
	case file != "":
		b, err := os.ReadFile(file) //nolint:gosec // G304: the operator names the secret file (NAME_FILE)
		if err != nil {
			r.fail("%s_FILE: %w", name, err)
			return ""
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	return v
}

// Duration returns name as a time.ParseDuration value, or def.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	return parse(r, name, def, time.ParseDuration, "")
}

// Int returns name as a decimal integer, or def.
func (r *Reader) Int(name string, def int64) int64 {
	return parse(r, name, def, func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) }, "not an integer")
}

// Float returns name as a number, or def.
func (r *Reader) Float(name string, def float64) float64 {
	return parse(r, name, def, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }, "not a number")
}

// Bool returns name as strconv.ParseBool reads it, or def.
func (r *Reader) Bool(name string, def bool) bool {
	return parse(r, name, def, strconv.ParseBool, "want true or false")
}

// parse reads name with conv, or def when it is blank. A value conv refuses
// is reported as want (the parser's own error when want is empty).
func parse[T any](r *Reader, name string, def T, conv func(string) (T, error), want string) T {
	v := r.get(name)
	if v == "" {
		return def
	}
	x, err := conv(v)
	switch {
	case err == nil:
	case want == "":
		r.fail("%s=%q: %w", name, v, err)
	default:
		r.fail("%s=%q: %s", name, v, want)
	}
	return x
}
