package record

import (
	"strings"
	"unicode/utf8"
)

// Search. pg_trgm is not available, so q is a prefix search over indexed
// expressions (migration 00006): lower(ro_number), lower(last_name) and
// lower(first_name || ' ' || last_name) with text_pattern_ops, which serve
// LIKE 'prefix%' in any collation; and reverse(phone), so that the trailing
// digits people remember ("0143", "555-0143") are a prefix too.

// minPhoneDigits is the fewest digits a query needs to search phones.
const minPhoneDigits = 4

// searchPatterns turns q into the LIKE patterns of the list queries:
// prefix matches RO numbers and names; phoneReversed, set when q looks like
// (part of) a phone number, matches the phone's trailing digits. Both are
// nil for a blank q.
func searchPatterns(q string) (prefix, phoneReversed *string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	p := escapeLike(strings.ToLower(q)) + "%"
	prefix = &p
	if digits, ok := phoneDigits(q); ok && len(digits) >= minPhoneDigits {
		r := reverse(digits) + "%"
		phoneReversed = &r
	}
	return prefix, phoneReversed
}

// escapeLike escapes LIKE's wildcards (and its escape character, the
// backslash) so q matches literally.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// phoneDigits returns the digits of s when s is written only with digits
// and phone punctuation.
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune("+-.() ", r):
		default:
			return "", false
		}
	}
	return b.String(), true
}

func reverse(s string) string {
	out := make([]byte, 0, len(s))
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		out = append(out, s[i-size:i]...)
		i -= size
	}
	return string(out)
}
