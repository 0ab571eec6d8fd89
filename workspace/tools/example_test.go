package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// Offer a sandbox's tools to a model, and run the calls it makes.
func Example() {
	ctx := context.Background()
	srv, _ := daytonatest.Run() // an in-process Daytona; use real credentials in production
	defer srv.Close()
	sb, _ := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	defer sb.Destroy(ctx)

	kit, err := tools.New(sb, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range kit.Tools() {
		fmt.Println(t.Name) // with t.Description and t.InputSchema for the model
	}

	// The model calls a tool with JSON input.
	res, _ := kit.Call(ctx, "execute_command", json.RawMessage(`{"command":"echo hello; echo oops >&2; exit 2"}`))
	fmt.Print(res.Text, "\n\n")

	// Mistakes come back for the model to correct.
	res, _ = kit.Call(ctx, "execute_command", json.RawMessage(`{"command":"ls","timeout":"10s"}`))
	fmt.Println(res.IsError, res.Text)
	// Output:
	// execute_command
	// get_process_output
	// kill_process
	// read_file
	// write_file
	// edit_file
	// list_files
	// hello
	// stderr:
	// oops
	// Exit code: 2
	//
	// true invalid input for execute_command: field "timeout" must be a number, not string
}

// A policy refuses calls before they run; the model reads why.
func ExampleOptions_policy() {
	ctx := context.Background()
	srv, _ := daytonatest.Run()
	defer srv.Close()
	sb, _ := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	defer sb.Destroy(ctx)

	kit, _ := tools.New(sb, &tools.Options{
		Tools: []string{tools.ExecuteCommand},
		Policy: func(ctx context.Context, req tools.Request) error {
			var in struct{ Command string }
			if err := req.Decode(&in); err != nil {
				return err
			}
			if strings.Contains(in.Command, "sudo") {
				return errors.New("sudo is not allowed")
			}
			return nil
		},
	})
	res, _ := kit.Call(ctx, "execute_command", json.RawMessage(`{"command":"sudo reboot"}`))
	fmt.Println(res.Text)
	// Output:
	// execute_command was refused: sudo is not allowed
}

func ExampleTrim() {
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	fmt.Print(tools.Trim(b.String(), tools.Budget{MaxLines: 6}))
	// Output:
	// line 1
	// [… 994 lines omitted …]
	// line 996
	// line 997
	// line 998
	// line 999
	// line 1000
}

func ExampleStripANSI() {
	fmt.Println(tools.StripANSI("\x1b[1;31merror\x1b[0m: build failed"))
	// Output:
	// error: build failed
}
