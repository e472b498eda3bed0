package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// The state file keeps the published set across restarts. It is binary,
// version 1:
//
//	magic "rovd-set" (8 bytes), version (uint32), time (int64 Unix nanoseconds)
//	trust anchors: count (uint32), each a uint16 length and the label
//	sources: count (uint32), each the trust anchor's index (uint32) and the
//	  NotBefore and NotAfter of its validity and of its chain (4 int64, Unix seconds)
//	VRPs: count (uint32), each ASN (uint32), address length (4 or 16,
//	  byte), prefix length, maximum length (bytes), address, sources
//	router keys: count, each ASN, SKI (20 bytes), key (uint16 length and
//	  bytes), sources
//	ASPAs: count, each customer, provider count (uint32), providers
//	  (uint32 each), sources
//	SHA-256 of everything before (32 bytes)
//
// where "sources" is a count (uint32) and as many source indexes
// (uint32). Integers are big-endian. URIs are not kept: a restored set
// serves RTR and the output formats until the first run replaces it.
const (
	stateMagic   = "rovd-set"
	stateVersion = 1
)

// MaxStateSize bounds the state file read at start: a global set (about
// 800,000 VRPs and 100,000 sources) takes some 20 MB.
const MaxStateSize = 1 << 30

// WriteState writes set, current as of t, to path: to a temporary file
// in the same directory, synced and renamed into place, so that a crash
// leaves the old file or the new one.
func WriteState(path string, set *payload.Set, t time.Time) error {
	data := encodeState(set, t)
	sum := sha256.Sum256(data)
	data = append(data, sum[:]...)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".served-set-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no effect after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadState reads the state file at path. Items none of whose sources
// is still valid at now are left out. The error wraps os.ErrNotExist if
// there is no file.
func ReadState(path string, now time.Time) (*payload.Set, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStateSize+1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxStateSize {
		return nil, time.Time{}, fmt.Errorf("%s: larger than %d bytes", path, MaxStateSize)
	}
	if len(data) < sha256.Size {
		return nil, time.Time{}, fmt.Errorf("%s: truncated", path)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, time.Time{}, fmt.Errorf("%s: checksum mismatch (damaged or truncated)", path)
	}
	set, t, err := decodeState(body, now)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return set, t, nil
}

func encodeState(set *payload.Set, t time.Time) []byte {
	b := append([]byte(stateMagic), 0, 0, 0, stateVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))

	// Number the sources and their trust anchors in the order found.
	tas, srcs := map[string]uint32{}, map[*payload.Source]uint32{}
	var taList []string
	var srcList []*payload.Source
	note := func(list []*payload.Source) {
		for _, s := range list {
			if _, ok := srcs[s]; ok {
				continue
			}
			srcs[s] = uint32(len(srcList))
			srcList = append(srcList, s)
			if _, ok := tas[s.TA]; !ok {
				tas[s.TA] = uint32(len(taList))
				taList = append(taList, s.TA)
			}
		}
	}
	for i := range set.VRPs() {
		note(set.VRPSources(i))
	}
	for i := range set.RouterKeys() {
		note(set.RouterKeySources(i))
	}
	for i := range set.ASPAs() {
		note(set.ASPASources(i))
	}

	b = binary.BigEndian.AppendUint32(b, uint32(len(taList)))
	for _, ta := range taList {
		if len(ta) > 0xffff {
			ta = ta[:0xffff] // labels come from file names or a config key
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(ta)))
		b = append(b, ta...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(srcList)))
	for _, s := range srcList {
		b = binary.BigEndian.AppendUint32(b, tas[s.TA])
		for _, t := range []time.Time{s.Validity.NotBefore, s.Validity.NotAfter, s.Chain.NotBefore, s.Chain.NotAfter} {
			b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
		}
	}
	sources := func(b []byte, list []*payload.Source) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(list)))
		for _, s := range list {
			b = binary.BigEndian.AppendUint32(b, srcs[s])
		}
		return b
	}

	b = binary.BigEndian.AppendUint32(b, uint32(len(set.VRPs())))
	for i, v := range set.VRPs() {
		b = binary.BigEndian.AppendUint32(b, v.ASN)
		addr := v.Prefix.Addr().AsSlice()
		b = append(b, byte(len(addr)), byte(v.Prefix.Bits()), v.MaxLength)
		b = append(b, addr...)
		b = sources(b, set.VRPSources(i))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(set.RouterKeys())))
	for i, k := range set.RouterKeys() {
		b = binary.BigEndian.AppendUint32(b, k.ASN)
		b = append(b, k.SKI[:]...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(k.SPKI)))
		b = append(b, k.SPKI...)
		b = sources(b, set.RouterKeySources(i))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(set.ASPAs())))
	for i, a := range set.ASPAs() {
		b = binary.BigEndian.AppendUint32(b, a.Customer)
		b = binary.BigEndian.AppendUint32(b, uint32(len(a.Providers)))
		for _, p := range a.Providers {
			b = binary.BigEndian.AppendUint32(b, p)
		}
		b = sources(b, set.ASPASources(i))
	}
	return b
}

// stateReader reads the state file's fields; the first read past the end
// sets err, and every read after returns zeros.
type stateReader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (r *stateReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = errTruncated
		}
		return make([]byte, max(n, 0))
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) u8() byte           { return r.bytes(1)[0] }
func (r *stateReader) u16() int           { return int(binary.BigEndian.Uint16(r.bytes(2))) }
func (r *stateReader) u32() uint32        { return binary.BigEndian.Uint32(r.bytes(4)) }
func (r *stateReader) i64() int64         { return int64(binary.BigEndian.Uint64(r.bytes(8))) }
func (r *stateReader) seconds() time.Time { return time.Unix(r.i64(), 0).UTC() }

// count reads a count of items at least size bytes each: a count the
// rest of the file cannot hold is an error, so that nothing is
// allocated for it.
func (r *stateReader) count(size int) int {
	n := int(r.u32())
	if r.err == nil && n > len(r.b)/size {
		r.err = fmt.Errorf("count %d exceeds the file", n)
	}
	if r.err != nil {
		return 0
	}
	return n
}

// decodeState reads a state file's content after its checksum was
// checked.
func decodeState(data []byte, now time.Time) (*payload.Set, time.Time, error) {
	r := &stateReader{b: data}
	if string(r.bytes(len(stateMagic))) != stateMagic {
		return nil, time.Time{}, errors.New("not a rovd state file")
	}
	if v := r.u32(); r.err == nil && v != stateVersion {
		return nil, time.Time{}, fmt.Errorf("state file version %d, want %d", v, stateVersion)
	}
	t := time.Unix(0, r.i64()).UTC()

	tas := make([]string, r.count(2))
	for i := range tas {
		tas[i] = string(r.bytes(r.u16()))
	}
	srcs := make([]*payload.Source, r.count(36))
	live := make([]bool, len(srcs))
	for i := range srcs {
		ta := r.u32()
		if r.err == nil && int(ta) >= len(tas) {
			r.err = fmt.Errorf("source %d: trust anchor %d of %d", i, ta, len(tas))
		}
		s := &payload.Source{}
		if r.err == nil {
			s.TA = tas[ta]
		}
		s.Validity.NotBefore, s.Validity.NotAfter = r.seconds(), r.seconds()
		s.Chain.NotBefore, s.Chain.NotAfter = r.seconds(), r.seconds()
		srcs[i], live[i] = s, !expired(s, now)
	}
	// sources reads an item's sources and returns those still valid.
	var buf []*payload.Source
	sources := func() []*payload.Source {
		buf = buf[:0]
		for range r.count(4) {
			i := r.u32()
			if r.err == nil && int(i) >= len(srcs) {
				r.err = fmt.Errorf("source %d of %d", i, len(srcs))
			}
			if r.err == nil && live[i] {
				buf = append(buf, srcs[i])
			}
		}
		return buf
	}

	var b payload.Builder
	n := r.count(15)
	b.Grow(n)
	for range n {
		asn := r.u32()
		alen, bits, maxLen := int(r.u8()), int(r.u8()), r.u8()
		addr, ok := netip.AddrFromSlice(r.bytes(alen))
		if r.err == nil && (!ok || (alen != 4 && alen != 16) || bits > addr.BitLen() || int(maxLen) < bits || int(maxLen) > addr.BitLen()) {
			r.err = errors.New("bad VRP")
		}
		for _, s := range sources() {
			b.AddVRP(payload.VRP{ASN: asn, Prefix: netip.PrefixFrom(addr, bits), MaxLength: maxLen}, s)
		}
	}
	for range r.count(30) {
		var k payload.RouterKey
		k.ASN = r.u32()
		copy(k.SKI[:], r.bytes(len(k.SKI)))
		k.SPKI = bytes.Clone(r.bytes(r.u16()))
		for _, s := range sources() {
			b.AddRouterKey(k, s)
		}
	}
	for range r.count(12) {
		a := payload.ASPA{Customer: r.u32()}
		a.Providers = make([]uint32, r.count(4))
		for i := range a.Providers {
			a.Providers[i] = r.u32()
			if r.err == nil && i > 0 && a.Providers[i] <= a.Providers[i-1] {
				r.err = errors.New("ASPA providers not sorted")
			}
		}
		for _, s := range sources() {
			b.AddASPA(a, s)
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = errors.New("data after the set")
	}
	if r.err != nil {
		return nil, time.Time{}, r.err
	}
	return b.Build(), t, nil
}

// expired reports whether a source's object or chain has expired by now;
// zero times (local exceptions, relayed sets) never expire.
func expired(s *payload.Source, now time.Time) bool {
	for _, t := range []time.Time{s.Validity.NotAfter, s.Chain.NotAfter} {
		if !t.IsZero() && t.Before(now) {
			return true
		}
	}
	return false
}

// EarliestExpiry returns the earliest time after now at which an object
// or chain behind set expires, zero if none does.
func EarliestExpiry(set *payload.Set, now time.Time) time.Time {
	var first time.Time
	seen := map[*payload.Source]bool{}
	check := func(list []*payload.Source) {
		for _, s := range list {
			if seen[s] {
				continue
			}
			seen[s] = true
			for _, t := range []time.Time{s.Validity.NotAfter, s.Chain.NotAfter} {
				if !t.IsZero() && t.After(now) && (first.IsZero() || t.Before(first)) {
					first = t
				}
			}
		}
	}
	for i := range set.VRPs() {
		check(set.VRPSources(i))
	}
	for i := range set.RouterKeys() {
		check(set.RouterKeySources(i))
	}
	for i := range set.ASPAs() {
		check(set.ASPASources(i))
	}
	return first
}
