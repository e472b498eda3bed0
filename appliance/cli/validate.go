package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/appliance/validity"
)

// stdin is where `validate -i -` reads; tests replace it.
var stdin io.Reader = os.Stdin

func runValidate(g *globals, args []string, stdout, stderr io.Writer) int {
	var asn, prefix, input, outPath string
	var asJSON, noUpdate, complete bool
	fs, status, done := subcommand("validate", "validate [-n] [-j] [-o FILE] (-a ASN -p PREFIX | -i FILE)",
		"Validates the repository (after updating it, unless -n) and reports\n"+
			"whether route announcements are RPKI valid, invalid or not found\n"+
			"(RFC 6811): one given with -a and -p, or a list read with -i from a\n"+
			"file or, for -, standard input. A list has one 'PREFIX => ASN' per\n"+
			"line, or with -j is a JSON object {\"routes\": [{\"prefix\": ..., \"asn\": ...}]}.\n"+
			"With -j, the output is JSON with the VRPs that decided each route.",
		args, stdout, stderr, func(fs *pflag.FlagSet) {
			fs.StringVarP(&asn, "asn", "a", "", "origin AS `number` of the announcement, with or without AS")
			fs.StringVarP(&prefix, "prefix", "p", "", "address `prefix` of the announcement")
			fs.BoolVarP(&asJSON, "json", "j", false, "JSON output with the deciding VRPs; with -i, JSON input too")
			fs.StringVarP(&input, "input", "i", "", "read routes from `file`, - for standard input")
			fs.StringVarP(&outPath, "output", "o", "-", "output `file`, - for standard output")
			fs.BoolVarP(&noUpdate, "noupdate", "n", false, "do not update the repository first")
			fs.BoolVar(&complete, "complete", false, "exit with status 2 if a repository could not be updated")
		})
	if done {
		return status
	}
	// Read the routes before the run, so that a typing mistake costs no
	// validation.
	routes, err := validateRoutes(fs.Changed, asn, prefix, input, asJSON)
	if err != nil {
		fmt.Fprintf(stderr, "rovd validate: %v\n", err)
		return ExitError
	}
	return g.validation("validate", noUpdate, complete, "", true, stderr, func(run *runner.Run) error {
		return writeOutput(outPath, stdout, func(w io.Writer) error {
			if asJSON {
				return validity.WriteJSON(w, run.Set, routes, run.Started)
			}
			return validity.WriteText(w, run.Set, routes)
		})
	})
}

// validateRoutes reads the routes to check from -a and -p, or from -i.
func validateRoutes(changed func(string) bool, asn, prefix, input string, asJSON bool) ([]validity.Route, error) {
	switch {
	case changed("input") && (changed("asn") || changed("prefix")):
		return nil, errors.New("--input cannot be combined with --asn or --prefix")
	case changed("input"):
		return readRoutes(input, asJSON)
	case !changed("asn") || !changed("prefix"):
		return nil, errors.New("give a route with both --asn and --prefix, or a list with --input")
	}
	n, err := validity.ParseASN(asn)
	if err != nil {
		return nil, fmt.Errorf("--asn: %w", err)
	}
	p, err := validity.ParsePrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("--prefix: %w", err)
	}
	return []validity.Route{{Prefix: p, ASN: n}}, nil
}

func readRoutes(path string, asJSON bool) ([]validity.Route, error) {
	r, name := stdin, "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--input: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	parse := validity.ParsePlain
	if asJSON {
		parse = validity.ParseJSON
	}
	routes, err := parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return routes, nil
}
