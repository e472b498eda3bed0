package cli

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/spf13/pflag"
)

// manPage is rovd's manual page in roff (man macros); the packages
// install the same file as rovd.1.
//
//go:embed rovd.1
var manPage []byte

func runMan(g *globals, args []string, stdout, stderr io.Writer) int {
	var outPath string
	fs, status, done := subcommand("man", "man [-o FILE]",
		"Shows the manual page. With -o, writes its roff source to FILE instead\n"+
			"(- for standard output). When standard output is not a terminal, the\n"+
			"source is written there.",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.StringVarP(&outPath, "output", "o", "", "write the page to `file`, - for standard output")
		})
	if done {
		return status
	}
	if !fs.Changed("output") && isTerminal(stdout) {
		// Without man(1), the source is better than nothing.
		if man, err := exec.LookPath("man"); err == nil {
			if err := showMan(man, stdout, stderr); err != nil {
				fmt.Fprintf(stderr, "rovd man: %v\n", err)
				return ExitError
			}
			return ExitOK
		}
	}
	if outPath == "" {
		outPath = "-"
	}
	if err := writeOutput(outPath, stdout, func(w io.Writer) error {
		_, err := w.Write(manPage)
		return err
	}); err != nil {
		fmt.Fprintf(stderr, "rovd man: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// showMan displays the page with man(1), which takes a local file with
// -l.
func showMan(man string, stdout, stderr io.Writer) error {
	tmp, err := os.CreateTemp("", "rovd-*.1")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(manPage); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	cmd := exec.Command(man, "-l", tmp.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	return cmd.Run()
}
