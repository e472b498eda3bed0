package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/appliance/runner"
)

// subcommand parses a command's own options; it prints help (status 0)
// or the error (status 1) itself and then returns done.
func subcommand(name, synopsis, about string, args []string, stdout, stderr io.Writer, define func(fs *pflag.FlagSet)) (fs *pflag.FlagSet, status int, done bool) {
	fs = pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	help := fs.BoolP("help", "h", false, "print this help")
	define(fs)
	err := fs.Parse(args)
	if err == nil && !*help && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil && !*help {
		return fs, 0, false
	}
	w, status := stdout, ExitOK
	if err != nil && !errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
		w, status = stderr, ExitError
	}
	fmt.Fprintf(w, "Usage: rovd [options] %s\n\n%s\n\nOptions:\n", synopsis, about)
	printOptions(w, fs)
	return fs, status, true
}

// validation opens the store, runs one validation and hands the result
// (with a payload set if withPayload) to use. It returns the exit status.
func (g *globals) validation(name string, offline, complete bool, importDir string, withPayload bool, stderr io.Writer, use func(*runner.Run) error) int {
	log, closeLog, err := g.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
		return ExitError
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := runner.Open(&g.cfg, log, offline)
	if err != nil {
		fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
		return ExitError
	}
	defer r.Close()
	if importDir != "" {
		if err := r.Import(importDir); err != nil {
			fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
			return ExitError
		}
	}
	run, err := r.Validate(ctx, !offline && importDir == "", withPayload)
	if err != nil {
		fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
		return ExitError
	}
	if err := use(run); err != nil {
		fmt.Fprintf(stderr, "rovd %s: %v\n", name, err)
		return ExitError
	}
	if complete && run.Report.Incomplete {
		return ExitIncomplete
	}
	return ExitOK
}

func runVRPs(g *globals, args []string, stdout, stderr io.Writer) int {
	var outPath, format string
	var noUpdate, complete bool
	var asns, prefixes []string
	_, status, done := subcommand("vrps", "vrps [-n] [-f FORMAT] [-o FILE] [-a ASN]... [-p PREFIX]...",
		"Updates the local repository (unless -n), validates it and outputs the\nvalid route origins (VRPs).",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.StringVarP(&outPath, "output", "o", "-", "output `file`, - for standard output")
			fs.StringVarP(&format, "format", "f", "csv", "output `format`, csv unless given: "+strings.Join(output.Formats, ", "))
			fs.BoolVarP(&noUpdate, "noupdate", "n", false, "do not update the repository first")
			fs.BoolVar(&complete, "complete", false, "exit with status 2 if a repository could not be updated")
			fs.StringArrayVarP(&asns, "select-asn", "a", nil, "only VRPs of this `asn`, repeatable")
			fs.StringArrayVarP(&prefixes, "select-prefix", "p", nil, "only VRPs covering this `prefix`, repeatable")
		})
	if done {
		return status
	}
	opt := output.Options{Format: format, ASPA: g.cfg.EnableASPA, BGPsec: g.cfg.EnableBGPsec}
	if err := checkFormat(format); err != nil {
		fmt.Fprintf(stderr, "rovd vrps: --format: %v\n", err)
		return ExitError
	}
	for _, a := range asns {
		n, err := output.ParseASN(a)
		if err != nil {
			fmt.Fprintf(stderr, "rovd vrps: --select-asn: %v\n", err)
			return ExitError
		}
		opt.Selection.ASNs = append(opt.Selection.ASNs, n)
	}
	for _, p := range prefixes {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			fmt.Fprintf(stderr, "rovd vrps: --select-prefix: %v\n", err)
			return ExitError
		}
		opt.Selection.Prefixes = append(opt.Selection.Prefixes, pfx.Masked())
	}
	// -f none, like update, needs no payload set.
	return g.validation("vrps", noUpdate, complete, "", format != "none", stderr, func(run *runner.Run) error {
		opt.Time = run.Started
		opt.ROAsByTA = map[string]int{}
		for ta, kinds := range run.Report.Counts.ValidByTA {
			opt.ROAsByTA[ta] = kinds["roa"]
		}
		return writeOutput(outPath, stdout, func(w io.Writer) error { return output.Write(w, run.Set, opt) })
	})
}

func checkFormat(f string) error {
	for _, known := range output.Formats {
		if f == known {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (have %s)", f, strings.Join(output.Formats, ", "))
}

// writeOutput writes to path, or stdout for "-", via a temporary file
// renamed into place so that a reader never sees half a list.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" || path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(dirOf(path), ".rovd-output-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no effect after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

func runUpdate(g *globals, args []string, stdout, stderr io.Writer) int {
	var complete bool
	var importDir string
	_, status, done := subcommand("update", "update [--complete] [--import DIR]",
		"Updates the local repository and validates it, to find every publication\npoint. With --import, loads a directory tree in rsync layout\n(DIR/HOST/MODULE/path) into the local repository instead of fetching.",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.BoolVar(&complete, "complete", false, "exit with status 2 if a repository could not be updated")
			fs.StringVar(&importDir, "import", "", "load the tree in rsync layout under `dir` instead of fetching")
		})
	if done {
		return status
	}
	return g.validation("update", false, complete, importDir, false, stderr, func(*runner.Run) error { return nil })
}
