package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"world", "generate or mutate an RPKI test world", runWorld},
	{"serve", "serve a world over RRDP (HTTPS) and rsync on loopback", runServe},
	{"fetch", "fetch a served world into an empty store and measure it", runFetch},
	{"run", "benchmark rovd beside rpki-client and FORT on a world", runRun},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rovd-bench COMMAND [options]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'rovd-bench COMMAND --help' for a command's options.")
}

// run dispatches to a subcommand and returns the exit code: 0 success,
// 1 failure, 2 usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "rovd-bench: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// commandFlags makes the flag set of a command whose help text is its
// synopsis, what it does (about) and its options, with -h/--help. parse
// parses the arguments, of which nargs must be operands; done says the
// command should return status at once: help was asked for (0, printed
// to stdout) or the arguments are wrong (2, reported to stderr).
func commandFlags(name, synopsis, about string, nargs int, stderr io.Writer) (fs *pflag.FlagSet, parse func(args []string, stdout io.Writer) (status int, done bool)) {
	fs = pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: rovd-bench %s\n\n%s\n\noptions:\n", synopsis, about)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() { usage(stderr) }
	help := fs.BoolP("help", "h", false, "show this help")
	parse = func(args []string, stdout io.Writer) (int, bool) {
		if err := fs.Parse(args); err != nil {
			return 2, true
		}
		if *help {
			usage(stdout)
			return 0, true
		}
		if fs.NArg() != nargs {
			fs.Usage()
			return 2, true
		}
		return 0, false
	}
	return fs, parse
}
