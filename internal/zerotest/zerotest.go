// Package zerotest holds helpers for tests of the edges of exported
// values. Walk calls every exported method of a value by reflection, for
// the tests that a nil or zero value of an exported type refuses every
// call and never panics (methods added later are covered without a change
// to the tests); Printed prints a value every way a program can, for the
// tests that no secret is ever printed.
package zerotest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// Verbs are the fmt verbs Printed uses.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%e", "%b", "%c", "%U", "%10.3v"}

// Printed returns v printed with every verb of Verbs, alone and inside a
// struct, a slice and a map, and logged with slog's JSON and text
// handlers (as an attribute and inside a group; slog's JSON handler
// encodes a value inside a slice or a map with encoding/json, which no
// LogValue method reaches).
func Printed(v any) string {
	var out bytes.Buffer
	wrapped := []any{v, struct{ V any }{v}, []any{v}, map[string]any{"v": v}}
	for _, verb := range Verbs {
		for _, w := range wrapped {
			fmt.Fprintf(&out, verb+"\n", w)
		}
	}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("msg", "v", v, slog.Group("g", "v", v))
	}
	return out.String()
}

// callTimeout bounds one call: a nil or zero value must answer at once.
const callTimeout = 10 * time.Second

// Call is one method called on a value.
type Call struct {
	Label   string // such as "(*Sandbox)(nil).Start"
	Method  string
	Results []reflect.Value
}

// Err returns the call's last result when it is an error (nil when the
// method returns none), and whether the method returns one.
func (c Call) Err() (error, bool) {
	if len(c.Results) == 0 {
		return nil, false
	}
	last := c.Results[len(c.Results)-1]
	if last.Type() != reflect.TypeFor[error]() {
		return nil, false
	}
	err, _ := last.Interface().(error)
	return err, true
}

// Walk calls every exported method of v but those in skip, in name
// order, each with context.Background() for a context.Context parameter
// and zero values for the others (an empty slice for a variadic one), and
// hands what it returned to check. A call that panics, or does not
// return within 10 seconds, is a test failure.
func Walk(t testing.TB, label string, v any, check func(Call), skip ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumMethod() {
		m := rv.Type().Method(i)
		if contains(skip, m.Name) {
			continue
		}
		call := Call{Label: label + "." + m.Name, Method: m.Name}
		results, failure := invoke(rv.Method(i))
		if failure != "" {
			t.Errorf("%s %s", call.Label, failure)
			continue
		}
		call.Results = results
		check(call)
	}
}

// invoke calls fn with made-up arguments and returns its results, or what
// went wrong.
func invoke(fn reflect.Value) (results []reflect.Value, failure string) {
	ft := fn.Type()
	args := make([]reflect.Value, ft.NumIn())
	for i := range args {
		args[i] = reflect.Zero(ft.In(i))
		if ft.In(i) == reflect.TypeFor[context.Context]() {
			args[i] = reflect.ValueOf(context.Background())
		}
	}
	type outcome struct {
		results []reflect.Value
		failure string
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{failure: "panicked: " + describe(p)}
			}
		}()
		if ft.IsVariadic() {
			done <- outcome{results: fn.CallSlice(args)}
		} else {
			done <- outcome{results: fn.Call(args)}
		}
	}()
	select {
	case o := <-done:
		return o.results, o.failure
	case <-time.After(callTimeout):
		return nil, "did not return within " + callTimeout.String()
	}
}

func describe(p any) string {
	if err, ok := p.(error); ok {
		return err.Error()
	}
	if s, ok := p.(string); ok {
		return s
	}
	return reflect.ValueOf(p).String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
