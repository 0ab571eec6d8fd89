package daytonatest

import (
	"encoding/json"
	"os"
	"os/user"
	"sync"
)

// Every sandbox record daytonatest sends (create, get, list) carries one
// field that Daytona's does not:
//
//	"execution": {"isolated": false, "user": "<the user running daytonatest>"}
//
// Daytona runs a sandbox's commands in an isolated container or VM, as
// the record's "user" (daytona unless the sandbox was created with
// another); daytonatest runs them on this machine, as the user it runs as,
// whatever the record says. A client that describes the sandbox to an
// agent (package daytona's GetInstructions) reads this field so as not to
// claim an isolation that is not there. Daytona's clients ignore fields
// they do not know (the generated Go client keeps them in
// AdditionalProperties).
type hostFacts struct {
	Isolated bool   `json:"isolated"`
	User     string `json:"user"`
}

// hostExecution is how this process runs commands.
var hostExecution = sync.OnceValue(func() hostFacts {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return hostFacts{Isolated: false, User: name}
})

// MarshalJSON encodes the record with its "execution" field.
func (d sandboxDTO) MarshalJSON() ([]byte, error) {
	type plain sandboxDTO // without this method
	return json.Marshal(struct {
		plain
		Execution hostFacts `json:"execution"`
	}{plain(d), hostExecution()})
}
