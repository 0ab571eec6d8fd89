package tools

import (
	"encoding/json"
	"strings"

	"github.com/agentworkspace/daytona/workspace/internal/jsonenc"
)

// prop is a JSON Schema, written as a map so that schemas can be built
// from parts.
type prop = map[string]any

// object returns the schema of an object with these properties, of which
// required are required, and no others.
func object(required []string, props map[string]prop) json.RawMessage {
	s := prop{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	b, err := marshal(s)
	if err != nil {
		panic(err) // maps of strings, numbers and bools always encode
	}
	return b
}

func str(desc string) prop     { return prop{"type": "string", "description": desc} }
func boolean(desc string) prop { return prop{"type": "boolean", "description": desc} }
func integer(desc string) prop { return prop{"type": "integer", "description": desc} }

// marshal encodes v without escaping <, > and &, which stay readable for a
// model, and without a trailing newline.
var marshal = jsonenc.Marshal

// structured encodes a tool's output type for Result.Structured.
func structured(v any) json.RawMessage {
	b, err := marshal(v)
	if err != nil {
		panic(err) // the output types are plain structs
	}
	return b
}

// quote returns s quoted for a POSIX shell: unchanged when it is made of
// safe characters only, else in single quotes.
func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/@:=+,%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
