package cli

import (
	"fmt"
	"io"
)

// runConfig prints the effective configuration (ours): defaults, the
// config file and the command line merged, as a config file that rovd
// reads back to the same settings. The server command's options may
// follow, to see the configuration the server would run with.
func runConfig(g *globals, args []string, stdout, stderr io.Writer) int {
	fs, status, done := subcommand("config", "config [server options]",
		"Prints the effective configuration as a config file (TOML): the defaults,\nthe config file and the command line merged, with every path absolute.\nThe options below are the server command's; given here, they show the\nconfiguration the server would run with.",
		args, stdout, stderr, g.cfg.ServerFlags)
	if done {
		return status
	}
	if err := g.cfg.ResolveServer(fs.Changed); err != nil {
		fmt.Fprintf(stderr, "rovd config: %v\n", err)
		return ExitError
	}
	if err := g.cfg.WriteTOML(stdout); err != nil {
		fmt.Fprintf(stderr, "rovd config: %v\n", err)
		return ExitError
	}
	return ExitOK
}
