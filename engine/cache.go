package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net/netip"
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
//   - the hash of the manifest and of every file it lists, as stored;
//   - a time window: from the validation time it was computed at to the
//     first instant after it at which any certificate, manifest or CRL it
//     looked at starts or ends being valid.
//
// A later run reuses the entry if all three still hold; the comparisons
// use the hashes the store computed on ingest, so a reused point costs
// index lookups and no cryptography. A point that fails, or validated
// only from its last good copy, is validated in full every run.

// cacheVersion changes whenever the encoding or the rules behind it
// change, so that an older rovd's entries are never reused.
const cacheVersion = 1

// cacheEntry is one point's cached result.
type cacheEntry struct {
	from, until int64 // Unix seconds: the window it holds for
	fingerprint [32]byte
	manifest    [32]byte
	chain       payload.Validity // of the point, for its children
	files       []cachedFile
	sources     []cachedSource
	vrps        []cachedVRP
	aspas       []cachedASPA
	keys        []cachedKey
	children    []string // file names of child CA certificates
	findings    []Finding
	counts      []cachedCount
	stale       int // stale manifests and CRLs accepted
}

type cachedFile struct {
	name string
	hash [32]byte
}

type cachedSource struct {
	name            string
	validity, chain payload.Validity
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

type cachedCount struct {
	kind  string
	valid bool
	n     int
}

// fingerprint hashes what a point's result depends on beside its files.
func (w *walk) fingerprint(t *task, iss *rpki.Issuer) [32]byte {
	h := sha256.New()
	var b []byte
	b = append(b, cacheVersion, boolByte(w.e.opt.Strict), byte(w.e.opt.Stale), byte(w.e.opt.UnknownObjects))
	b = binary.AppendUvarint(b, uint64(w.e.opt.MaxObjectsPerPoint))
	b = appendString(b, t.ta.label)
	b = appendString(b, t.certURI)
	certHash := sha256.Sum256(t.cert.Raw)
	b = append(b, certHash[:]...)
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
	h.Write(b)
	return [32]byte(h.Sum(nil))
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// fromCache returns the point's cached result if it still holds, with
// its findings and counts replayed into log; nil means validate it.
func (w *walk) fromCache(v *store.View, t *task, fp [32]byte, objs *store.Objects, log *pointLog) *pointResult {
	raw := v.Cached(t.cert.Manifest)
	if raw == nil {
		return nil
	}
	e, err := decodeEntry(raw)
	if err != nil {
		return nil // a damaged entry is a miss; the run writes a new one
	}
	at := w.at.Unix()
	if e.fingerprint != fp || at < e.from || at >= e.until {
		return nil
	}
	mo, ok := objs.Get(t.cert.Manifest)
	if !ok || mo.Hash != e.manifest {
		return nil
	}
	caRepo := t.cert.CARepository
	pt := &pointResult{mftHash: mo.Hash, cached: true}
	pt.objects = make([]store.PointObject, 0, len(e.files)+1)
	pt.objects = append(pt.objects, store.PointObject{URI: t.cert.Manifest, Ref: mo.Ref, Hash: mo.Hash})
	for _, f := range e.files {
		uri := caRepo + f.name
		o, ok := objs.Get(uri)
		if !ok || o.Hash != f.hash {
			return nil
		}
		pt.objects = append(pt.objects, store.PointObject{URI: uri, Ref: o.Ref, Hash: o.Hash})
	}
	for _, name := range e.children {
		uri := caRepo + name
		o, _ := objs.Get(uri) // present: it is one of the files above
		c, err := rpki.ParseCertificate(append([]byte(nil), o.Data...), w.mode)
		if err != nil {
			return nil // cannot happen for bytes that validated; validate in full
		}
		pt.children = append(pt.children, &task{certURI: uri, cert: c, chain: intersect(e.chain, c.NotBefore, c.NotAfter)})
	}
	srcs := make([]payload.Source, len(e.sources))
	for i, s := range e.sources {
		srcs[i] = payload.Source{TA: t.ta.label, URI: caRepo + s.name, Validity: s.validity, Chain: s.chain}
	}
	for _, x := range e.vrps {
		pt.payload.AddVRP(x.vrp, &srcs[x.src])
	}
	for _, x := range e.aspas {
		pt.payload.AddASPA(x.aspa, &srcs[x.src])
	}
	for _, x := range e.keys {
		pt.payload.AddRouterKey(x.key, &srcs[x.src])
	}
	for _, f := range e.findings {
		f.Point = t.cert.Manifest
		log.findings = append(log.findings, f)
	}
	for _, c := range e.counts {
		log.countN(c.kind, c.valid, c.n)
	}
	log.stale += e.stale
	return pt
}

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
	r.e.sources = append(r.e.sources, cachedSource{name: s.URI[len(caRepo):], validity: s.Validity, chain: s.Chain})
	return i
}

// entry finishes the record of a point that validated.
func (r *recorder) entry(fp [32]byte, log *pointLog) []byte {
	r.e.fingerprint = fp
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
	return encodeEntry(&r.e)
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

func encodeEntry(e *cacheEntry) []byte {
	b := []byte{cacheVersion}
	b = binary.AppendVarint(b, e.from)
	b = binary.AppendVarint(b, e.until)
	b = append(b, e.fingerprint[:]...)
	b = append(b, e.manifest[:]...)
	b = appendValidity(b, e.chain)
	b = binary.AppendUvarint(b, uint64(len(e.files)))
	for _, f := range e.files {
		b = appendString(b, f.name)
		b = append(b, f.hash[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.sources)))
	for _, s := range e.sources {
		b = appendString(b, s.name)
		b = appendValidity(b, s.validity)
		b = appendValidity(b, s.chain)
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
	b = binary.AppendUvarint(b, uint64(len(e.children)))
	for _, c := range e.children {
		b = appendString(b, c)
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
	return binary.AppendUvarint(b, uint64(e.stale))
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

func decodeEntry(raw []byte) (*cacheEntry, error) {
	d := &decoder{b: raw}
	if d.byte() != cacheVersion {
		return nil, errBadEntry
	}
	e := &cacheEntry{}
	e.from, e.until = d.varint(), d.varint()
	e.fingerprint, e.manifest = d.hash(), d.hash()
	e.chain = d.validity()
	e.files = make([]cachedFile, d.count())
	for i := range e.files {
		e.files[i] = cachedFile{name: d.string(), hash: d.hash()}
	}
	e.sources = make([]cachedSource, d.count())
	for i := range e.sources {
		e.sources[i] = cachedSource{name: d.string(), validity: d.validity(), chain: d.validity()}
	}
	e.vrps = make([]cachedVRP, d.count())
	for i := range e.vrps {
		asn := d.uint32()
		addr, ok := netip.AddrFromSlice(d.bytes(d.count()))
		bits, maxLen := d.byte(), d.byte()
		src := d.uint32()
		p, err := addr.Prefix(int(bits))
		if !ok || err != nil || int(src) >= len(e.sources) {
			d.fail()
			break
		}
		e.vrps[i] = cachedVRP{vrp: payload.VRP{ASN: asn, Prefix: p, MaxLength: maxLen}, src: src}
	}
	e.aspas = make([]cachedASPA, d.count())
	for i := range e.aspas {
		a := payload.ASPA{Customer: d.uint32()}
		a.Providers = make([]uint32, d.count())
		for j := range a.Providers {
			a.Providers[j] = d.uint32()
		}
		src := d.uint32()
		if int(src) >= len(e.sources) {
			d.fail()
			break
		}
		e.aspas[i] = cachedASPA{aspa: a, src: src}
	}
	e.keys = make([]cachedKey, d.count())
	for i := range e.keys {
		k := payload.RouterKey{ASN: d.uint32()}
		copy(k.SKI[:], d.bytes(20))
		k.SPKI = []byte(d.string())
		src := d.uint32()
		if int(src) >= len(e.sources) {
			d.fail()
			break
		}
		e.keys[i] = cachedKey{key: k, src: src}
	}
	e.children = make([]string, d.count())
	for i := range e.children {
		e.children[i] = d.string()
	}
	e.findings = make([]Finding, d.count())
	for i := range e.findings {
		e.findings[i] = Finding{Level: slog.Level(d.varint()), URI: d.string(), Stage: d.string(), Ref: d.string(), Msg: d.string()}
	}
	e.counts = make([]cachedCount, d.count())
	for i := range e.counts {
		e.counts[i] = cachedCount{kind: d.string(), valid: d.byte() == 1, n: int(d.uint32())}
	}
	e.stale = int(d.uint32())
	if d.err != nil || len(d.b) != 0 {
		return nil, errBadEntry
	}
	return e, nil
}
