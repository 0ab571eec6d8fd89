package shell

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// The data of a command (its text, arguments, environment and directory)
// travels to the runner (see runner.go) as fields on one line of a
// here-document, never in an argument list, so that it has no size limit
// (Linux refuses a single argument or environment string over 128 KiB,
// MAX_ARG_STRLEN) and bash reads it without parsing it as shell text (a
// quoted word with many quotes in it costs bash time quadratic in its
// size). Each field is
//
//	<tag><length in 10 decimal digits><value>
//
// where the length counts the bytes of the value as written, and the value
// is written as ASCII text that printf's %b turns back into the original
// bytes: a backslash as \\, and every byte that is not printable ASCII as
// \xHH. The line is thus printable ASCII, as JSON text and a here-document
// need, and read -N, which counts characters, counts its bytes in any
// locale. The runner reads a field with two read -N (bash reads a fixed
// count in blocks, from a pipe too).

// Field tags.
const (
	tagCommand = 'c' // the command text
	tagArg     = 'a' // one argument
	tagEnv     = 'e' // one NAME=value
	tagDir     = 'd' // the working directory
	tagMarker  = 'm' // the completion marker
	tagEnd     = 'z' // the end
)

// fieldHeader is the length of a field's tag and length.
const fieldHeader = 11

// appendField appends one field to b.
func appendField(b []byte, tag byte, v string) []byte {
	var enc strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c >= 0x7f:
			enc.WriteString(`\x`)
			enc.WriteByte("0123456789abcdef"[c>>4])
			enc.WriteByte("0123456789abcdef"[c&15])
		case c == '\\':
			enc.WriteString(`\\`)
		default:
			enc.WriteByte(c)
		}
	}
	b = append(b, tag)
	b = append(b, leftPad(enc.Len())...)
	return append(b, enc.String()...)
}

func leftPad(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", fieldHeader-1-len(s)) + s
}

// data returns the spec's fields: marker, command, arguments, environment
// (sorted by name), directory and the end.
func (s Spec) data() []byte {
	b := appendField(nil, tagMarker, s.Marker)
	b = appendField(b, tagCommand, s.Command)
	for _, a := range s.Args {
		b = appendField(b, tagArg, a)
	}
	for _, k := range sortedKeys(s.Env) {
		b = appendField(b, tagEnv, k+"="+s.Env[k])
	}
	if d := s.dir(); d != "" {
		b = appendField(b, tagDir, d)
	}
	return append(b, tagEnd, '0', '0', '0', '0', '0', '0', '0', '0', '0', '0')
}

// dir returns the directory the command changes to: Cwd itself when it is
// absolute, and otherwise Cwd behind "./", so that cd takes it as a path
// and nothing else ("-" would be $OLDPWD, and a relative name would be
// looked up in $CDPATH).
func (s Spec) dir() string {
	if s.Cwd == "" || strings.HasPrefix(s.Cwd, "/") {
		return s.Cwd
	}
	return "./" + s.Cwd
}

var errBadData = errors.New("shell: malformed command data")

// parseData decodes the fields written by data.
func parseData(line string) (command string, args []string, err error) {
	for {
		if len(line) < fieldHeader {
			return "", nil, errBadData
		}
		tag := line[0]
		n, err := strconv.Atoi(line[1:fieldHeader])
		if err != nil || n < 0 || n > len(line)-fieldHeader {
			return "", nil, errBadData
		}
		v, err := unescapeField(line[fieldHeader : fieldHeader+n])
		if err != nil {
			return "", nil, err
		}
		line = line[fieldHeader+n:]
		switch tag {
		case tagCommand:
			command = v
		case tagArg:
			args = append(args, v)
		case tagEnv, tagDir, tagMarker:
		case tagEnd:
			return command, args, nil
		default:
			return "", nil, errBadData
		}
	}
}

// unescapeField reverses the escapes of appendField.
func unescapeField(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+3 < len(s) && s[i+1] == 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", errBadData
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			return "", errBadData
		}
	}
	return b.String(), nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
