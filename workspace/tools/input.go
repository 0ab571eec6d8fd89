package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// decodeInput decodes a tool's input, a JSON object, into v (a pointer to
// a struct with json tags), strictly: unknown fields, wrong types and
// trailing data are errors that name the field. Empty or null input is {}.
func decodeInput(input json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(canonical(input)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return inputError(err, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// inputError rewrites a decoding error for a model to act on.
func inputError(err error, v any) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return typeError(typeErr, v)
	case errors.As(err, &typeErr):
		return fmt.Errorf("the input must be a JSON object, not %s", typeErr.Value)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the input is not valid JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s; the fields are %s", field, strings.Join(fieldNames(v), ", "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// typeError names the field whose value has the wrong type, or whose
// elements or values do.
func typeError(e *json.UnmarshalTypeError, v any) error {
	top, _, _ := strings.Cut(e.Field, ".")
	if ft, ok := fieldType(v, top); ok && (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map) && ft.Elem() == e.Type {
		what := "elements"
		if ft.Kind() == reflect.Map {
			what = "values"
		}
		return fmt.Errorf("the %s of field %q must be %ss, not %s", what, top, strings.TrimPrefix(strings.TrimPrefix(jsonKind(e.Type), "a "), "an "), e.Value)
	}
	return fmt.Errorf("field %q must be %s, not %s", e.Field, jsonKind(e.Type), e.Value)
}

// fieldType returns the type of the field of the struct v points to whose
// JSON name is name.
func fieldType(v any, name string) (reflect.Type, bool) {
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n == name {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	default:
		return "an object"
	}
}

// fieldNames lists the JSON names of the struct v points to.
func fieldNames(v any) []string {
	t := reflect.TypeOf(v).Elem()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, `"`+name+`"`)
	}
	return names
}

// fieldError reports a field whose value is out of range.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("field %q "+format, append([]any{field}, args...)...)
}

// required checks the value of a required string field of input: absent
// (or null) is "is required", "" is "must not be empty", and, when blank
// is not allowed, only whitespace is "must not be only whitespace". what
// says what the field holds, for the model. A NUL byte is refused too:
// no command line, path or process id can hold one.
func required(input json.RawMessage, field, value string, blank bool, what string) error {
	switch {
	case value == "" && !present(input, field):
		return fieldError(field, "is required: %s", what)
	case value == "":
		return fieldError(field, "must not be empty: %s", what)
	case !blank && strings.TrimSpace(value) == "":
		return fieldError(field, "must not be only whitespace: %s", what)
	}
	return noNUL(field, value)
}

// present reports whether input, a JSON object, has field (matched as
// encoding/json matches names, in any case) with a value other than null.
func present(input json.RawMessage, field string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(canonical(input), &m) != nil {
		return false
	}
	for k, v := range m {
		if strings.EqualFold(k, field) && string(v) != "null" {
			return true
		}
	}
	return false
}

// noNUL refuses a NUL byte in a field.
func noNUL(field, value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return fieldError(field, "must not contain a NUL byte")
	}
	return nil
}

// checkEnv refuses what no environment can hold: a name that a shell
// cannot export, a value with a NUL byte.
func checkEnv(env map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if !envName(name) {
			return fieldError("env", "has the name %q, which is not an environment variable name: use letters, digits and _, not starting with a digit", name)
		}
		if strings.IndexByte(env[name], 0) >= 0 {
			return fieldError("env", "has a NUL byte in the value of %s, which no environment variable can hold", name)
		}
	}
	return nil
}

// envName reports whether name is [A-Za-z_][A-Za-z0-9_]*.
func envName(name string) bool {
	for i, c := range []byte(name) {
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}
