// Package stream parses the output of Daytona session commands: the
// daemon's labelled log (each line behind a 3-byte stdout or stderr label),
// the in-band completion marker, and bounded retention of what was read.
package stream

import "bytes"

// Stream identifies an output stream.
type Stream int

// Output streams.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

var (
	stdoutLabel = [3]byte{0x01, 0x01, 0x01}
	stderrLabel = [3]byte{0x02, 0x02, 0x02}
)

// Demuxer splits the daemon's labelled log into stdout and stderr. The log
// is a sequence of records, each a 3-byte label, a line and its newline;
// Demuxer parses it record by record, so bytes of a line that happen to
// look like a label stay output (the SDK's parser would take them for a
// label). Input may be cut anywhere, including inside a label. Bytes that do
// not start with a label, which a well-formed log never has, are kept as
// output of the current stream (stdout at the start).
//
// The zero Demuxer is ready to use. It is not safe for concurrent use.
type Demuxer struct {
	cur     Stream  // stream of the current record
	inLine  bool    // inside a record's line
	label   [3]byte // label bytes seen so far at a record start
	nlabel  int
	offset  int64 // bytes consumed
	scratch [3]byte
}

// Offset returns the number of log bytes fed so far.
func (d *Demuxer) Offset() int64 { return d.offset }

// Feed parses p, calling emit with each run of output bytes and its stream.
// The slices passed to emit alias p and are valid only during the call. If
// emit returns an error, Feed stops and returns it; the bytes not yet
// parsed are lost.
func (d *Demuxer) Feed(p []byte, emit func(Stream, []byte) error) error {
	for len(p) > 0 {
		if d.inLine {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				d.offset += int64(len(p))
				return emit(d.stream(), p)
			}
			d.offset += int64(i + 1)
			d.inLine = false
			if err := emit(d.stream(), p[:i+1]); err != nil {
				return err
			}
			p = p[i+1:]
			continue
		}
		// At a record start: collect the label, which may be split.
		c := p[0]
		if c == stdoutLabel[d.nlabel] && (d.nlabel == 0 || d.label[0] == stdoutLabel[0]) ||
			c == stderrLabel[d.nlabel] && (d.nlabel == 0 || d.label[0] == stderrLabel[0]) {
			d.label[d.nlabel] = c
			d.nlabel++
			d.offset++
			p = p[1:]
			if d.nlabel == 3 {
				if d.label == stdoutLabel {
					d.cur = Stdout
				} else {
					d.cur = Stderr
				}
				d.nlabel = 0
				d.inLine = true
			}
			continue
		}
		// Not a label: what was collected, and what follows, is output.
		d.inLine = true
		if d.nlabel > 0 {
			n := copy(d.scratch[:], d.label[:d.nlabel])
			d.nlabel = 0
			if err := emit(d.stream(), d.scratch[:n]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush emits label bytes held back at the end of the input as output; call
// it when the log is known to be complete.
func (d *Demuxer) Flush(emit func(Stream, []byte) error) error {
	if d.nlabel == 0 {
		return nil
	}
	n := copy(d.scratch[:], d.label[:d.nlabel])
	d.nlabel = 0
	return emit(d.stream(), d.scratch[:n])
}

func (d *Demuxer) stream() Stream {
	if d.cur == 0 {
		return Stdout
	}
	return d.cur
}
