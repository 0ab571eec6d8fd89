// Package jsonenc encodes JSON for readers that are not browsers: models
// and people reading tool output, where json.Marshal's escaping of <, >
// and & only gets in the way: for package workspace (CommandResult's JSON)
// and workspace/tools.
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
