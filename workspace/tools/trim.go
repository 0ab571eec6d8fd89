package tools

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Output budget defaults.
const (
	// DefaultMaxBytes is Budget.MaxBytes's default: 16 KiB of each stream,
	// about 4,000 tokens.
	DefaultMaxBytes = 16 << 10
	// DefaultMaxLines is Budget.MaxLines's default.
	DefaultMaxLines = 200
)

// Budget bounds how much of one stream of output (a command's stdout, or
// its stderr) a model sees. Longer output keeps its first lines (a quarter
// of the budget) and its last lines (the rest), with a marker in between
// that says how much was left out:
//
//	[… 1234 lines omitted …]
//
// or, when a single line is longer than the budget and is cut,
//
//	[… 56789 bytes omitted …]
//
// Cuts fall on line boundaries where possible and never inside a UTF-8
// character. The marker is not counted in the budget.
type Budget struct {
	// MaxBytes bounds the bytes kept. Zero means DefaultMaxBytes; otherwise
	// it must be at least 64.
	MaxBytes int
	// MaxLines bounds the lines kept. Zero means DefaultMaxLines;
	// otherwise it must be at least 2.
	MaxLines int
}

// withDefaults fills in zero fields.
func (b Budget) withDefaults() Budget {
	if b.MaxBytes == 0 {
		b.MaxBytes = DefaultMaxBytes
	}
	if b.MaxLines == 0 {
		b.MaxLines = DefaultMaxLines
	}
	return b
}

// validate reports a budget New must refuse.
func (b Budget) validate() error {
	if b.MaxBytes != 0 && b.MaxBytes < 64 {
		return fmt.Errorf("Budget.MaxBytes is %d; want 0 (the default) or at least 64", b.MaxBytes)
	}
	if b.MaxLines != 0 && b.MaxLines < 2 {
		return fmt.Errorf("Budget.MaxLines is %d; want 0 (the default) or at least 2", b.MaxLines)
	}
	return nil
}

// limits are how many lines and bytes to keep at each end.
type limits struct {
	headLines, headBytes int
	tailLines, tailBytes int
}

// headAndTail splits the budget: a quarter for the head, the rest for the
// tail, where errors and summaries usually are.
func (b Budget) headAndTail() limits {
	b = b.withDefaults()
	return limits{
		headLines: b.MaxLines / 4, headBytes: b.MaxBytes / 4,
		tailLines: b.MaxLines - b.MaxLines/4, tailBytes: b.MaxBytes - b.MaxBytes/4,
	}
}

// tailOnly keeps up to n last lines (n <= 0: the budget's line limit)
// within the budget's bytes, like tail -n.
func (b Budget) tailOnly(n int) limits {
	b = b.withDefaults()
	if n <= 0 || n > b.MaxLines {
		n = b.MaxLines
	}
	return limits{tailLines: n, tailBytes: b.MaxBytes}
}

// Trim returns s shortened to the budget b (zero fields take their
// defaults), as described at Budget. Text within the budget is returned
// unchanged. Trim does not strip escape sequences; see StripANSI.
func Trim(s string, b Budget) string {
	return view{head: s, totalBytes: int64(len(s)), newlines: int64(strings.Count(s, "\n")), last: lastByte(s)}.
		trim(b.headAndTail())
}

// view is a stream of output of which only the start (head) and the end
// (tail) may be known, as kept by a saver. When nothing is missing, head
// holds all of it and tail is empty.
type view struct {
	head, tail string
	totalBytes int64 // of the whole stream
	newlines   int64 // in the whole stream
	last       byte  // the stream's last byte
}

// complete reports whether head holds the whole stream.
func (v view) complete() bool { return int64(len(v.head)) == v.totalBytes }

// lines counts the stream's lines; a last line without a newline counts.
func (v view) lines() int64 {
	if v.totalBytes > 0 && v.last != '\n' {
		return v.newlines + 1
	}
	return v.newlines
}

// trim applies the limits: the stream itself when it fits, else its head
// and tail with a marker between them.
func (v view) trim(l limits) string {
	maxLines, maxBytes := int64(l.headLines+l.tailLines), int64(l.headBytes+l.tailBytes)
	if v.lines() <= maxLines && v.totalBytes <= maxBytes && v.complete() {
		return v.head
	}
	head := takeHead(v.head, l.headLines, l.headBytes)
	src := v.tail // the tail's source: the saved end, or what follows head
	if v.complete() {
		src = v.head[len(head):]
	}
	tail := takeTail(src, l.tailLines, l.tailBytes)
	omitted := v.totalBytes - int64(len(head)) - int64(len(tail))
	if omitted == 0 {
		return head + tail
	}
	// The byte before tail is in src: takeTail never takes all of a saved
	// tail, which is longer than any limit.
	wholeLines := (head == "" || head[len(head)-1] == '\n') &&
		len(tail) < len(src) && src[len(src)-len(tail)-1] == '\n'
	if !wholeLines {
		return head + "[… " + strconv.FormatInt(omitted, 10) + " bytes omitted …]" + tail
	}
	n := v.newlines - int64(strings.Count(head, "\n")) - int64(strings.Count(tail, "\n"))
	unit := " lines"
	if n == 1 {
		unit = " line"
	}
	return head + "[… " + strconv.FormatInt(n, 10) + unit + " omitted …]\n" + tail
}

// takeHead returns the longest prefix of src made of at most maxLines
// whole lines and at most maxBytes bytes. If not even the first line fits,
// it returns the first maxBytes bytes of that line, cut back to the start
// of a UTF-8 character.
func takeHead(src string, maxLines, maxBytes int) string {
	if maxLines <= 0 || maxBytes <= 0 {
		return ""
	}
	i := 0
	for n := 0; n < maxLines && i < len(src); n++ {
		end := len(src)
		if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		if end > maxBytes {
			break
		}
		i = end
	}
	if i > 0 {
		return src[:i]
	}
	cut := min(maxBytes, len(src))
	for k := 0; k < utf8.UTFMax-1 && cut > 0 && cut < len(src) && !utf8.RuneStart(src[cut]); k++ {
		cut--
	}
	return src[:cut]
}

// takeTail returns the longest suffix of src made of at most maxLines
// whole lines and at most maxBytes bytes. If not even the last line fits,
// it returns the last maxBytes bytes of that line, advanced to the start
// of a UTF-8 character.
func takeTail(src string, maxLines, maxBytes int) string {
	if maxLines <= 0 || maxBytes <= 0 {
		return ""
	}
	i := len(src)
	for n := 0; n < maxLines && i > 0; n++ {
		start := strings.LastIndexByte(src[:i-1], '\n') + 1
		if len(src)-start > maxBytes {
			break
		}
		i = start
	}
	if i < len(src) {
		return src[i:]
	}
	start := max(len(src)-maxBytes, 0)
	for k := 0; k < utf8.UTFMax-1 && start < len(src) && !utf8.RuneStart(src[start]); k++ {
		start++
	}
	return src[start:]
}

func lastByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[len(s)-1]
}
