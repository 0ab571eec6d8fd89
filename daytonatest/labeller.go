//go:build unix

package daytonatest

import (
	"bytes"
	"os"
	"sync"
	"time"
)

// The daemon's labellers. The wrapper of every session command starts one
// per output stream, a shell loop that reads the stream line by line and
// appends each line to the command's log behind its label, both loops
// appending to the same file:
//
//	( while IFS= read -r line || [ -n "$line" ]; do printf '<label>%s\n' "$line"; done < "$sp" ) >> "$log" &
//
// (apps/daemon/pkg/session/execute.go:211-213, cmdWrapperFormat, at tags
// libs/sdk-go/v0.173.0 and v0.190.0). Three traits of that loop reach the
// log, and a labeller here reproduces them:
//
//   - the session shell's read drops NUL bytes under bash and keeps them
//     under zsh (bash 5.2 and zsh 5.9, measured);
//   - printf writes through stdio, so a labelled line longer than the
//     stdio buffer reaches the file in several writes (see stdioWrites),
//     and the other stream's labeller can append its lines between them:
//     labels then interleave inside long lines;
//   - read takes one byte per system call from the pipe, so the loop moves
//     about [DaemonOutputRate] bytes a second (see WithOutputRate).
//
// A line that ends without a newline at the end of the stream still gets
// one (the `|| [ -n "$line" ]` of the loop), unless nothing of it is left.

// maxBatch bounds the lines of one read that a labeller appends in one
// write while the other stream has nothing waiting. The daemon writes line
// by line; batching changes nothing in the log unless the other stream
// writes between the lines, and then a labeller writes line by line.
const maxBatch = 64 << 10

// labeller labels one output stream of a command into its log.
type labeller struct {
	c       *command
	stream  int // 0 for stdout, 1 for stderr
	label   []byte
	dropNUL bool
	chunk   int // stdio buffer of printf (stdioWrites)
	pace    pacer
	partial []byte // the start of a line whose newline has not come yet
	batch   []byte // complete labelled lines not yet appended
}

// run reads the stream until end of file, then labels what is left. From
// reading data until it is all written, the labeller is busy: the other
// one then writes in turn with it (see turns).
func (l *labeller) run(f *os.File) {
	defer l.c.readerDone()
	defer f.Close()
	defer l.c.turns.end(l.stream)
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if !l.pace.wait(n, l.c.stop) {
				return
			}
			l.c.turns.setBusy(l.stream, true)
			l.feed(buf[:n])
			l.flush()
			l.c.turns.setBusy(l.stream, false)
		}
		if err != nil {
			break
		}
	}
	if len(l.partial) > 0 {
		l.line(l.partial)
		l.flush()
	}
}

// feed labels the complete lines of data and keeps the rest.
func (l *labeller) feed(data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			l.partial = l.keep(l.partial, data)
			return
		}
		l.partial = l.keep(l.partial, data[:i])
		l.line(l.partial)
		l.partial = l.partial[:0]
		data = data[i+1:]
	}
}

// keep appends b to dst, without its NUL bytes under bash.
func (l *labeller) keep(dst, b []byte) []byte {
	if !l.dropNUL || bytes.IndexByte(b, 0) < 0 {
		return append(dst, b...)
	}
	for _, c := range b {
		if c != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// line labels one line (without its newline). (The last line of the
// stream, with no newline, is labelled only if something is left of it
// once bash has dropped its NULs: `[ -n "$line" ]` is then false.) Lines
// that go in one write each are batched while the other stream is quiet.
// Between the writes of a longer line, a line of the other stream goes in
// if that stream is writing too (see turns.awaitOther).
func (l *labeller) line(text []byte) {
	t := l.c.turns
	sizes := stdioWrites(len(text), l.chunk)
	if len(sizes) == 1 && t.quiet(l.stream) && len(l.batch) < maxBatch {
		l.batch = append(append(append(l.batch, l.label...), text...), '\n')
		return
	}
	l.flush()
	whole := append(append(append(make([]byte, 0, len(text)+len(l.label)+1), l.label...), text...), '\n')
	active, seen := t.active(l.stream)
	for i, n := range sizes {
		if i > 0 && (active || t.pending(l.stream)) {
			active, seen = t.awaitOther(l.stream, seen, l.c.stop)
		}
		l.c.writeTurn(l.stream, whole[:n])
		whole = whole[n:]
	}
}

// flush appends the batched lines.
func (l *labeller) flush() {
	if len(l.batch) > 0 {
		l.c.writeTurn(l.stream, l.batch)
		l.batch = l.batch[:0]
	}
}

// stdioWrites returns the sizes of the writes in which printf puts a
// labelled line (a 3-byte label, text bytes of line, a newline) into the
// log through a stdio buffer of size bytes that is empty before the call
// and flushed after it. This is glibc's algorithm (_IO_new_file_xsputn):
// the line fills the buffer, which is written; then as many whole buffer
// sizes as remain are written directly; the rest stays in the buffer with
// the newline, and the final flush writes it. The label and the newline
// go in one byte at a time, so a buffer that the line filled exactly is
// written before the newline.
//
// Measured with strace on the daemon's loop (bash 5.2.15, zsh 5.9, glibc
// 2.36): bash's buffer is the log file's st_blksize (4096 on ext4 and
// overlayfs) and zsh's is 8192, and a 30,000-byte line goes in as 4096,
// 24576 and 1332 bytes under bash, 8192, 16384 and 5428 under zsh.
func stdioWrites(line, size int) []int {
	buf, rest := len(stdoutLabel), line
	var out []int
	n := min(size-buf, rest)
	buf, rest = buf+n, rest-n
	if rest > 0 {
		out = append(out, buf)
		direct := rest - rest%size
		if direct > 0 {
			out = append(out, direct)
		}
		buf = rest - direct
	}
	if buf == size {
		out = append(out, buf)
		buf = 0
	}
	return append(out, buf+1)
}

// pacer limits a labeller to rate bytes a second (0: no limit).
type pacer struct {
	rate int
	next time.Time // when the bytes taken so far have been moved
}

// wait accounts for n bytes taken from the stream: it waits until the
// bytes taken before them have been moved at the rate. It returns false if
// stop was closed meanwhile.
func (p *pacer) wait(n int, stop <-chan struct{}) bool {
	if p.rate <= 0 {
		return true
	}
	now := time.Now()
	due := p.next
	if due.Before(now) {
		due = now
	}
	p.next = due.Add(time.Duration(float64(n) / float64(p.rate) * float64(time.Second)))
	if !due.After(now) {
		return true
	}
	t := time.NewTimer(due.Sub(now))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// turns orders the writes of a command's two labellers to its log as two
// processes appending to one file are ordered when both write:
//
//   - while one labeller is busy (it has read data that it has not written
//     yet), the other one, once it has written, waits for the busy one to
//     write before it writes again;
//   - a labeller batches lines only while the other stream is quiet;
//   - between the writes of a long line, a labeller waits (up to
//     interleaveWait) for the other stream to write a line, if that stream
//     has something to write (read, or waiting in its pipe) or has written
//     since this one last did: it is writing too. The daemon's
//     stderr labeller, which writes a line every few microseconds under
//     constant stderr, lands inside most long stdout lines that way (117
//     of 137 streamed lines, measured); here it lands inside every one.
type turns struct {
	mu      sync.Mutex
	cond    *sync.Cond
	changed chan struct{} // closed and replaced at every change
	busy    [2]bool
	ended   [2]bool     // the labeller has finished
	pipes   [2]*os.File // the read ends of the output FIFOs
	writes  [2]int
	last    int // the stream that wrote last; -1 before any write
}

// interleaveWait bounds how long a long line waits for a line of the other
// stream between two of its writes.
const interleaveWait = 250 * time.Millisecond

func newTurns() *turns {
	t := &turns{last: -1, changed: make(chan struct{})}
	t.cond = sync.NewCond(&t.mu)
	return t
}

func (t *turns) changedLocked() {
	t.cond.Broadcast()
	close(t.changed)
	t.changed = make(chan struct{})
}

// setBusy records whether stream's labeller has data to write.
func (t *turns) setBusy(stream int, busy bool) {
	t.mu.Lock()
	t.busy[stream] = busy
	t.changedLocked()
	t.mu.Unlock()
}

// end records that stream's labeller has finished.
func (t *turns) end(stream int) {
	t.mu.Lock()
	t.busy[stream], t.ended[stream] = false, true
	t.changedLocked()
	t.mu.Unlock()
}

// quiet reports whether the other stream than stream is quiet: it has
// nothing to write, and has written nothing since stream last wrote.
func (t *turns) quiet(stream int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.busy[1-stream] && t.last != 1-stream
}

// pending reports whether the other stream than stream has something to
// write: data its labeller has read, or data waiting in its pipe.
func (t *turns) pending(stream int) bool {
	t.mu.Lock()
	busy, ended, f := t.busy[1-stream], t.ended[1-stream], t.pipes[1-stream]
	t.mu.Unlock()
	return !ended && (busy || (f != nil && pipeHasData(f)))
}

// active reports whether the other stream than stream is writing too: it
// has not finished and has written since stream last wrote. seen is its
// count of writes.
func (t *turns) active(stream int) (active bool, seen int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last == 1-stream && !t.ended[1-stream], t.writes[1-stream]
}

// awaitOther waits until the other stream than stream has written more
// than seen times. It reports false if it has finished instead, if
// interleaveWait passed or stop was closed; seen is its new count.
func (t *turns) awaitOther(stream, seen int, stop <-chan struct{}) (bool, int) {
	timer := time.NewTimer(interleaveWait)
	defer timer.Stop()
	for {
		t.mu.Lock()
		n, ended, ch := t.writes[1-stream], t.ended[1-stream], t.changed
		t.mu.Unlock()
		switch {
		case n > seen:
			return true, n
		case ended:
			return false, n
		}
		select {
		case <-ch:
		case <-timer.C:
			return false, n
		case <-stop:
			return false, n
		}
	}
}

// writeTurn appends b to the log for stream, in turn with the other
// stream's labeller.
func (c *command) writeTurn(stream int, b []byte) {
	t := c.turns
	t.mu.Lock()
	for t.last == stream && t.busy[1-stream] {
		t.cond.Wait()
	}
	c.appendLog(b)
	t.last = stream
	t.writes[stream]++
	t.changedLocked()
	t.mu.Unlock()
}
