package engine

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

// pointResult is what a publication point that validated yields.
type pointResult struct {
	payload payload.Builder
	// nvrps counts the VRPs the point gave, duplicates included, also
	// when payload was not read from the cache.
	nvrps    int
	children []*task
	// keep are the manifest and every file it lists when they should be
	// recorded as the point's last good copy (they validated from the
	// latest data and differ from what is kept), else nil.
	keep     []store.PointObject
	mftHash  [32]byte
	lastGood bool

	// rec records a point validated in full for the validation cache,
	// and entry is the encoded record to write.
	rec   *recorder
	entry *store.CacheEntry
	// fp, from and until are the point's fingerprint and the window its
	// result holds for, as its cache entry has them.
	fp          [32]byte
	from, until int64
}

// maxRouterCertASNs bounds the AS numbers one router certificate may
// yield keys for; real ones name one or a few.
const maxRouterCertASNs = 1024

// validatePoint validates a CA's publication point from the latest
// fetched data and, if that fails, from the last copy that validated.
// It returns nil when neither does: the CA is rejected with its children.
func (w *walk) validatePoint(t *task, issuer *rpki.Issuer, log *pointLog) (*pointResult, error) {
	mftURI := t.cert.Manifest
	var pt *pointResult
	err := w.e.store.View(func(v *store.View) error {
		var cur *store.Objects
		if t.repo != "" {
			cur = v.Repository(t.repo)
		}
		var fp [32]byte
		if cur != nil {
			w.noteStamp(t.repo, v)
			fp = w.fingerprint(t, issuer)
			if !w.e.opt.ColdCache {
				// A hit needs no kept copy written: the run that wrote
				// the entry kept this very content.
				if pt = w.fromCache(v, t, fp, cur, log, w.withPayload); pt != nil {
					if !w.withPayload {
						w.noteUnread(t, fp, issuer)
					}
					w.cacheHits.Add(1)
					return nil
				}
			}
		}
		if t.lazy {
			if err := w.loadCert(v, t, issuer); err != nil {
				log.add(slog.LevelWarn, t.certURI, nil, "CA certificate no longer readable: "+err.Error())
				return nil
			}
		}
		kept := v.Point(mftURI)
		var prev *rpki.Manifest
		var keptHash [32]byte
		if kept != nil {
			if o, ok := kept.Get(mftURI); ok {
				keptHash = o.Hash
				prev, _ = rpki.ParseManifest(o.Data, w.mode) // it validated when kept
			}
		}
		// What a changed point kept needs no new signature checks,
		// unless the cache is to be ignored.
		signer := keyHash(issuer.Cert)
		var known map[[32]byte]bool
		if !w.e.opt.ColdCache {
			known = verifiedBefore(v, mftURI, signer)
		}
		if cur != nil {
			pt = w.checkPoint(t, issuer, signer, known, cur, prev, log)
			if pt != nil {
				if w.e.opt.Persist {
					pt.rec.e.stamp = v.Stamp(t.repo)
					pt.entry = pt.rec.entry(fp, log)
					pt.fp, pt.from, pt.until = fp, pt.rec.e.from, pt.rec.e.until
				}
				if kept != nil && keptHash == pt.mftHash {
					pt.keep = nil // kept already
				}
				return nil
			}
		} else {
			log.add(slog.LevelWarn, mftURI, nil, "no data for the publication point")
		}
		// The kept copy is worth a try even under the same manifest: it
		// holds the files as they were when they validated.
		if kept != nil {
			var keptLog pointLog
			if pt = w.checkPoint(t, issuer, signer, known, kept, nil, &keptLog); pt != nil {
				pt.lastGood, pt.keep = true, nil
				log.add(slog.LevelWarn, mftURI, nil, "latest data rejected, using the last good copy of the publication point")
				log.absorb(&keptLog)
				return nil
			}
		}
		log.add(slog.LevelWarn, mftURI, nil, "publication point rejected: CA "+t.certURI+" and its children not validated")
		return nil
	})
	return pt, err
}

// loadCert reads and parses the whole certificate of a lazy task, whose
// point must be validated in full after all.
func (w *walk) loadCert(v *store.View, t *task, issuer *rpki.Issuer) error {
	objs := v.Repository(t.srcRepo)
	if objs == nil {
		return errNoData
	}
	o, ok := objs.Get(t.certURI)
	if !ok || o.Hash != t.certHash {
		return errors.New("changed since its parent validated")
	}
	c, err := rpki.ParseCertificate(bytes.Clone(o.Data), w.mode)
	if err != nil {
		return err
	}
	t.cert, t.lazy = c, false
	issuer.Cert = c
	return nil
}

// pointFile is one file a manifest lists, as found in the store.
type pointFile struct {
	uri string
	obj store.Object
	// entry is the file's index in the files of the point's cache
	// record.
	entry int
}

// checkPoint validates a publication point's manifest, CRL and files from
// objs. prev is the last good manifest, which the new one must not
// predate. Problems of the point itself reject it (nil); an invalid
// object drops only that object. Objects whose hash is in known had
// their signatures verified under the CA's key, whose hash is signer.
func (w *walk) checkPoint(t *task, issuer *rpki.Issuer, signer [32]byte, known map[[32]byte]bool, objs *store.Objects, prev *rpki.Manifest, log *pointLog) *pointResult {
	mftURI, caRepo := t.cert.Manifest, t.cert.CARepository
	rec := newRecorder(w.at, log)
	rec.e.signer = signer
	vouched := *issuer
	vouched.SignaturesVerified = true
	issuerFor := func(hash [32]byte, iss *rpki.Issuer) *rpki.Issuer {
		if known[hash] {
			w.sigsReused.Add(1)
			return &vouched
		}
		return iss
	}
	if !strings.HasPrefix(mftURI, caRepo) {
		// The SIA names the manifest of the CA's own publication point
		// (RFC 6487 §4.8.8.1); one elsewhere would list another's files.
		log.add(slog.LevelWarn, mftURI, &rpki.Problem{Ref: "RFC 6487 §4.8.8.1"}, "manifest is not in the CA's repository "+caRepo)
		return nil
	}
	mo, ok := objs.Get(mftURI)
	if !ok {
		log.add(slog.LevelWarn, mftURI, nil, "manifest not found")
		return nil
	}
	mft, err := rpki.ParseManifest(mo.Data, w.mode)
	if err != nil {
		log.add(slog.LevelWarn, mftURI, nil, "manifest: "+errMsg(err))
		return nil
	}
	if ps := append(mft.Problems(), mft.Validate(issuerFor(mo.Hash, issuer), w.at)...); len(ps) > 0 {
		log.problems(slog.LevelWarn, mftURI, ps)
		return nil
	}
	rec.boundary(mft.ThisUpdate, mft.NextUpdate, mft.EE.NotBefore, mft.EE.NotAfter)
	if prev != nil {
		if new(big.Int).SetBytes(mft.Number).Cmp(new(big.Int).SetBytes(prev.Number)) < 0 {
			log.add(slog.LevelWarn, mftURI, &rpki.Problem{Ref: "RFC 9286 §4.2.1"}, "manifest number went backwards against the last good one")
			return nil
		}
		if mft.ThisUpdate.Before(prev.ThisUpdate) {
			log.add(slog.LevelWarn, mftURI, &rpki.Problem{Ref: "RFC 9286 §4.2.1"}, "manifest thisUpdate went backwards against the last good one")
			return nil
		}
	}
	if mft.Stale(w.at) && !w.staleOK(log, mftURI, "manifest") {
		return nil
	}
	if len(mft.Files) > w.e.opt.MaxObjectsPerPoint {
		log.add(slog.LevelWarn, mftURI, nil, fmt.Sprintf("manifest lists %d files, more than %d", len(mft.Files), w.e.opt.MaxObjectsPerPoint))
		return nil
	}

	// Every listed file must be there with its hash (RFC 9286 §6.4).
	// The store hashed each object when it came in.
	pt := &pointResult{mftHash: mo.Hash, rec: rec}
	rec.e.manifest = mo.Hash
	pt.keep = make([]store.PointObject, 0, len(mft.Files)+1)
	pt.keep = append(pt.keep, store.PointObject{URI: mftURI, Ref: mo.Ref, Hash: mo.Hash})
	files := make([]pointFile, 0, len(mft.Files))
	crlURI, crlIndex := mft.EE.CRLURI, -1
	for _, f := range mft.Files {
		if err := rpki.CheckFileName(f.Name, w.mode); err != nil {
			log.add(slog.LevelWarn, mftURI, nil, fmt.Sprintf("manifest lists a bad file name %q: %v", f.Name, err))
			return nil
		}
		uri := caRepo + string(f.Name)
		o, ok := objs.Get(uri)
		if !ok {
			log.add(slog.LevelWarn, uri, &rpki.Problem{Ref: "RFC 9286 §6.4"}, "file on the manifest is missing")
			return nil
		}
		if !bytes.Equal(o.Hash[:], f.Hash) {
			log.add(slog.LevelWarn, uri, &rpki.Problem{Ref: "RFC 9286 §6.5"}, "file does not match its hash on the manifest")
			return nil
		}
		rec.e.files = append(rec.e.files, cachedFile{name: string(f.Name), hash: o.Hash})
		typ := rpki.TypeFromName(uri)
		if !knownType(typ) {
			switch w.e.opt.UnknownObjects {
			case Reject:
				log.add(slog.LevelWarn, uri, nil, "object of unknown type (unknown-objects is reject)")
				return nil
			case Warn:
				log.add(slog.LevelWarn, uri, nil, "object of unknown type ignored")
			}
			continue
		}
		if uri == crlURI {
			crlIndex = len(files)
		}
		files = append(files, pointFile{uri: uri, obj: o, entry: len(rec.e.files) - 1})
		pt.keep = append(pt.keep, store.PointObject{URI: uri, Ref: o.Ref, Hash: o.Hash})
	}

	// The CRL is the one the manifest's EE certificate names; it must be
	// on the manifest (RFC 9286 §6.4).
	if crlIndex < 0 {
		log.add(slog.LevelWarn, crlURI, &rpki.Problem{Ref: "RFC 9286 §6.4"}, "CRL not on the manifest")
		return nil
	}
	crl, err := rpki.ParseCRL(files[crlIndex].obj.Data, w.mode)
	if err != nil {
		log.add(slog.LevelWarn, crlURI, nil, "CRL: "+errMsg(err))
		return nil
	}
	if ps := append(crl.Problems(), crl.Validate(issuerFor(files[crlIndex].obj.Hash, issuer), w.at)...); len(ps) > 0 {
		log.problems(slog.LevelWarn, crlURI, ps)
		return nil
	}
	rec.e.files[files[crlIndex].entry].verified = true
	if crl.Stale(w.at) && !w.staleOK(log, crlURI, "CRL") {
		return nil
	}
	rec.boundary(crl.ThisUpdate, crl.NextUpdate)
	iss := *issuer
	iss.CRL, iss.CRLURI = crl, crlURI
	vouched = iss
	vouched.SignaturesVerified = true
	if crl.Revoked(mft.EE.Serial) {
		log.add(slog.LevelWarn, mftURI, &rpki.Problem{Ref: "RFC 6487 §5"}, "manifest's EE certificate is revoked")
		return nil
	}
	log.count("manifest", true)
	log.count("crl", true)

	own := intersect(payload.Validity{}, mft.ThisUpdate, mft.NextUpdate)
	own = intersect(own, crl.ThisUpdate, crl.NextUpdate)
	rec.e.chain = own
	chain := intersect(t.chain, own.NotBefore, own.NotAfter)
	for i := range files {
		if i != crlIndex {
			w.checkObject(t, issuerFor(files[i].obj.Hash, &iss), &files[i], chain, pt, log)
		}
	}
	pt.nvrps = pt.payload.Len()
	return pt
}

// knownType says whether a file type may appear at a publication point.
func knownType(t rpki.Type) bool {
	switch t {
	case rpki.TypeCertificate, rpki.TypeCRL, rpki.TypeManifest, rpki.TypeROA, rpki.TypeASPA, rpki.TypeGBR:
		return true
	}
	return false
}

// staleOK applies the stale policy to a stale manifest or CRL.
func (w *walk) staleOK(log *pointLog, uri, what string) bool {
	switch w.e.opt.Stale {
	case Reject:
		log.add(slog.LevelWarn, uri, &rpki.Problem{Ref: "RFC 9286 §6.3"}, "stale "+what)
		return false
	case Warn:
		log.add(slog.LevelWarn, uri, nil, "stale "+what+" accepted (stale is warn)")
	}
	log.stale++
	return true
}

// checkObject validates one object of a point and adds what it yields.
func (w *walk) checkObject(t *task, iss *rpki.Issuer, f *pointFile, chain payload.Validity, pt *pointResult, log *pointLog) {
	typ := rpki.TypeFromName(f.uri)
	kind := strings.ToLower(typ.String())
	var ps []rpki.Problem
	fail := func(err error) {
		log.add(slog.LevelWarn, f.uri, nil, kind+": "+errMsg(err))
		log.count(kind, false)
	}
	switch typ {
	case rpki.TypeCertificate:
		// Certificates outlive the view: a child CA is validated later.
		data := bytes.Clone(f.obj.Data)
		c, err := rpki.ParseCertificate(data, w.mode)
		if err != nil {
			fail(err)
			return
		}
		pt.rec.boundary(c.NotBefore, c.NotAfter)
		if ps = append(c.Problems(), c.Validate(iss, w.at)...); len(ps) > 0 {
			break
		}
		switch c.Kind {
		case rpki.CertCA:
			pt.children = append(pt.children, &task{certURI: f.uri, cert: c, chain: intersect(chain, c.NotBefore, c.NotAfter)})
			pt.children[len(pt.children)-1].certHash = f.obj.Hash
			pt.rec.e.children = append(pt.rec.e.children, cachedChild{
				name: f.uri[len(t.cert.CARepository):], notify: c.Notify, caRepository: c.CARepository, manifest: c.Manifest,
				notBefore: c.NotBefore.Unix(), notAfter: c.NotAfter.Unix(), resources: c.Resources, hash: f.obj.Hash,
			})
			kind = "ca"
		case rpki.CertRouter:
			kind = "router"
			src := w.source(t, f.uri, c, chain)
			n := 0
			for _, r := range c.Resources.AS.Ranges {
				for as := uint64(r.Min); as <= uint64(r.Max) && n < maxRouterCertASNs; as++ {
					k := payload.RouterKey{ASN: uint32(as), SPKI: c.SPKI}
					copy(k.SKI[:], c.SKI)
					pt.addRouterKey(k, src, t.cert.CARepository)
					n++
				}
			}
		default:
			ps = []rpki.Problem{{Stage: rpki.Verify, Ref: "RFC 6487 §4.8.1", Err: fmt.Errorf("%s certificate published at a CA's point", c.Kind)}}
		}
	case rpki.TypeROA:
		roa, err := rpki.ParseROA(f.obj.Data, w.mode)
		if err != nil {
			fail(err)
			return
		}
		pt.rec.boundary(roa.EE.NotBefore, roa.EE.NotAfter)
		if ps = append(roa.Problems(), roa.Validate(iss, w.at)...); len(ps) > 0 {
			break
		}
		src := w.source(t, f.uri, roa.EE, chain)
		for _, p := range roa.Prefixes {
			pt.addVRP(payload.VRP{ASN: roa.ASID, Prefix: p.Prefix, MaxLength: p.MaxLength}, src, t.cert.CARepository)
		}
	case rpki.TypeASPA:
		a, err := rpki.ParseASPA(f.obj.Data, w.mode)
		if err != nil {
			fail(err)
			return
		}
		pt.rec.boundary(a.EE.NotBefore, a.EE.NotAfter)
		if ps = append(a.Problems(), a.Validate(iss, w.at)...); len(ps) > 0 {
			break
		}
		pt.addASPA(payload.ASPA{Customer: a.CustomerASID, Providers: slices.Clone(a.Providers)}, w.source(t, f.uri, a.EE, chain), t.cert.CARepository)
	case rpki.TypeGBR:
		g, err := rpki.ParseGBR(f.obj.Data, w.mode)
		if err != nil {
			fail(err)
			return
		}
		pt.rec.boundary(g.EE.NotBefore, g.EE.NotAfter)
		ps = append(g.Problems(), g.Validate(iss, w.at)...)
	case rpki.TypeCRL, rpki.TypeManifest:
		// Only the CA's own CRL and manifest count; others are ignored.
		return
	}
	if len(ps) > 0 {
		log.problems(slog.LevelWarn, f.uri, ps)
		log.count(kind, false)
		return
	}
	pt.rec.e.files[f.entry].verified = true
	log.count(kind, true)
}

// addVRP adds a VRP to the point's payload and its cache record.
func (pt *pointResult) addVRP(v payload.VRP, src *payload.Source, caRepo string) {
	pt.payload.AddVRP(v, src)
	pt.rec.e.vrps = append(pt.rec.e.vrps, cachedVRP{vrp: v, src: pt.rec.source(src, caRepo)})
}

func (pt *pointResult) addASPA(a payload.ASPA, src *payload.Source, caRepo string) {
	pt.payload.AddASPA(a, src)
	pt.rec.e.aspas = append(pt.rec.e.aspas, cachedASPA{aspa: a, src: pt.rec.source(src, caRepo)})
}

func (pt *pointResult) addRouterKey(k payload.RouterKey, src *payload.Source, caRepo string) {
	pt.payload.AddRouterKey(k, src)
	pt.rec.e.keys = append(pt.rec.e.keys, cachedKey{key: k, src: pt.rec.source(src, caRepo)})
}

// source describes the object at uri, signed by (or being) cert.
func (w *walk) source(t *task, uri string, cert *rpki.Certificate, chain payload.Validity) *payload.Source {
	return &payload.Source{
		TA:       t.ta.label,
		URI:      uri,
		Validity: payload.Validity{NotBefore: cert.NotBefore, NotAfter: cert.NotAfter},
		Chain:    intersect(chain, cert.NotBefore, cert.NotAfter),
	}
}

// intersect narrows v to the span from notBefore to notAfter.
func intersect(v payload.Validity, notBefore, notAfter time.Time) payload.Validity {
	if v.NotBefore.IsZero() || notBefore.After(v.NotBefore) {
		v.NotBefore = notBefore
	}
	if v.NotAfter.IsZero() || notAfter.Before(v.NotAfter) {
		v.NotAfter = notAfter
	}
	return v
}
