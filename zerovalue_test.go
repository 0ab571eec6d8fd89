package daytona_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/zerotest"
)

// Issue #19 item 18: a nil or zero value of every exported type with
// methods refuses every call with an error matching ErrInvalidInput (or
// returns a zero value where the method returns no error), and never
// panics, hangs or prints a panic. The methods are found by reflection,
// so that new ones are covered.

// constant are methods that return the same value whatever the receiver.
var constant = map[string]bool{"Name": true, "Provider": true}

// views are methods that return a view of the receiver (its files, its
// processes), walked in turn.
var views = map[string]bool{"Filesystem": true, "Processes": true}

// printing are methods that describe the receiver; fmt and slog call
// them, checked by printsSafely.
var printing = []string{"Format", "String", "GoString", "LogValue"}

// refusesAll walks every method of v and checks that each refuses.
func refusesAll(t *testing.T, label string, v any) {
	t.Helper()
	zerotest.Walk(t, label, v, func(c zerotest.Call) {
		err, hasErr := c.Err()
		switch {
		case hasErr && !errors.Is(err, daytona.ErrInvalidInput):
			t.Errorf("%s: error %v, want one matching ErrInvalidInput", c.Label, err)
		case views[c.Method]:
			refusesAll(t, label+"."+c.Method+"()", c.Results[0].Interface())
		case constant[c.Method]:
		case !hasErr:
			for _, r := range c.Results {
				if !zeroish(r) {
					t.Errorf("%s returned %v, want a zero value", c.Label, r)
				}
			}
		}
	}, printing...)
	printsSafely(t, label, v)
}

// zeroish reports a zero value, or an empty map or slice.
func zeroish(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}

// printsSafely prints v with every fmt verb and both slog handlers, and
// fails on a panic (which fmt and slog would otherwise print as text).
func printsSafely(t *testing.T, label string, v any) {
	t.Helper()
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, verb+"\n", v)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("msg", "v", v)
	slog.New(slog.NewTextHandler(&out, nil)).Info("msg", "v", v)
	if bytes.Contains(out.Bytes(), []byte("PANIC")) || bytes.Contains(out.Bytes(), []byte("panic")) {
		t.Errorf("printing %s panicked:\n%s", label, out.String())
	}
}

func TestZeroAndNilSandboxRefuseEverything(t *testing.T) {
	t.Parallel()
	refusesAll(t, "(*Sandbox)(nil)", (*daytona.Sandbox)(nil))
	refusesAll(t, "&Sandbox{}", &daytona.Sandbox{})
	refusesAll(t, "(*Filesystem)(nil)", (*daytona.Filesystem)(nil))
	refusesAll(t, "&Filesystem{}", &daytona.Filesystem{})
	refusesAll(t, "(*ProcessManager)(nil)", (*daytona.ProcessManager)(nil))
	refusesAll(t, "&ProcessManager{}", &daytona.ProcessManager{})
}

func TestZeroAndNilProcessRefuseEverything(t *testing.T) {
	t.Parallel()
	refusesAll(t, "(*Process)(nil)", (*daytona.Process)(nil))
	refusesAll(t, "&Process{}", &daytona.Process{})
}

func TestZeroAndNilClientRefuseEverything(t *testing.T) {
	t.Parallel()
	refusesAll(t, "(*Client)(nil)", (*daytona.Client)(nil))
	refusesAll(t, "&Client{}", &daytona.Client{})
	refusesAll(t, "(*RemoteSandbox)(nil)", (*daytona.RemoteSandbox)(nil))
	refusesAll(t, "&RemoteSandbox{}", &daytona.RemoteSandbox{})
}
