package serve

// Internals the tests of package serve_test check directly.
var (
	AcceptsGzip = acceptsGzip
	ServedName  = servedName
	FreePorts   = freePorts
)
