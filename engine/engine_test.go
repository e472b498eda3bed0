package engine_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/store"
)

// smallWorld is the small preset with every fault, built once per test
// binary: generating it signs some thousand objects.
var smallWorld = sync.OnceValues(func() (*builtWorld, error) {
	cfg, err := world.Preset("small")
	if err != nil {
		return nil, err
	}
	cfg.Now = time.Now().Truncate(time.Second)
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	w, err := world.Build(context.Background(), cfg, dir)
	if err != nil {
		return nil, err
	}
	return &builtWorld{dir: dir, w: w}, nil
})

type builtWorld struct {
	dir string
	w   *world.World
}

// importWorld loads the world's rsync tree into a new store.
func importWorld(t *testing.T, bw *builtWorld) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, skipped, err := st.ImportDir(filepath.Join(bw.dir, "rsync"), 0); err != nil || len(skipped) > 0 {
		t.Fatalf("import: %v, skipped %v", err, skipped)
	}
	return st
}

func runEngine(t *testing.T, st *store.Store, bw *builtWorld, change func(*engine.Options)) *engine.Result {
	t.Helper()
	return validate(t, st, filepath.Join(bw.dir, "tals"), bw.w.Config.Now, change)
}

// validate runs the engine once over st, offline.
func validate(t testing.TB, st *store.Store, talDir string, at time.Time, change func(*engine.Options)) *engine.Result {
	t.Helper()
	opt := engine.DefaultOptions()
	opt.TALDir = talDir
	opt.Time = at
	if change != nil {
		change(&opt)
	}
	e, err := engine.New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), engine.NewStoreCollector(st))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func vrpLines(s *payload.Set) []string {
	var out []string
	for i, v := range s.VRPs() {
		out = append(out, fmt.Sprintf("AS%d,%s,%d,%s", v.ASN, v.Prefix, v.MaxLength, s.VRPSources(i)[0].TA))
	}
	slices.Sort(out)
	return out
}

func truthVRPs(vs []world.VRP) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("AS%d,%s,%d,%s", v.ASN, v.Prefix, v.MaxLength, v.TA))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func aspaLines(s *payload.Set) []string {
	var out []string
	for i, a := range s.ASPAs() {
		out = append(out, fmt.Sprintf("AS%d:%v:%s", a.Customer, a.Providers, s.ASPASources(i)[0].TA))
	}
	slices.Sort(out)
	return out
}

func truthASPAs(as []world.ASPA) []string {
	var out []string
	for _, a := range as {
		p := slices.Clone(a.Providers)
		slices.Sort(p)
		out = append(out, fmt.Sprintf("AS%d:%v:%s", a.Customer, p, a.TA))
	}
	slices.Sort(out)
	return out
}

func keyLines(s *payload.Set) []string {
	var out []string
	for i, k := range s.RouterKeys() {
		out = append(out, fmt.Sprintf("AS%d:%X:%s:%s", k.ASN, k.SKI, base64.StdEncoding.EncodeToString(k.SPKI), s.RouterKeySources(i)[0].TA))
	}
	slices.Sort(out)
	return out
}

func truthKeys(ks []world.RouterKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("AS%d:%s:%s:%s", k.ASN, k.SKI, k.SPKI, k.TA))
	}
	slices.Sort(out)
	return out
}

// diffLines reports what one sorted list has that the other lacks.
func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	var missing, extra []string
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || (i < len(got) && got[i] < want[j]):
			extra = append(extra, got[i])
			i++
		case i == len(got) || want[j] < got[i]:
			missing = append(missing, want[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s: %d missing, %d extra (of %d expected)\nmissing: %s\nextra: %s", what, len(missing), len(extra), len(want),
			strings.Join(head(missing), " "), strings.Join(head(extra), " "))
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// TestSmallWorldTruth validates the small world with every fault kind
// under default policies and checks the result against its ground truth.
func TestSmallWorldTruth(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	res := runEngine(t, st, bw, nil)
	truth := bw.w.Truth
	diffLines(t, "VRPs", vrpLines(res.Set), truthVRPs(truth.VRPs))
	diffLines(t, "ASPAs", aspaLines(res.Set), truthASPAs(truth.ASPAs))
	diffLines(t, "router keys", keyLines(res.Set), truthKeys(truth.RouterKeys))
	var unsafe []string
	for _, v := range res.Unsafe {
		unsafe = append(unsafe, fmt.Sprintf("AS%d,%s,%d", v.ASN, v.Prefix, v.MaxLength))
	}
	var wantUnsafe []string
	for _, v := range truth.Unsafe {
		wantUnsafe = append(wantUnsafe, fmt.Sprintf("AS%d,%s,%d", v.ASN, v.Prefix, v.MaxLength))
	}
	slices.Sort(unsafe)
	slices.Sort(wantUnsafe)
	diffLines(t, "unsafe VRPs", unsafe, slices.Compact(wantUnsafe))
	t.Logf("%d VRPs, %d ASPAs, %d router keys, %d findings, counts %+v", len(res.Set.VRPs()), len(res.Set.ASPAs()), len(res.Set.RouterKeys()), len(res.Report.Findings), res.Report.Counts)
}

func tempDir() (string, error) { return os.MkdirTemp("", "rovd-engine-test-") }

// TestTALLabel checks that tal-label renames a trust anchor in the
// payload's sources.
func TestTALLabel(t *testing.T) {
	bw, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	st := importWorld(t, bw)
	res := runEngine(t, st, bw, func(o *engine.Options) { o.TALLabels = map[string]string{"ta-1": "RIPE NCC"} })
	seen := map[string]int{}
	for i := range res.Set.VRPs() {
		seen[res.Set.VRPSources(i)[0].TA]++
	}
	if seen["RIPE NCC"] == 0 || seen["ta-2"] == 0 || seen["ta-1"] != 0 {
		t.Errorf("trust anchors of the VRPs: %v", seen)
	}
}
