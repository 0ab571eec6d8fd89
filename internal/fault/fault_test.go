package fault

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/apierr"
)

var errSentinel = errors.New("errSentinel")

// TestPrefixOnce: however errors of this package are wrapped into each
// other, the message starts with the prefix once and never repeats it,
// and errors.Is and errors.As still see every layer.
func TestPrefixOnce(t *testing.T) {
	service := apierr.FromBody(503, http.Header{}, []byte(`{"message":"no capacity"}`))
	inner := Wrap("create sandbox", service)
	if got := inner.Error(); got != "daytona: create sandbox: HTTP 503: no capacity" {
		t.Errorf("Wrap = %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	layers := []error{
		Wrap("start", inner),
		WrapCtx(ctx, "start", inner),
		Errorf("mount /data: %w", inner),
		Errorf("%w, and it could not be killed: %w", Errorf("x: %w", errSentinel), Wrap("kill", inner)),
		Wrap("outer", Errorf("middle: %w", Wrap("inner", service))),
	}
	for _, err := range layers {
		msg := err.Error()
		if !strings.HasPrefix(msg, prefix) || strings.Count(msg, prefix) != 1 {
			t.Errorf("%q: want the prefix exactly once, at the start", msg)
		}
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 503 {
			t.Errorf("%q: the *Error inside is lost", msg)
		}
		if apierr.StatusCode(err) != 503 {
			t.Errorf("%q: status %d", msg, apierr.StatusCode(err))
		}
	}
	if !errors.Is(layers[1], context.Canceled) {
		t.Error("WrapCtx of an ended context does not match it")
	}
	if !errors.Is(layers[3], errSentinel) {
		t.Error("Errorf lost a %w operand")
	}
	plain := WrapCtx(ctx, "look up", errors.New("connection reset"))
	if !errors.Is(plain, context.Canceled) || plain.Error() != "daytona: look up: connection reset" {
		t.Errorf("WrapCtx of a plain error = %q (is canceled: %v)", plain, errors.Is(plain, context.Canceled))
	}
	if Wrap("x", nil) != nil || WrapCtx(ctx, "x", nil) != nil {
		t.Error("wrapping nil is not nil")
	}
	var e *Error
	errors.As(inner, &e)
	SetHint(e, "the API key from the options was refused")
	if got := Text(inner); got != "create sandbox: HTTP 503: no capacity (the API key from the options was refused)" {
		t.Errorf("Text = %q", got)
	}
}
