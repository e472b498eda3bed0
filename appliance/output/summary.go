package output

import (
	"fmt"
	"slices"
)

// summary counts verified ROAs and VRPs (and, when enabled, router keys
// and ASPAs) per trust anchor and in total. It ignores the selection, as
// the manual says.
func (wr *writer) summary() error {
	w, set, opt := wr.w, wr.set, wr.opt
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
		get(taName(set.VRPSources(i))).vrps++
	}
	for i := range set.RouterKeys() {
		get(taName(set.RouterKeySources(i))).keys++
	}
	for i := range set.ASPAs() {
		get(taName(set.ASPASources(i))).aspas++
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
