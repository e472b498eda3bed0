package harness

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/rovd/rovd/bench/world"
)

// Scale is a world size relative to the preset's, a fraction Num/Den in
// lowest terms.
type Scale struct {
	Num, Den int64
}

// FullScale is the preset's own size.
var FullScale = Scale{1, 1}

// maxScaleTerm bounds the numerator and denominator of a scale: sizes
// are fractions such as 1/8, and a world is at most a few times the
// preset's.
const maxScaleTerm = 1 << 20

// ParseScale parses a size relative to the preset: a fraction ("1/8"),
// a decimal ("0.125") or a whole number ("1", "2").
func ParseScale(s string) (Scale, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || r.Sign() <= 0 {
		return Scale{}, fmt.Errorf("scale %q: want a positive fraction such as 1/8", s)
	}
	if !r.Num().IsInt64() || !r.Denom().IsInt64() || r.Num().Int64() > maxScaleTerm || r.Denom().Int64() > maxScaleTerm {
		return Scale{}, fmt.Errorf("scale %q: too fine or too large", s)
	}
	return Scale{r.Num().Int64(), r.Denom().Int64()}, nil
}

// ParseScales parses a comma-separated list of sizes.
func ParseScales(list []string) ([]Scale, error) {
	var out []Scale
	for _, s := range list {
		for f := range strings.SplitSeq(s, ",") {
			sc, err := ParseScale(f)
			if err != nil {
				return nil, err
			}
			out = append(out, sc)
		}
	}
	return out, nil
}

func (s Scale) valid() bool { return s.Num > 0 && s.Den > 0 }

// IsFull tells whether s is the preset's size.
func (s Scale) IsFull() bool { return s.Num == s.Den }

// Float returns s as a number.
func (s Scale) Float() float64 { return float64(s.Num) / float64(s.Den) }

// String returns "NUM/DEN", or "NUM" for a whole number.
func (s Scale) String() string {
	if s.Den == 1 {
		return strconv.FormatInt(s.Num, 10)
	}
	return fmt.Sprintf("%d/%d", s.Num, s.Den)
}

// DirName is the size's directory under DIR/worlds: "1-8" for 1/8.
func (s Scale) DirName() string { return strings.ReplaceAll(s.String(), "/", "-") }

// sortScales sorts sizes from the smallest and drops repeats.
func sortScales(s []Scale) []Scale {
	s = slices.Clone(s)
	slices.SortFunc(s, compareScale)
	return slices.CompactFunc(s, func(a, b Scale) bool { return compareScale(a, b) == 0 })
}

// Config derives the world of size s from the preset's configuration
// base, with the repositories repos (those of the preset's world as
// built, so that both are served on the same addresses). The CA tree
// keeps its depth and the width below the first level; the number of
// children of each trust anchor is scaled, and with it the number of
// CAs, objects and VRPs, all nearly in proportion (ExpectedCAs). The
// faults are scaled too, but never below one of each kind while the
// preset has that many, so that every kind stays in the comparison.
func (s Scale) Config(base world.Config, repos []world.Repository) world.Config {
	c := base
	c.Repositories = slices.Clone(repos)
	if s.IsFull() {
		return c
	}
	top := base.TopWidth
	if top <= 0 {
		top = base.Width
	}
	c.TopWidth = max(1, int(math.Round(float64(top)*s.Float())))
	c.Faults = max(int(math.Round(float64(base.Faults)*s.Float())), min(base.Faults, len(world.FaultKinds)))
	return c
}
