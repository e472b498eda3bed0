// Package output renders a payload set in the output formats of the
// manual's vrps command.
package output

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// Formats lists the formats Write knows, the manual's names.
var Formats = []string{"csv", "json", "summary", "none"}

// Selection is the vrps command's -a and -p selectors. A VRP is output
// if it matches any of them ("or"); an empty Selection selects all.
type Selection struct {
	ASNs     []uint32
	Prefixes []netip.Prefix
}

// ParseASN reads an AS number with or without the AS prefix.
func ParseASN(s string) (uint32, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	return uint32(n), nil
}

// Empty reports whether s selects everything.
func (s *Selection) Empty() bool { return len(s.ASNs) == 0 && len(s.Prefixes) == 0 }

// Match reports whether s selects v: its ASN is selected, or its prefix
// covers (equals or is less specific than) a selected prefix.
func (s *Selection) Match(v payload.VRP) bool {
	if s.Empty() {
		return true
	}
	if slices.Contains(s.ASNs, v.ASN) {
		return true
	}
	for _, p := range s.Prefixes {
		if v.Prefix.Bits() <= p.Bits() && v.Prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Options say what goes into the output beside the VRPs.
type Options struct {
	Format    string
	Selection Selection
	// ASPA and BGPsec are enable-aspa and enable-bgpsec: ASPAs and router
	// keys appear in the formats that have a place for them.
	ASPA, BGPsec bool
	// Time is when the data set was made, for the formats that say it.
	Time time.Time
	// ROAsByTA counts verified ROAs per trust anchor, for summary.
	ROAsByTA map[string]int
}

// Write renders set to w in opt.Format.
func Write(w io.Writer, set *payload.Set, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch opt.Format {
	case "csv", "":
		err = writeCSV(bw, set, &opt)
	case "json":
		err = writeJSON(bw, set, &opt)
	case "summary":
		err = writeSummary(bw, set, &opt)
	case "none":
		return nil
	default:
		return fmt.Errorf("unknown output format %q (have %s)", opt.Format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// ta returns the trust anchor a payload item is attributed to: the first
// of its sources in sort order, so that output is stable, preferring a
// trust anchor to a local exception, which has none and shows as "N/A"
// as in Routinator.
func ta(srcs []*payload.Source) string {
	best := ""
	for _, s := range srcs {
		if s.TA != "" && (best == "" || s.TA < best) {
			best = s.TA
		}
	}
	if best == "" {
		return "N/A"
	}
	return best
}

func writeCSV(w *bufio.Writer, set *payload.Set, opt *Options) error {
	w.WriteString("ASN,IP Prefix,Max Length,Trust Anchor\n")
	var buf []byte
	for i, v := range set.VRPs() {
		if !opt.Selection.Match(v) {
			continue
		}
		buf = append(buf[:0], "AS"...)
		buf = strconv.AppendUint(buf, uint64(v.ASN), 10)
		buf = append(buf, ',')
		buf = v.Prefix.AppendTo(buf)
		buf = append(buf, ',')
		buf = strconv.AppendUint(buf, uint64(v.MaxLength), 10)
		buf = append(buf, ',')
		buf = append(buf, ta(set.VRPSources(i))...)
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w *bufio.Writer, set *payload.Set, opt *Options) error {
	fmt.Fprintf(w, "{\n  \"metadata\": {\n    \"generated\": %d,\n    \"generatedTime\": %q\n  },\n  \"roas\": [", opt.Time.Unix(), opt.Time.UTC().Format(time.RFC3339))
	first := true
	var buf []byte
	for i, v := range set.VRPs() {
		if !opt.Selection.Match(v) {
			continue
		}
		buf = buf[:0]
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, "\n    { \"asn\": \"AS"...)
		buf = strconv.AppendUint(buf, uint64(v.ASN), 10)
		buf = append(buf, "\", \"prefix\": \""...)
		buf = v.Prefix.AppendTo(buf)
		buf = append(buf, "\", \"maxLength\": "...)
		buf = strconv.AppendUint(buf, uint64(v.MaxLength), 10)
		buf = append(buf, ", \"ta\": "...)
		buf = strconv.AppendQuote(buf, ta(set.VRPSources(i)))
		buf = append(buf, " }"...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	w.WriteString("\n  ]")
	if opt.BGPsec {
		w.WriteString(",\n  \"routerKeys\": [")
		sep := ""
		for i, k := range set.RouterKeys() {
			if !opt.Selection.Empty() && !slices.Contains(opt.Selection.ASNs, k.ASN) {
				continue
			}
			fmt.Fprintf(w, "%s\n    { \"asn\": \"AS%d\", \"SKI\": \"%X\", \"routerPublicKey\": %q, \"ta\": %q }",
				sep, k.ASN, k.SKI, base64.RawURLEncoding.EncodeToString(k.SPKI), ta(set.RouterKeySources(i)))
			sep = ","
		}
		w.WriteString("\n  ]")
	}
	if opt.ASPA {
		w.WriteString(",\n  \"aspas\": [")
		sep := ""
		for i, a := range set.ASPAs() {
			if !opt.Selection.Empty() && !slices.Contains(opt.Selection.ASNs, a.Customer) {
				continue
			}
			fmt.Fprintf(w, "%s\n    { \"customer\": \"AS%d\", \"providers\": [", sep, a.Customer)
			for j, p := range a.Providers {
				if j > 0 {
					w.WriteString(", ")
				}
				fmt.Fprintf(w, "\"AS%d\"", p)
			}
			fmt.Fprintf(w, "], \"ta\": %q }", ta(set.ASPASources(i)))
			sep = ","
		}
		w.WriteString("\n  ]")
	}
	_, err := w.WriteString("\n}\n")
	return err
}

func writeSummary(w *bufio.Writer, set *payload.Set, opt *Options) error {
	type counts struct{ roas, vrps, keys, aspas int }
	byTA := map[string]*counts{}
	get := func(name string) *counts {
		c := byTA[name]
		if c == nil {
			c = &counts{}
			byTA[name] = c
		}
		return c
	}
	for name, n := range opt.ROAsByTA {
		get(name).roas = n
	}
	for i := range set.VRPs() {
		get(ta(set.VRPSources(i))).vrps++
	}
	for i := range set.RouterKeys() {
		get(ta(set.RouterKeySources(i))).keys++
	}
	for i := range set.ASPAs() {
		get(ta(set.ASPASources(i))).aspas++
	}
	names := make([]string, 0, len(byTA))
	var total counts
	for name, c := range byTA {
		names = append(names, name)
		total.roas += c.roas
		total.vrps += c.vrps
		total.keys += c.keys
		total.aspas += c.aspas
	}
	slices.Sort(names)
	fmt.Fprintf(w, "Summary at %s\n", opt.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	line := func(name string, c *counts) {
		fmt.Fprintf(w, "%s:\n", name)
		fmt.Fprintf(w, "    ROAs: %8d verified\n", c.roas)
		fmt.Fprintf(w, "    VRPs: %8d\n", c.vrps)
		if opt.BGPsec {
			fmt.Fprintf(w, "    router keys: %8d\n", c.keys)
		}
		if opt.ASPA {
			fmt.Fprintf(w, "    ASPAs: %8d\n", c.aspas)
		}
	}
	for _, name := range names {
		line(name, byTA[name])
	}
	line("total", &total)
	return nil
}
