// Package jsonenc encodes JSON for readers that are not browsers: models
// and people reading tool output, where json.Marshal's escaping of <, >
// and & only gets in the way. It imports only the standard library, so
// that package workspace and its subpackages may use it.
package jsonenc

import (
	"bytes"
	"encoding/json"
)

// Marshal encodes v as json.Marshal does, but without escaping <, > and &,
// and without the trailing newline of a json.Encoder. (An outer document
// that embeds the result escapes them again unless it is written with
// SetEscapeHTML(false) too.)
func Marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
