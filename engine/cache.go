package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// Incremental validation. Most publication points do not change between
// two runs, and validating one again costs a signature check per object.
// So each point that validates from its latest data leaves an entry in
// the store's validation cache: what it gave (payload, child CAs,
// findings, counts) and what that depended on:
//
//   - a fingerprint of the context: the policies that change a point's
//     result, the trust anchor's label, the bytes of the CA certificate
//     and the CA's effective resources (which change under an unchanged
//     certificate that inherits them when an ancestor is re-issued);
//   - the hash of the manifest and of every file it lists, as stored,
//     and the store's Stamp of the repository when they were read: while
//     the store reports the point's directories unchanged since, the
//     files need no lookup at all;
//   - a time window: from the validation time it was computed at to the
//     first instant after it at which any certificate, manifest or CRL it
//     looked at starts or ends being valid.
//
// A later run reuses the entry if all three still hold; the comparisons
// use the hashes the store computed on ingest, so a reused point costs
// a few index lookups and no cryptography. A point that fails, or
// validated only from its last good copy, is validated in full every
// run.
//
// An entry that no longer holds still saves work: a changed point
// usually keeps most of its files, and a signature depends only on the
// signed bytes and the key. So the entry notes the hash of the CA's key
// and which files were valid; the new validation of the point skips the
// signature checks of a file with the same hash under the same key, and
// runs every other check.

// cacheVersion changes whenever the encoding or the rules behind it
// change, so that an older rovd's entries are never reused.
const cacheVersion = 6

// cacheEntry is one point's cached result.
type cacheEntry struct {
	from, until int64 // Unix seconds: the window it holds for
	fingerprint [32]byte
	manifest    [32]byte
	stamp       store.Stamp      // of the repository when its files were read
	chain       payload.Validity // the point's own: its manifest and CRL
	// signer is the hash of the CA's public key, under which the files
	// marked verified had their signatures checked.
	signer   [32]byte
	files    []cachedFile
	sources  []cachedSource
	vrps     []cachedVRP
	aspas    []cachedASPA
	keys     []cachedKey
	children []cachedChild
	findings []Finding
	counts   []cachedCount
	stale    int // stale manifests and CRLs accepted
}

type cachedFile struct {
	name string
	hash [32]byte
	// verified says the file was valid, so its signatures verified.
	verified bool
}

// cachedSource is an object that yields payload. Its chain is the
// point's own chain narrowed to the object's validity.
type cachedSource struct {
	name     string
	validity payload.Validity
}

type cachedVRP struct {
	vrp payload.VRP
	src uint32
}

type cachedASPA struct {
	aspa payload.ASPA
	src  uint32
}

type cachedKey struct {
	key payload.RouterKey
	src uint32
}

// cachedChild is what the walk needs of a child CA certificate as long
// as the child's own point comes from the cache too.
type cachedChild struct {
	name                           string
	notify, caRepository, manifest string
	notBefore, notAfter            int64
	resources                      rpki.Resources
	hash                           [32]byte // of the certificate
}

type cachedCount struct {
	kind  string
	valid bool
	n     int
}

// fingerprint hashes what a point's result depends on beside its files.
func (w *walk) fingerprint(t *task, iss *rpki.Issuer) [32]byte {
	// Computed for every point of every run: the buffer stays on the
	// stack for the usual few hundred bytes.
	b := make([]byte, 0, 512)
	b = append(b, cacheVersion, boolByte(w.e.opt.Strict), byte(w.e.opt.Stale), byte(w.e.opt.UnknownObjects))
	b = binary.AppendUvarint(b, uint64(w.e.opt.MaxObjectsPerPoint))
	b = appendString(b, t.ta.label)
	b = appendString(b, t.certURI)
	b = append(b, t.certHash[:]...)
	b = appendString(b, t.repo) // the stamp is the repository's
	for _, s := range []rpki.IPSet{iss.Resources.IPv4, iss.Resources.IPv6} {
		b = binary.AppendUvarint(b, uint64(len(s.Ranges)))
		for _, r := range s.Ranges {
			b = r.Min.AppendTo(b)
			b = r.Max.AppendTo(b)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(iss.Resources.AS.Ranges)))
	for _, r := range iss.Resources.AS.Ranges {
		b = binary.BigEndian.AppendUint32(b, r.Min)
		b = binary.BigEndian.AppendUint32(b, r.Max)
	}
	return sha256.Sum256(b)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// keyHash identifies a CA's public key for verifiedBefore.
func keyHash(c *rpki.Certificate) [32]byte { return sha256.Sum256(c.SPKI) }

// verifiedBefore returns the hashes of the objects whose signatures the
// point's last cache entry saw verify under the key of the CA now
// issuing them (its manifest and its valid files), or nil.
func verifiedBefore(v *store.View, mftURI string, signer [32]byte) map[[32]byte]bool {
	sum := v.Cached(mftURI)
	if sum == nil {
		return nil
	}
	k := knownSignatures{signer: signer}
	if err := readEntry(sum, func() []byte { return v.CachedDetail(mftURI) }, &k); err != nil {
		return nil
	}
	return k.known
}

// knownSignatures is the entry visitor of verifiedBefore.
type knownSignatures struct {
	signer [32]byte
	known  map[[32]byte]bool
}

func (k *knownSignatures) header(h *entryHeader) (holds, checkFiles bool) {
	if h.signer != k.signer {
		return false, false
	}
	k.known = map[[32]byte]bool{h.manifest: true}
	return true, true
}

func (k *knownSignatures) file(_ []byte, hash [32]byte, verified bool) bool {
	if verified {
		k.known[hash] = true
	}
	return true
}

func (k *knownSignatures) payload() bool                   { return false }
func (k *knownSignatures) vrpCount(int)                    {}
func (k *knownSignatures) sources(int)                     {}
func (k *knownSignatures) source([]byte, payload.Validity) {}
func (k *knownSignatures) vrps(int)                        {}
func (k *knownSignatures) vrp(payload.VRP, uint32)         {}
func (k *knownSignatures) aspa(payload.ASPA, uint32)       {}
func (k *knownSignatures) key(payload.RouterKey, uint32)   {}
func (k *knownSignatures) child(cachedChild)               {}
func (k *knownSignatures) finding(Finding)                 {}
func (k *knownSignatures) count(cachedCount)               {}
func (k *knownSignatures) stale(int)                       {}

// fromCache returns the point's cached result if it still holds, with
// its findings and counts replayed into log; nil means validate it.
func (w *walk) fromCache(v *store.View, t *task, fp [32]byte, objs *store.Objects, log *pointLog, withPayload bool) *pointResult {
	sum := v.Cached(t.cert.Manifest)
	if sum == nil {
		return nil
	}
	r := &replayer{w: w, v: v, t: t, fp: fp, objs: objs, pt: &pointResult{}, withPayload: withPayload}
	if err := readEntry(sum, func() []byte { return v.CachedDetail(t.cert.Manifest) }, r); err != nil {
		return nil // a miss, or a damaged entry, which the run replaces
	}
	// Findings and counts go to the log only now that the whole entry
	// has been read.
	log.findings = append(log.findings, r.findings...)
	for _, c := range r.counts {
		log.countN(c.kind, c.valid, c.n)
	}
	log.stale += r.nstale
	return r.pt
}

// replayer turns a cache entry into a point's result as it is read.
type replayer struct {
	w    *walk
	v    *store.View
	t    *task
	fp   [32]byte
	objs *store.Objects
	// withPayload reads the payload too; without it, pt has none.
	withPayload bool
	pt          *pointResult
	chain       payload.Validity
	srcs        []payload.Source
	findings    []Finding
	counts      []cachedCount
	nstale      int
}

func (r *replayer) header(h *entryHeader) (holds, checkFiles bool) {
	at := r.w.at.Unix()
	if h.fingerprint != r.fp || at < h.from || at >= h.until {
		return false, false
	}
	r.chain = intersect(r.t.chain, h.chain.NotBefore, h.chain.NotAfter)
	r.pt.mftHash = h.manifest
	r.pt.fp, r.pt.from, r.pt.until = h.fingerprint, h.from, h.until
	// Every listed file is directly in the CA's repository directory
	// (file names have no slash); the manifest may sit below it. If
	// the store vouches for both, manifest and files are as they were.
	caRepo, mft := r.t.cert.CARepository, r.t.cert.Manifest
	dirs := [2]string{caRepo, mft[:strings.LastIndexByte(mft, '/')+1]}
	n := 2
	if dirs[1] == caRepo {
		n = 1
	}
	if r.v.Unchanged(h.stamp, r.t.repo, dirs[:n]...) {
		return true, false
	}
	cur, ok := r.objs.HashIn(mft, nil)
	return ok && cur == h.manifest, true
}

func (r *replayer) file(name []byte, hash [32]byte, _ bool) bool {
	h, ok := r.objs.HashIn(r.t.cert.CARepository, name)
	return ok && h == hash
}

func (r *replayer) payload() bool  { return r.withPayload }
func (r *replayer) vrpCount(n int) { r.pt.nvrps = n }

func (r *replayer) sources(n int) { r.srcs = make([]payload.Source, 0, n) }

func (r *replayer) source(name []byte, validity payload.Validity) {
	r.srcs = append(r.srcs, payload.Source{TA: r.t.ta.label, URI: r.t.cert.CARepository + string(name), Validity: validity,
		Chain: intersect(r.chain, validity.NotBefore, validity.NotAfter)})
}

func (r *replayer) vrps(n int)                    { r.pt.payload.Grow(n) }
func (r *replayer) vrp(v payload.VRP, src uint32) { r.pt.payload.AddVRP(v, &r.srcs[src]) }
func (r *replayer) aspa(a payload.ASPA, src uint32) {
	r.pt.payload.AddASPA(a, &r.srcs[src])
}
func (r *replayer) key(k payload.RouterKey, src uint32) {
	r.pt.payload.AddRouterKey(k, &r.srcs[src])
}

func (r *replayer) child(ch cachedChild) {
	c := &rpki.Certificate{
		Kind: rpki.CertCA, Notify: ch.notify, CARepository: ch.caRepository, Manifest: ch.manifest,
		NotBefore: time.Unix(ch.notBefore, 0).UTC(), NotAfter: time.Unix(ch.notAfter, 0).UTC(),
		Resources: ch.resources,
	}
	r.pt.children = append(r.pt.children, &task{
		certURI: r.t.cert.CARepository + ch.name, cert: c, certHash: ch.hash, lazy: true, srcRepo: r.t.repo,
		chain: intersect(r.chain, c.NotBefore, c.NotAfter),
	})
}

func (r *replayer) finding(f Finding) {
	f.Point = r.t.cert.Manifest
	r.findings = append(r.findings, f)
}
func (r *replayer) count(c cachedCount) { r.counts = append(r.counts, c) }
func (r *replayer) stale(n int)         { r.nstale = n }

// recorder gathers what a point's validation yields for its cache entry.
type recorder struct {
	e         cacheEntry
	srcIndex  map[*payload.Source]uint32
	at        time.Time
	next      time.Time // first validity boundary after at
	findings0 int       // findings in the log before the point's
}

func newRecorder(at time.Time, log *pointLog) *recorder {
	return &recorder{srcIndex: map[*payload.Source]uint32{}, at: at, findings0: len(log.findings)}
}

// boundary notes an instant at which a validity window opens or closes.
func (r *recorder) boundary(ts ...time.Time) {
	for _, t := range ts {
		if t.After(r.at) && (r.next.IsZero() || t.Before(r.next)) {
			r.next = t
		}
	}
}

func (r *recorder) source(s *payload.Source, caRepo string) uint32 {
	if i, ok := r.srcIndex[s]; ok {
		return i
	}
	i := uint32(len(r.e.sources))
	r.srcIndex[s] = i
	r.e.sources = append(r.e.sources, cachedSource{name: s.URI[len(caRepo):], validity: s.Validity})
	return i
}

// entry finishes the record of a point that validated.
func (r *recorder) entry(fp [32]byte, log *pointLog) *store.CacheEntry {
	r.e.fingerprint = fp
	// In name order, the order of the store's index: a hit then finds
	// the files by stepping through it.
	slices.SortFunc(r.e.files, func(a, b cachedFile) int { return strings.Compare(a.name, b.name) })
	r.e.from = r.at.Unix()
	r.e.until = math.MaxInt64
	if !r.next.IsZero() {
		r.e.until = r.next.Unix()
	}
	r.e.findings = append([]Finding(nil), log.findings[r.findings0:]...)
	for k, n := range log.valid {
		r.e.counts = append(r.e.counts, cachedCount{kind: k, valid: true, n: n})
	}
	for k, n := range log.invalid {
		r.e.counts = append(r.e.counts, cachedCount{kind: k, valid: false, n: n})
	}
	r.e.stale = log.stale
	sum, detail := encodeEntry(&r.e)
	return &store.CacheEntry{Summary: sum, Detail: detail}
}

// The encoding: a version byte, then the fields in order; integers as
// varints, strings and byte strings with a length, times as Unix
// seconds. Decoding checks every length against what is left.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValidity(b []byte, v payload.Validity) []byte {
	b = binary.AppendVarint(b, v.NotBefore.Unix())
	return binary.AppendVarint(b, v.NotAfter.Unix())
}

func encodeEntry(e *cacheEntry) (summary, detail []byte) {
	// The summary is what every hit needs. The detail holds the file
	// list, which a hit reads only when the store cannot vouch for the
	// files, and the payload, which a run that builds no payload set
	// skips.
	b := []byte{cacheVersion}
	b = binary.AppendVarint(b, e.from)
	b = binary.AppendVarint(b, e.until)
	b = append(b, e.fingerprint[:]...)
	b = append(b, e.manifest[:]...)
	b = append(b, e.signer[:]...)
	b = binary.AppendUvarint(b, e.stamp.Gen)
	b = binary.AppendUvarint(b, e.stamp.Seq)
	b = appendValidity(b, e.chain)
	b = binary.AppendUvarint(b, uint64(len(e.children)))
	for _, c := range e.children {
		b = appendString(b, c.name)
		b = appendString(b, c.notify)
		b = appendString(b, c.caRepository)
		b = appendString(b, c.manifest)
		b = binary.AppendVarint(b, c.notBefore)
		b = binary.AppendVarint(b, c.notAfter)
		b = appendResources(b, &c.resources)
		b = append(b, c.hash[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.findings)))
	for _, f := range e.findings {
		b = binary.AppendVarint(b, int64(f.Level))
		b = appendString(b, f.URI)
		b = appendString(b, f.Stage)
		b = appendString(b, f.Ref)
		b = appendString(b, f.Msg)
	}
	b = binary.AppendUvarint(b, uint64(len(e.counts)))
	for _, c := range e.counts {
		b = appendString(b, c.kind)
		b = append(b, boolByte(c.valid))
		b = binary.AppendUvarint(b, uint64(c.n))
	}
	b = binary.AppendUvarint(b, uint64(e.stale))
	// The number of VRPs, for the per-repository counts of a run that
	// reads no detail.
	b = binary.AppendUvarint(b, uint64(len(e.vrps)))
	summary = b
	b = []byte{cacheVersion}
	b = binary.AppendUvarint(b, uint64(len(e.files)))
	for _, f := range e.files {
		b = appendString(b, f.name)
		b = append(b, f.hash[:]...)
		b = append(b, boolByte(f.verified))
	}
	b = binary.AppendUvarint(b, uint64(len(e.sources)))
	for _, s := range e.sources {
		b = appendString(b, s.name)
		b = appendValidity(b, s.validity)
	}
	b = binary.AppendUvarint(b, uint64(len(e.vrps)))
	for _, x := range e.vrps {
		b = binary.AppendUvarint(b, uint64(x.vrp.ASN))
		b = appendString(b, string(x.vrp.Prefix.Addr().AsSlice()))
		b = append(b, byte(x.vrp.Prefix.Bits()), x.vrp.MaxLength)
		b = binary.AppendUvarint(b, uint64(x.src))
	}
	b = binary.AppendUvarint(b, uint64(len(e.aspas)))
	for _, x := range e.aspas {
		b = binary.AppendUvarint(b, uint64(x.aspa.Customer))
		b = binary.AppendUvarint(b, uint64(len(x.aspa.Providers)))
		for _, p := range x.aspa.Providers {
			b = binary.AppendUvarint(b, uint64(p))
		}
		b = binary.AppendUvarint(b, uint64(x.src))
	}
	b = binary.AppendUvarint(b, uint64(len(e.keys)))
	for _, x := range e.keys {
		b = binary.AppendUvarint(b, uint64(x.key.ASN))
		b = append(b, x.key.SKI[:]...)
		b = appendString(b, string(x.key.SPKI))
		b = binary.AppendUvarint(b, uint64(x.src))
	}
	return summary, b
}

func appendIPSet(b []byte, s *rpki.IPSet) []byte {
	b = append(b, boolByte(s.Inherit))
	b = binary.AppendUvarint(b, uint64(len(s.Ranges)))
	for _, r := range s.Ranges {
		b = appendString(b, string(r.Min.AsSlice()))
		b = appendString(b, string(r.Max.AsSlice()))
	}
	return b
}

func appendResources(b []byte, r *rpki.Resources) []byte {
	b = appendIPSet(b, &r.IPv4)
	b = appendIPSet(b, &r.IPv6)
	b = append(b, boolByte(r.AS.Inherit))
	b = binary.AppendUvarint(b, uint64(len(r.AS.Ranges)))
	for _, a := range r.AS.Ranges {
		b = binary.AppendUvarint(b, uint64(a.Min))
		b = binary.AppendUvarint(b, uint64(a.Max))
	}
	return b
}

var errBadEntry = errors.New("malformed validation cache entry")

// decoder reads an entry, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBadEntry
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length, which cannot exceed the bytes left (every
// element takes at least one).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes(d.count())) }

// strings4 reads four strings, held in one allocation.
func (d *decoder) strings4() (out [4]string) {
	var parts [4][]byte
	size := 0
	for i := range parts {
		parts[i] = d.bytes(d.count())
		size += len(parts[i])
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, p := range parts {
		sb.Write(p)
	}
	all := sb.String()
	for i, p := range parts {
		out[i], all = all[:len(p)], all[len(p):]
	}
	return out
}

func (d *decoder) hash() (h [32]byte) {
	copy(h[:], d.bytes(32))
	return h
}

func (d *decoder) byte() byte {
	b := d.bytes(1)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail()
	}
	return uint32(v)
}

func (d *decoder) validity() payload.Validity {
	return payload.Validity{NotBefore: time.Unix(d.varint(), 0).UTC(), NotAfter: time.Unix(d.varint(), 0).UTC()}
}

func (d *decoder) addr() netip.Addr {
	a, ok := netip.AddrFromSlice(d.bytes(d.count()))
	if !ok {
		d.fail()
	}
	return a
}

func (d *decoder) ipSet() rpki.IPSet {
	s := rpki.IPSet{Inherit: d.byte() == 1}
	if n := d.count(); n > 0 {
		s.Ranges = make([]rpki.IPRange, n)
		for i := range s.Ranges {
			s.Ranges[i] = rpki.IPRange{Min: d.addr(), Max: d.addr()}
		}
	}
	return s
}

func (d *decoder) resources() rpki.Resources {
	r := rpki.Resources{IPv4: d.ipSet(), IPv6: d.ipSet()}
	r.AS.Inherit = d.byte() == 1
	if n := d.count(); n > 0 {
		r.AS.Ranges = make([]rpki.ASRange, n)
		for i := range r.AS.Ranges {
			r.AS.Ranges[i] = rpki.ASRange{Min: d.uint32(), Max: d.uint32()}
		}
	}
	return r
}

// entryHeader is the fixed start of an entry.
type entryHeader struct {
	from, until                   int64
	fingerprint, manifest, signer [32]byte
	stamp                         store.Stamp
	chain                         payload.Validity
}

// entryVisitor receives an entry's parts as readEntry decodes them, so
// that a cache hit builds its result without an intermediate copy.
type entryVisitor interface {
	// header says whether the entry holds at all (false stops the
	// read) and whether its files must be looked up one by one.
	header(h *entryHeader) (holds, checkFiles bool)
	child(c cachedChild)
	finding(f Finding)
	count(c cachedCount)
	stale(n int)
	vrpCount(n int)
	// file checks one listed file; false stops the read.
	file(name []byte, hash [32]byte, verified bool) bool
	// payload says whether to read the payload; the read ends here if
	// not.
	payload() bool
	sources(n int)
	source(name []byte, validity payload.Validity)
	vrps(n int)
	vrp(v payload.VRP, src uint32)
	aspa(a payload.ASPA, src uint32)
	key(k payload.RouterKey, src uint32)
}

// errMiss ends readEntry when the visitor finds the entry does not hold.
var errMiss = errors.New("cache entry does not hold")

// readEntry decodes an entry into v: its summary, and its detail (got
// from detail, only if v needs it). Slices handed to v alias them.
func readEntry(summary []byte, detail func() []byte, v entryVisitor) error {
	d := &decoder{b: summary}
	if d.byte() != cacheVersion {
		return errBadEntry
	}
	h := entryHeader{from: d.varint(), until: d.varint(), fingerprint: d.hash(), manifest: d.hash(), signer: d.hash(),
		stamp: store.Stamp{Gen: d.uvarint(), Seq: d.uvarint()}, chain: d.validity()}
	if d.err != nil {
		return d.err
	}
	holds, checkFiles := v.header(&h)
	if !holds {
		return errMiss
	}
	for range d.count() {
		var c cachedChild
		// One allocation for the four strings: a hit reads thousands
		// of children.
		strs := d.strings4()
		c.name, c.notify, c.caRepository, c.manifest = strs[0], strs[1], strs[2], strs[3]
		c.notBefore, c.notAfter, c.resources, c.hash = d.varint(), d.varint(), d.resources(), d.hash()
		if d.err != nil {
			break
		}
		v.child(c)
	}
	for range d.count() {
		f := Finding{Level: slog.Level(d.varint()), URI: d.string(), Stage: d.string(), Ref: d.string(), Msg: d.string()}
		if d.err != nil {
			break
		}
		v.finding(f)
	}
	for range d.count() {
		c := cachedCount{kind: d.string(), valid: d.byte() == 1, n: int(d.uint32())}
		if d.err != nil {
			break
		}
		v.count(c)
	}
	v.stale(int(d.uint32()))
	nvrps := int(d.uint32())
	v.vrpCount(nvrps)
	if d.err != nil || len(d.b) != 0 {
		return errBadEntry
	}
	if !checkFiles && !v.payload() {
		return nil
	}
	d = &decoder{b: detail()}
	if d.byte() != cacheVersion {
		return errBadEntry
	}
	for range d.count() {
		name, hash, verified := d.bytes(d.count()), d.hash(), d.byte() == 1
		if d.err != nil {
			return d.err
		}
		if checkFiles && !v.file(name, hash, verified) {
			return errMiss
		}
	}
	if d.err != nil {
		return d.err
	}
	if !v.payload() {
		return nil
	}
	nsrc := d.count()
	v.sources(nsrc)
	for range nsrc {
		v.source(d.bytes(d.count()), d.validity())
	}
	src := func() uint32 {
		i := d.uint32()
		if int(i) >= nsrc {
			d.fail()
		}
		return i
	}
	nvrp := d.count()
	if nvrp != nvrps {
		return errBadEntry
	}
	v.vrps(nvrp)
	for range nvrp {
		asn := d.uint32()
		addr, ok := netip.AddrFromSlice(d.bytes(d.count()))
		bits, maxLen := d.byte(), d.byte()
		i := src()
		p, err := addr.Prefix(int(bits))
		if !ok || err != nil || d.err != nil {
			d.fail()
			break
		}
		v.vrp(payload.VRP{ASN: asn, Prefix: p, MaxLength: maxLen}, i)
	}
	for range d.count() {
		a := payload.ASPA{Customer: d.uint32()}
		a.Providers = make([]uint32, d.count())
		for j := range a.Providers {
			a.Providers[j] = d.uint32()
		}
		i := src()
		if d.err != nil {
			break
		}
		v.aspa(a, i)
	}
	for range d.count() {
		k := payload.RouterKey{ASN: d.uint32()}
		copy(k.SKI[:], d.bytes(20))
		k.SPKI = []byte(d.string())
		i := src()
		if d.err != nil {
			break
		}
		v.key(k, i)
	}
	if d.err != nil || len(d.b) != 0 {
		return errBadEntry
	}
	return nil
}
