package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// The run tree. The validation cache spares a reused point its
// cryptography, but a run that looks every point up in it still pays a
// few store reads per point, which for the whole RPKI is most of an
// incremental run. So each run also records its tree in one record: per
// CA, its parent, what its point depended on (fingerprint, validity
// window, repository and directories) and what it gave (counts,
// findings, the number of VRPs, the CA's effective resources).
//
// A run that builds no payload set (Engine.Update) first fetches every
// repository the last tree used, then marks dirty each point whose
// repository did not fetch cleanly, whose directories changed since the
// tree's stamp of its repository, whose window no longer holds, or
// that did not validate from its latest data; every ancestor of a dirty
// point is to be visited as well. The walk then visits the marked points
// as usual and, for a child CA whose point is not marked and whose
// context is unchanged (the same fingerprint), carries over the child's
// whole subtree from the record: its counts, findings and used
// repositories and points go into this run's report without a single
// store read. A run with a payload set visits every point, since it
// needs every point's payload, and records its tree for the next run.

// treeRecord is the store record that holds the last run's tree.
const treeRecord = "engine/run-tree"

// treeVersion changes with the encoding; cacheVersion is part of the
// record's settings too, since the tree stands on cache entries.
const treeVersion = 1

// Node flags.
const (
	nodeVolatile = 1 << iota // validated in full every run: never carried
	nodeCertFull             // certName is the whole URI, not relative to the parent's caRepo
	nodeMftFull              // mftName is the whole URI, not relative to caRepo
)

// treeNode is one CA of a recorded run. Its strings are slices of the
// record, read once per run.
type treeNode struct {
	parent, firstChild, nextSibling int32 // -1 for none
	flags                           uint8
	// certName is the CA certificate's URI relative to its parent's
	// caRepo, or the TAL name of a trust anchor.
	certName, caRepo, mftName string
	notify, repo, reportRepo  int32 // in the record's string table
	fp                        [32]byte
	from, until               int64
	nvrps, stale              int
	counts                    []treeCount
	findings                  []Finding
	resources                 string // encoded, read only when needed
}

// treeCount is a cachedCount with the kind in the string table.
type treeCount struct {
	kind  int32
	valid bool
	n     int
}

func (n *treeNode) manifest() string {
	if n.flags&nodeMftFull != 0 {
		return n.mftName
	}
	return n.caRepo + n.mftName
}

// prevTree is the last run's tree, as the current run uses it.
type prevTree struct {
	size   int // of the record
	strs   []string
	stamps map[string]store.Stamp // by repository key
	nodes  []treeNode
	roots  map[string]int32 // by TAL name

	// Set by prepare, which ready closes.
	ready     chan struct{}
	mustVisit []bool
	usable    bool
}

// treeSettings hashes the options a tree depends on beyond what each
// point's fingerprint holds.
func (e *Engine) treeSettings() [32]byte {
	b := []byte{treeVersion, cacheVersion}
	b = binary.AppendUvarint(b, uint64(e.opt.MaxCADepth))
	b = binary.AppendUvarint(b, uint64(e.opt.MaxReposPerTA))
	return sha256.Sum256(b)
}

// load reads the last run's tree into p and reports whether there is
// one that fits this engine's settings.
func (p *prevTree) load(e *Engine) bool {
	var err error
	found := false
	_ = e.store.View(func(v *store.View) error { // no tree is no loss
		// Decoded in the view, from the store's mapping: the record is
		// copied once, into the strings the tree keeps.
		if b := v.Record(treeRecord); len(b) > 0 {
			found = true
			err = p.decode(b, e.treeSettings())
		}
		return nil
	})
	if err != nil {
		e.log.Debug("run tree not used", "err", err)
	}
	return found && err == nil
}

// fetchKey is a repository as the last run fetched it: CAs with the
// same rpkiNotify that ended up in the same store repository get the same
// answer from a collector.
type fetchKey struct{ notify, repo int32 }

// prepare reads the last run's tree, fetches its repositories and marks
// the points to visit, while the trust anchors are fetched; it closes
// p.ready when done. A run without a tree it can use (none, or a change
// log that does not reach back far enough) visits every point.
func (w *walk) prepare(ctx context.Context, p *prevTree) {
	defer close(p.ready)
	if !p.load(w.e) {
		return
	}
	caRepo := map[fetchKey]string{}
	for i := range p.nodes {
		n := &p.nodes[i]
		if n.flags&nodeVolatile == 0 && n.parent >= 0 {
			k := fetchKey{n.notify, n.repo}
			if _, ok := caRepo[k]; !ok {
				caRepo[k] = n.caRepo
			}
		}
	}
	start := time.Now()
	// A repository is clean when asking for it failed in nothing: its
	// points then stand on what the store holds, which the changelog
	// below tells apart. Data that is not fresh (-n fetches nothing) is
	// as good as fresh data here.
	type answer struct {
		repo  string
		clean bool
	}
	answers := make(map[fetchKey]answer, len(caRepo))
	var mu sync.Mutex
	keys := make(chan fetchKey)
	var wg sync.WaitGroup
	for range min(fetchWorkers, len(caRepo)) {
		wg.Go(func() {
			for k := range keys {
				repo, fresh, err := w.coll.Fetch(ctx, p.strs[k.notify], caRepo[k])
				mu.Lock()
				answers[k] = answer{repo: repo, clean: err == nil}
				mu.Unlock()
				if err == nil && !fresh {
					w.noteNotFresh(repo)
				}
			}
		})
	}
	for k := range caRepo {
		keys <- k
	}
	close(keys)
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	// What changed since each repository's stamp, as of now: the walk
	// reads nothing older.
	dirSeq := map[string]uint64{}
	gens := map[string]uint64{}
	ok := false
	oldest := uint64(math.MaxUint64)
	for _, st := range p.stamps {
		oldest = min(oldest, st.Seq)
	}
	err := w.e.store.View(func(v *store.View) error {
		for repo := range p.stamps {
			gens[repo] = v.Stamp(repo).Gen
		}
		if oldest == math.MaxUint64 {
			oldest = v.ChangeSeq()
		}
		ok = v.ChangedSince(oldest, func(seq uint64, dir string) { dirSeq[dir] = seq })
		for repo := range p.stamps {
			w.noteStamp(repo, v)
		}
		return nil
	})
	if err != nil || !ok {
		return
	}
	dirty := func(n *treeNode) bool {
		if n.flags&nodeVolatile != 0 || n.parent < 0 {
			return true
		}
		at := w.at.Unix()
		if at < n.from || at >= n.until {
			return true
		}
		repo := p.strs[n.repo]
		if a := answers[fetchKey{n.notify, n.repo}]; !a.clean || a.repo != repo {
			return true
		}
		st, ok := p.stamps[repo]
		if !ok || gens[repo] != st.Gen {
			return true
		}
		if len(dirSeq) == 0 {
			return false
		}
		mft := n.manifest()
		return dirSeq[n.caRepo] > st.Seq || dirSeq[mft[:strings.LastIndexByte(mft, '/')+1]] > st.Seq
	}
	p.mustVisit = make([]bool, len(p.nodes))
	// Children come after their parents in the record.
	for i := len(p.nodes) - 1; i >= 0; i-- {
		n := &p.nodes[i]
		if !p.mustVisit[i] && !dirty(n) {
			continue
		}
		p.mustVisit[i] = true
		if n.parent >= 0 {
			p.mustVisit[n.parent] = true
		}
	}
	p.usable = true
	visit := 0
	for _, v := range p.mustVisit {
		if v {
			visit++
		}
	}
	w.e.log.Debug("last run's tree read", "bytes", p.size, "points", len(p.nodes), "to-visit", visit, "repositories", len(caRepo),
		"changed-directories", len(dirSeq), "elapsed", time.Since(start))
}

// root returns the node of the trust anchor of TAL name, or -1. It waits
// for the tree.
func (p *prevTree) root(name string) int32 {
	<-p.ready
	if i, ok := p.roots[name]; ok && p.usable {
		return i
	}
	return -1
}

// child returns the node of parent's child CA certURI, or -1.
func (p *prevTree) child(parent int32, certURI string) int32 {
	base := p.nodes[parent].caRepo
	for c := p.nodes[parent].firstChild; c >= 0; c = p.nodes[c].nextSibling {
		n := &p.nodes[c]
		if n.flags&nodeCertFull != 0 {
			if n.certName == certURI {
				return c
			}
		} else if len(certURI) == len(base)+len(n.certName) && strings.HasPrefix(certURI, base) && strings.HasSuffix(certURI, n.certName) {
			return c
		}
	}
	return -1
}

// carry takes child CA t's subtree over from the last run if nothing in
// it needs a visit and its context is unchanged, and reports whether it
// did. prev is the node t had in the last run.
func (w *walk) carry(t *task, prev int32, up *liveNode) bool {
	p := w.prev
	<-p.ready
	if !p.usable || p.mustVisit[prev] {
		return false
	}
	n := &p.nodes[prev]
	t.repo = p.strs[n.repo]
	fp := w.fingerprint(t, t.cert.AsIssuer(t.parent, t.certURI))
	t.repo = ""
	if fp != n.fp {
		return false
	}
	up.add(&liveNode{carried: prev + 1})

	// The subtree's points, depth first.
	var c Counts
	byRepo := map[int32]*RepoCounts{}
	sum := &pointLog{ta: t.ta.label}
	var points []string
	stack := []int32{prev}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &p.nodes[i]
		for k := n.firstChild; k >= 0; k = p.nodes[k].nextSibling {
			stack = append(stack, k)
		}
		mft := n.manifest()
		points = append(points, mft)
		t.ta.addRepo(p.strs[n.reportRepo], math.MaxInt)
		c.CAs++
		c.PointsValid++
		rc := byRepo[n.reportRepo]
		if rc == nil {
			rc = &RepoCounts{}
			byRepo[n.reportRepo] = rc
		}
		rc.PointsValid++
		rc.VRPs += n.nvrps
		log := sum
		if len(n.findings) > 0 {
			// Findings are logged per point, as a visit would.
			log = &pointLog{point: mft, ta: t.ta.label}
			for _, f := range n.findings {
				f.Point = mft
				log.findings = append(log.findings, f)
			}
		}
		for _, k := range n.counts {
			log.countN(p.strs[k.kind], k.valid, k.n)
		}
		log.stale += n.stale
		if log != sum {
			w.report.flush(w.e.log, log)
		}
	}
	w.report.flush(w.e.log, sum)
	w.report.update(func(rc *Counts) {
		rc.CAs += c.CAs
		rc.PointsValid += c.PointsValid
		for k, n := range byRepo {
			r := rc.repo(p.strs[k])
			r.PointsValid += n.PointsValid
			r.VRPs += n.VRPs
		}
	})
	w.cacheHits.Add(int64(c.PointsValid))
	w.mu.Lock()
	for _, mft := range points {
		w.used.Points[mft] = true
	}
	w.carried = append(w.carried, carriedTree{root: prev, ta: t.ta})
	w.mu.Unlock()
	return true
}

// carriedTree is a subtree a run took over from the last one.
type carriedTree struct {
	root int32
	ta   *trustAnchor
}

// carriedUse adds the repositories of the carried subtrees to u.
func (w *walk) carriedUse() {
	for _, ct := range w.carried {
		w.prev.subtree(ct.root, func(_ int32, n *treeNode) {
			w.used.Repos[w.prev.strs[n.repo]] = true
		})
	}
}

// subtree calls fn with every node of the subtree at root.
func (p *prevTree) subtree(root int32, fn func(i int32, n *treeNode)) {
	stack := []int32{root}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &p.nodes[i]
		fn(i, n)
		for k := n.firstChild; k >= 0; k = p.nodes[k].nextSibling {
			stack = append(stack, k)
		}
	}
}

// carriedUnread notes the carried points whose CA holds some of the
// address ranges v4 and v6 (those of rejected CAs) as read without their
// payload: the unsafe VRP filter must read it.
func (w *walk) carriedUnread(v4, v6 []rpki.IPRange) {
	for _, ct := range w.carried {
		w.prev.subtree(ct.root, func(_ int32, n *treeNode) {
			d := &decoder{b: []byte(n.resources)}
			res := d.resources()
			if d.err != nil || !anyOverlaps(res.IPv4.Ranges, v4) && !anyOverlaps(res.IPv6.Ranges, v6) {
				return
			}
			t := &task{ta: ct.ta, certURI: n.certName, repo: w.prev.strs[n.repo],
				cert: &rpki.Certificate{Kind: rpki.CertCA, CARepository: n.caRepo, Manifest: n.manifest()}}
			w.unread = append(w.unread, unreadPoint{t: t, iss: &rpki.Issuer{Resources: res}, fp: n.fp})
		})
	}
}

// liveNode is a CA of the current run, for the tree it records.
type liveNode struct {
	mu       sync.Mutex
	children []*liveNode
	// carried is 1 + the node in the last tree whose subtree this is,
	// or 0 for a CA visited in this run, described by data.
	carried int32
	data    nodeData
}

// nodeData is what a visited CA records.
type nodeData struct {
	volatile                  bool
	certURI, caRepo, manifest string
	notify, repo, reportRepo  string
	fp                        [32]byte
	from, until               int64
	nvrps, stale              int
	counts                    []cachedCount
	findings                  []Finding
	resources                 rpki.Resources
}

func (n *liveNode) add(c *liveNode) {
	n.mu.Lock()
	n.children = append(n.children, c)
	n.mu.Unlock()
}

// noteStamp records the stamp of repository repo as the run's for the
// next run's tree, unless one is recorded: the earliest state the run
// may have read counts.
func (w *walk) noteStamp(repo string, v *store.View) {
	w.stampMu.Lock()
	defer w.stampMu.Unlock()
	if _, ok := w.stamps[repo]; !ok {
		w.stamps[repo] = v.Stamp(repo)
	}
}

// treeEncoder writes a tree record.
type treeEncoder struct {
	strs  []string
	ids   map[string]uint64
	nodes []byte
	count uint64
	// prevIDs maps the last tree's string numbers to this one's, plus
	// one (0: not yet numbered), so that carried nodes need no lookup by
	// string.
	prevIDs []uint64
}

func (e *treeEncoder) id(s string) uint64 {
	if i, ok := e.ids[s]; ok {
		return i
	}
	i := uint64(len(e.strs))
	e.ids[s] = i
	e.strs = append(e.strs, s)
	return i
}

// The record: version, settings hash, string table, repository stamps,
// then the nodes in depth-first order, each with the distance back to
// its parent (0 for a trust anchor).

func encodeTree(w *walk, roots []*liveNode) []byte {
	e := &treeEncoder{ids: map[string]uint64{}}
	if w.prev != nil {
		// Most of a run's tree is usually the last one's.
		e.nodes = make([]byte, 0, w.prev.size+w.prev.size/8)
		e.prevIDs = make([]uint64, len(w.prev.strs))
	}
	type item struct {
		n        *liveNode
		parent   uint64 // index + 1
		parentCA string
	}
	var stack []item
	for i := len(roots) - 1; i >= 0; i-- {
		stack = append(stack, item{n: roots[i]})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.n.carried > 0 {
			e.copySubtree(w.prev, it.n.carried-1, it.parent, it.parentCA)
			continue
		}
		self := e.count + 1
		d := &it.n.data
		e.node(it.parent, d, it.parentCA)
		for i := len(it.n.children) - 1; i >= 0; i-- {
			stack = append(stack, item{n: it.n.children[i], parent: self, parentCA: d.caRepo})
		}
	}
	settings := w.e.treeSettings()
	b := []byte{treeVersion}
	b = append(b, settings[:]...)
	// Stamps before the string table is written: they add to it.
	var stamps []byte
	stamps = binary.AppendUvarint(stamps, uint64(len(w.stamps)))
	for repo, st := range w.stamps {
		stamps = binary.AppendUvarint(stamps, e.id(repo))
		stamps = binary.AppendUvarint(stamps, st.Gen)
		stamps = binary.AppendUvarint(stamps, st.Seq)
	}
	b = binary.AppendUvarint(b, uint64(len(e.strs)))
	for _, s := range e.strs {
		b = appendString(b, s)
	}
	b = append(b, stamps...)
	b = binary.AppendUvarint(b, e.count)
	return append(b, e.nodes...)
}

// node appends a visited CA.
func (e *treeEncoder) node(parent uint64, d *nodeData, parentCA string) {
	var flags uint8
	if d.volatile {
		flags |= nodeVolatile
	}
	cert, certFull := relative(d.certURI, parentCA)
	if certFull || parent == 0 {
		flags |= nodeCertFull
	}
	mft, mftFull := relative(d.manifest, d.caRepo)
	if mftFull {
		flags |= nodeMftFull
	}
	b := e.nodes
	b = e.header(b, parent, flags)
	b = appendString(b, cert)
	b = appendString(b, d.caRepo)
	b = appendString(b, mft)
	b = binary.AppendUvarint(b, e.id(d.notify))
	b = binary.AppendUvarint(b, e.id(d.repo))
	b = binary.AppendUvarint(b, e.id(d.reportRepo))
	b = append(b, d.fp[:]...)
	b = binary.AppendVarint(b, d.from)
	b = binary.AppendVarint(b, d.until)
	b = binary.AppendUvarint(b, uint64(d.nvrps))
	b = binary.AppendUvarint(b, uint64(d.stale))
	b = e.appendCounts(b, d.counts)
	b = appendFindings(b, d.findings)
	res := appendResources(nil, &d.resources)
	b = appendString(b, string(res))
	e.nodes = b
}

// prevID returns this tree's number of the last tree's string i.
func (e *treeEncoder) prevID(p *prevTree, i int32) uint64 {
	if id := e.prevIDs[i]; id > 0 {
		return id - 1
	}
	id := e.id(p.strs[i])
	e.prevIDs[i] = id + 1
	return id
}

// copySubtree appends the subtree at root of the last tree unchanged.
func (e *treeEncoder) copySubtree(p *prevTree, root int32, parent uint64, parentCA string) {
	var walkFrom func(i int32, parent uint64, parentCA string)
	// Depth first, as the record wants; recursion is bounded by the CA
	// depth limit.
	walkFrom = func(i int32, parent uint64, parentCA string) {
		n := &p.nodes[i]
		self := e.count + 1
		flags := n.flags
		cert := n.certName
		if flags&nodeCertFull == 0 && parent != 0 {
			// Relative to the old parent's caRepo, which the new one
			// has too unless the parent moved.
			oldBase := ""
			if n.parent >= 0 {
				oldBase = p.nodes[n.parent].caRepo
			}
			if oldBase != parentCA {
				cert, flags = oldBase+cert, flags|nodeCertFull
			}
		}
		b := e.header(e.nodes, parent, flags)
		b = appendString(b, cert)
		b = appendString(b, n.caRepo)
		b = appendString(b, n.mftName)
		b = binary.AppendUvarint(b, e.prevID(p, n.notify))
		b = binary.AppendUvarint(b, e.prevID(p, n.repo))
		b = binary.AppendUvarint(b, e.prevID(p, n.reportRepo))
		b = append(b, n.fp[:]...)
		b = binary.AppendVarint(b, n.from)
		b = binary.AppendVarint(b, n.until)
		b = binary.AppendUvarint(b, uint64(n.nvrps))
		b = binary.AppendUvarint(b, uint64(n.stale))
		b = binary.AppendUvarint(b, uint64(len(n.counts)))
		for _, c := range n.counts {
			b = binary.AppendUvarint(b, e.prevID(p, c.kind))
			b = append(b, boolByte(c.valid))
			b = binary.AppendUvarint(b, uint64(c.n))
		}
		b = appendFindings(b, n.findings)
		b = appendString(b, n.resources)
		e.nodes = b
		for k := n.firstChild; k >= 0; k = p.nodes[k].nextSibling {
			walkFrom(k, self, n.caRepo)
		}
	}
	walkFrom(root, parent, parentCA)
}

func (e *treeEncoder) header(b []byte, parent uint64, flags uint8) []byte {
	e.count++
	dist := uint64(0)
	if parent != 0 {
		dist = e.count - parent
	}
	b = binary.AppendUvarint(b, dist)
	return append(b, flags)
}

func (e *treeEncoder) appendCounts(b []byte, cs []cachedCount) []byte {
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = binary.AppendUvarint(b, e.id(c.kind))
		b = append(b, boolByte(c.valid))
		b = binary.AppendUvarint(b, uint64(c.n))
	}
	return b
}

func appendFindings(b []byte, fs []Finding) []byte {
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = binary.AppendVarint(b, int64(f.Level))
		b = appendString(b, f.URI)
		b = appendString(b, f.Stage)
		b = appendString(b, f.Ref)
		b = appendString(b, f.Msg)
	}
	return b
}

// relative returns uri relative to base if it lies below it, else uri
// and true.
func relative(uri, base string) (string, bool) {
	if base != "" && strings.HasPrefix(uri, base) {
		return uri[len(base):], false
	}
	return uri, true
}

// decode reads a tree record into p. Its strings alias one copy of b,
// which it does not keep.
func (p *prevTree) decode(b []byte, settings [32]byte) error {
	rec := string(b)
	d := &decoder{b: b}
	// Strings are cut from rec itself, at the decoder's offset.
	str := func() string {
		n := d.count()
		off := len(rec) - len(d.b)
		if d.bytes(n) == nil && n > 0 {
			return ""
		}
		return rec[off : off+n]
	}
	if d.byte() != treeVersion || d.hash() != settings {
		return errBadEntry
	}
	p.stamps, p.roots, p.size = map[string]store.Stamp{}, map[string]int32{}, len(rec)
	p.strs = make([]string, d.count())
	for i := range p.strs {
		p.strs[i] = str()
	}
	ref := func() int32 {
		i := d.uvarint()
		if i >= uint64(len(p.strs)) {
			d.fail()
			return 0
		}
		return int32(i)
	}
	for range d.count() {
		repo := ref()
		st := store.Stamp{Gen: d.uvarint(), Seq: d.uvarint()}
		if d.err != nil {
			break
		}
		p.stamps[p.strs[repo]] = st
	}
	p.nodes = make([]treeNode, d.count())
	last := make([]int32, len(p.nodes)) // last child so far, per node
	counts := make([]treeCount, 0, 4*len(p.nodes))
	for i := range p.nodes {
		n := &p.nodes[i]
		n.firstChild, n.nextSibling, last[i] = -1, -1, -1
		dist := d.uvarint()
		if dist > uint64(i) {
			d.fail()
			break
		}
		n.parent = int32(i) - int32(dist)
		if dist == 0 {
			n.parent = -1
		}
		n.flags = d.byte()
		n.certName, n.caRepo, n.mftName = str(), str(), str()
		n.notify, n.repo, n.reportRepo = ref(), ref(), ref()
		n.fp = d.hash()
		n.from, n.until = d.varint(), d.varint()
		n.nvrps, n.stale = int(d.uint32()), int(d.uint32())
		if k := d.count(); k > 0 {
			// One array for all: a few counts per node.
			start := len(counts)
			for range k {
				counts = append(counts, treeCount{kind: ref(), valid: d.byte() == 1, n: int(d.uint32())})
			}
			n.counts = counts[start:len(counts):len(counts)]
		}
		if k := d.count(); k > 0 {
			n.findings = make([]Finding, k)
			for j := range n.findings {
				n.findings[j] = Finding{Level: slog.Level(d.varint()), URI: str(), Stage: str(), Ref: str(), Msg: str()}
			}
		}
		n.resources = str()
		if d.err != nil {
			break
		}
		if n.parent < 0 {
			p.roots[n.certName] = int32(i)
		} else if l := last[n.parent]; l < 0 {
			p.nodes[n.parent].firstChild = int32(i)
			last[n.parent] = int32(i)
		} else {
			p.nodes[l].nextSibling = int32(i)
			last[n.parent] = int32(i)
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return errBadEntry
	}
	return nil
}

// record fills in what a CA whose point validated from its latest data
// gives the tree: the point's result beside the findings before
// ownFindings in log, which are the repository's.
func (d *nodeData) record(t *task, pt *pointResult, iss *rpki.Issuer, log *pointLog, ownFindings int) {
	d.volatile = false
	d.notify, d.repo, d.reportRepo = t.cert.Notify, t.repo, repositoryOf(t.cert)
	d.fp, d.from, d.until = pt.fp, pt.from, pt.until
	d.nvrps, d.stale = pt.nvrps, log.stale
	d.findings = append([]Finding(nil), log.findings[ownFindings:]...)
	for k, n := range log.valid {
		d.counts = append(d.counts, cachedCount{kind: k, valid: true, n: n})
	}
	for k, n := range log.invalid {
		d.counts = append(d.counts, cachedCount{kind: k, valid: false, n: n})
	}
	d.resources = iss.Resources
}
