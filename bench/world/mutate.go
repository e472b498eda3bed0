package world

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MutateOptions control Mutate.
type MutateOptions struct {
	// Percent is the share of all publication points to change.
	Percent float64
	// Now is the time of the change (default time.Now()); the new
	// manifests and CRLs are issued relative to it.
	Now time.Time
	// KeyCache must hold the keys the world was built with.
	KeyCache string
	Logger   *slog.Logger
}

// MutateResult reports what Mutate changed.
type MutateResult struct {
	// Points is the number of publication points re-issued.
	Points int
	// Repositories lists the repositories that got a new RRDP serial.
	Repositories []string
	Mutations    []Mutation
	// Stats describes the world after the change; Bytes counts what this
	// mutation wrote.
	Stats Stats
}

// applyMutations replays recorded mutations over a fresh plan.
func (p *plan) applyMutations(ms []Mutation) error {
	for _, m := range ms {
		n := p.byName[m.CA]
		if n == nil {
			return fmt.Errorf("mutation %d: no CA %q", m.Gen, m.CA)
		}
		r := n.roaByFile(m.ROA)
		if r == nil || len(r.prefixes) == 0 {
			return fmt.Errorf("mutation %d: CA %s has no ROA %q", m.Gen, m.CA, m.ROA)
		}
		n.gen, n.issued = m.Gen, m.Time
		r.gen, r.issued = m.Gen, m.Time
		r.asn = m.ASN
		r.prefixes[0].MaxLength = m.MaxLength
		if m.NewFile != "" {
			r.file = m.NewFile
		}
	}
	return nil
}

func (n *caNode) roaByFile(name string) *roaPlan {
	for _, r := range n.roas {
		if r.file == name {
			return r
		}
	}
	return nil
}

// lostCAs marks the CAs a validator does not accept: the faulty ones and
// everything below them.
func (p *plan) lostCAs() []bool {
	lost := make([]bool, len(p.cas))
	for _, n := range p.cas {
		c := n.fault.class()
		lost[n.idx] = (n.parent >= 0 && lost[n.parent]) || (n.fault != "" && (c == classPoint || c == classCACert))
	}
	return lost
}

// chooseMutations picks the publication points of generation gen and
// what changes in each: one ROA gets a new AS, a new maxLength, or is
// replaced by a new file with a new AS. Faulty
// CAs are left alone so that each fault keeps its meaning.
func (p *plan) chooseMutations(gen int, now time.Time, percent float64) []Mutation {
	r := newRand(p.cfg.Seed, streamMutate+uint64(gen))
	lost := p.lostCAs()
	var eligible []*caNode
	for _, n := range p.cas {
		if n.fault == "" && !lost[n.idx] && slices.ContainsFunc(n.roas, func(r *roaPlan) bool { return r.fault == "" }) {
			eligible = append(eligible, n)
		}
	}
	want := min(max(int(math.Round(float64(len(p.cas))*percent/100)), 1), len(eligible))
	r.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	chosen := eligible[:want]
	slices.SortFunc(chosen, func(a, b *caNode) int { return a.idx - b.idx })
	var out []Mutation
	for i, n := range chosen {
		var roas []*roaPlan
		for _, rp := range n.roas {
			if rp.fault == "" {
				roas = append(roas, rp)
			}
		}
		roa := roas[r.IntN(len(roas))]
		m := Mutation{Gen: gen, Time: now, CA: n.name, ROA: roa.file, ASN: roa.asn, MaxLength: roa.prefixes[0].MaxLength}
		pfx := roa.prefixes[0].Prefix
		// Take the three kinds of change in turn, so that every
		// generation has some of each.
		how := i % 3
		if how == 2 {
			// Replace: a new file with a new AS, the old one withdrawn.
			m.NewFile = fmt.Sprintf("%s-g%d.roa", strings.TrimSuffix(strings.TrimSuffix(roa.file, ".roa"), fmt.Sprintf("-g%d", gen-1)), gen)
		}
		if how != 1 || (m.MaxLength == pfx.Bits() && pfx.Bits() == pfx.Addr().BitLen()) {
			for m.ASN == roa.asn {
				m.ASN = pickASN(r, n.ownAS)
				if !n.ownAS.ok || n.ownAS.size() == 1 {
					m.ASN = roa.asn + 1
				}
			}
		} else if m.MaxLength > pfx.Bits() {
			m.MaxLength = pfx.Bits()
		} else {
			m.MaxLength = min(pfx.Bits()+2, pfx.Addr().BitLen())
		}
		out = append(out, m)
	}
	return out
}

// change is one file a mutation rewrote.
type change struct {
	uri      string
	data     []byte
	oldHash  []byte // nil for a new file
	withdraw bool
}

// Mutate changes a share of the publication points of the world written in
// dir: each gets a new manifest and CRL (numbers incremented) and one ROA
// with a new AS or maxLength. The rsync tree is updated in place, each
// touched repository gets a new RRDP serial with a delta and a new
// snapshot, and the truth and world.json are rewritten. Nothing else is
// signed again: unchanged files are read back from the rsync tree.
func Mutate(ctx context.Context, dir string, opt MutateOptions) (*MutateResult, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	cfg := st.Config
	cfg.KeyCache, cfg.Logger = opt.KeyCache, opt.Logger
	pr, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p, b := pr.p, pr.b
	if st.KeyDigest != "" && st.KeyDigest != b.keyDigest() {
		return nil, errors.New("the key cache does not hold the keys this world was built with")
	}
	if err := p.applyMutations(st.Mutations); err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	gen := 1
	for _, m := range st.Mutations {
		gen = max(gen, m.Gen+1)
	}
	muts := p.chooseMutations(gen, now, opt.Percent)
	if err := p.applyMutations(muts); err != nil {
		return nil, err
	}
	rsyncPath := func(uri string) string {
		return filepath.Join(dir, "rsync", filepath.FromSlash(uri[len("rsync://"):]))
	}
	res := &MutateResult{Points: len(muts), Mutations: muts}
	changes := map[string][]change{}
	for _, m := range muts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := p.byName[m.CA]
		rebuild := map[string]bool{m.ROA: true, n.name + ".crl": true}
		pt, err := b.buildPoint(n, func(name string) ([]byte, bool) {
			if rebuild[name] {
				return nil, false
			}
			data, err := os.ReadFile(rsyncPath(n.dirURI(p) + name))
			return data, err == nil
		})
		if err != nil {
			return nil, err
		}
		repo := n.repository(p).Name
		for _, o := range pt.objects {
			path := rsyncPath(o.URI)
			old, err := os.ReadFile(path)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			if err == nil && string(old) == string(o.Bytes) {
				continue
			}
			c := change{uri: o.URI, data: o.Bytes}
			if err == nil {
				h := sha256.Sum256(old)
				c.oldHash = h[:]
			}
			changes[repo] = append(changes[repo], c)
			if err := writeFileAtomic(path, o.Bytes); err != nil {
				return nil, err
			}
			res.Stats.Bytes += int64(len(o.Bytes))
		}
		if m.NewFile != "" {
			uri := n.dirURI(p) + m.ROA
			old, err := os.ReadFile(rsyncPath(uri))
			if err != nil {
				return nil, fmt.Errorf("replaced ROA: %w", err)
			}
			h := sha256.Sum256(old)
			changes[repo] = append(changes[repo], change{uri: uri, oldHash: h[:], withdraw: true})
			if err := os.Remove(rsyncPath(uri)); err != nil {
				return nil, err
			}
		}
	}
	for i := range st.Repositories {
		rs := &st.Repositories[i]
		cs := changes[rs.Name]
		if len(cs) == 0 {
			continue
		}
		n, err := p.advanceRepo(dir, rs, cs, b)
		if err != nil {
			return nil, fmt.Errorf("rrdp %s: %w", rs.Name, err)
		}
		res.Stats.Bytes += n
		res.Repositories = append(res.Repositories, rs.Name)
	}
	t := p.truth(b)
	if err := writeTruth(filepath.Join(dir, "truth"), &t); err != nil {
		return nil, err
	}
	st.Mutations = append(st.Mutations, muts...)
	st.Stats.VRPs, st.Stats.ASPAs, st.Stats.RouterKeys = len(t.VRPs), len(t.ASPAs), len(t.RouterKeys)
	if err := writeJSON(filepath.Join(dir, StateFile), st); err != nil {
		return nil, err
	}
	written := res.Stats.Bytes
	res.Stats = st.Stats
	res.Stats.Bytes = written
	return res, nil
}

// advanceRepo publishes a new serial of a repository: a delta with the
// changes, a new snapshot read back from the rsync tree and a new
// notification listing every delta. It returns the bytes written.
func (p *plan) advanceRepo(dir string, rs *RepoState, cs []change, b *builder) (int64, error) {
	base := filepath.Join(dir, "rrdp", rs.Name)
	// The snapshot before the current one goes once the new one is
	// announced: the current one stays downloadable for a relying party
	// that read the notification a moment ago.
	var oldSnapshot string
	if rs.Serial > 1 {
		oldSnapshot = filepath.Join(base, rs.SessionID, strconv.FormatUint(rs.Serial-1, 10), "snapshot.xml")
	}
	rs.Serial++
	rel, uri := rrdpFile(rs.Repository, rs.SessionID, rs.Serial, "delta.xml")
	x, err := createXML(filepath.Join(base, rel))
	if err != nil {
		return 0, err
	}
	x.WriteString(rrdpHeader("delta", rs.SessionID, rs.Serial))
	for _, c := range cs {
		if c.withdraw {
			x.withdraw(c.uri, c.oldHash)
		} else {
			x.publish(c.uri, c.data, c.oldHash)
		}
	}
	x.WriteString("</delta>\n")
	written := x.n
	h, err := x.close()
	if err != nil {
		return 0, err
	}
	rs.Deltas = append(rs.Deltas, FileRef{Serial: rs.Serial, URI: uri, Hash: h})

	rel, uri = rrdpFile(rs.Repository, rs.SessionID, rs.Serial, "snapshot.xml")
	x, err = createXML(filepath.Join(base, rel))
	if err != nil {
		return 0, err
	}
	x.WriteString(rrdpHeader("snapshot", rs.SessionID, rs.Serial))
	for _, n := range p.cas {
		if n.repository(p).Name != rs.Name {
			continue
		}
		for _, s := range p.pointFiles(n, b) {
			if !s.publish {
				continue
			}
			u := n.dirURI(p) + s.name
			data, err := os.ReadFile(filepath.Join(dir, "rsync", filepath.FromSlash(u[len("rsync://"):])))
			if err != nil {
				x.close()
				return 0, err
			}
			x.publish(u, data, nil)
		}
	}
	x.WriteString("</snapshot>\n")
	written += x.n
	if h, err = x.close(); err != nil {
		return 0, err
	}
	rs.Snapshot = FileRef{URI: uri, Hash: h}
	if err := writeNotification(dir, rs); err != nil {
		return 0, err
	}
	if oldSnapshot == "" {
		return written, nil
	}
	if err := os.Remove(oldSnapshot); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	_ = os.Remove(filepath.Dir(oldSnapshot)) // fails while a delta is still in it, as intended
	return written, nil
}
