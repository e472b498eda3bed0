package harness

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rovd/rovd/bench/world"
)

// maxDiffLines bounds the differing VRPs a DiffTable keeps for
// report.md; its file lists them all.
const maxDiffLines = 20

// DiffTable sets VRP lists side by side (the world's truth, rovd's
// output, each peer's) and lists every VRP that is not in all of them,
// with what in the world explains the difference when something does.
type DiffTable struct {
	// Sets names the lists: "truth" first, then program IDs.
	Sets []string `json:"sets"`
	// Ref is the index in Sets of the list the others are also
	// compared with (rovd's), 0 when there is none but the truth.
	Ref int `json:"ref"`
	// IgnoreTA is set when trust anchors were left out: some list has
	// none (FORT writes no column) or names them otherwise.
	IgnoreTA bool `json:"ignoreTA,omitempty"`
	// Lines is the number of VRPs not in every list; Explained how many
	// of them an injected fault or the unsafe-VRP rule accounts for.
	Lines     int `json:"lines"`
	Explained int `json:"explained"`
	// Counts holds each list's differences, after the truth.
	Counts []DiffCount `json:"counts"`
	// First holds the first maxDiffLines differing VRPs, in VRP order.
	First []DiffLine `json:"first,omitempty"`
	// File is the csv file with every differing VRP, relative to the
	// run's directory; empty when there is none.
	File string `json:"file,omitempty"`
}

// DiffCount is one list's differences from the truth and from the
// reference list.
type DiffCount struct {
	Set string `json:"set"`
	// Missing are in the truth but not in the list, Extra the other way
	// round; Unexplained counts those of both that nothing in the world
	// accounts for.
	Missing     int `json:"missing"`
	Extra       int `json:"extra"`
	Unexplained int `json:"unexplained"`
	// MissingVsRef and ExtraVsRef compare the list with the reference
	// list in the same way; zero for the reference itself.
	MissingVsRef int `json:"missingVsRef"`
	ExtraVsRef   int `json:"extraVsRef"`
}

// DiffLine is one VRP not in every list.
type DiffLine struct {
	VRP string `json:"vrp"`
	// In tells for each list of Sets whether it holds the VRP.
	In []bool `json:"in"`
	// Cause is what in the world explains the difference, if anything.
	Cause string `json:"cause,omitempty"`
}

// Count returns the counts of the list named set, or nil.
func (d *DiffTable) Count(set string) *DiffCount {
	for i := range d.Counts {
		if d.Counts[i].Set == set {
			return &d.Counts[i]
		}
	}
	return nil
}

// causes is what explains a VRP's absence from the truth or from a
// list: the injected faults (truth/faults.json) and the VRPs the
// unsafe-VRP rule would drop (truth/unsafe.csv).
type causes struct {
	// removed maps a VRP a fault removes under default policies to
	// the fault; policy one a fault removes only under another policy.
	removed, policy map[VRP]string
	unsafe          map[VRP]bool
}

// Causes of a difference, as report.md and the csv files state them.
const (
	causeUnsafe = "unsafe VRP: overlaps the resources of a rejected CA (dropped under unsafe-vrps=reject)"
)

// loadCauses reads the faults and unsafe VRPs of the world in dir, with
// trust anchors blanked if ignoreTA. A world without them (built before
// they were written) explains nothing.
func loadCauses(dir string, ignoreTA bool) (*causes, error) {
	c := &causes{removed: map[VRP]string{}, policy: map[VRP]string{}, unsafe: map[VRP]bool{}}
	key := func(v world.VRP) VRP {
		k := VRP{ASN: v.ASN, Prefix: v.Prefix, MaxLength: v.MaxLength, TA: v.TA}
		if ignoreTA {
			k.TA = ""
		}
		return k
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth", "faults.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var faults []world.Fault
		if err := json.Unmarshal(b, &faults); err != nil {
			return nil, fmt.Errorf("faults.json: %w", err)
		}
		for _, f := range faults {
			what := fmt.Sprintf("fault %s at %s (%s)", f.Kind, f.CA, f.Effect)
			for _, v := range f.Removes.VRPs {
				c.removed[key(v)] = what
			}
			if f.PolicyRemoves != nil {
				for _, v := range f.PolicyRemoves.VRPs {
					if _, ok := c.removed[key(v)]; !ok {
						c.policy[key(v)] = fmt.Sprintf("fault %s at %s (%s under %s)", f.Kind, f.CA, f.PolicyEffect, f.Policy)
					}
				}
			}
		}
	}
	unsafe, err := ReadVRPs(filepath.Join(dir, "truth", "unsafe.csv"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		for _, v := range unsafe.VRPs {
			if ignoreTA {
				v.TA = ""
			}
			c.unsafe[v] = true
		}
	}
	return c, nil
}

// explain returns the cause of a VRP's difference: for one the truth
// lacks, the fault that removes it; for one some list lacks, the rule
// or policy that would drop it.
func (c *causes) explain(v VRP, inTruth bool) string {
	if !inTruth {
		return c.removed[v]
	}
	if c.unsafe[v] {
		return causeUnsafe
	}
	return c.policy[v]
}

// Diff compares VRP lists, the first of which is the truth of the world
// in worldDir; ref is the index of the reference list (0 for none).
// Every differing VRP goes to full as csv, if full is not nil.
func Diff(worldDir string, names []string, lists []*VRPFile, ref int, full io.Writer) (*DiffTable, error) {
	if len(names) != len(lists) || len(lists) < 2 || ref < 0 || ref >= len(lists) {
		return nil, fmt.Errorf("diff: %d names for %d lists, reference %d", len(names), len(lists), ref)
	}
	d := &DiffTable{Sets: names, Ref: ref}
	known := map[string]bool{}
	for _, v := range lists[0].VRPs {
		known[v.TA] = true
	}
	for _, l := range lists {
		if !l.HasTA {
			d.IgnoreTA = true
		}
		for _, v := range l.VRPs {
			if !known[v.TA] {
				d.IgnoreTA = true
				break
			}
		}
	}
	vrps := make([][]VRP, len(lists))
	for i, l := range lists {
		vrps[i] = l.VRPs
		if d.IgnoreTA {
			vrps[i] = withoutTA(l.VRPs)
		}
	}
	cs, err := loadCauses(worldDir, d.IgnoreTA)
	if err != nil {
		return nil, err
	}
	d.Counts = make([]DiffCount, len(lists)-1)
	for i := range d.Counts {
		d.Counts[i].Set = names[i+1]
	}
	var w *csv.Writer
	if full != nil {
		w = csv.NewWriter(full)
		header := []string{"ASN", "IP Prefix", "Max Length"}
		if !d.IgnoreTA {
			header = append(header, "Trust Anchor")
		}
		if err := w.Write(append(append(header, names...), "Cause")); err != nil {
			return nil, err
		}
	}

	// Every list is sorted and unique: one merge walks them all.
	pos := make([]int, len(vrps))
	in := make([]bool, len(vrps))
	for {
		var head VRP
		found := false
		for i, l := range vrps {
			if pos[i] < len(l) && (!found || compareVRPs(l[pos[i]], head) < 0) {
				head, found = l[pos[i]], true
			}
		}
		if !found {
			break
		}
		all := true
		for i, l := range vrps {
			in[i] = pos[i] < len(l) && compareVRPs(l[pos[i]], head) == 0
			if in[i] {
				pos[i]++
			}
			all = all && in[i]
		}
		if all {
			continue
		}
		cause := cs.explain(head, in[0])
		d.Lines++
		if cause != "" {
			d.Explained++
		}
		for i := 1; i < len(in); i++ {
			c := &d.Counts[i-1]
			if in[i] != in[0] {
				if in[0] {
					c.Missing++
				} else {
					c.Extra++
				}
				if cause == "" {
					c.Unexplained++
				}
			}
			if ref > 0 && i != ref && in[i] != in[ref] {
				if in[ref] {
					c.MissingVsRef++
				} else {
					c.ExtraVsRef++
				}
			}
		}
		if len(d.First) < maxDiffLines {
			d.First = append(d.First, DiffLine{VRP: head.String(), In: append([]bool(nil), in...), Cause: cause})
		}
		if w != nil {
			rec := []string{"AS" + strconv.FormatUint(uint64(head.ASN), 10), head.Prefix.String(), strconv.Itoa(head.MaxLength)}
			if !d.IgnoreTA {
				rec = append(rec, head.TA)
			}
			for _, b := range in {
				flag := "0"
				if b {
					flag = "1"
				}
				rec = append(rec, flag)
			}
			if err := w.Write(append(rec, cause)); err != nil {
				return nil, err
			}
		}
	}
	if w != nil {
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// DiffFiles compares VRP files as Diff does, the first being the truth
// of the world in worldDir, and writes every differing VRP to the csv
// file out (relative to the run's directory in the table), which is
// removed when there is none.
func DiffFiles(worldDir string, names, files []string, ref int, out, rel string) (*DiffTable, error) {
	lists := make([]*VRPFile, len(files))
	for i, f := range files {
		l, err := ReadVRPs(f)
		if err != nil {
			return nil, err
		}
		lists[i] = l
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	d, err := Diff(worldDir, names, lists, ref, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if d.Lines == 0 {
		return d, os.Remove(out)
	}
	d.File = rel
	return d, nil
}
