package command

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"sync"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// output decodes a command's log and routes its output to the writers and
// the retained tails: the daemon's labels are removed (demux), the
// script's header is read (header: it says where the command's output
// went, and names its files), and each stream ends at its completion
// marker (scan). The bytes of a stream come from the log (before its
// marker), from its file (see files.go), or from both: pos counts what
// was delivered, and a byte is delivered once, in order, whichever source
// brings it first. All writes happen on the caller's goroutine, one at a
// time, so a writer shared by both streams is never written concurrently.
type output struct {
	demux  stream.Demuxer
	header *stream.Header
	scan   [3]*stream.Scanner
	tail   [3]stream.Tail
	w      [3]io.Writer
	werr   error       // the first writer error
	lock   sync.Locker // if set, held while the tails change (processes)
	// pos counts the bytes of each stream delivered, logged those that
	// came through the log (when the output went to files, the log holds a
	// stream whole, from its first byte, after the command), and end
	// reports a stream's file read to its end after the command ended.
	pos      [3]int64
	logged   [3]int64
	end      [3]bool
	read     [3]bool // the stream's file was downloaded from
	emitFn   [3]func([]byte) error
	demuxFn  func(stream.Stream, []byte) error
	stdoutFn func([]byte) error // after the header
}

// newOutput returns an output that ends at the completion marker token,
// writes to stdout and stderr (either may be nil) and retains retain bytes
// of each stream (as stream.Tail.Max).
func newOutput(token string, stdout, stderr io.Writer, retain int) *output {
	o := &output{header: stream.NewHeader(token)}
	o.w[stream.Stdout], o.w[stream.Stderr] = stdout, stderr
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		o.scan[st] = stream.NewScanner(token)
		o.tail[st].Max = retain
		o.emitFn[st] = func(b []byte) error { return o.fromLog(st, b) }
	}
	o.stdoutFn = o.afterHeader
	o.demuxFn = o.Feed
	return o
}

// fromLog delivers bytes of st that came through the log.
func (o *output) fromLog(st stream.Stream, b []byte) error {
	at := o.logged[st]
	o.logged[st] += int64(len(b))
	return o.deliver(st, at, b)
}

// deliver delivers b, the bytes of st from position at on, as far as they
// are new.
func (o *output) deliver(st stream.Stream, at int64, b []byte) error {
	if at > o.pos[st] {
		o.pos[st] = at // cannot happen: both sources bring a stream in order
	}
	if skip := o.pos[st] - at; skip > 0 {
		if skip >= int64(len(b)) {
			return nil
		}
		b = b[skip:]
	}
	o.pos[st] += int64(len(b))
	return o.sink(st, b)
}

// discard records that n bytes of st went by unread (see stream.Tail's
// Discard).
func (o *output) discard(st stream.Stream, n int64) {
	if o.lock != nil {
		o.lock.Lock()
		defer o.lock.Unlock()
	}
	o.tail[st].Discard(n)
	o.pos[st] += n
}

func (o *output) sink(st stream.Stream, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if o.lock != nil {
		o.lock.Lock()
		_, _ = o.tail[st].Write(b)
		o.lock.Unlock()
	} else {
		_, _ = o.tail[st].Write(b)
	}
	w := o.w[st]
	if w == nil {
		return nil
	}
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		o.werr = err
		return err
	}
	return nil
}

// feedLog parses raw log bytes.
func (o *output) feedLog(b []byte) error { return o.demux.Feed(b, o.demuxFn) }

// Feed parses bytes the daemon labelled st. The script writes its header
// on stdout; then, when the output went to files, stdout's marker and
// stderr's, each behind what of its stream came through the log, all on
// stdout; else each stream's output and marker on that stream.
func (o *output) Feed(st stream.Stream, b []byte) error {
	if st == stream.Stdout {
		return o.header.Feed(b, o.stdoutFn)
	}
	return o.scan[stream.Stderr].Feed(b, o.emitFn[stream.Stderr])
}

// afterHeader returns what takes stdout once the header was read: with
// files, stderr's part follows stdout's marker.
func (o *output) afterHeader(b []byte) error {
	if o.header.Mode() == stream.ModeFiles && o.scan[stream.Stdout].After == nil {
		o.scan[stream.Stdout].After = func(b []byte) error { return o.scan[stream.Stderr].Feed(b, o.emitFn[stream.Stderr]) }
	}
	return o.scan[stream.Stdout].Feed(b, o.emitFn[stream.Stdout])
}

// mode returns how the command's output reached us (a stream.Mode*).
func (o *output) mode() byte { return o.header.Mode() }

// done reports whether both markers were seen, and the exit code. The
// output of a stream marked bulk may still be in its file (see pending).
func (o *output) done() (int, bool) {
	code, ok := o.scan[stream.Stdout].Done()
	_, ok2 := o.scan[stream.Stderr].Done()
	return code, ok && ok2
}

// file returns the file stream st went to, if any: for stderr, "" when it
// went to stdout's.
func (o *output) file(st stream.Stream) string {
	out, errFile, ok := o.header.Files()
	switch {
	case !ok:
		return ""
	case st == stream.Stdout:
		return out
	}
	return errFile
}

// pending returns the streams whose output is still to be read from their
// files: those the marker says stayed there, not yet read to the end.
func (o *output) pending() []stream.Stream {
	var sts []stream.Stream
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		if _, ok := o.scan[st].Done(); ok && o.scan[st].Bulk() && !o.end[st] && o.file(st) != "" {
			sts = append(sts, st)
		}
	}
	return sts
}

// shellGone reports whether the marker said that the session's shell has
// gone (see shell.GoneMark).
func (o *output) shellGone() bool { return o.scan[stream.Stdout].ShellGone() }

// flush releases output held back while it looked like a label, a header
// or a marker.
func (o *output) flush() {
	_ = o.demux.Flush(o.demuxFn)
	_ = o.header.Flush(o.stdoutFn)
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		_ = o.scan[st].Flush(o.emitFn[st])
	}
}

// fill sets the retained output of res, and how much was dropped.
func (o *output) fill(res *workspace.CommandResult) {
	if o.lock != nil {
		o.lock.Lock()
		defer o.lock.Unlock()
	}
	res.Stdout = o.tail[stream.Stdout].String()
	res.Stderr = o.tail[stream.Stderr].String()
	res.StdoutDroppedBytes = o.tail[stream.Stdout].Dropped()
	res.StderrDroppedBytes = o.tail[stream.Stderr].Dropped()
	res.StdoutTruncated = res.StdoutDroppedBytes > 0
	res.StderrTruncated = res.StderrDroppedBytes > 0
}

// retained returns the output of st retained so far.
func (o *output) retained(st stream.Stream) string {
	if o.lock != nil {
		o.lock.Lock()
		defer o.lock.Unlock()
	}
	return o.tail[st].String()
}

// newToken returns a fresh completion marker: a record separator, a tag and
// 96 random bits, so that no command prints it by accident.
func newToken() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		fault.Panic("crypto/rand failed: %v", err)
	}
	return "\x1eDTN" + hex.EncodeToString(b[:]) + ":"
}
