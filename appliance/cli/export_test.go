package cli

import "io"

// SetStdin makes `validate -i -` read r until the returned function
// restores standard input.
func SetStdin(r io.Reader) (restore func()) {
	old := stdin
	stdin = r
	return func() { stdin = old }
}

// CommandNames lists the commands, in the order of rovd -h.
func CommandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}
