package cli

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/dump"
)

func runDump(g *globals, args []string, stdout, stderr io.Writer) int {
	var outDir string
	_, status, done := subcommand("dump", "dump [-o DIR]",
		"Writes the stored data to DIR: rrdp/ (per RRDP repository, the latest\nfetched files), rsync/ (the latest files fetched by rsync), store/ (the\nlast good copy of every publication point that validated) and\nrepositories.json (which directory holds which repository).",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.StringVarP(&outDir, "output", "o", ".", "output `dir`ectory")
		})
	if done {
		return status
	}
	if err := dump.Write(g.cfg.RepositoryDir, outDir); err != nil {
		fmt.Fprintf(stderr, "rovd dump: %v\n", err)
		return ExitError
	}
	return ExitOK
}
