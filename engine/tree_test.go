package engine

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// sampleTreeWalk is a walk with a small recorded tree: a trust anchor, a
// child CA with a grandchild, and a volatile child.
func sampleTreeWalk() (*walk, []*liveNode) {
	e := &Engine{opt: DefaultOptions()}
	w := &walk{e: e, stamps: map[string]store.Stamp{"https://rrdp/n.xml": {Gen: 3, Seq: 9}}}
	res := rpki.Resources{IPv4: rpki.IPSet{Ranges: []rpki.IPRange{{Min: netip.MustParseAddr("10.0.0.0"), Max: netip.MustParseAddr("10.255.255.255")}}}}
	node := func(cert, caRepo string, volatile bool) *liveNode {
		return &liveNode{data: nodeData{volatile: volatile, certURI: cert, caRepo: caRepo, manifest: caRepo + "m.mft",
			notify: "https://rrdp/n.xml", repo: "https://rrdp/n.xml", reportRepo: "https://rrdp/n.xml",
			fp: [32]byte{byte(len(cert))}, from: 100, until: 200, nvrps: 3, stale: 1,
			counts:    []cachedCount{{kind: "roa", valid: true, n: 3}, {kind: "crl", valid: false, n: 1}},
			findings:  []Finding{{Level: slog.LevelWarn, URI: caRepo + "x.roa", Stage: "decode", Ref: "RFC 9582", Msg: "broken"}},
			resources: res}}
	}
	ta := node("ta-1", "rsync://h/m/ta/", false)
	child := node("rsync://h/m/ta/c.cer", "rsync://h/m/c/", false)
	grand := node("rsync://h/m/c/g.cer", "rsync://h/other/g/", false)
	gone := node("rsync://elsewhere/x.cer", "rsync://h/m/x/", true)
	child.children = []*liveNode{grand}
	ta.children = []*liveNode{child, gone}
	return w, []*liveNode{ta}
}

// renderTree lists a decoded tree's nodes with everything they hold.
func renderTree(p *prevTree) []string {
	var out []string
	for i := range p.nodes {
		n := &p.nodes[i]
		cert := n.certName
		if n.flags&nodeCertFull == 0 && n.parent >= 0 {
			cert = p.nodes[n.parent].caRepo + cert
		}
		d := &decoder{b: []byte(n.resources)}
		res := d.resources()
		var counts []string
		for _, c := range n.counts {
			counts = append(counts, fmt.Sprintf("%s/%v/%d", p.strs[c.kind], c.valid, c.n))
		}
		out = append(out, fmt.Sprintf("%d parent=%d volatile=%v cert=%s mft=%s repo=%s/%s/%s fp=%x window=%d-%d vrps=%d stale=%d counts=%v findings=%v res=%v",
			i, n.parent, n.flags&nodeVolatile != 0, cert, n.manifest(), p.strs[n.notify], p.strs[n.repo], p.strs[n.reportRepo],
			n.fp[:2], n.from, n.until, n.nvrps, n.stale, counts, n.findings, res.IPv4.Ranges))
	}
	return out
}

func TestTreeRoundTrip(t *testing.T) {
	w, roots := sampleTreeWalk()
	rec := encodeTree(w, roots)
	p := &prevTree{}
	if err := p.decode(rec, w.e.treeSettings()); err != nil {
		t.Fatal(err)
	}
	got := renderTree(p)
	if len(got) != 4 || p.roots["ta-1"] != 0 || p.stamps["https://rrdp/n.xml"] != (store.Stamp{Gen: 3, Seq: 9}) {
		t.Fatalf("decoded %d nodes, roots %v, stamps %v", len(got), p.roots, p.stamps)
	}
	for _, want := range []string{"cert=rsync://h/m/c/g.cer mft=rsync://h/other/g/m.mft", "parent=0 volatile=true cert=rsync://elsewhere/x.cer"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("no node with %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	if i := p.child(0, "rsync://h/m/ta/c.cer"); i != 1 || p.child(i, "rsync://h/m/c/g.cer") != 2 || p.child(0, "rsync://h/m/ta/none.cer") != -1 {
		t.Errorf("child lookups went wrong")
	}

	// A run that carries everything over writes the same tree.
	w.prev = p
	again := encodeTree(w, []*liveNode{{carried: 1}})
	q := &prevTree{}
	if err := q.decode(again, w.e.treeSettings()); err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(renderTree(q), "\n"), strings.Join(got, "\n"); a != b {
		t.Errorf("carried tree differs:\n%s\nwant\n%s", a, b)
	}
	// Other settings do not read it.
	w.e.opt.MaxCADepth++
	if err := q.decode(again, w.e.treeSettings()); err == nil {
		t.Error("a tree for other settings was read")
	}
}

// FuzzTreeRecord feeds damaged tree records to the decoder: the record
// comes from a file on disk, and a bad one must be refused, never a crash.
func FuzzTreeRecord(f *testing.F) {
	w, roots := sampleTreeWalk()
	f.Add(encodeTree(w, roots))
	settings := w.e.treeSettings()
	f.Fuzz(func(t *testing.T, rec []byte) {
		p := &prevTree{}
		if err := p.decode(rec, settings); err != nil {
			return
		}
		first := renderTree(p)
		var carried []*liveNode
		for _, i := range p.roots {
			carried = append(carried, &liveNode{carried: i + 1})
		}
		w := &walk{e: w.e, prev: p, stamps: p.stamps}
		q := &prevTree{}
		if err := q.decode(encodeTree(w, carried), settings); err != nil {
			t.Fatalf("re-encoded tree does not decode: %v", err)
		}
		if len(renderTree(q)) > len(first) {
			t.Fatalf("re-encoded tree grew from %d to %d nodes", len(first), len(renderTree(q)))
		}
	})
}
