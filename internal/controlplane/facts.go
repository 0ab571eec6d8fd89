package controlplane

import apiclient "github.com/daytonaio/daytona/libs/api-client-go"

// Facts are what a sandbox's record says about how its commands run.
type Facts struct {
	User     string // the OS user the commands run as
	Isolated bool   // in a container or VM of their own
}

// factsOf reads the facts from a sandbox's record. Daytona runs a
// sandbox's commands isolated, as the record's user. A server that runs
// them on its own host, without isolation (daytonatest), says so in a
// field of the record Daytona does not send, "execution": {"isolated":
// false, "user": <the user they run as>} (daytonatest/hostfacts.go).
func factsOf(rec *apiclient.Sandbox) Facts {
	f := Facts{User: rec.GetUser(), Isolated: true}
	if ex, ok := rec.AdditionalProperties["execution"].(map[string]any); ok {
		if isolated, ok := ex["isolated"].(bool); ok {
			f.Isolated = isolated
		}
		if user, ok := ex["user"].(string); ok && user != "" {
			f.User = user
		}
	}
	return f
}
