package controlplane

import (
	"errors"
	"strings"
)

// Names the API refuses. A create request's name is checked with
// IsSafeDisplayString (apps/api/src/sandbox/dto/create-sandbox.dto.ts and
// apps/api/src/common/validators/is-safe-string.validator.ts:14-53
// @v0.190.0, the same at v0.173.0): no HTML tag, no URL scheme (nor
// "www."), no control character but tab, line feed and carriage return.
// Such a create is refused with 400 "name must not contain HTML tags,
// URLs, or control characters".

// errUnsafeName is the API's reason.
var errUnsafeName = errors.New("name must not contain HTML tags, URLs, or control characters")

// urlMarks are what the API takes for a URL, in lower case.
var urlMarks = []string{
	"http://", "https://", "ftp://", "ftps://", "sftp://", "ssh://", "ws://", "wss://", "file://",
	"ldap://", "ldaps://", "javascript:", "data:", "mailto:", "tel:", "www.",
}

// CheckName returns the API's reason for refusing name as a sandbox's
// name, or nil.
func CheckName(name string) error {
	lower := strings.ToLower(name)
	for _, m := range urlMarks {
		if strings.Contains(lower, m) {
			return errUnsafeName
		}
	}
	for i, r := range name {
		switch {
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return errUnsafeName
		case r == '<' && i+1 < len(name) && startsTag(name[i+1]):
			return errUnsafeName
		}
	}
	return nil
}

// startsTag reports a byte that, after "<", opens an HTML tag: a letter
// or a slash.
func startsTag(b byte) bool {
	return b == '/' || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}
