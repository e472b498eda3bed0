package inspect

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// Options controls an inspection.
type Options struct {
	// Mode is der.Strict for --strict, else der.Relaxed.
	Mode der.Mode
	// JSON selects machine-readable output.
	JSON bool
}

// Result is what inspection found out about one file.
type Result struct {
	File string `json:"file"`
	// Type is the object type, or "unknown" if the file is not an RPKI
	// object.
	Type string `json:"type"`
	// Decoded is false if the file could not be decoded at all.
	Decoded bool `json:"decoded"`
	// Valid is true if the object decoded without any problem.
	Valid    bool      `json:"valid"`
	Error    string    `json:"error,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
	Facts    []Fact    `json:"facts,omitempty"`
}

// Problem is one problem in printable form.
type Problem struct {
	Stage   string `json:"stage"`
	Field   string `json:"field,omitempty"`
	Ref     string `json:"ref,omitempty"`
	Message string `json:"message"`
}

// Fact is one named property of the object. Values are strings or lists
// of strings so that text and JSON output share them.
type Fact struct {
	Name  string   `json:"name"`
	Value string   `json:"value,omitempty"`
	List  []string `json:"list,omitempty"`
}

// File inspects one file's data.
func File(name string, data []byte, opts Options) Result {
	res := Result{File: name, Type: "unknown"}
	obj, err := rpki.Parse(rpki.TypeFromName(name), data, opts.Mode)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Decoded = true
	res.Type = obj.Type().String()
	for _, p := range obj.Problems() {
		res.Problems = append(res.Problems, printable(p))
	}
	res.Facts = facts(obj)
	if p := selfCheck(obj); p != nil {
		res.Problems = append(res.Problems, printable(*p))
	}
	res.Valid = len(res.Problems) == 0
	return res
}

func printable(p rpki.Problem) Problem {
	return Problem{Stage: strings.ToLower(p.Stage.String()), Field: p.Field, Ref: p.Ref, Message: p.Err.Error()}
}

// signed is what every signed object type offers through its embedded
// rpki.SignedObject.
type signed interface {
	Signed() *rpki.SignedObject
}

// selfCheck verifies the signatures an object can be checked against
// without its issuer: a signed object's CMS signature, a trust anchor's
// self-signature.
func selfCheck(obj rpki.Object) *rpki.Problem {
	switch o := obj.(type) {
	case signed:
		if err := o.Signed().VerifyContent(); err != nil {
			if p, ok := err.(*rpki.Problem); ok {
				return p
			}
			return &rpki.Problem{Stage: rpki.Verify, Err: err}
		}
	case *rpki.Certificate:
		if o.Kind != rpki.CertTA || o.RSAKey == nil {
			return nil
		}
		for _, p := range o.ValidateTA(nil, o.NotBefore) {
			if p.Field == "signatureValue" {
				return &p
			}
		}
	}
	return nil
}

// Run inspects every file and writes the report to w. It returns false if
// any file could not be read or decoded, or broke its profile.
func Run(files []string, opts Options, w io.Writer) bool {
	ok := true
	results := make([]Result, 0, len(files))
	for _, name := range files {
		data, err := os.ReadFile(name)
		var res Result
		if err != nil {
			res = Result{File: name, Type: "unknown", Error: err.Error()}
		} else {
			res = File(name, data, opts)
		}
		ok = ok && res.Valid
		results = append(results, res)
		if !opts.JSON {
			WriteText(w, res)
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return false
		}
	}
	return ok
}

// WriteText writes one result as the text report.
func WriteText(w io.Writer, res Result) {
	fmt.Fprintf(w, "File: %s\n", res.File)
	fmt.Fprintf(w, "Type: %s\n", res.Type)
	for _, f := range res.Facts {
		if f.List == nil {
			fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
			continue
		}
		fmt.Fprintf(w, "%s: %d\n", f.Name, len(f.List))
		for _, v := range f.List {
			fmt.Fprintf(w, "    %s\n", v)
		}
	}
	switch {
	case !res.Decoded:
		fmt.Fprintf(w, "Status: not decoded: %s\n", res.Error)
	case res.Valid:
		fmt.Fprintf(w, "Status: OK\n")
	default:
		fmt.Fprintf(w, "Status: %d problem(s)\n", len(res.Problems))
		for _, p := range res.Problems {
			fmt.Fprintf(w, "    %s: ", p.Stage)
			if p.Field != "" {
				fmt.Fprintf(w, "%s: ", p.Field)
			}
			fmt.Fprint(w, p.Message)
			if p.Ref != "" {
				fmt.Fprintf(w, " (%s)", p.Ref)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

// facts lists the key properties of an object.
func facts(obj rpki.Object) []Fact {
	var fs []Fact
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, Fact{Name: name, Value: value})
		}
	}
	list := func(name string, values []string) { fs = append(fs, Fact{Name: name, List: values}) }
	switch o := obj.(type) {
	case *rpki.Certificate:
		fs = certFacts(o, "")
	case *rpki.CRL:
		add("Issuer", o.Issuer.String())
		add("Authority key identifier", hexUpper(o.AKI))
		add("CRL number", number(o.Number))
		add("This update", stamp(o.ThisUpdate))
		add("Next update", stamp(o.NextUpdate))
		var serials []string
		for _, s := range o.RevokedSerials() {
			serials = append(serials, number(s))
		}
		list("Revoked serials", serials)
	case *rpki.Manifest:
		add("Manifest number", number(o.Number))
		add("This update", stamp(o.ThisUpdate))
		add("Next update", stamp(o.NextUpdate))
		var entries []string
		for _, f := range o.Files {
			entries = append(entries, hexUpper(f.Hash)+" "+string(f.Name))
		}
		list("Entries", entries)
	case *rpki.ROA:
		add("AS", fmt.Sprintf("AS%d", o.ASID))
		var ps []string
		for _, p := range o.Prefixes {
			ps = append(ps, fmt.Sprintf("%s maxLength %d", p.Prefix, p.MaxLength))
		}
		list("Prefixes", ps)
	case *rpki.ASPA:
		add("Customer", fmt.Sprintf("AS%d", o.CustomerASID))
		var ps []string
		for _, p := range o.Providers {
			ps = append(ps, fmt.Sprintf("AS%d", p))
		}
		list("Providers", ps)
	case *rpki.GBR:
		list("vCard", strings.Split(strings.TrimRight(strings.ReplaceAll(string(o.VCard), "\r\n", "\n"), "\n"), "\n"))
	case *rpki.RSC:
		fs = append(fs, resourceFacts(o.Resources)...)
		var entries []string
		for _, f := range o.Checklist {
			entries = append(entries, strings.TrimSpace(hexUpper(f.Hash)+" "+string(f.Name)))
		}
		list("Checklist", entries)
	case *rpki.TAK:
		for _, k := range []struct {
			name string
			key  *rpki.TAKey
		}{{"Current key", &o.Current}, {"Predecessor key", o.Predecessor}, {"Successor key", o.Successor}} {
			if k.key == nil {
				continue
			}
			list(k.name, append(append(prefixAll("comment: ", k.key.Comments), k.key.URIs...), "key: "+hexUpper(k.key.SPKI)))
		}
	case *rpki.SPL:
		add("AS", fmt.Sprintf("AS%d", o.ASID))
		var ps []string
		for _, p := range o.Prefixes {
			ps = append(ps, p.String())
		}
		list("Prefixes", ps)
	case *rpki.TAL:
		if len(o.Comments) > 0 {
			list("Comments", o.Comments)
		}
		list("URIs", o.URIs)
		add("Key size", fmt.Sprintf("%d bits", o.Key.N.BitLen()))
	}
	if s, ok := obj.(signed); ok {
		fs = append(fs, signedFacts(s.Signed())...)
	}
	return fs
}

// certFacts describes a certificate; prefix distinguishes the EE
// certificate of a signed object.
func certFacts(c *rpki.Certificate, prefix string) []Fact {
	var fs []Fact
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, Fact{Name: prefix + name, Value: value})
		}
	}
	add("Certificate", c.Kind.String())
	add("Subject", c.Subject.String())
	add("Issuer", c.Issuer.String())
	add("Serial", number(c.Serial))
	add("Valid from", stamp(c.NotBefore))
	add("Valid until", stamp(c.NotAfter))
	add("Subject key identifier", hexUpper(c.SKI))
	add("Authority key identifier", hexUpper(c.AKI))
	add("CA repository", c.CARepository)
	add("Manifest", c.Manifest)
	add("RRDP notification", c.Notify)
	add("Signed object", c.SignedObject)
	add("Issuer certificate", c.AIAURI)
	add("CRL", c.CRLURI)
	if c.Kind == rpki.CertRouter {
		var asns []string
		for _, r := range c.Resources.AS.Ranges {
			asns = append(asns, r.String())
		}
		add("Router key ASNs", strings.Join(asns, ", "))
		add("Router key", hexUpper(c.PublicKey))
	}
	for _, f := range resourceFacts(c.Resources) {
		f.Name = prefix + f.Name
		fs = append(fs, f)
	}
	return fs
}

func resourceFacts(r rpki.Resources) []Fact {
	var fs []Fact
	ipList := func(name string, s rpki.IPSet) {
		switch {
		case s.Inherit:
			fs = append(fs, Fact{Name: name, Value: "inherit"})
		case len(s.Ranges) > 0:
			var vs []string
			for _, rng := range s.Ranges {
				vs = append(vs, rng.String())
			}
			fs = append(fs, Fact{Name: name, List: vs})
		}
	}
	ipList("IPv4 resources", r.IPv4)
	ipList("IPv6 resources", r.IPv6)
	switch {
	case r.AS.Inherit:
		fs = append(fs, Fact{Name: "AS resources", Value: "inherit"})
	case len(r.AS.Ranges) > 0:
		var vs []string
		for _, rng := range r.AS.Ranges {
			vs = append(vs, rng.String())
		}
		fs = append(fs, Fact{Name: "AS resources", List: vs})
	}
	return fs
}

func signedFacts(so *rpki.SignedObject) []Fact {
	fs := []Fact{}
	if !so.SigningTime.IsZero() {
		fs = append(fs, Fact{Name: "Signing time", Value: stamp(so.SigningTime)})
	}
	if so.EE != nil {
		fs = append(fs, certFacts(so.EE, "EE ")...)
	}
	return fs
}

func prefixAll(prefix string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = prefix + v
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// number prints a serial-like INTEGER in hex and, when it fits, decimal.
func number(n []byte) string {
	if len(n) == 0 {
		return ""
	}
	v := der.IntegerToBig(n)
	return fmt.Sprintf("%s (0x%s)", v.String(), strings.ToUpper(v.Text(16)))
}
