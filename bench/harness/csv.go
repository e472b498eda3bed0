package harness

import (
	"bufio"
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// VRP is one line of a VRP csv file. TA is empty when the file has no
// trust anchor column.
type VRP struct {
	ASN       uint32
	Prefix    netip.Prefix
	MaxLength int
	TA        string
}

// String returns the VRP as a line of Routinator's csv format, without
// the trust anchor column when TA is empty.
func (v VRP) String() string {
	s := fmt.Sprintf("AS%d,%s,%d", v.ASN, v.Prefix, v.MaxLength)
	if v.TA != "" {
		s += "," + v.TA
	}
	return s
}

func compareVRPs(a, b VRP) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()),
		cmp.Compare(a.MaxLength, b.MaxLength),
		cmp.Compare(a.ASN, b.ASN),
		strings.Compare(a.TA, b.TA),
	)
}

// VRPFile is a parsed VRP csv file.
type VRPFile struct {
	// VRPs are sorted and unique.
	VRPs []VRP
	// HasTA tells whether the file names trust anchors.
	HasTA bool
}

// ReadVRPs reads a VRP csv file in any of the formats the programs
// write: Routinator's (ASN,IP Prefix,Max Length,Trust Anchor), which
// rovd and the world's truth use, rpki-client's (the same plus Expires)
// and FORT's (ASN,Prefix,Max prefix length, no trust anchor). The first
// line is a header; ASNs may carry the "AS" prefix.
func ReadVRPs(path string) (*VRPFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	out := &VRPFile{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			cols := strings.Split(text, ",")
			if len(cols) < 3 || !strings.EqualFold(strings.TrimSpace(cols[0]), "ASN") {
				return nil, fmt.Errorf("%s: not a VRP csv file: header %q", path, text)
			}
			out.HasTA = len(cols) >= 4 && strings.EqualFold(strings.TrimSpace(cols[3]), "Trust Anchor")
			continue
		}
		if text == "" {
			continue
		}
		v, err := parseVRPLine(text, out.HasTA)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out.VRPs = append(out.VRPs, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	out.VRPs = sortVRPs(out.VRPs)
	return out, nil
}

func parseVRPLine(s string, hasTA bool) (VRP, error) {
	cols := strings.Split(s, ",")
	if len(cols) < 3 || (hasTA && len(cols) < 4) {
		return VRP{}, fmt.Errorf("short line %q", s)
	}
	asn, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(cols[0]), "AS"), 10, 32)
	if err != nil {
		return VRP{}, fmt.Errorf("ASN in %q: %w", s, err)
	}
	pfx, err := netip.ParsePrefix(strings.TrimSpace(cols[1]))
	if err != nil {
		return VRP{}, fmt.Errorf("prefix in %q: %w", s, err)
	}
	ml, err := strconv.Atoi(strings.TrimSpace(cols[2]))
	if err != nil {
		return VRP{}, fmt.Errorf("max length in %q: %w", s, err)
	}
	v := VRP{ASN: uint32(asn), Prefix: pfx, MaxLength: ml}
	if hasTA {
		v.TA = strings.TrimSpace(cols[3])
	}
	return v, nil
}

func sortVRPs(v []VRP) []VRP {
	slices.SortFunc(v, compareVRPs)
	return slices.Compact(v)
}

// Comparison is a program's VRP set against the ground truth.
type Comparison struct {
	// VRPs is the number of unique VRPs the program output, Truth the
	// number in the ground truth (both without trust anchors if
	// IgnoreTA).
	VRPs  int `json:"vrps"`
	Truth int `json:"truth"`
	// Missing are in the truth but not in the output, Extra the other
	// way round.
	Missing int `json:"missing"`
	Extra   int `json:"extra"`
	// IgnoreTA is set when trust anchors were left out of the
	// comparison: the program writes none, or names them differently.
	IgnoreTA bool `json:"ignoreTA,omitempty"`
	// Examples holds up to a few missing ("-") and extra ("+") lines.
	Examples []string `json:"examples,omitempty"`
}

// maxExamples bounds Comparison.Examples: enough to recognise a pattern
// in report.md, not a dump.
const maxExamples = 6

// Compare compares a program's output with the truth. Trust anchors are
// compared only when the output names them with names the truth knows;
// otherwise both sides drop them, since a program may name a trust
// anchor after anything (FORT writes no column at all).
func Compare(got, truth *VRPFile) Comparison {
	ignore := !got.HasTA || !truth.HasTA
	if !ignore {
		known := map[string]bool{}
		for _, v := range truth.VRPs {
			known[v.TA] = true
		}
		for _, v := range got.VRPs {
			if !known[v.TA] {
				ignore = true
				break
			}
		}
	}
	g, t := got.VRPs, truth.VRPs
	if ignore {
		g, t = withoutTA(g), withoutTA(t)
	}
	c := Comparison{VRPs: len(g), Truth: len(t), IgnoreTA: ignore}
	// Both are sorted and unique: one merge finds the differences.
	i, j := 0, 0
	for i < len(g) || j < len(t) {
		var d int
		switch {
		case i == len(g):
			d = 1
		case j == len(t):
			d = -1
		default:
			d = compareVRPs(g[i], t[j])
		}
		switch {
		case d == 0:
			i++
			j++
		case d < 0:
			c.Extra++
			if len(c.Examples) < maxExamples {
				c.Examples = append(c.Examples, "+"+g[i].String())
			}
			i++
		default:
			c.Missing++
			if len(c.Examples) < maxExamples {
				c.Examples = append(c.Examples, "-"+t[j].String())
			}
			j++
		}
	}
	return c
}

func withoutTA(v []VRP) []VRP {
	out := make([]VRP, len(v))
	for i, x := range v {
		x.TA = ""
		out[i] = x
	}
	return sortVRPs(out)
}
