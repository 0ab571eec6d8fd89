package daytona

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// GetInstructions describes the sandbox to an LLM agent, in the sentences
// Mastra uses, joined by single spaces:
//
//	Cloud sandbox with isolated execution (<language> runtime).
//	Default working directory: <dir>.
//	Command timeout: <seconds>s.
//	Running as user: <user>.
//	<n> volume(s) attached.        (when volumes are attached)
//	Network access is blocked.     (when WithNetworkBlockAll(true))
//	Cloud storage mounted at <path> (<type>), ....   (when mounts are kept: Mount, WithMount)
//
// Until the sandbox has started, it describes what Daytona provides: the
// working directory /home/daytona and the user of WithUser (default
// daytona). Once started, it describes the sandbox as its record and its
// daemon report it: the working directory detected at start, the user the
// commands run as; and, on a server that runs them on its own host without
// isolation (package daytonatest), the first sentence says so instead:
//
//	Sandbox without isolation (<language> runtime): commands run directly on the host machine, with this user's access to it.
//
// Describe a sandbox to an agent after Start, then. It makes no request.
// A Sandbox not made by New has nothing to describe: it returns "".
func (s *Sandbox) GetInstructions() string {
	if !s.made() {
		return ""
	}
	s.mu.Lock()
	dir, facts := s.workDir, s.facts
	s.mu.Unlock()
	if dir == "" {
		dir = defaultWorkDir
	}
	user := s.cfg.user
	if user == "" {
		user = "daytona"
	}
	first := "Cloud sandbox with isolated execution (" + string(s.cfg.language) + " runtime)."
	if facts != nil && facts.User != "" {
		user = facts.User
	}
	if facts != nil && !facts.Isolated {
		first = "Sandbox without isolation (" + string(s.cfg.language) + " runtime): commands run directly on the host machine, with this user's access to it."
	}
	parts := []string{
		first,
		"Default working directory: " + dir + ".",
		timeoutSentence(s.cfg.timeout),
		"Running as user: " + user + ".",
	}
	if n := len(s.cfg.volumes); n > 0 {
		parts = append(parts, strconv.Itoa(n)+" volume(s) attached.")
	}
	if s.cfg.blockAll != nil && *s.cfg.blockAll {
		parts = append(parts, "Network access is blocked.")
	}
	if m := mountsSentence(s.mountInfos()); m != "" {
		parts = append(parts, m)
	}
	return strings.Join(parts, " ")
}

func timeoutSentence(d time.Duration) string {
	if d == workspace.NoTimeout {
		return "Commands have no timeout."
	}
	return "Command timeout: " + strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10) + "s."
}
