package command

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/follow"
	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/stream"
)

// Reading a command's log from its follow stream.
const (
	// maxStreamReconnects bounds how often in a row a broken follow stream
	// is reopened without progress; a stream that delivered bytes before
	// it broke starts a new count.
	maxStreamReconnects = 3
	// streamReconnectStep is the pause before the n-th reopening in a
	// row, times n.
	streamReconnectStep = 50 * time.Millisecond
	// pingInterval is how often an idle follow stream is pinged. The
	// daemon answers pings but sends nothing while a command is silent, and
	// proxies and load balancers cut connections idle for a minute or so.
	pingInterval = 30 * time.Second
	// drainIdle is how long reading the rest of a command's log from its
	// stream waits for more before it takes what it has.
	drainIdle = 300 * time.Millisecond
)

// reopenFollow reports whether a follow stream that ended with err, after
// failures earlier failures in a row, is worth reopening: a network
// failure, an abnormal close, a 5xx or 429 refusal, within the budget.
// Not a normal close (the session was deleted, or the daemon closed it
// after the command ended without a marker), nor a refusal that means the
// session or sandbox is gone (4xx).
func reopenFollow(err error, failures int) bool {
	if failures >= maxStreamReconnects || errors.Is(err, io.EOF) {
		return false
	}
	var he *follow.HandshakeError
	if errors.As(err, &he) {
		return he.StatusCode >= http.StatusInternalServerError || he.StatusCode == http.StatusTooManyRequests
	}
	return true
}

// readBufs holds the buffers log streams are read into.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// follow reads the command's log until both completion markers arrived
// (done), ctx ends, a writer fails, or the stream cannot be reopened. A
// broken stream is reopened, skipping what was already read; see
// reopenFollow for when.
func (rn *run) follow(ctx context.Context) (code int, done bool, lastErr error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for failures := 0; ; failures++ {
		before := rn.out.demux.Offset()
		code, done, err := rn.followOnce(ctx, *bp)
		if done {
			return code, true, nil
		}
		if ctx.Err() != nil || rn.out.werr != nil {
			return 0, false, err
		}
		if rn.out.demux.Offset() > before {
			failures = 0 // it made progress: a new budget
		}
		if !reopenFollow(err, failures) {
			return 0, false, err
		}
		rn.log().Debug("follow stream broke; reopening it", "failures", failures+1, "err", err)
		if err := retry.Sleep(ctx, time.Duration(failures+1)*streamReconnectStep); err != nil {
			return 0, false, err
		}
	}
}

// dial opens the command's follow stream, which replays its log from the
// first byte. Closing the connection when ctx ends interrupts a blocked
// read at once; the returned function releases the stream.
func (rn *run) dial(ctx context.Context) (*follow.Stream, func(), error) {
	st, err := rn.remote.TB.Follow(ctx, rn.sess.id, rn.cmdID)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Close() })
	return st, func() {
		stop()
		_ = st.Close()
	}, nil
}

// followOnce reads the command's log from one follow stream until both
// markers arrived or the stream ends. While the stream is idle it is
// pinged, so that nothing between here and the daemon takes it for dead.
func (rn *run) followOnce(ctx context.Context, buf []byte) (code int, done bool, err error) {
	st, release, err := rn.dial(ctx)
	if err != nil {
		return 0, false, err
	}
	defer release()
	defer st.KeepAlive(pingInterval)()
	return rn.readPolling(ctx, st, buf)
}

// streamChunk is what one read of a follow stream returned.
type streamChunk struct {
	b   []byte
	err error
}

// readPolling is readStream while the command's files are read too: a
// goroutine reads the stream into buf, one chunk at a time, and between
// its chunks, once the header has named the files, they are read
// (pollFiles) after pollFirst, and after twice as long each time nothing
// came, up to pollMax. All output is delivered on this goroutine. It
// closes st before it returns.
func (rn *run) readPolling(ctx context.Context, st *follow.Stream, buf []byte) (code int, done bool, err error) {
	chunks, next, stop, exited := make(chan streamChunk), make(chan struct{}), make(chan struct{}), make(chan struct{})
	// The reader may be inside a Read of buf: closing the stream ends it,
	// and buf is not given back (nor read into by the next stream) until
	// the reader has returned.
	defer func() {
		close(stop)
		_ = st.Close()
		<-exited
	}()
	go func() {
		defer close(exited)
		readChunks(st, buf, chunks, next, stop)
	}()
	skip := rn.out.demux.Offset()
	poll := newPoller()
	defer poll.stop()
	for {
		select {
		case c := <-chunks:
			chunk := c.b
			if skip > 0 {
				d := min(skip, int64(len(chunk)))
				chunk, skip = chunk[d:], skip-d
			}
			if len(chunk) > 0 {
				if ferr := rn.out.feedLog(chunk); ferr != nil {
					return 0, false, ferr
				}
				if code, ok := rn.out.done(); ok {
					return code, true, nil
				}
			}
			if c.err != nil {
				return 0, false, c.err
			}
			next <- struct{}{}
		case <-poll.due(rn.out.file(stream.Stdout) != ""):
			got, perr := rn.pollFiles(ctx)
			if rn.out.werr != nil || ctx.Err() != nil {
				return 0, false, perr
			}
			if perr != nil {
				rn.log().Debug("reading a running command's output files failed", "err", perr)
			}
			poll.next(got)
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
}

// readChunks reads st into buf and sends each chunk on chunks, reading
// the next one only after next; it returns after a failed read, or when
// stop is closed.
func readChunks(st *follow.Stream, buf []byte, chunks chan<- streamChunk, next, stop <-chan struct{}) {
	for {
		n, err := st.Read(buf)
		select {
		case chunks <- streamChunk{buf[:n], err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-next:
		case <-stop:
			return
		}
	}
}

// poller paces the reads of a running command's files.
type poller struct {
	wait  time.Duration
	timer *time.Timer
}

func newPoller() *poller { return &poller{wait: pollFirst} }

// due returns a channel that fires when the files are to be read, or nil
// (which never fires) while there are none.
func (p *poller) due(files bool) <-chan time.Time {
	if !files {
		return nil
	}
	if p.timer == nil {
		p.timer = time.NewTimer(p.wait)
	}
	return p.timer.C
}

// next schedules the next read: soon if the last one brought bytes, else
// after twice as long as before.
func (p *poller) next(got bool) {
	if got {
		p.wait = pollFirst
	} else {
		p.wait = min(2*p.wait, pollMax)
	}
	p.timer = nil
}

func (p *poller) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// readStream feeds what st carries beyond what was already parsed (a
// stream replays from byte 0) until both markers arrived or the stream
// ends; beforeRead, if set, is called before each read.
func (rn *run) readStream(st *follow.Stream, buf []byte, beforeRead func()) (code int, done bool, err error) {
	skip := rn.out.demux.Offset()
	for {
		if beforeRead != nil {
			beforeRead()
		}
		n, rerr := st.Read(buf)
		chunk := buf[:n]
		if skip > 0 {
			d := min(skip, int64(len(chunk)))
			chunk = chunk[d:]
			skip -= d
		}
		if len(chunk) > 0 {
			if ferr := rn.out.feedLog(chunk); ferr != nil {
				return 0, false, ferr
			}
			if code, ok := rn.out.done(); ok {
				return code, true, nil
			}
		}
		if rerr != nil {
			return 0, false, rerr
		}
	}
}

// readRest feeds what the command's log holds beyond what was parsed, when
// the command is known and the writers still work. The log's JSON answer
// is exact when the output went to files (the log then holds the header,
// the markers and output that is valid UTF-8, so offsets into it are
// offsets into the log); otherwise, if it holds a U+FFFD (which may stand
// for bytes the command printed), the rest is read from the binary stream
// instead, until it ends or pauses for drainIdle.
func (rn *run) readRest(ctx context.Context) error {
	if rn.cmdID == "" || rn.out.werr != nil {
		return nil
	}
	raw, err := rn.remote.TB.Logs(ctx, rn.sess.id, rn.cmdID)
	if err != nil {
		return err
	}
	off := rn.out.demux.Offset()
	if rn.out.mode() != stream.ModeFiles && strings.ContainsRune(raw, '\uFFFD') {
		return rn.drain(ctx)
	}
	if int64(len(raw)) > off {
		_ = rn.out.feedLog([]byte(raw[off:]))
	}
	return nil
}

// drain reads the command's log from the binary stream, beyond what was
// parsed, until the markers, the stream's end, or drainIdle without data.
func (rn *run) drain(ctx context.Context) error {
	st, release, err := rn.dial(ctx)
	if err != nil {
		return err
	}
	defer release()
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	_, _, err = rn.readStream(st, *bp, func() { st.SetReadDeadline(time.Now().Add(drainIdle)) })
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil // the end, or a pause: that is all there is for now
	}
	return err
}
