// Package daytona runs an AI agent's shell commands in Daytona cloud
// sandboxes. Its Sandbox implements the provider-neutral workspace.Sandbox
// interface (package github.com/agentworkspace/daytona/workspace) on top of
// the official Daytona Go SDK; it is a Go port of Mastra's DaytonaSandbox.
//
//	sb, err := daytona.New(daytona.WithLanguage(daytona.Python))
//	if err != nil { ... }
//	defer sb.Destroy(context.WithoutCancel(ctx))
//	res, err := sb.ExecuteCommand(ctx, "echo", []string{"Hello, world!"}, nil)
//	fmt.Print(res.Stdout)
//
// New makes no request; the remote sandbox is found or created on first
// use, and concurrent first calls share one start.
//
// # Configuration
//
// Connection settings are resolved on first use: an option (WithAPIKey,
// WithAPIURL, WithTarget) wins; then the process environment
// (DAYTONA_API_KEY, or DAYTONA_JWT_TOKEN with DAYTONA_ORGANIZATION_ID;
// DAYTONA_API_URL; DAYTONA_TARGET); then .env.local and .env in the working
// directory (DAYTONA_* keys only; the process environment is never
// modified); then the default API URL, https://app.daytona.io/api.
// WithoutEnvironment keeps only options, for tests. The API key never
// appears in an error, a log line, GetInfo or GetInstructions.
//
// # Testing
//
// Package daytonatest serves an in-process Daytona over real HTTP; point a
// Sandbox at it with its Options method:
//
//	srv := daytonatest.NewServer(t)
//	sb, err := daytona.New(srv.Options()...)
package daytona
