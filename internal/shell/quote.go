package shell

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

var safeArg = regexp.MustCompile(`^[A-Za-z0-9._\-/@:=]+$`)

// Quote quotes s as one shell word. Strings made only of [A-Za-z0-9._-/@:=]
// pass unchanged, as in Mastra; other valid UTF-8, including the empty
// string, is single-quoted, each single quote inside closing the quotes,
// adding an escaped quote and reopening them:
//
//	it's  →  'it'\''s'
//
// A string that is not valid UTF-8 is written in bash's ANSI-C quoting, with
// every byte that is not part of a valid UTF-8 sequence as \xHH, so that
// the word itself is valid UTF-8 (it travels as JSON text) and still carries
// the exact bytes:
//
//	a\xffb  →  $'a\xffb'
//
// ANSI-C quoting needs bash (or zsh, or ksh); this package runs commands
// under bash.
func Quote(s string) string {
	if safeArg.MatchString(s) {
		return s
	}
	if !utf8.ValidString(s) {
		return ansiC(s)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ansiC returns s in $'...' quoting.
func ansiC(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		switch {
		case r == utf8.RuneError && size <= 1, c < 0x20, c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// Join returns command followed by each arg quoted. command itself is a
// shell snippet and is not quoted.
func Join(command string, args []string) string {
	if len(args) == 0 {
		return command
	}
	var b strings.Builder
	b.WriteString(command)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(Quote(a))
	}
	return b.String()
}

var errBadWord = errors.New("shell: not a word written by Quote")

// Unquote reads one word written by Quote from the start of s and returns
// its value and what follows it. It accepts the forms Quote writes (bare
// words, single quotes with \' between them, $'...' with \xHH, \\ and \').
func Unquote(s string) (word, rest string, err error) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", "", errBadWord
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			n, err := unquoteANSI(&b, s[i+2:])
			if err != nil {
				return "", "", err
			}
			i += 2 + n
		case c == ' ' || c == '\t' || c == '\n' || c == ';':
			return b.String(), s[i:], nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), "", nil
}

// unquoteANSI decodes the body of $'...' up to and including its closing
// quote, returning how many bytes of s it used.
func unquoteANSI(b *strings.Builder, s string) (int, error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return 0, errBadWord
			}
			if s[i+1] != 'x' {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			var v byte
			if i+4 > len(s) {
				return 0, errBadWord
			}
			if _, err := fmt.Sscanf(s[i+2:i+4], "%02x", &v); err != nil {
				return 0, errBadWord
			}
			b.WriteByte(v)
			i += 3
		default:
			b.WriteByte(s[i])
		}
	}
	return 0, errBadWord
}
