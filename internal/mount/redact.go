package mount

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode"

	"github.com/agentworkspace/daytona/workspace"
)

// What a FUSE tool prints is not ours to shape: it may print a credential
// whole, without its trailing newline, line by line (a PEM key),
// JSON-escaped, URL-escaped, or in pieces split across its writes (some
// on its output, some on its errors). Redact hides all of these.

// minPiece is the length of the shortest piece of a credential that
// Redact hides wherever it appears. Pieces this long of a random
// credential do not occur by chance; a shorter piece, at the cut of a
// split, says too little to matter.
const minPiece = 8

// redacted replaces what Redact hides.
const redacted = "[redacted]"

// Redact hides the entry's credentials in text: each whole credential in
// any of its forms (see forms), and any piece of minPiece bytes or more of
// a credential proper (a key, a secret, a token; not the JSON key file or
// the connection string around them, whose other fields are no secret).
func (e Entry) Redact(text string) string {
	spec := e.Resolved()
	proper := credentials(spec)
	for _, whole := range append(spec.Secrets(), proper...) {
		for _, f := range forms(whole) {
			if len(f) >= 4 {
				text = strings.ReplaceAll(text, f, redacted)
			}
		}
	}
	return hidePieces(text, proper)
}

// credentials returns the credentials proper of spec: the access key pair,
// the account key and the signature, and a service account key's private
// key and its id.
func credentials(spec *workspace.MountSpec) []string {
	out := []string{spec.AccessKeyID, spec.SecretAccessKey, spec.AccountKey, spec.SASToken}
	var key map[string]any
	if spec.ServiceAccountKey != "" && json.Unmarshal([]byte(spec.ServiceAccountKey), &key) == nil {
		for _, k := range []string{"private_key", "private_key_id"} {
			if v, ok := key[k].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// forms returns secret as a tool may print it: as it is, JSON-escaped
// (with and without HTML escaping), URL-escaped, and without any white
// space (a PEM key wrapped at another width).
func forms(secret string) []string {
	out := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.Join(strings.FieldsFunc(secret, unicode.IsSpace), "")}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(secret) // a string always encodes
		out = append(out, strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), `"`)[1:])
	}
	return out
}

// hidePieces replaces every run of text covered by pieces of minPiece
// bytes of a form of a secret with redacted.
func hidePieces(text string, secrets []string) string {
	pieces := map[string]bool{}
	for _, secret := range secrets {
		for _, f := range forms(secret) {
			for i := 0; i+minPiece <= len(f); i++ {
				pieces[f[i:i+minPiece]] = true
			}
		}
	}
	if len(pieces) == 0 || len(text) < minPiece {
		return text
	}
	hide := make([]bool, len(text))
	for i := 0; i+minPiece <= len(text); i++ {
		if pieces[text[i:i+minPiece]] {
			for k := i; k < i+minPiece; k++ {
				hide[k] = true
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch {
		case !hide[i]:
			b.WriteByte(text[i])
		case i == 0 || !hide[i-1]:
			b.WriteString(redacted)
		}
	}
	return b.String()
}
