package daytona

import apiclient "github.com/daytonaio/daytona/libs/api-client-go"

// sandboxFacts are what a sandbox's record says about how its commands
// run, for GetInstructions once the sandbox has started.
type sandboxFacts struct {
	user     string // the OS user the commands run as
	isolated bool   // in a container or VM of their own
}

// factsOf reads the facts from a sandbox's record. Daytona runs a
// sandbox's commands isolated, as the record's user. A server that runs
// them on its own host, without isolation (daytonatest), says so in a
// field of the record Daytona does not send, "execution": {"isolated":
// false, "user": <the user they run as>} (daytonatest/hostfacts.go).
func factsOf(rec *apiclient.Sandbox) sandboxFacts {
	f := sandboxFacts{user: rec.GetUser(), isolated: true}
	if ex, ok := rec.AdditionalProperties["execution"].(map[string]any); ok {
		if isolated, ok := ex["isolated"].(bool); ok {
			f.isolated = isolated
		}
		if user, ok := ex["user"].(string); ok && user != "" {
			f.user = user
		}
	}
	return f
}
