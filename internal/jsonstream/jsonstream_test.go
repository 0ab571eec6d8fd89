package jsonstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// collect is a Handler that keeps everything, as encoding/json would.
type collect struct {
	strs   map[string]string
	others map[string]string
	skip   string
	pieces int
}

func (c *collect) String(key string) func([]byte) error {
	if key == c.skip {
		return nil
	}
	c.strs[key] = "" // a repeated member replaces the earlier one
	return func(p []byte) error {
		c.pieces++
		c.strs[key] += string(p)
		return nil
	}
}

func (c *collect) Other(key string, raw []byte) error {
	c.others[key] = string(raw)
	return nil
}

func decode(t *testing.T, in string, r io.Reader) (*collect, error) {
	t.Helper()
	c := &collect{strs: map[string]string{}, others: map[string]string{}, skip: "skipped"}
	if r == nil {
		r = strings.NewReader(in)
	}
	return c, DecodeObject(r, c)
}

func TestDecodeObject(t *testing.T) {
	in := `{"cmdId":"c1","output":"\u0001\u0001\u0001a\n","stdout":"a\nb\u003c\ud83d\ude00\ud800x\\\"\/\b\f\r\t","skipped":"zzz","stderr":"","exitCode":3,"o":{"x":[1,"}"]},"n":null}`
	c, err := decode(t, in, iotest.OneByteReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		switch v := v.(type) {
		case string:
			if k != "skipped" && c.strs[k] != v {
				t.Errorf("%s = %q, want %q", k, c.strs[k], v)
			}
		}
	}
	if _, ok := c.strs["skipped"]; ok {
		t.Error("a skipped member was passed on")
	}
	if c.others["exitCode"] != "3" || c.others["o"] != `{"x":[1,"}"]}` || c.others["n"] != "null" {
		t.Errorf("others = %v", c.others)
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a":`, `{"a":"x`, `{"a":"x"`, `{"a" "x"}`, `{"a":"x"} y`, `{"a":"\q"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":}`, `{"a":1,}`} {
		if _, err := decode(t, in, nil); err == nil {
			t.Errorf("DecodeObject(%q) = nil error", in)
		}
	}
	if _, err := decode(t, `{"a":"x`, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := decode(t, ` {} `, nil); err != nil {
		t.Errorf("empty object: %v", err)
	}
}

func TestLargeStringInPieces(t *testing.T) {
	big := strings.Repeat("x", 1<<20) + "\n" + strings.Repeat("é", 1<<16)
	in, _ := json.Marshal(map[string]string{"stdout": big})
	c, err := decode(t, string(in), bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.strs["stdout"] != big {
		t.Fatal("large string differs")
	}
	if c.pieces < 10 {
		t.Errorf("a 1 MiB string came in %d pieces: it was held whole", c.pieces)
	}
}

// FuzzDecodeObject checks any strings against encoding/json.
func FuzzDecodeObject(f *testing.F) {
	f.Add("a\n\"\\", "\xff\x00\u2028", 7)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		in, err := json.Marshal(map[string]any{"a": a, "b": b, "n": n})
		if err != nil {
			t.Skip()
		}
		var want map[string]any
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatal(err)
		}
		c, err := decode(t, string(in), iotest.HalfReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c.strs["a"] != want["a"] || c.strs["b"] != want["b"] {
			t.Fatalf("%s: got %q %q, want %q %q", in, c.strs["a"], c.strs["b"], want["a"], want["b"])
		}
	})
}

// FuzzDecodeRaw checks arbitrary input: an object encoding/json accepts is
// accepted, with the same string members.
func FuzzDecodeRaw(f *testing.F) {
	f.Add([]byte(`{"a":"\ud83d\ude00\u00e9\n","b":[1,{"c":"]"}],"d":-1.5e3}`))
	f.Add([]byte(`{"a":"\udc00\ud800\u0041"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]any
		if !utf8.Valid(data) || json.Unmarshal(data, &want) != nil || want == nil {
			return // invalid UTF-8 is passed on as is; encoding/json replaces it
		}
		c, err := decode(t, "", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		for k, v := range want {
			if s, ok := v.(string); ok && c.strs[k] != s {
				t.Fatalf("%q: %s = %q, want %q", data, k, c.strs[k], s)
			}
		}
	})
}
