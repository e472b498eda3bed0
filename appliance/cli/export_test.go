package cli

import "io"

// SetStdin makes `validate -i -` read r until the returned function
// restores standard input.
func SetStdin(r io.Reader) (restore func()) {
	old := stdin
	stdin = r
	return func() { stdin = old }
}
