package world

import (
	"net/netip"
	"slices"
)

// roaVRPs returns the VRPs a ROA gives when valid.
func (p *plan) roaVRPs(n *caNode, r *roaPlan) []VRP {
	ta := p.cas[n.ta].name
	out := make([]VRP, 0, len(r.prefixes))
	for _, rp := range r.prefixes {
		ml := rp.MaxLength
		if ml == 0 {
			ml = rp.Prefix.Bits()
		}
		out = append(out, VRP{ASN: r.asn, Prefix: rp.Prefix.Masked(), MaxLength: ml, TA: ta})
	}
	return out
}

// caPayload returns what CA n itself contributes when its publication
// point is accepted.
func (p *plan) caPayload(n *caNode, b *builder) Payload {
	var pl Payload
	ta := p.cas[n.ta].name
	for _, r := range n.roas {
		if r.fault == "" && !(r.file == "fault.roa" && n.fault == FaultFileNotOnManifest) {
			pl.VRPs = append(pl.VRPs, p.roaVRPs(n, r)...)
		}
	}
	for _, a := range n.aspas {
		if a.fault == "" {
			pl.ASPAs = append(pl.ASPAs, ASPA{Customer: a.customer, Providers: slices.Clone(a.providers), TA: ta})
		}
	}
	for _, rt := range n.routers {
		if rt.fault == "" {
			pl.RouterKeys = append(pl.RouterKeys, b.routerKey(n, rt))
		}
	}
	return pl
}

// faultPayload returns what a fault's own object would have given had it
// been valid.
func (p *plan) faultPayload(n *caNode, b *builder) Payload {
	var pl Payload
	ta := p.cas[n.ta].name
	for _, r := range n.roas {
		if r.fault != "" || r.file == "fault.roa" {
			pl.VRPs = append(pl.VRPs, p.roaVRPs(n, r)...)
		}
	}
	for _, a := range n.aspas {
		if a.fault != "" {
			pl.ASPAs = append(pl.ASPAs, ASPA{Customer: a.customer, Providers: slices.Clone(a.providers), TA: ta})
		}
	}
	for _, rt := range n.routers {
		if rt.fault != "" {
			// The key that would be there: the RSA key actually used.
			k := b.ee[rt.key%len(b.ee)]
			pl.RouterKeys = append(pl.RouterKeys, RouterKey{ASN: rt.asn, SKI: hexUpper(k.ski), SPKI: base64Std(k.spki), TA: ta})
		}
	}
	return pl
}

func (p *plan) subtree(n *caNode, fn func(*caNode)) {
	fn(n)
	for _, c := range n.children {
		p.subtree(p.cas[c], fn)
	}
}

// subtreePayload is everything n and its descendants give when valid
// (their own faults aside, of which there are none: faulty CAs are never
// nested).
func (p *plan) subtreePayload(n *caNode, b *builder) Payload {
	var pl Payload
	p.subtree(n, func(c *caNode) {
		cp := p.caPayload(c, b)
		pl.VRPs = append(pl.VRPs, cp.VRPs...)
		pl.ASPAs = append(pl.ASPAs, cp.ASPAs...)
		pl.RouterKeys = append(pl.RouterKeys, cp.RouterKeys...)
	})
	return pl
}

// truth computes the ground truth under default policies: stale=reject,
// unknown-objects=warn, unsafe-vrps=warn (unsafe VRPs kept and listed).
func (p *plan) truth(b *builder) Truth {
	var t Truth
	lost := make([]bool, len(p.cas))
	var rejected []netip.Prefix
	for _, n := range p.cas {
		if n.parent >= 0 && lost[n.parent] {
			lost[n.idx] = true
			continue
		}
		switch n.fault.class() {
		case classPoint:
			lost[n.idx] = true
			for _, pfx := range []netip.Prefix{n.v4, n.v6} {
				if pfx.IsValid() && pfx.Bits() > 0 {
					rejected = append(rejected, pfx)
				}
			}
			continue
		case classCACert:
			lost[n.idx] = true
			continue
		}
		cp := p.caPayload(n, b)
		t.VRPs = append(t.VRPs, cp.VRPs...)
		t.ASPAs = append(t.ASPAs, cp.ASPAs...)
		t.RouterKeys = append(t.RouterKeys, cp.RouterKeys...)
	}
	t.VRPs = SortVRPs(t.VRPs)
	sortASPAs(t.ASPAs)
	sortRouterKeys(t.RouterKeys)
	for _, v := range t.VRPs {
		for _, r := range rejected {
			if v.Prefix.Overlaps(r) {
				t.Unsafe = append(t.Unsafe, v)
				break
			}
		}
	}
	for _, n := range p.faults {
		f := Fault{CA: n.name, Kind: n.fault, URI: n.faultObjectFile(p), Effect: n.fault.effect()}
		var would Payload
		switch n.fault.class() {
		case classPoint, classCACert:
			would = p.subtreePayload(n, b)
			if n.fault == FaultManifestHashMismatch || n.fault == FaultManifestFileMissing {
				fp := p.faultPayload(n, b)
				would.VRPs = append(would.VRPs, fp.VRPs...)
			}
		default:
			would = p.faultPayload(n, b)
		}
		f.Removes = missing(would, &t.Payload)
		if pol, eff := n.fault.policy(); pol != "" {
			f.Policy, f.PolicyEffect = pol, eff
			switch eff {
			case EffectAccepted:
				f.PolicyRemoves = &Payload{}
			case EffectCARejected:
				pr := missing(p.subtreePayload(n, b), nil)
				f.PolicyRemoves = &pr
			}
		}
		t.Faults = append(t.Faults, f)
	}
	return t
}

// missing returns the part of would that is absent from have (all of it
// if have is nil), sorted.
func missing(would Payload, have *Payload) Payload {
	var out Payload
	for _, v := range SortVRPs(would.VRPs) {
		if have == nil {
			out.VRPs = append(out.VRPs, v)
		} else if _, found := slices.BinarySearchFunc(have.VRPs, v, compareVRP); !found {
			out.VRPs = append(out.VRPs, v)
		}
	}
	for _, a := range would.ASPAs {
		if have == nil || !slices.ContainsFunc(have.ASPAs, func(x ASPA) bool { return x.String() == a.String() }) {
			out.ASPAs = append(out.ASPAs, a)
		}
	}
	for _, k := range would.RouterKeys {
		if have == nil || !slices.Contains(have.RouterKeys, k) {
			out.RouterKeys = append(out.RouterKeys, k)
		}
	}
	sortASPAs(out.ASPAs)
	sortRouterKeys(out.RouterKeys)
	if out.VRPs == nil {
		out.VRPs = []VRP{}
	}
	if out.ASPAs == nil {
		out.ASPAs = []ASPA{}
	}
	if out.RouterKeys == nil {
		out.RouterKeys = []RouterKey{}
	}
	return out
}

func sortASPAs(a []ASPA) {
	slices.SortFunc(a, func(x, y ASPA) int {
		if x.Customer != y.Customer {
			if x.Customer < y.Customer {
				return -1
			}
			return 1
		}
		return compareStrings(x.String(), y.String())
	})
}

func sortRouterKeys(k []RouterKey) {
	slices.SortFunc(k, func(x, y RouterKey) int {
		if x.ASN != y.ASN {
			if x.ASN < y.ASN {
				return -1
			}
			return 1
		}
		return compareStrings(x.String(), y.String())
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
