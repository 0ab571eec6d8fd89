//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// The exit-code race. The daemon's wrapper appends a command's exit code to
// its exit_code file (`echo "$_ec" >> exit_code`, execute.go:232 at
// v0.173.0), and the daemon reads that file while the wrapper may still be
// writing it: a synchronous exec polls it (execute.go:102-113) and
// GetSessionCommand reads it when the exit code was not read before
// (command.go:45-61). A read that finds the file created but still empty
// fails to convert "" to a number, so a command that did finish answers
// 500. Both errors are wrapped with fmt.Errorf, so the daemon's error
// middleware answers them with its default handler (apps/daemon/pkg/
// toolbox/server.go:143-148): status 500 and the message, with no code,
// method or time. The exit code is then still unread: the next read finds
// it.

// exitCodeRaceMessage is the error of converting an empty exit_code file.
const exitCodeRaceMessage = `failed to convert exit code to int: strconv.Atoi: parsing "": invalid syntax`

// exitCodeRace holds the queued and random exit-code races.
type exitCodeRace struct {
	mu   sync.Mutex
	next map[Op]int
	rate float64
	rnd  *rand.Rand
}

// fire reports whether a read of op of a finished command's exit code
// loses the race now.
func (r *exitCodeRace) fire(op Op) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next[op] > 0 {
		r.next[op]--
		return true
	}
	if r.rate <= 0 {
		return false
	}
	if r.rnd == nil {
		r.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return r.rnd.Float64() < r.rate
}

func (r *exitCodeRace) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.next)
	r.rate = 0
}

// RaceExitCodeNext makes the next n reads of a finished command's exit code
// by op lose the daemon's exit-code race: op is [OpSessionExec] (a
// synchronous exec whose command finished answers 500 "failed to execute
// command: bad request: failed to convert exit code to int: ...") or
// [OpGetCommand] (a lookup of a finished command whose exit code no client
// has read yet answers 500 "failed to convert exit code to int: ..."). The
// command has run; its exit code stays unread, so a later lookup finds it,
// and send-input to it still answers 500, not 410. Reads that cannot race
// (a command still running, an exit code read before) do not count.
// Another op is an error; n <= 0 does nothing. [Server.ClearFaults] drops
// what is queued.
func (s *Server) RaceExitCodeNext(op Op, n int) error {
	if op != OpSessionExec && op != OpGetCommand {
		return fmt.Errorf("daytonatest: RaceExitCodeNext: operation %q never reads an exit code; use %q or %q", op, OpSessionExec, OpGetCommand)
	}
	if n <= 0 {
		return nil
	}
	s.race.mu.Lock()
	defer s.race.mu.Unlock()
	if s.race.next == nil {
		s.race.next = make(map[Op]int)
	}
	s.race.next[op] += n
	return nil
}

// SetExitCodeRaceRate makes every read of a finished command's exit code
// (as for [Server.RaceExitCodeNext], by either operation) lose the race
// with probability p, from 0 (never, the default) to 1. The real daemon
// lost it in about 1.7% of synchronous execs run 20 at a time. Queued
// races (RaceExitCodeNext) come first. [Server.ClearFaults] sets it back
// to 0.
func (s *Server) SetExitCodeRaceRate(p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("daytonatest: SetExitCodeRaceRate(%v): want a probability from 0 to 1", p)
	}
	s.race.mu.Lock()
	defer s.race.mu.Unlock()
	s.race.rate = p
	return nil
}

// ExitCodeRaceRate returns the probability set with
// [Server.SetExitCodeRaceRate].
func (s *Server) ExitCodeRaceRate() float64 {
	s.race.mu.Lock()
	defer s.race.mu.Unlock()
	return s.race.rate
}

// exitCodeRaceState is the HTTP control's view of the races.
func (s *Server) exitCodeRaceState() map[string]any {
	s.race.mu.Lock()
	defer s.race.mu.Unlock()
	pending := map[Op]int{}
	for op, n := range s.race.next {
		if n > 0 {
			pending[op] = n
		}
	}
	return map[string]any{"rate": s.race.rate, "pending": pending}
}

// writeDaemonDefaultError answers as the daemon's error middleware does
// for an error of no known type (its default handler,
// apps/daemon/pkg/toolbox/server.go:143-148, v0.173.0): the status and the
// message; the code and method are left out, and the time and path are
// zero values.
func writeDaemonDefaultError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"statusCode": status,
		"message":    msg,
		"timestamp":  time.Time{},
		"path":       "",
	})
}

// routeRaceControls adds the HTTP controls of the exit-code race and of
// empty-body faults:
//
//	GET  /_daytonatest/exit-code-race  {"rate":0.05,"pending":{"get-command":1}}
//	POST /_daytonatest/exit-code-race  {"op":"session-exec","count":1}
//	PUT  /_daytonatest/exit-code-race  {"rate":0.05}
func (s *Server) routeRaceControls(ctl func(method, path string, h handlerFunc)) {
	ctl("GET", "/exit-code-race", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, s.exitCodeRaceState())
	})
	ctl("POST", "/exit-code-race", applyControl(func(_ *http.Request, body []byte) error {
		var in struct {
			Op    Op  `json:"op"`
			Count int `json:"count"`
		}
		if err := decodeCounted(body, &in, &in.Count); err != nil {
			return err
		}
		if in.Count < 0 {
			return errors.New("count must not be negative")
		}
		return s.RaceExitCodeNext(in.Op, in.Count)
	}))
	ctl("PUT", "/exit-code-race", func(w http.ResponseWriter, r *http.Request, body []byte) {
		var in struct {
			Rate *float64 `json:"rate"`
		}
		err := decodeJSON(body, &in)
		if err == nil && in.Rate == nil {
			err = errors.New("rate is required")
		}
		if err == nil {
			err = s.SetExitCodeRaceRate(*in.Rate)
		}
		if err != nil {
			writeAPIError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]float64{"rate": *in.Rate})
	})
}
