package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/tals"
)

func runInit(g *globals, args []string, stdout, stderr io.Writer) int {
	var sel tals.Selection
	var force, list bool
	_, status, done := subcommand("init", "init [-f] [--rir-tals] [--rir-test-tals] [--tal NAME]... [--skip-tal NAME]... [--accept-arin-rpa]",
		"Creates the local repository directory and the TAL directory and installs\n"+
			"the bundled TALs chosen by the options into it. Without --rir-tals,\n"+
			"--rir-test-tals or --tal, the production TALs of the five RIRs are\n"+
			"installed. The ARIN TAL is installed only with --accept-arin-rpa.",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.BoolVarP(&force, "force", "f", false, "install the TALs even if the TAL directory exists")
			fs.BoolVar(&sel.RIR, "rir-tals", false, "install the production TALs of the five RIRs")
			fs.BoolVar(&sel.RIRTest, "rir-test-tals", false, "install the TALs of the RIR testbeds")
			fs.StringArrayVar(&sel.Names, "tal", nil, "install the bundled TAL of this `name`, repeatable")
			fs.StringArrayVar(&sel.Skip, "skip-tal", nil, "do not install the TAL of this `name`, repeatable")
			fs.BoolVar(&list, "list-tals", false, "list the bundled TALs and exit")
			fs.BoolVar(&sel.AcceptRPA, "accept-arin-rpa", false, "you have read and accept "+tals.ARINRPA)
		})
	if done {
		return status
	}
	if list {
		listTALs(stdout)
		return ExitOK
	}
	chosen, err := tals.Select(sel)
	if err != nil {
		fmt.Fprintf(stderr, "rovd init: %v\n", err)
		return ExitError
	}
	if err := installTALs(g.cfg.RepositoryDir, g.cfg.TALDir, chosen, force); err != nil {
		fmt.Fprintf(stderr, "rovd init: %v\n", err)
		return ExitError
	}
	if g.cfg.Quiet == 0 {
		fmt.Fprintf(stderr, "Created local repository directory %s\n", g.cfg.RepositoryDir)
		fmt.Fprintf(stderr, "Installed %d TALs in %s\n", len(chosen), g.cfg.TALDir)
	}
	return ExitOK
}

// installTALs makes sure the repository directory exists, creates the
// TAL directory and writes the TALs into it. An existing TAL directory is
// left alone unless force: it may hold TALs the operator chose by hand.
// With force, the bundled files are overwritten and other files kept.
func installTALs(repoDir, talDir string, chosen []*tals.TAL, force bool) error {
	if err := os.MkdirAll(repoDir, 0o755); err != nil {
		return fmt.Errorf("cannot create the local repository directory: %w", err)
	}
	switch fi, err := os.Stat(talDir); {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("TAL directory %s exists and is not a directory", talDir)
	case err == nil && !force:
		return fmt.Errorf("TAL directory %s exists; use -f to install the TALs anyway", talDir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("TAL directory: %w", err)
	}
	if err := os.MkdirAll(talDir, 0o755); err != nil {
		return fmt.Errorf("cannot create the TAL directory: %w", err)
	}
	for _, t := range chosen {
		if err := writeFileAtomic(filepath.Join(talDir, t.FileName()), t.Content); err != nil {
			return fmt.Errorf("cannot write TAL: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file renamed
// into place, so that a server reading the directory never loads half a
// TAL.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rovd-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no effect after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// listTALs prints the bundled TALs with marks for the ones --rir-tals and
// --rir-test-tals select.
func listTALs(w io.Writer) {
	width := 0
	for _, t := range tals.All() {
		width = max(width, len(t.Name))
	}
	fmt.Fprintln(w, " .---- --rir-tals")
	fmt.Fprintln(w, " |  .- --rir-test-tals")
	fmt.Fprintln(w, " V  V")
	fmt.Fprintln(w)
	for _, t := range tals.All() {
		mark := "      "
		switch t.Category {
		case tals.Production:
			mark = " X    "
		case tals.RIRTestbed:
			mark = "    X "
		}
		desc := t.Description
		if t.NeedsARINRPA {
			desc += " (needs --accept-arin-rpa)"
		}
		fmt.Fprintf(w, "%s  %-*s  %s\n", mark, width, t.Name, desc)
	}
}
