package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// fetchWorkers is how many CAs wait for their repositories at once.
// Fetching is network-bound and the collector bounds its own
// parallelism, so this only needs to keep it busy.
const fetchWorkers = 32

// task is one CA to validate: a trust anchor (tal set, cert nil until
// fetched) or a CA certificate found at its parent's point.
type task struct {
	ta      *trustAnchor
	tal     *rpki.TAL
	certURI string
	cert    *rpki.Certificate // parsed from a private copy of its bytes
	// certHash is the SHA-256 of the certificate. A child of a point
	// that came from the cache is lazy: cert holds only what the cache
	// kept (URIs, validity, resources) until its own point needs the
	// whole certificate, which is then read from repository srcRepo.
	certHash [32]byte
	lazy     bool
	srcRepo  string
	parent   *rpki.Issuer // nil for a trust anchor
	depth    int
	chain    payload.Validity // the validity of the certificates above
	// up is the parent's node in the run's tree (nil for a trust
	// anchor); prevNode is 1 + the CA's node in the last run's tree, or
	// 0 if it has none.
	up       *liveNode
	prevNode int32

	// Filled in by the fetch stage.
	tooManyRepos bool
	repo         string
	fresh        bool
	fetchErr     error
}

// trustAnchor is the per-TAL state of a run.
type trustAnchor struct {
	name, label string
	mu          sync.Mutex
	repos       map[string]bool
}

// walk is one run's state.
type walk struct {
	e      *Engine
	coll   Collector
	at     time.Time
	mode   der.Mode
	report *Report

	fetchQ, validateQ queue[*task]
	pending           atomic.Int64

	mu         sync.Mutex
	rejected   []rpki.Resources // of rejected CAs, for unsafe VRPs
	repoErrors map[string]bool  // repositories whose failure is reported
	used       Used
	// keeps and cacheWrites wait to be written in a batch.
	keeps        []store.KeptPoint
	cacheWrites  []store.CacheEntry
	pendingBytes int
	cacheHits    atomic.Int64
	sigsReused   atomic.Int64
	builders     []*payload.Builder

	// withPayload is off in a run that builds no payload set: points
	// from the cache are read without their payload and noted in
	// unread, in case the unsafe VRP filter needs some of it after all.
	withPayload bool
	unread      []unreadPoint

	// The run tree (see tree.go): the last run's, if this run may carry
	// subtrees over from it, and this run's.
	prev    *prevTree
	carried []carriedTree
	roots   []*liveNode
	stampMu sync.Mutex
	stamps  map[string]store.Stamp
}

// Run validates the RPKI once: TALs, trust anchors, then every CA below
// them, fetching through coll. It fails only when the run cannot be done
// at all (no TALs, a store error, cancellation); problems with the data
// are findings in the report.
func (e *Engine) Run(ctx context.Context, coll Collector) (*Result, error) {
	return e.run(ctx, coll, true)
}

// Update is Run for a caller that wants the store brought up to date and
// the findings, but no payload (rovd update, vrps -f none): it builds no
// payload set (Result.Set is nil), and points that come from the
// validation cache are not asked for their payload, which is most of what
// reusing a point costs. Unsafe VRPs are still found and reported.
func (e *Engine) Update(ctx context.Context, coll Collector) (*Result, error) {
	return e.run(ctx, coll, false)
}

func (e *Engine) run(ctx context.Context, coll Collector, withPayload bool) (*Result, error) {
	start := time.Now()
	at := e.opt.Time
	if at.IsZero() {
		at = start
	}
	tals, err := loadTALs(e.opt.TALDir, e.opt.TALLabels)
	if err != nil {
		return nil, err
	}
	w := &walk{e: e, coll: coll, at: at, mode: der.Relaxed, report: newReport(), repoErrors: map[string]bool{},
		used: Used{Repos: map[string]bool{}, Points: map[string]bool{}}, withPayload: withPayload,
		stamps: map[string]store.Stamp{}}
	if e.opt.Strict {
		w.mode = der.Strict
	}
	w.fetchQ.init()
	w.validateQ.init()
	if !withPayload && !e.opt.ColdCache {
		// Only a run without a payload set can leave points unvisited.
		w.prev = &prevTree{ready: make(chan struct{})}
		go w.prepare(ctx, w.prev)
	}
	for _, t := range tals {
		if len(t.problems) > 0 {
			w.report.flush(e.log, &pointLog{point: t.path, findings: t.problems})
			continue
		}
		w.report.update(func(c *Counts) { c.TAs++ })
		w.push(&task{ta: &trustAnchor{name: t.name, label: t.label, repos: map[string]bool{}}, tal: t.tal, certURI: t.path})
	}
	if w.pending.Load() == 0 {
		w.fetchQ.close()
		w.validateQ.close()
	}

	var wg sync.WaitGroup
	for range fetchWorkers {
		wg.Go(func() { w.fetchLoop(ctx) })
	}
	for range e.opt.Threads {
		b := &payload.Builder{}
		w.builders = append(w.builders, b)
		wg.Go(func() { w.validateLoop(ctx, b) })
	}
	wg.Wait()
	if w.prev != nil {
		<-w.prev.ready
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.log.Debug("tree walked", "elapsed", time.Since(start), "cache-hits", w.cacheHits.Load(), "subtrees-carried", len(w.carried), "signatures-reused", w.sigsReused.Load())

	// The last batch and the run's tree go in one commit.
	derived := store.Derived{Points: w.keeps, Cache: w.cacheWrites}
	w.carriedUse()
	if e.opt.Persist {
		derived.Records = map[string][]byte{treeRecord: encodeTree(w, w.roots)}
	}
	if err := e.store.WriteDerived(derived); err != nil {
		e.log.Warn("results of the run not recorded", "err", err)
	}
	w.report.Counts.CacheHits = int(w.cacheHits.Load())

	all := &payload.Builder{}
	for _, b := range w.builders {
		all.Merge(b)
	}
	res := &Result{Time: at, Started: start, Report: w.report, Used: w.used, Carried: len(w.carried), SignaturesReused: int(w.sigsReused.Load())}
	isUnsafe := w.unsafeTest()
	if withPayload {
		w.buildSet(res, all, isUnsafe)
		e.log.Debug("payload set built", "elapsed", time.Since(start), "vrps", len(res.Set.VRPs()))
	} else if isUnsafe != nil {
		// Only the points whose CA holds some of the rejected resources
		// can have given unsafe VRPs.
		if err := w.readUnsafeCandidates(all); err != nil {
			return nil, err
		}
		res.Unsafe = all.FilterVRPs(func(v payload.VRP) bool { return !isUnsafe(v) })
		if ex := e.opt.Exceptions; ex != nil && e.opt.UnsafeVRPs != Reject {
			// As in a run with a payload set: kept unsafe VRPs are
			// reported only if the local exceptions keep them too.
			res.Unsafe = slices.DeleteFunc(res.Unsafe, func(v payload.VRP) bool {
				return slices.ContainsFunc(ex.PrefixFilters, func(f payload.PrefixFilter) bool { return f.Matches(v) })
			})
		}
	}
	w.reportUnsafe(res.Unsafe)
	w.report.sort()
	res.Elapsed = time.Since(start)
	return res, nil
}

// buildSet builds the run's payload set from all into res, with the
// unsafe VRP filter and the local exceptions applied.
func (w *walk) buildSet(res *Result, all *payload.Builder, isUnsafe func(payload.VRP) bool) {
	e := w.e
	if isUnsafe != nil && e.opt.UnsafeVRPs == Reject {
		res.Unsafe = all.FilterVRPs(func(v payload.VRP) bool { return !isUnsafe(v) })
	}
	if e.opt.Exceptions != nil {
		// After the unsafe VRP filter, which is about RPKI data: an
		// assertion is never an unsafe VRP.
		res.Exceptions = all.ApplySLURM(e.opt.Exceptions, nil)
	}
	res.Set = all.Build()
	if isUnsafe != nil && e.opt.UnsafeVRPs != Reject {
		// Only reported: a read of the finished set costs less than
		// sifting the builder.
		for i, v := range res.Set.VRPs() {
			if isUnsafe(v) && fromRPKI(res.Set.VRPSources(i)) {
				res.Unsafe = append(res.Unsafe, v)
			}
		}
	}
}

// fromRPKI reports whether an item has a source other than a local
// exception (which has no trust anchor).
func fromRPKI(srcs []*payload.Source) bool {
	for _, s := range srcs {
		if s.TA != "" {
			return true
		}
	}
	return false
}

// push queues a CA for fetching.
func (w *walk) push(t *task) {
	w.pending.Add(1)
	if q, ok := w.coll.(quickCollector); ok && t.cert != nil && q.Ready(t.cert.Notify, t.cert.CARepository) {
		// Already fetched in this run (most CAs share a repository
		// with many others): no need to queue for a fetch worker.
		w.fetch(context.Background(), t)
		w.validateQ.push(t)
		return
	}
	w.fetchQ.push(t)
}

// quickCollector is a Collector that can tell that Fetch would answer at
// once, from what it already did in the run.
type quickCollector interface {
	Ready(notify, caRepository string) bool
}

// done marks a CA finished; the last one ends the run.
func (w *walk) done() {
	if w.pending.Add(-1) == 0 {
		w.fetchQ.close()
		w.validateQ.close()
	}
}

func (w *walk) fetchLoop(ctx context.Context) {
	for {
		t, ok := w.fetchQ.pop()
		if !ok {
			return
		}
		if ctx.Err() == nil {
			w.fetch(ctx, t)
		}
		w.validateQ.push(t)
	}
}

// fetch asks the collector for a CA's repository. For a trust anchor it
// first brings and checks the certificate, one TAL URI after the other:
// here rather than in validation, so that the trust anchors wait for the
// network side by side and not in turn on the validation workers.
func (w *walk) fetch(ctx context.Context, t *task) {
	if t.cert == nil && !w.trustAnchor(ctx, t) {
		return
	}
	if !t.ta.addRepo(repositoryOf(t.cert), w.e.opt.MaxReposPerTA) {
		// Checked before fetching: a hostile tree must not make the run
		// fetch without end.
		t.tooManyRepos = true
		return
	}
	t.repo, t.fresh, t.fetchErr = w.coll.Fetch(ctx, t.cert.Notify, t.cert.CARepository)
}

func (w *walk) validateLoop(ctx context.Context, b *payload.Builder) {
	for {
		t, ok := w.validateQ.pop()
		if !ok {
			return
		}
		if ctx.Err() == nil {
			if err := w.validateCA(ctx, t, b); err != nil && ctx.Err() == nil {
				w.e.log.Error("validation failed", "ca", t.certURI, "err", err)
			}
		}
		w.done()
	}
}

// validateCA validates a CA's publication point and queues its children.
func (w *walk) validateCA(ctx context.Context, t *task, b *payload.Builder) error {
	// Until it validates from its latest data, the CA is volatile: the
	// next run visits it whatever happens.
	node := &liveNode{data: nodeData{volatile: true, certURI: t.certURI}}
	if t.up != nil {
		t.up.add(node)
	} else {
		node.data.certURI = t.ta.name
		w.mu.Lock()
		w.roots = append(w.roots, node)
		w.mu.Unlock()
	}
	if t.cert == nil {
		return nil // a trust anchor that failed, reported in fetch
	}
	node.data.caRepo, node.data.manifest = t.cert.CARepository, t.cert.Manifest
	issuerURI := t.certURI
	if t.parent == nil {
		// A trust anchor certificate comes from one of its TAL's URIs,
		// often over HTTPS, while what it issues names its rsync
		// location: the TAL, not AIA, says where it is (RFC 8630).
		issuerURI = ""
	}
	issuer := t.cert.AsIssuer(t.parent, issuerURI)
	log := &pointLog{point: t.cert.Manifest, ta: t.ta.label}
	defer w.report.flush(w.e.log, log)
	w.report.update(func(c *Counts) { c.CAs++ })

	if t.depth > w.e.opt.MaxCADepth {
		log.add(slog.LevelWarn, t.certURI, nil, fmt.Sprintf("CA more than %d levels below its trust anchor, not validated", w.e.opt.MaxCADepth))
		w.reject(issuer)
		return nil
	}
	if t.tooManyRepos {
		log.add(slog.LevelWarn, t.certURI, nil, fmt.Sprintf("trust anchor %s names more than %d repositories, CA not validated", t.ta.name, w.e.opt.MaxReposPerTA))
		w.reject(issuer)
		return nil
	}
	w.noteFetch(t, log)
	w.use(t.repo, t.cert.Manifest)
	ownFindings := len(log.findings) // after the repository's

	pt, err := w.validatePoint(t, issuer, log)
	if err != nil {
		return err
	}
	repo := repositoryOf(t.cert)
	if pt == nil {
		w.report.update(func(c *Counts) {
			c.PointsRejected++
			c.repo(repo).PointsRejected++
		})
		w.reject(issuer)
		return nil
	}
	w.report.update(func(c *Counts) {
		c.PointsValid++
		rc := c.repo(repo)
		rc.PointsValid++
		if pt.lastGood {
			c.PointsLastGood++
			rc.PointsLastGood++
		}
		rc.VRPs += pt.nvrps
	})
	if !pt.lastGood {
		node.data.record(t, pt, issuer, log, ownFindings)
	}
	b.Merge(&pt.payload)
	if w.prev != nil && t.up == nil && len(pt.children) > 0 {
		// A trust anchor finds its node once the tree is read.
		t.prevNode = w.prev.root(t.ta.name) + 1
	}
	for _, child := range pt.children {
		child.ta = t.ta
		child.depth = t.depth + 1
		child.parent = issuer
		child.up = node
		if w.prev != nil && t.prevNode > 0 {
			if prev := w.prev.child(t.prevNode-1, child.certURI); prev >= 0 {
				if w.carry(child, prev, node) {
					continue
				}
				child.prevNode = prev + 1
			}
		}
		w.push(child)
	}
	if w.e.opt.Persist && (pt.keep != nil || pt.entry != nil) {
		w.persist(t.cert.Manifest, pt.keep, pt.entry)
	}
	return nil
}

// Writes are gathered into batches: a commit per point would wait for
// the disk tens of thousands of times in a run.
const (
	persistBatchPoints = 2048
	persistBatchBytes  = 8 << 20
)

// persist queues a point's last good copy and cache entry for writing.
func (w *walk) persist(point string, keep []store.PointObject, entry *store.CacheEntry) {
	w.mu.Lock()
	if keep != nil {
		w.keeps = append(w.keeps, store.KeptPoint{Key: point, Objects: keep})
		w.pendingBytes += len(keep) * 100
	}
	if entry != nil {
		entry.Key = point
		w.cacheWrites = append(w.cacheWrites, *entry)
		w.pendingBytes += len(entry.Summary) + len(entry.Detail)
	}
	var keeps []store.KeptPoint
	var entries []store.CacheEntry
	if len(w.keeps)+len(w.cacheWrites) >= persistBatchPoints || w.pendingBytes >= persistBatchBytes {
		keeps, entries = w.keeps, w.cacheWrites
		w.keeps, w.cacheWrites, w.pendingBytes = nil, nil, 0
	}
	w.mu.Unlock()
	w.write(keeps, entries)
}

// write stores a batch: last good copies first, since a cache entry
// stands for a point whose copy is kept.
func (w *walk) write(keeps []store.KeptPoint, entries []store.CacheEntry) {
	if len(keeps) > 0 {
		if err := w.e.store.KeepPoints(keeps); err != nil {
			w.e.log.Warn("last good copies of publication points not recorded", "err", err)
			return
		}
	}
	if len(entries) > 0 {
		// The cache only saves work: a run whose cache cannot be
		// written has still produced its result.
		if err := w.e.store.PutCache(entries); err != nil {
			w.e.log.Warn("validation cache not written", "err", err)
		}
	}
}

// use records a repository and a publication point as in use.
func (w *walk) use(repo, point string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if repo != "" {
		w.used.Repos[repo] = true
	}
	if point != "" {
		w.used.Points[point] = true
	}
}

// noteFetch records a repository failure once per run, and whether the
// CA's data is fresh.
func (w *walk) noteFetch(t *task, log *pointLog) {
	if t.fresh && t.fetchErr == nil {
		return
	}
	key := t.repo
	if key == "" {
		key = t.cert.CARepository
	}
	if !w.firstProblem(key) {
		return
	}
	w.report.update(func(c *Counts) {
		if t.fetchErr != nil {
			c.ReposFailed++
		}
		if !t.fresh {
			c.ReposNotFresh++
		}
	})
	if t.fetchErr != nil {
		// Only a failure counts: a run that fetches nothing (-n) has
		// no fresh data either, and nothing failed.
		w.report.mu.Lock()
		w.report.Incomplete = true
		w.report.mu.Unlock()
		msg := "repository update failed"
		if t.repo != "" {
			msg += ", using the stored data"
		}
		log.add(slog.LevelWarn, key, nil, msg+": "+t.fetchErr.Error())
	}
}

// firstProblem reports whether repository key is the first time this
// run that it failed or was not fresh, so it is counted once.
func (w *walk) firstProblem(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.repoErrors[key]
	w.repoErrors[key] = true
	return !seen
}

// noteNotFresh counts a repository that answered the prefetch of an
// incremental run without fresh data and without failing: its points
// may be carried over, so no visit would count it.
func (w *walk) noteNotFresh(repo string) {
	if w.firstProblem(repo) {
		w.report.update(func(c *Counts) { c.ReposNotFresh++ })
	}
}

// repositoryOf names the repository a CA's data comes from: its RRDP
// notification URI, else its rsync module.
func repositoryOf(c *rpki.Certificate) string {
	if c.Notify != "" {
		return c.Notify
	}
	if k, ok := rsyncModuleKey(c.CARepository); ok {
		return k
	}
	return c.CARepository
}

func (ta *trustAnchor) addRepo(repo string, limit int) bool {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	if ta.repos[repo] {
		return true
	}
	if len(ta.repos) >= limit {
		return false
	}
	ta.repos[repo] = true
	return true
}

// reject records a rejected CA's resources for the unsafe VRP filter.
func (w *walk) reject(iss *rpki.Issuer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejected = append(w.rejected, iss.Resources)
}

// rejectedRanges returns the address ranges of rejected CAs, sorted and
// merged, for the unsafe VRP filter. A rejected CA holding a whole
// address family (a trust anchor) does not count for that family: it
// would make every VRP unsafe.
func (w *walk) rejectedRanges() (v4, v6 []rpki.IPRange) {
	for _, r := range w.rejected {
		if !fullSpace(r.IPv4, 32) {
			v4 = append(v4, r.IPv4.Ranges...)
		}
		if !fullSpace(r.IPv6, 128) {
			v6 = append(v6, r.IPv6.Ranges...)
		}
	}
	return mergeRanges(v4), mergeRanges(v6)
}

// unsafeTest returns the test for VRPs that overlap resources of
// rejected CAs, nil if no CA was rejected.
func (w *walk) unsafeTest() func(payload.VRP) bool {
	v4, v6 := w.rejectedRanges()
	if len(v4) == 0 && len(v6) == 0 {
		return nil
	}
	return func(v payload.VRP) bool {
		ranges := v4
		if v.Prefix.Addr().Is6() {
			ranges = v6
		}
		lo, hi := prefixRange(v.Prefix)
		return overlaps(ranges, lo, hi)
	}
}

// overlaps reports whether the span from lo to hi overlaps one of
// ranges, which are sorted and disjoint.
func overlaps(ranges []rpki.IPRange, lo, hi netip.Addr) bool {
	// The first range that ends at or after lo is the only one that
	// can overlap.
	i, _ := slices.BinarySearchFunc(ranges, lo, func(r rpki.IPRange, a netip.Addr) int { return r.Max.Compare(a) })
	return i < len(ranges) && ranges[i].Min.Compare(hi) <= 0
}

// unreadPoint is a point that came from the cache without its payload.
type unreadPoint struct {
	t   *task
	iss *rpki.Issuer // for the CA's effective resources
	fp  [32]byte
}

func (w *walk) noteUnread(t *task, fp [32]byte, iss *rpki.Issuer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unread = append(w.unread, unreadPoint{t: t, iss: iss, fp: fp})
}

// readUnsafeCandidates adds to b the payload of the points read without
// it whose CA holds resources of a rejected CA: only they can have given
// unsafe VRPs. They are few (mostly the rejected CAs' ancestors).
func (w *walk) readUnsafeCandidates(b *payload.Builder) error {
	v4, v6 := w.rejectedRanges()
	w.carriedUnread(v4, v6)
	for _, u := range w.unread {
		if !anyOverlaps(u.iss.Resources.IPv4.Ranges, v4) && !anyOverlaps(u.iss.Resources.IPv6.Ranges, v6) {
			continue
		}
		err := w.e.store.View(func(v *store.View) error {
			objs := v.Repository(u.t.repo)
			if objs == nil {
				return nil
			}
			var discard pointLog // its findings are in the report already
			if pt := w.fromCache(v, u.t, u.fp, objs, &discard, true); pt != nil {
				b.Merge(&pt.payload)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func anyOverlaps(rs, sorted []rpki.IPRange) bool {
	for _, r := range rs {
		if overlaps(sorted, r.Min, r.Max) {
			return true
		}
	}
	return false
}

// mergeRanges sorts ranges and joins the overlapping ones.
func mergeRanges(rs []rpki.IPRange) []rpki.IPRange {
	slices.SortFunc(rs, func(a, b rpki.IPRange) int { return a.Min.Compare(b.Min) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.Min.Compare(out[n-1].Max) <= 0 {
			if r.Max.Compare(out[n-1].Max) > 0 {
				out[n-1].Max = r.Max
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// reportUnsafe records the unsafe VRPs as findings: at warn when they
// were filtered, at info while the filter is off, as the manual says.
func (w *walk) reportUnsafe(found []payload.VRP) {
	if len(found) == 0 || w.e.opt.UnsafeVRPs == Accept {
		return
	}
	l := &pointLog{point: "unsafe-vrps"}
	msg := fmt.Sprintf("%d VRPs overlap resources of rejected CAs and were filtered (unsafe-vrps is reject)", len(found))
	level := slog.LevelWarn
	if w.e.opt.UnsafeVRPs == Warn {
		msg = fmt.Sprintf("%d VRPs overlap resources of rejected CAs and were kept (unsafe-vrps is warn)", len(found))
		level = slog.LevelInfo
	}
	l.add(level, "", nil, msg)
	for _, v := range found {
		l.add(level, "", nil, fmt.Sprintf("unsafe VRP AS%d %s-%d", v.ASN, v.Prefix, v.MaxLength))
	}
	w.report.flush(w.e.log, l)
}

func fullSpace(s rpki.IPSet, bits int) bool {
	if len(s.Ranges) != 1 {
		return false
	}
	p, ok := s.Ranges[0].Prefix()
	return ok && p.Bits() == 0 && p.Addr().BitLen() == bits
}

// prefixRange returns the first and last address of p.
func prefixRange(p netip.Prefix) (lo, hi netip.Addr) {
	lo = p.Masked().Addr()
	b := lo.As16()
	start := 0
	if lo.Is4() {
		start = 12
	}
	for i := start + p.Bits()/8; i < 16; i++ {
		bit := p.Bits() - (i-start)*8
		if bit > 0 {
			b[i] |= 0xff >> bit
		} else {
			b[i] = 0xff
		}
	}
	hi = netip.AddrFrom16(b)
	if lo.Is4() {
		hi = hi.Unmap()
	}
	return lo, hi
}

// queue is an unbounded FIFO: CAs find children faster than they are
// fetched, and a bounded one could stall both stages.
type queue[T any] struct {
	mu     sync.Mutex
	cond   sync.Cond
	items  []T
	closed bool
}

func (q *queue[T]) init() { q.cond.L = &q.mu }

func (q *queue[T]) push(t T) {
	q.mu.Lock()
	q.items = append(q.items, t)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	t := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	return t, true
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

var errNoData = errors.New("no data in the store")
