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
// The working directory is /home/daytona until the sandbox has started,
// then the one detected at start. It makes no request.
func (s *Sandbox) GetInstructions() string {
	if !s.made() {
		s = &Sandbox{core: newCore(config{})}
	}
	s.mu.Lock()
	dir := s.workDir
	s.mu.Unlock()
	if dir == "" {
		dir = defaultWorkDir
	}
	user := s.cfg.user
	if user == "" {
		user = "daytona"
	}
	parts := []string{
		"Cloud sandbox with isolated execution (" + string(s.cfg.language) + " runtime).",
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
