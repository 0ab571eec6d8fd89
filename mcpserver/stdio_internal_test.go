package mcpserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// split feeds the chunks to a splitter and returns the messages found,
// encoded.
func split(max int, chunks ...string) []string {
	s := splitter{max: max}
	var out []string
	for _, c := range chunks {
		s.write([]byte(c), func(m jsonrpc.Message) {
			b, err := jsonrpc.EncodeMessage(m)
			if err != nil {
				b = []byte("encode: " + err.Error())
			}
			out = append(out, string(b))
		})
	}
	return out
}

const stream = `{"jsonrpc":"2.0","id":1,"method":"a","params":{"s":"}{]['\"\\\\","n":[1,{"x":[]}]}}` + "\n" +
	`  garbage {"jsonrpc":"2.0","method":"b"}` +
	`[{"jsonrpc":"2.0","id":"x","method":"c"},{"jsonrpc":"2.0","id":2,"result":{"t":"\\u007d"}}]` + "\r\n" +
	`{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"]"}}`

func TestSplitterEveryCut(t *testing.T) {
	t.Parallel()
	whole := split(1<<20, stream)
	if len(whole) != 5 {
		t.Fatalf("found %d messages, want 5: %q", len(whole), whole)
	}
	for i := range len(stream) + 1 {
		for j := i; j <= len(stream); j += 7 {
			if got := split(1<<20, stream[:i], stream[i:j], stream[j:]); !slices.Equal(got, whole) {
				t.Fatalf("cut at %d and %d: %q; want %q", i, j, got, whole)
			}
		}
	}
	bytewise := split(1<<20, strings.Split(stream, "")...)
	if !slices.Equal(bytewise, whole) {
		t.Errorf("byte by byte: %q", bytewise)
	}
}

func TestSplitterTooLong(t *testing.T) {
	t.Parallel()
	long := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"big","params":{"s":%q}}`, strings.Repeat("{", 200))
	short := `{"jsonrpc":"2.0","id":2,"method":"small"}`
	for _, chunks := range [][]string{{long + short}, {long[:50], long[50:] + short[:10], short[10:]}} {
		got := split(100, chunks...)
		if len(got) != 1 || !strings.Contains(got[0], `"small"`) {
			t.Errorf("a value over the limit, then one under: %q", got)
		}
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte(stream), uint(10))
	f.Add([]byte(`{"a":"\"}`), uint(3))
	f.Add([]byte(`]]]}}}{{{[[[`), uint(5))
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		at := 0
		if len(data) > 0 {
			at = int(cut % uint(len(data)+1))
		}
		whole := split(1<<20, string(data))
		if got := split(1<<20, string(data[:at]), string(data[at:])); !slices.Equal(got, whole) {
			t.Errorf("cut at %d: %q; whole: %q", at, got, whole)
		}
	})
}
