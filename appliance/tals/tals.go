package tals

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
)

//go:embed data/*.tal
var files embed.FS

// Category says which selection option of `rovd init` installs a TAL.
type Category uint8

const (
	// Production: the trust anchors of the five RIRs, which together
	// cover the global RPKI (--rir-tals, the default).
	Production Category = iota
	// RIRTestbed: a test environment run by one of the RIRs
	// (--rir-test-tals).
	RIRTestbed
	// OtherTestbed: any other test environment; installed only when
	// named with --tal.
	OtherTestbed
)

// ARINRPA is where ARIN publishes the Relying Party Agreement that its
// TAL may only be used under.
const ARINRPA = "https://www.arin.net/resources/manage/rpki/rpa.pdf"

// TAL is one bundled trust anchor locator.
type TAL struct {
	// Name is the short name used by --tal and --skip-tal; the file is
	// installed as Name + ".tal".
	Name        string
	Description string
	Category    Category
	// NeedsARINRPA marks a TAL that is installed only once the user has
	// accepted ARIN's Relying Party Agreement (--accept-arin-rpa).
	NeedsARINRPA bool
	// Content is the TAL file, shared by all callers: do not modify.
	Content []byte
}

// FileName is the name the TAL is installed under.
func (t *TAL) FileName() string { return t.Name + ".tal" }

// all lists the bundled TALs in the order --list-tals shows them.
var all = []*TAL{
	{Name: "afrinic", Description: "AFRINIC production TAL", Category: Production},
	{Name: "apnic", Description: "APNIC production TAL", Category: Production},
	{Name: "arin", Description: "ARIN production TAL", Category: Production, NeedsARINRPA: true},
	{Name: "lacnic", Description: "LACNIC production TAL", Category: Production},
	{Name: "ripe", Description: "RIPE NCC production TAL", Category: Production},
	{Name: "apnic-testbed", Description: "APNIC RPKI testbed", Category: RIRTestbed},
	{Name: "arin-ote", Description: "ARIN Operational Test and Evaluation Environment", Category: RIRTestbed},
	{Name: "ripe-pilot", Description: "RIPE NCC RPKI test environment", Category: RIRTestbed},
	{Name: "nlnetlabs-testbed", Description: "NLnet Labs RPKI testbed", Category: OtherTestbed},
}

func init() {
	for _, t := range all {
		data, err := files.ReadFile("data/" + t.FileName())
		if err != nil {
			// The embed pattern and the list above disagree: a build
			// mistake, caught by every test of the package.
			panic(err)
		}
		t.Content = data
	}
}

// All returns every bundled TAL, in a fixed order.
func All() []*TAL { return slices.Clone(all) }

// Lookup returns the bundled TAL of the given name.
func Lookup(name string) (*TAL, bool) {
	i := slices.IndexFunc(all, func(t *TAL) bool { return t.Name == name })
	if i < 0 {
		return nil, false
	}
	return all[i], true
}

// Selection is what the options of `rovd init` ask for.
type Selection struct {
	RIR       bool     // --rir-tals
	RIRTest   bool     // --rir-test-tals
	Names     []string // --tal, repeatable
	Skip      []string // --skip-tal, repeatable
	AcceptRPA bool     // --accept-arin-rpa
}

// ErrRPANotAccepted is returned by Select when the ARIN TAL is selected
// without --accept-arin-rpa. Its text tells the user what to do.
var ErrRPANotAccepted = errors.New("before the ARIN TAL can be installed, you must read and agree to\n" +
	"the ARIN Relying Party Agreement (RPA), available at\n\n    " + ARINRPA + "\n\n" +
	"If you agree to it, run the command again with --accept-arin-rpa;\n" +
	"otherwise leave the ARIN TAL out with --skip-tal arin")

// Select returns the TALs that s asks for, in the order of All. The
// production TALs are selected by --rir-tals, and also when neither
// --rir-test-tals nor --tal selects anything. A name given to --tal that
// is not bundled, or to --skip-tal that is not selected, is an error, so
// that a typing mistake does not go unnoticed.
func Select(s Selection) ([]*TAL, error) {
	want := map[string]bool{}
	for _, n := range s.Names {
		if _, ok := Lookup(n); !ok {
			return nil, fmt.Errorf("unknown TAL %q (see --list-tals)", n)
		}
		want[n] = true
	}
	for _, t := range all {
		if s.RIRTest && t.Category == RIRTestbed {
			want[t.Name] = true
		}
	}
	if s.RIR || len(want) == 0 {
		for _, t := range all {
			if t.Category == Production {
				want[t.Name] = true
			}
		}
	}
	for _, n := range s.Skip {
		if !want[n] {
			return nil, fmt.Errorf("--skip-tal %s: TAL %q is not selected", n, n)
		}
		delete(want, n)
	}
	var out []*TAL
	for _, t := range all {
		if !want[t.Name] {
			continue
		}
		if t.NeedsARINRPA && !s.AcceptRPA {
			return nil, ErrRPANotAccepted
		}
		out = append(out, t)
	}
	return out, nil
}

// Names returns the names of ts, for messages.
func Names(ts []*TAL) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}
