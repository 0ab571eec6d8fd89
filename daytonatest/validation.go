//go:build unix

package daytonatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The API validates request bodies with class-validator, through NestJS's
// ValidationPipe (apps/api/src/main.ts:72-76 @v0.190.0): each property's
// decorators run, a null or absent optional property is skipped, and the
// messages of every failed check are joined with ", " into one 400
// (apps/api/src/filters/all-exceptions.filter.ts:64-72 @v0.190.0). The
// messages are class-validator 0.14's; a property's checks report in the
// reverse order of its decorators, as TypeScript applies them.

// jsonKind is the type of a JSON value, as typeof sees it in JavaScript.
type jsonKind int

const (
	kindNull jsonKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func kindOfJSON(raw json.RawMessage) jsonKind {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return kindNull
	}
	switch b[0] {
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	}
	return kindNumber
}

// check is one class-validator decorator: a test of a present value and
// its message.
type check struct {
	ok  func(raw json.RawMessage) bool
	msg string // %s is the property's name
}

func isKind(k jsonKind, msg string) check {
	return check{func(raw json.RawMessage) bool { return kindOfJSON(raw) == k }, msg}
}

var (
	isString  = isKind(kindString, "%s must be a string")
	isNumber  = isKind(kindNumber, "%s must be a number conforming to the specified constraints")
	isBoolean = isKind(kindBool, "%s must be a boolean value")
	isObject  = isKind(kindObject, "%s must be an object")
	isArray   = isKind(kindArray, "%s must be an array")
)

// number decodes raw as a JSON number.
func number(raw json.RawMessage) (float64, bool) {
	if kindOfJSON(raw) != kindNumber {
		return 0, false
	}
	var f float64
	return f, json.Unmarshal(raw, &f) == nil
}

// minCheck is @Min(n): a number of at least n.
func minCheck(n float64) check {
	return check{func(raw json.RawMessage) bool {
		f, ok := number(raw)
		return ok && f >= n
	}, "%s must not be less than " + jsNumber(n)}
}

// maxCheck is @Max(n): a number of at most n.
func maxCheck(n float64) check {
	return check{func(raw json.RawMessage) bool {
		f, ok := number(raw)
		return ok && f <= n
	}, "%s must not be greater than " + jsNumber(n)}
}

// enumCheck is @IsEnum: one of values.
func enumCheck(values ...string) check {
	return check{func(raw json.RawMessage) bool {
		var s string
		return kindOfJSON(raw) == kindString && json.Unmarshal(raw, &s) == nil && slices.Contains(values, s)
	}, "%s must be one of the following values: " + strings.Join(values, ", ")}
}

// Patterns of IsSafeDisplayString (apps/api/src/common/validators/
// is-safe-string.validator.ts:14-22 @v0.190.0, the same at v0.173.0):
// HTML tags, URL schemes, and control characters but tab, line feed and
// carriage return.
var (
	htmlTag     = regexp.MustCompile(`<[a-zA-Z/][^>]*>?`)
	urlScheme   = regexp.MustCompile(`(?i)https?://|ftps?://|sftp://|ssh://|wss?://|file://|ldaps?://|javascript:|data:|mailto:|tel:|www\.`)
	controlChar = regexp.MustCompile("[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")
)

// safeDisplayString is @IsSafeDisplayString (is-safe-string.validator.ts:24-53).
var safeDisplayString = check{func(raw json.RawMessage) bool {
	var s string
	if kindOfJSON(raw) != kindString || json.Unmarshal(raw, &s) != nil {
		return false
	}
	return !htmlTag.MatchString(s) && !urlScheme.MatchString(s) && !controlChar.MatchString(s)
}, "%s must not contain HTML tags, URLs, or control characters"}

// property is one property of a request DTO and its checks, in the order
// their messages come out. An optional property (@IsOptional) that is
// absent or null is not checked; a required one fails its checks.
type property struct {
	name     string
	checks   []check
	required bool
}

// validate runs the checks of props on body's properties, and returns the
// messages of those that failed, joined as the API joins them ("" if none).
func validate(body map[string]json.RawMessage, props []property) string {
	var msgs []string
	for _, p := range props {
		raw := body[p.name]
		if kindOfJSON(raw) == kindNull && !p.required {
			continue // @IsOptional
		}
		for _, c := range p.checks {
			if !c.ok(raw) {
				msgs = append(msgs, fmt.Sprintf(c.msg, p.name))
			}
		}
	}
	return strings.Join(msgs, ", ")
}

// isNotEmpty is @IsNotEmpty: anything but "", null and undefined.
var isNotEmpty = check{func(raw json.RawMessage) bool {
	return kindOfJSON(raw) != kindNull && string(bytes.TrimSpace(raw)) != `""`
}, "%s should not be empty"}

// jsNumber formats f as JavaScript's String(f) does for the numbers a
// request can reasonably hold.
func jsNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// jsParseInt is JavaScript's parseInt(s, 10): leading white space, an
// optional sign and the digits that follow; ok is false where parseInt
// gives NaN.
func jsParseInt(s string) (n int, ok bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	end := 0
	if end < len(s) && (s[0] == '-' || s[0] == '+') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, false
	}
	v, err := strconv.Atoi(s[:end])
	return v, err == nil
}
