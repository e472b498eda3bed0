package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/inspect"
	"github.com/rovd/rovd/appliance/logging"
	"github.com/rovd/rovd/engine/der"
)

// Exit statuses, as the manual's "Exit Status" section defines them; this
// is the one place they are chosen.
const (
	ExitOK         = 0
	ExitError      = 1
	ExitIncomplete = 2
)

// version is stamped at build time with -ldflags "-X ...cli.version=...".
var version = "0.1.0-dev"

// Version returns the version string the binary was built with.
func Version() string { return version }

// globals holds the options that come before the command.
type globals struct {
	cfg config.Config
	// args are Main's arguments, for the server's daemon to start with.
	args []string
}

// logger builds the process's logger from the logging settings; the
// returned function releases the log file or syslog connection.
func (g *globals) logger(stderr io.Writer) (*slog.Logger, func(), error) {
	return logging.New(g.cfg.Logging(), stderr)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(g *globals, args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"init", "create the local repository and TAL directories and install TALs", runInit},
	{"vrps", "update the repository and output the valid route origins", runVRPs},
	{"validate", "check the RPKI validity of route announcements", runValidate},
	{"server", "serve the valid route origins over RTR, updating them periodically", runServer},
	{"update", "update the local repository and validate it", runUpdate},
	{"dump", "write the stored data to the file system", runDump},
	{"man", "show the manual page", runMan},
	{"inspect", "decode RPKI objects and show their content and problems", runInspect},
	{"config", "print the effective configuration as a config file", runConfig},
}

// Main runs rovd with the given arguments (args[0] is the program name)
// and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("rovd", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// Options end at the command; what follows belongs to it.
	fs.SetInterspersed(false)
	g := globals{cfg: config.Defaults(), args: args}
	help := fs.BoolP("help", "h", false, "print this help")
	showVersion := fs.BoolP("version", "V", false, "print the version")
	g.cfg.Flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(stdout, fs)
			return ExitOK
		}
		fmt.Fprintf(stderr, "rovd: %v\nTry 'rovd -h' for help.\n", err)
		return ExitError
	}
	switch {
	case *showVersion:
		fmt.Fprintf(stdout, "rovd %s\n", version)
		return ExitOK
	case *help:
		usage(stdout, fs)
		return ExitOK
	case fs.NArg() == 0:
		usage(stderr, fs)
		return ExitError
	}
	if err := g.cfg.Resolve(fs.Changed); err != nil {
		fmt.Fprintf(stderr, "rovd: %v\n", err)
		return ExitError
	}
	name := fs.Arg(0)
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "rovd: unknown command %q\nTry 'rovd -h' for help.\n", name)
		return ExitError
	}
	return commands[i].run(&g, fs.Args()[1:], stdout, stderr)
}

func usage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "rovd %s: RPKI relying party\n\n", version)
	fmt.Fprintln(w, "Usage: rovd [options] <command> [command options]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nOptions:")
	printOptions(w, fs)
	fmt.Fprintln(w, "\nRun 'rovd <command> -h' for the options of a command.")
}

func (g *globals) mode() der.Mode {
	if g.cfg.Strict {
		return der.Strict
	}
	return der.Relaxed
}

func runInspect(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("inspect", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	help := fs.BoolP("help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil || *help {
		w, status := stdout, ExitOK
		if err != nil && !errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stderr, "rovd inspect: %v\n", err)
			w, status = stderr, ExitError
		}
		fmt.Fprintln(w, "Usage: rovd [--strict] inspect [--json] FILE...")
		fmt.Fprintln(w, "\nDecodes each file as an RPKI object (certificate, CRL, manifest, ROA,")
		fmt.Fprintln(w, "ASPA, Ghostbusters record, RSC, TAK, signed prefix list or TAL) and shows")
		fmt.Fprintln(w, "its content and every problem found. The exit status is 1 if any file")
		fmt.Fprintln(w, "cannot be decoded or breaks its profile.")
		fmt.Fprintln(w, "\nOptions:")
		printOptions(w, fs)
		return status
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "rovd inspect: no files given\nUsage: rovd [--strict] inspect [--json] FILE...")
		return ExitError
	}
	ok := inspect.Run(fs.Args(), inspect.Options{Mode: g.mode(), JSON: *asJSON}, stdout)
	if !ok {
		return ExitError
	}
	return ExitOK
}

// printOptions lists a flag set's options, one per line, in the style of
// the manual: "-V, --version  print the version".
func printOptions(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		name := "    --" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		// A `word` in the usage text names the value, as pflag has it.
		varname, usage := pflag.UnquoteUsage(f)
		switch f.Value.Type() {
		case "bool", "count":
			varname = ""
		case "stringArray", "strings":
			if !strings.Contains(f.Usage, "`") {
				varname = "value"
			}
		}
		if varname != "" {
			name += "=" + strings.ToUpper(varname)
		}
		fmt.Fprintf(w, "  %-22s %s\n", name, usage)
	})
}
