package rpki

// Internals that tests of package rpki_test exercise directly.
var (
	CheckURI = checkURI
)
