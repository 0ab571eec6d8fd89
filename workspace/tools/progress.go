package tools

import "context"

// Progress is output of a command, reported while a call runs.
type Progress struct {
	// Stream is "stdout" or "stderr".
	Stream string
	// Text is the output as it arrived, with escape sequences stripped and
	// secrets redacted, in whole UTF-8 characters. It is not trimmed.
	Text string
	// Bytes counts the bytes reported so far in this call, both streams
	// together: a number that grows with every report, as MCP's progress
	// notifications need.
	Bytes int64
}

// ProgressFunc receives progress reports. Reports of one call come one at
// a time, in order, before Call returns; the function should return
// quickly, since the command's output waits for it.
type ProgressFunc func(Progress)

type progressKey struct{}

// WithProgress returns a context that makes a Call report command output
// to fn as it arrives: execute_command's output, and a background
// process's while get_process_output waits for it. Adapters forward it,
// for example as MCP progress notifications. (Like httptrace's
// WithClientTrace, it travels in the context so that Call keeps one
// signature.)
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ProgressFrom returns the ProgressFunc of ctx (see WithProgress), or nil.
// An adapter that wraps the context of a call with a ProgressFunc of its
// own calls this one too.
func ProgressFrom(ctx context.Context) ProgressFunc {
	fn, _ := ctx.Value(progressKey{}).(ProgressFunc)
	return fn
}
