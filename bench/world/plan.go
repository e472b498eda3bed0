package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/rovd/rovd/bench/world/encode"
)

// The plan is the whole world without any cryptography: the CA tree, its
// resources, every object's content and the faults. It is cheap and
// deterministic, so the ground truth is computed from it alone, and a
// mutation can rebuild it from world.json and re-sign only what changed.

// Random streams, so that one part of the plan never shifts another.
const (
	streamTree   = 1
	streamFaults = 2
	streamCA     = 1 << 20 // + CA index
	streamMutate = 1 << 40 // + generation
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// Limits of the address split: children get no address block of a family
// once a split would make blocks longer than this, so that every CA keeps
// room for ROAs of typical lengths.
const (
	maxSplitV4 = 24
	maxSplitV6 = 48
)

type asRange struct {
	lo, hi uint64
	ok     bool
}

func (r asRange) size() uint64 { return r.hi - r.lo + 1 }

// caNode is one CA of the plan.
type caNode struct {
	idx, parent, depth, ta int
	name                   string
	repo                   int
	children               []int

	// Resources on the CA's certificate.
	v4, v6 netip.Prefix
	as     asRange
	// The part of them the CA keeps for its own objects; the rest is
	// split among its children.
	own4, own6 netip.Prefix
	ownAS      asRange

	roas    []*roaPlan
	aspas   []*aspaPlan
	routers []*routerPlan
	gbrs    []*gbrPlan
	other   []string // files of unknown type

	fault FaultKind
	// gen counts the mutations of the CA's manifest and CRL; issued is
	// when they were last issued.
	gen    int
	issued time.Time
}

type roaPlan struct {
	file     string
	asn      uint32
	prefixes []encode.ROAPrefix
	fault    FaultKind
	unsafe   bool // arranged to overlap a rejected child
	gen      int
	issued   time.Time
}

type aspaPlan struct {
	file      string
	customer  uint32
	providers []uint32
	fault     FaultKind
}

type routerPlan struct {
	file  string
	asn   uint32
	key   int
	fault FaultKind
}

type gbrPlan struct {
	file  string
	fault FaultKind
}

type plan struct {
	cfg    *Config
	cas    []*caNode
	byName map[string]*caNode
	faults []*caNode
}

// bitsFor returns the smallest b with 2^b >= n.
func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

// subPrefix returns block i of p split into 2^b blocks.
func subPrefix(p netip.Prefix, b, i int) netip.Prefix {
	a := p.Addr().AsSlice()
	for j := range b {
		if i>>(b-1-j)&1 != 0 {
			pos := p.Bits() + j
			a[pos/8] |= 0x80 >> (pos % 8)
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	return netip.PrefixFrom(addr, p.Bits()+b)
}

// randomSubPrefix returns a random prefix of length bits inside p.
func randomSubPrefix(r *rand.Rand, p netip.Prefix, bits int) netip.Prefix {
	a := p.Addr().AsSlice()
	for pos := p.Bits(); pos < bits; pos++ {
		if r.IntN(2) == 1 {
			a[pos/8] |= 0x80 >> (pos % 8)
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	return netip.PrefixFrom(addr, bits)
}

// flipBit returns p with the bit before its length flipped: the sibling
// block, which lies outside p's parent block of one bit shorter.
func flipBit(p netip.Prefix, pos int) netip.Prefix {
	a := p.Addr().AsSlice()
	a[pos/8] ^= 0x80 >> (pos % 8)
	addr, _ := netip.AddrFromSlice(a)
	return netip.PrefixFrom(addr, p.Bits())
}

func splitPrefix(region netip.Prefix, limit, k int) (children []netip.Prefix, own netip.Prefix) {
	children = make([]netip.Prefix, k)
	if !region.IsValid() {
		return children, region
	}
	b := bitsFor(k + 1)
	if k == 0 || region.Bits()+b > limit {
		return children, region
	}
	for i := range k {
		children[i] = subPrefix(region, b, i)
	}
	return children, subPrefix(region, b, 1<<b-1)
}

func splitAS(region asRange, k int) (children []asRange, own asRange) {
	children = make([]asRange, k)
	if !region.ok || k == 0 {
		return children, region
	}
	b := bitsFor(k + 1)
	block := region.size() >> b
	if block == 0 {
		return children, region
	}
	for i := range k {
		lo := region.lo + uint64(i)*block
		children[i] = asRange{lo, lo + block - 1, true}
	}
	lo := region.lo + uint64(1<<b-1)*block
	return children, asRange{lo, region.hi, true}
}

// makePlan builds the plan of cfg, which must be normalized.
func makePlan(cfg *Config) (*plan, error) {
	p := &plan{cfg: cfg, byName: map[string]*caNode{}}
	tr := newRand(cfg.Seed, streamTree)
	nrepo := len(cfg.Repositories)
	allV4 := netip.MustParsePrefix("0.0.0.0/0")
	allV6 := netip.MustParsePrefix("::/0")
	allAS := asRange{0, math.MaxUint32, true}
	taBits := bitsFor(cfg.TAs)
	for t := range cfg.TAs {
		n := &caNode{idx: t, parent: -1, ta: t, name: cfg.taName(t), repo: t % nrepo,
			v4: allV4, v6: allV6, as: allAS}
		// Trust anchors hold everything, like the RIRs' (RFC 6490 §3
		// style), but each hands out only its own region, so that
		// their trees never overlap.
		n.own4 = subPrefix(allV4, taBits, t)
		n.own6 = subPrefix(allV6, taBits, t)
		block := allAS.size() >> taBits
		n.ownAS = asRange{uint64(t) * block, uint64(t+1)*block - 1, true}
		p.cas = append(p.cas, n)
	}
	for i := 0; i < len(p.cas); i++ {
		n := p.cas[i]
		if n.depth >= cfg.Depth {
			continue
		}
		w := cfg.Width
		if n.depth == 0 {
			w = cfg.TopWidth
		}
		if cfg.WidthSpread > 0 && w > 0 {
			spread := int(math.Round(float64(w) * cfg.WidthSpread))
			w += tr.IntN(2*spread+1) - spread
		}
		w = max(w, 0)
		c4, own4 := splitPrefix(n.own4, maxSplitV4, w)
		c6, own6 := splitPrefix(n.own6, maxSplitV6, w)
		cas, ownAS := splitAS(n.ownAS, w)
		n.own4, n.own6, n.ownAS = own4, own6, ownAS
		for k := range w {
			repo := n.repo
			if nrepo > 1 && tr.IntN(4) == 0 {
				repo = tr.IntN(nrepo)
			}
			c := &caNode{idx: len(p.cas), parent: i, depth: n.depth + 1, ta: n.ta,
				name: fmt.Sprintf("%s-%d", n.name, k+1), repo: repo,
				v4: c4[k], v6: c6[k], as: cas[k], own4: c4[k], own6: c6[k], ownAS: cas[k]}
			n.children = append(n.children, c.idx)
			p.cas = append(p.cas, c)
		}
	}
	for _, n := range p.cas {
		n.issued = cfg.Now
		if p.byName[n.name] != nil {
			return nil, fmt.Errorf("CA name %q used twice", n.name)
		}
		p.byName[n.name] = n
		p.planContent(n)
	}
	p.planFaults()
	return p, nil
}

// pickASN returns an AS number from the CA's own range, never AS0 (which
// has its own meaning in a ROA, RFC 6483 §4).
func pickASN(r *rand.Rand, rg asRange) uint32 {
	if !rg.ok {
		return 64496 + uint32(r.IntN(16)) // RFC 5398 documentation ASNs
	}
	a := rg.lo + r.Uint64N(rg.size())
	if a == 0 {
		a = 1
	}
	return uint32(a)
}

// count draws a count with the given mean: the integer part always, one
// more with the probability of the fraction.
func count(r *rand.Rand, mean float64) int {
	n := int(mean)
	if r.Float64() < mean-float64(n) {
		n++
	}
	return n
}

// roaPrefix draws one ROA prefix from the CA's own space.
func (p *plan) roaPrefix(r *rand.Rand, n *caNode, v6 bool) encode.ROAPrefix {
	if !n.own4.IsValid() {
		v6 = true
	}
	if !n.own6.IsValid() {
		v6 = false
	}
	own, maxBits := n.own4, 32
	lengths := []int{24, 24, 24, 23, 22, 21, 20, 19, 16}
	if v6 {
		own, maxBits = n.own6, 128
		lengths = []int{48, 48, 48, 44, 40, 36, 32, 29}
	}
	bits := max(lengths[r.IntN(len(lengths))], own.Bits())
	pfx := randomSubPrefix(r, own, bits)
	ml := bits
	if bits < maxBits && r.Float64() < p.cfg.MaxLengthShare {
		ml = bits + 1 + r.IntN(min(8, maxBits-bits))
	}
	return encode.ROAPrefix{Prefix: pfx, MaxLength: ml}
}

func (p *plan) planContent(n *caNode) {
	cfg := p.cfg
	r := newRand(cfg.Seed, streamCA+uint64(n.idx))
	nroa := int(r.Float64() * (2*cfg.ROAsPerCA + 1))
	for i := range nroa {
		roa := &roaPlan{file: fmt.Sprintf("roa-%d.roa", i+1), asn: pickASN(r, n.ownAS), issued: cfg.Now}
		np := 1 + r.IntN(cfg.MaxPrefixesPerROA)
		seen := map[netip.Prefix]bool{}
		for range np {
			rp := p.roaPrefix(r, n, r.Float64() < cfg.IPv6Share)
			if !seen[rp.Prefix] {
				seen[rp.Prefix] = true
				roa.prefixes = append(roa.prefixes, rp)
			}
		}
		n.roas = append(n.roas, roa)
	}
	if n.ownAS.ok {
		used := map[uint32]bool{}
		for i := range count(r, cfg.ASPARate) {
			c := pickASN(r, n.ownAS)
			if used[c] {
				continue
			}
			used[c] = true
			a := &aspaPlan{file: fmt.Sprintf("aspa-%d.asa", i+1), customer: c}
			for range 1 + r.IntN(4) {
				if pr := 1 + uint32(r.IntN(400000)); pr != c && !slices.Contains(a.providers, pr) {
					a.providers = append(a.providers, pr)
				}
			}
			if len(a.providers) == 0 {
				a.providers = []uint32{c%400000 + 1}
			}
			slices.Sort(a.providers)
			n.aspas = append(n.aspas, a)
		}
		for i := range count(r, cfg.RouterRate) {
			n.routers = append(n.routers, &routerPlan{
				file: fmt.Sprintf("router-%d.cer", i+1), asn: pickASN(r, n.ownAS), key: r.IntN(1 << 16)})
		}
	}
	if r.Float64() < cfg.GBRRate {
		n.gbrs = append(n.gbrs, &gbrPlan{file: n.name + ".gbr"})
	}
}

// planFaults picks one CA per fault, deterministically from the seed, so
// that no faulty CA is an ancestor of another: each fault's effect then
// stays its own. Trust anchors are never faulty.
func (p *plan) planFaults() {
	r := newRand(p.cfg.Seed, streamFaults)
	var cand []*caNode
	for _, n := range p.cas {
		if n.depth > 0 {
			cand = append(cand, n)
		}
	}
	r.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	blocked := make([]bool, len(p.cas)) // a fault sits in this CA's subtree
	for j := 0; j < p.cfg.Faults; j++ {
		kind := FaultKinds[j%len(FaultKinds)]
		pick := -1
		for ci, n := range cand {
			if n == nil || blocked[n.idx] || !p.canHold(n, kind) {
				continue
			}
			chosenAbove := false
			for a := n; a.parent >= 0; {
				a = p.cas[a.parent]
				if a.fault != "" {
					chosenAbove = true
					break
				}
			}
			if !chosenAbove {
				pick = ci
				break
			}
		}
		if pick < 0 {
			continue // no CA left that keeps the effects apart
		}
		n := cand[pick]
		cand[pick] = nil
		for a := n; ; a = p.cas[a.parent] {
			blocked[a.idx] = true
			if a.parent < 0 {
				break
			}
		}
		p.addFault(r, n, kind)
	}
}

// canHold reports whether n can carry a fault of the kind.
func (p *plan) canHold(n *caNode, kind FaultKind) bool {
	switch kind {
	case FaultCAOverclaim:
		// The parent must hold less than everything to be overclaimed.
		return n.depth >= 2
	case FaultASPACustomerInProvider, FaultRouterKeyNotP256:
		return n.ownAS.ok
	}
	return true
}

func (p *plan) addFault(r *rand.Rand, n *caNode, kind FaultKind) {
	n.fault = kind
	p.faults = append(p.faults, n)
	cfg := p.cfg
	switch kind.objectKind() {
	case KindROA:
		roa := &roaPlan{file: "fault.roa", asn: pickASN(r, n.ownAS), fault: kind, issued: cfg.Now}
		rp := p.roaPrefix(r, n, false)
		rp.MaxLength = rp.Prefix.Bits()
		switch kind {
		case FaultROAOutsideIssuer:
			res := n.v4
			if !res.IsValid() {
				res = n.v6
			}
			rp.Prefix = flipBit(netip.PrefixFrom(res.Addr(), max(res.Bits(), rp.Prefix.Bits())), res.Bits()-1)
			rp.MaxLength = rp.Prefix.Bits()
		case FaultROAMaxLengthBelow:
			rp.MaxLength = rp.Prefix.Bits() - 1
			rp.ForceMaxLength = true
		case FaultROAMaxLengthTooLong:
			rp.MaxLength = rp.Prefix.Addr().BitLen() + 1
			rp.ForceMaxLength = true
		}
		roa.prefixes = []encode.ROAPrefix{rp}
		if kind == FaultROAPrefixNotInEE {
			extra := p.roaPrefix(r, n, true)
			if extra.Prefix.Overlaps(rp.Prefix) {
				extra = p.roaPrefix(r, n, !extra.Prefix.Addr().Is4())
			}
			roa.prefixes = append(roa.prefixes, extra)
		}
		if kind.class() == classPoint {
			roa.fault = "" // a valid ROA; the manifest entry is what is wrong
		}
		n.roas = append(n.roas, roa)
	case KindASPA:
		c := pickASN(r, n.ownAS)
		n.aspas = append(n.aspas, &aspaPlan{file: "fault.asa", customer: c,
			providers: []uint32{c, c%400000 + 1}, fault: kind})
	case KindRouterCert:
		n.routers = append(n.routers, &routerPlan{file: "fault-router.cer", asn: pickASN(r, n.ownAS),
			key: r.IntN(1 << 16), fault: kind})
	case KindGBR:
		n.gbrs = append(n.gbrs, &gbrPlan{file: "fault.gbr", fault: kind})
	case KindOther:
		n.other = append(n.other, "fault.xyz")
	}
	// A rejected CA's resources make overlapping VRPs unsafe. Arrange
	// one: the parent authorizes the child's first address block.
	if kind.class() == classPoint {
		parent := p.cas[n.parent]
		blk := n.v4
		if !blk.IsValid() {
			blk = n.v6
		}
		parent.roas = append(parent.roas, &roaPlan{
			file:     "unsafe-" + n.name + ".roa",
			asn:      pickASN(r, parent.ownAS),
			prefixes: []encode.ROAPrefix{{Prefix: blk, MaxLength: blk.Bits()}},
			unsafe:   true,
			issued:   cfg.Now,
		})
	}
}

// faultObjectFile returns the file name of the object a fault concerns.
func (n *caNode) faultObjectFile(p *plan) string {
	switch n.fault.class() {
	case classCACert:
		return p.cas[n.parent].dirURI(p) + n.name + ".cer"
	}
	switch n.fault {
	case FaultManifestStale, FaultManifestBadSignature, FaultManifestMissing:
		return n.mftURI(p)
	case FaultCRLStale, FaultCRLMissing, FaultCRLBadSignature:
		return n.crlURI(p)
	case FaultASPACustomerInProvider:
		return n.dirURI(p) + "fault.asa"
	case FaultRouterKeyNotP256:
		return n.dirURI(p) + "fault-router.cer"
	case FaultGBRBadSignature:
		return n.dirURI(p) + "fault.gbr"
	case FaultUnknownObject:
		return n.dirURI(p) + "fault.xyz"
	}
	return n.dirURI(p) + "fault.roa"
}

// URIs of a CA.
func (n *caNode) repository(p *plan) Repository { return p.cfg.Repositories[n.repo] }
func (n *caNode) dirURI(p *plan) string         { return n.repository(p).RsyncBase() + n.name + "/" }
func (n *caNode) crlURI(p *plan) string         { return n.dirURI(p) + n.name + ".crl" }
func (n *caNode) mftURI(p *plan) string         { return n.dirURI(p) + n.name + ".mft" }

// certURI is where the CA's own certificate is published.
func (n *caNode) certURI(p *plan) string {
	if n.parent < 0 {
		return n.repository(p).RsyncBase() + "ta/" + n.name + ".cer"
	}
	return p.cas[n.parent].dirURI(p) + n.name + ".cer"
}

// taHTTPSURI is where a trust anchor's certificate is served over HTTPS.
func (n *caNode) taHTTPSURI(p *plan) string {
	return "https://" + n.repository(p).HTTPS + "/ta/" + n.name + ".cer"
}
