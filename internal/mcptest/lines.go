package mcptest

// The first two messages of a session, as a client writes them on one
// line each to a server over stdio: for tests that pipe raw JSON-RPC.
const (
	InitializeLine  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}`
	InitializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)
