package tools

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"
)

// A saver is an io.Writer that keeps the first and the last size bytes of
// a stream, and counts its bytes and newlines, so that a view of it can be
// trimmed in bounded memory whatever the stream's length. It is safe for
// concurrent use.
type saver struct {
	size int // of head and of tail; more than any limit trimmed with

	mu       sync.Mutex // guards the fields below
	head     []byte
	tail     []byte // the last bytes after head; at most 2*size before compaction
	total    int64
	newlines int64
	last     byte
}

// newSaver returns a saver for trimming with limits of at most maxBytes.
func newSaver(maxBytes int) *saver { return &saver{size: maxBytes + 1} }

// Write saves p. It never fails.
func (s *saver) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total += int64(len(p))
	s.newlines += int64(bytes.Count(p, []byte{'\n'}))
	s.last = p[len(p)-1]
	rest := p
	if room := s.size - len(s.head); room > 0 {
		n := min(room, len(rest))
		s.head = append(s.head, rest[:n]...)
		rest = rest[n:]
	}
	if len(rest) >= s.size {
		s.tail = append(s.tail[:0], rest[len(rest)-s.size:]...)
		return len(p), nil
	}
	s.tail = append(s.tail, rest...)
	if len(s.tail) > 2*s.size {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-s.size:]...)
	}
	return len(p), nil
}

// view returns what is saved.
func (s *saver) view() view {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := view{totalBytes: s.total, newlines: s.newlines, last: s.last}
	tail := s.tail[max(len(s.tail)-s.size, 0):]
	if int64(len(s.head)+len(tail)) == s.total {
		v.head = string(s.head) + string(tail)
		return v
	}
	v.head, v.tail = string(s.head), string(tail)
	return v
}

// bytesWritten returns the stream's length.
func (s *saver) bytesWritten() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// redactor replaces secrets in a stream with Redacted, also when a secret
// is split across writes: it holds back the end of what it was given when
// that end begins a secret. flush writes it at the end of the stream.
type redactor struct {
	s     *secrets // nil: none
	carry []byte
	w     func([]byte)
}

// Redacted is what secrets (Options.Redact) are replaced with.
const Redacted = "[REDACTED]"

// secrets are the strings Options.Redact hides.
type secrets struct {
	list []string
	r    *strings.Replacer
}

// newSecrets returns the non-empty secrets, or nil if there are none.
func newSecrets(list []string) *secrets {
	var pairs, kept []string
	for _, s := range list {
		if s != "" {
			kept = append(kept, s)
			pairs = append(pairs, s, Redacted)
		}
	}
	if kept == nil {
		return nil
	}
	return &secrets{list: kept, r: strings.NewReplacer(pairs...)}
}

// replace redacts s; s may be nil.
func (s *secrets) replace(text string) string {
	if s == nil {
		return text
	}
	return s.r.Replace(text)
}

// partial returns the length of the longest suffix of b that is a proper
// prefix of a secret.
func (s *secrets) partial(b []byte) int {
	longest := 0
	for _, sec := range s.list {
		for k := min(len(sec)-1, len(b)); k > longest; k-- {
			if bytes.HasSuffix(b, []byte(sec[:k])) {
				longest = k
				break
			}
		}
	}
	return longest
}

func (r *redactor) write(p []byte) {
	if r.s == nil {
		r.w(p)
		return
	}
	buf := []byte(r.s.replace(string(r.carry) + string(p)))
	cut := len(buf) - r.s.partial(buf)
	r.carry = append(r.carry[:0], buf[cut:]...)
	if cut > 0 {
		r.w(buf[:cut])
	}
}

func (r *redactor) flush() {
	if len(r.carry) > 0 {
		r.w(r.carry)
		r.carry = r.carry[:0]
	}
}

// pipeline is the io.Writer given to a command for one stream: it strips
// escape sequences, redacts secrets, saves the result, and reports it as
// progress. A command's two pipelines share one progress emitter.
type pipeline struct {
	strip  ansiStripper
	redact redactor
	save   *saver
	prog   *emitter
	stream string
}

func newPipeline(k *Toolkit, stream string, prog *emitter) *pipeline {
	p := &pipeline{save: newSaver(k.budget.MaxBytes), prog: prog, stream: stream}
	p.redact = redactor{s: k.secrets, w: p.deliver}
	p.strip.w = writerFunc(func(b []byte) (int, error) { p.redact.write(b); return len(b), nil })
	return p
}

// Write takes output as the command prints it. It never fails, so that
// the command is never killed for its output's sake.
func (p *pipeline) Write(b []byte) (int, error) { return p.strip.Write(b) }

// flush delivers what the stripper and the redactor hold back; call it
// once the stream has ended.
func (p *pipeline) flush() {
	p.strip.Flush()
	p.redact.flush()
	p.prog.flush(p.stream)
}

func (p *pipeline) deliver(b []byte) {
	p.save.Write(b)
	p.prog.emit(p.stream, b)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// emitter reports output to a ProgressFunc, one call at a time, in whole
// UTF-8 characters. Its function can be changed while output flows (a
// background process's output is reported only while a call waits for
// it).
type emitter struct {
	mu      sync.Mutex // guards the fields below, and serializes calls of fn
	fn      ProgressFunc
	total   int64
	pending map[string][]byte // per stream: an incomplete UTF-8 character
}

// setFunc sets (or, with nil, clears) the function output is reported to.
func (e *emitter) setFunc(fn ProgressFunc) {
	e.mu.Lock()
	e.fn = fn
	e.mu.Unlock()
}

func (e *emitter) emit(stream string, b []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending == nil {
		e.pending = map[string][]byte{}
	}
	buf := append(e.pending[stream], b...)
	cut := completeUTF8(buf)
	e.pending[stream] = append([]byte(nil), buf[cut:]...)
	e.report(stream, buf[:cut])
}

func (e *emitter) flush(stream string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rest := e.pending[stream]
	delete(e.pending, stream)
	e.report(stream, rest)
}

// report calls fn with e.mu held.
func (e *emitter) report(stream string, b []byte) {
	if len(b) == 0 {
		return
	}
	e.total += int64(len(b))
	if e.fn != nil {
		e.fn(Progress{Stream: stream, Text: string(b), Bytes: e.total})
	}
}

// completeUTF8 returns the length of the longest prefix of b that does not
// end inside a UTF-8 character that the next bytes may complete.
func completeUTF8(b []byte) int {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if !utf8.RuneStart(c) {
			continue
		}
		if c >= utf8.RuneSelf && !utf8.FullRune(b[len(b)-i:]) {
			return len(b) - i
		}
		break
	}
	return len(b)
}
