package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/internal/toolbox"
)

// A command's output goes to files in the sandbox (see
// shell.Spec.Script): small output comes back through the log once the
// command has ended, and the rest is read here with ranged downloads,
// while the command runs (when its output is followed: every poll reads
// what its files hold beyond what was delivered) and after it ended (to
// the end of each file marked bulk), and the files are then removed.

// Reading a command's files.
const (
	// pollFirst is the pause before the first read of a followed command's
	// files once its header has named them (a command that ends sooner
	// sends its output through the log), and again after a read that
	// brought something; each read that brings nothing doubles it, up to
	// pollMax.
	pollFirst = 25 * time.Millisecond
	pollMax   = time.Second
	// maxFileFailures bounds how often in a row reading a file fails
	// without progress before the output is given up as incomplete.
	maxFileFailures = 3
	// cancelReadMax bounds how long a cancelled command's kill waits for
	// the retained part of its unfollowed output.
	cancelReadMax = 2 * time.Second
	// removeFor bounds the tries to remove a command's file.
	removeFor = 2 * time.Minute
)

// ErrOutputIncomplete reports output that stayed in a file that could not
// be read to its end (daytona.ErrOutputIncomplete).
var ErrOutputIncomplete = errors.New("the command's output could not be read in full from the sandbox")

// readFile delivers what stream st's file holds beyond what was
// delivered, up to the file's end when the daemon answered. With final
// (the command has ended), reaching that end ends the stream. It reports
// whether bytes came.
func (rn *run) readFile(ctx context.Context, st stream.Stream, final bool) (bool, error) {
	rn.out.read[st] = true
	r, err := rn.remote.TB.ReadRange(ctx, rn.out.file(st), rn.out.pos[st], 0)
	if err != nil {
		return false, err
	}
	defer r.Body.Close()
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	at, got := r.Start, false
	for {
		n, rerr := r.Body.Read(*bp)
		if n > 0 {
			got = true
			if err := rn.out.deliver(st, at, (*bp)[:n]); err != nil {
				return got, err
			}
			at += int64(n)
		}
		if err := ctx.Err(); err != nil {
			return got, err
		}
		switch {
		case rerr == io.EOF:
			if final && at >= r.Size {
				rn.out.end[st] = true
			}
			return got, nil
		case rerr != nil:
			return got, rerr
		}
	}
}

// pollFiles reads the files of the streams that are still running, and
// reports whether bytes came.
func (rn *run) pollFiles(ctx context.Context) (bool, error) {
	got := false
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		if _, ended := rn.out.scan[st].Done(); ended || rn.out.file(st) == "" {
			continue
		}
		g, err := rn.readFile(ctx, st, false)
		got = got || g
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// collect reads the streams that stayed in their files, once the command
// has ended: all of it, or with tailOnly (no writer wants it all) just
// what the result keeps. A read that fails is tried again from where it
// stopped, maxFileFailures times in a row without progress.
func (rn *run) collect(ctx context.Context, tailOnly bool) error {
	for _, st := range rn.out.pending() {
		if tailOnly && rn.p.Retain >= 0 && rn.out.w[st] == nil {
			if err := rn.readTail(ctx, st); err == nil {
				continue
			}
		}
		for failures := 0; !rn.out.end[st]; {
			before := rn.out.pos[st]
			_, err := rn.readFile(ctx, st, true)
			switch {
			case err == nil:
				continue
			case rn.out.werr != nil || ctx.Err() != nil:
				return err
			case rn.out.pos[st] > before:
				failures = 0
			}
			if failures++; failures >= maxFileFailures {
				return fmt.Errorf("%w: %w", ErrOutputIncomplete, err)
			}
			rn.log().Debug("reading a command's output file failed; trying again", "file", rn.out.file(st), "err", err)
			if err := retry.Sleep(ctx, time.Duration(failures)*streamReconnectStep); err != nil {
				return err
			}
		}
	}
	return nil
}

// readTail reads the part of stream st's file that the result keeps (its
// last Retain bytes), and counts the rest as dropped.
func (rn *run) readTail(ctx context.Context, st stream.Stream) error {
	last := int64(rn.p.Retain)
	if last == 0 {
		last = 1 // for the size
	}
	rn.out.read[st] = true
	r, err := rn.remote.TB.ReadRange(ctx, rn.out.file(st), 0, last)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if rn.p.Retain == 0 {
		rn.out.discard(st, r.Size-rn.out.pos[st])
		rn.out.end[st] = true
		return nil
	}
	if r.Start > rn.out.pos[st] {
		rn.out.discard(st, r.Start-rn.out.pos[st])
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, last))
	if err != nil {
		return err
	}
	if err := rn.out.deliver(st, r.Start, data); err != nil {
		return err
	}
	rn.out.end[st] = rn.out.pos[st] >= r.Size
	return nil
}

// removeFiles removes the command's files in the background: those marked
// bulk or downloaded from, or, with all (the command was killed or lost),
// both. The daemon removes files next to the script with the session; this
// removes the large ones as soon as they are read, and those in /tmp.
func (rn *run) removeFiles(all bool) {
	var paths []string
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		if f := rn.out.file(st); f != "" && (all || rn.out.scan[st].Bulk() || rn.out.read[st]) {
			paths = append(paths, f)
		}
	}
	if len(paths) == 0 {
		return
	}
	tb := rn.remote.TB
	rn.remote.Pool.bg.Go(func(ctx context.Context) {
		for _, p := range paths {
			if err := removeFile(ctx, tb, p); err != nil {
				rn.log().Debug("could not remove a command's output file", "file", p, "err", err)
			}
		}
	})
}

// removeFile removes one file, trying again after transient trouble (no
// answer, a 5xx of the proxy) for up to removeFor: a connection that
// dropped may take a while to come back.
func removeFile(ctx context.Context, tb *toolbox.Client, path string) error {
	ctx, cancel := context.WithTimeout(ctx, removeFor)
	defer cancel()
	pause := retry.Backoff{Next: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		err := tb.RemoveFile(ctx, path)
		if err == nil || !apierr.Transient(err) || pause.Wait(ctx) != nil {
			return err
		}
	}
}

// readLeft reads, as far as ctx allows, what the files of a command that
// has not ended hold beyond what was delivered (just what the result
// keeps of a stream no writer wants), before the command is killed or
// given up. With unfollowed, only the streams no writer follows are read
// (a cancelled command's writers got what the polls brought).
func (rn *run) readLeft(ctx context.Context, unfollowed bool) {
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		if rn.out.file(st) == "" || rn.out.end[st] || rn.out.werr != nil || (unfollowed && rn.out.w[st] != nil) {
			continue
		}
		var err error
		if rn.out.w[st] == nil && rn.p.Retain >= 0 {
			err = rn.readTail(ctx, st)
			rn.out.end[st] = false // the command may still write
		} else {
			_, err = rn.readFile(ctx, st, false)
		}
		if err != nil {
			rn.log().Debug("could not read a command's output file", "file", rn.out.file(st), "err", err)
		}
	}
}
