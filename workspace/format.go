package workspace

import (
	"fmt"
	"io"
	"strconv"
)

// How the values that hold credentials (MountSpec, PortURL) print: String
// for every verb, so that no verb (%d, %x, %+v, ...) reaches their
// fields; and LogValue, so that slog's handlers print the same.

// formatAs prints text for every verb of fmt (goText for %#v, text quoted
// for %q): the Format of the values that hold credentials.
func formatAs(f fmt.State, verb rune, text, goText string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		text = goText
	case verb == 'q':
		text = strconv.Quote(text)
	}
	_, _ = io.WriteString(f, text)
}
