package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine"
)

// expectUnder returns the VRPs the world's truth gives under a policy
// value other than the default: every fault whose effect that option
// changes gives back what it removed by default and removes what it
// removes under the option instead.
func expectUnder(truth *world.Truth, option string, same func(string) bool) []string {
	vrps := slices.Clone(truth.VRPs)
	for _, f := range truth.Faults {
		name, value, _ := strings.Cut(f.Policy, "=")
		if name != option || !same(value) {
			continue
		}
		vrps = append(vrps, f.Removes.VRPs...)
		if f.PolicyRemoves != nil {
			drop := map[string]bool{}
			for _, v := range f.PolicyRemoves.VRPs {
				drop[v.String()] = true
			}
			vrps = slices.DeleteFunc(vrps, func(v world.VRP) bool { return drop[v.String()] })
		}
	}
	return truthVRPs(vrps)
}

// TestPolicies validates the small world under every non-default value
// of the manual's policies and checks each against the truth.
func TestPolicies(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	truth := &bw.w.Truth
	unsafe := map[string]bool{}
	for _, v := range truth.Unsafe {
		unsafe[v.String()] = true
	}
	withoutUnsafe := truthVRPs(slices.DeleteFunc(slices.Clone(truth.VRPs), func(v world.VRP) bool { return unsafe[v.String()] }))

	tests := []struct {
		name   string
		change func(*engine.Options)
		want   []string
	}{
		{"stale=warn", func(o *engine.Options) { o.Stale = engine.Warn }, expectUnder(truth, "stale", func(v string) bool { return v == "warn" })},
		// accept differs from warn only in logging.
		{"stale=accept", func(o *engine.Options) { o.Stale = engine.Accept }, expectUnder(truth, "stale", func(v string) bool { return v == "warn" })},
		{"unknown-objects=reject", func(o *engine.Options) { o.UnknownObjects = engine.Reject }, expectUnder(truth, "unknown-objects", func(v string) bool { return v == "reject" })},
		{"unknown-objects=accept", func(o *engine.Options) { o.UnknownObjects = engine.Accept }, truthVRPs(truth.VRPs)},
		{"unsafe-vrps=reject", func(o *engine.Options) { o.UnsafeVRPs = engine.Reject }, withoutUnsafe},
		{"unsafe-vrps=accept", func(o *engine.Options) { o.UnsafeVRPs = engine.Accept }, truthVRPs(truth.VRPs)},
		{"strict", func(o *engine.Options) { o.Strict = true }, truthVRPs(truth.VRPs)},
	}
	if len(tests[0].want) == len(truthVRPs(truth.VRPs)) || len(tests[2].want) == len(truthVRPs(truth.VRPs)) || len(withoutUnsafe) == len(truthVRPs(truth.VRPs)) {
		t.Fatal("the world's faults do not exercise the policies")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runEngine(t, st, bw, tc.change)
			diffLines(t, "VRPs", vrpLines(res.Set), tc.want)
		})
	}
}

// TestPolicyLogging checks the levels the manual gives: invalid objects
// and rejected points at warn, stale objects accepted silently under
// accept, and unsafe VRPs not at warn while the filter is off.
func TestPolicyLogging(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	for _, tc := range []struct {
		name    string
		change  func(*engine.Options)
		want    string // a warning that must be there
		notWant string // text no warning may have
	}{
		{"default", nil, "publication point rejected", "unsafe"},
		{"stale=warn", func(o *engine.Options) { o.Stale = engine.Warn }, "stale manifest accepted", ""},
		{"stale=accept", func(o *engine.Options) { o.Stale = engine.Accept }, "signature", "stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runEngine(t, st, bw, tc.change)
			var warns []string
			for _, f := range res.Report.Findings {
				if f.Level.String() == "WARN" {
					warns = append(warns, f.Msg)
				}
			}
			all := strings.Join(warns, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("no warning with %q among %d", tc.want, len(warns))
			}
			if tc.notWant != "" && strings.Contains(all, tc.notWant) {
				t.Errorf("a warning mentions %q:\n%s", tc.notWant, all)
			}
		})
	}
}
