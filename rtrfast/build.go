package rtrfast

import (
	"bytes"
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/rovd/rovd/engine/payload"
)

// chunkSize is the size of the pieces a response body is cut into. A
// session writes a few of them per writev and renews its write deadline
// in between, so that the deadline measures a stall rather than the time
// a whole table takes on a slow link.
const chunkSize = 64 << 10

// response is the body of one answer, the payload PDUs between Cache
// Response and End of Data, for one protocol version. It is built once
// and then only read, by any number of sessions at a time.
type response struct {
	chunks [][]byte
	pdus   int
	size   int
}

// lazyResponse is a response built on first use: versions no router
// speaks cost neither time nor memory.
type lazyResponse struct {
	once sync.Once
	r    response
}

func (l *lazyResponse) get(c *changes, version uint8) *response {
	l.once.Do(func() { l.r = encode(c, version) })
	return &l.r
}

// encode builds the payload PDUs of c for a version in the order that
// draft-8210bis-27 §11.2 prescribes for version 2 and recommends for the
// older ones: by PDU type; within a type announcements before
// withdrawals; IP prefixes announced from the highest address down and
// withdrawn from the lowest up, so that a router applying PDUs one by
// one never sees a route turn invalid in between (§11.1).
func encode(c *changes, version uint8) response {
	split4a, split4w := firstIPv6(c.annV), firstIPv6(c.wdrV)
	size := 20*(split4a+split4w) + 32*(len(c.annV)-split4a+len(c.wdrV)-split4w)
	pdus := len(c.annV) + len(c.wdrV)
	var annK, wdrK []payload.RouterKey
	if version >= 1 {
		annK, wdrK = wireSortedKeys(c.annK), wireSortedKeys(c.wdrK)
		for _, k := range annK {
			size += routerKeyFixed + len(k.SPKI)
		}
		for _, k := range wdrK {
			size += routerKeyFixed + len(k.SPKI)
		}
		pdus += len(annK) + len(wdrK)
	}
	var aspas []aspaChange
	if version >= 2 {
		aspas = c.aspas
		for _, a := range aspas {
			size += aspaFixed + 4*len(a.after)
		}
		pdus += len(aspas)
	}

	body := make([]byte, 0, size)
	var scratch []payload.VRP
	body = appendVRPs(body, c.annV[:split4a], version, FlagAnnounce, true, &scratch)
	body = appendVRPs(body, c.wdrV[:split4w], version, 0, false, &scratch)
	body = appendVRPs(body, c.annV[split4a:], version, FlagAnnounce, true, &scratch)
	body = appendVRPs(body, c.wdrV[split4w:], version, 0, false, &scratch)
	for _, k := range annK {
		body = appendRouterKey(body, version, FlagAnnounce, k.ASN, &k.SKI, k.SPKI)
	}
	for _, k := range wdrK {
		body = appendRouterKey(body, version, 0, k.ASN, &k.SKI, k.SPKI)
	}
	for _, a := range aspas {
		if a.after != nil {
			body = appendASPA(body, version, FlagAnnounce, a.customer, a.after)
		}
	}
	for _, a := range aspas {
		if a.after == nil {
			body = appendASPA(body, version, 0, a.customer, nil)
		}
	}

	r := response{pdus: pdus, size: len(body)}
	r.chunks = make([][]byte, 0, (len(body)+chunkSize-1)/chunkSize)
	for len(body) > 0 {
		n := min(chunkSize, len(body))
		r.chunks = append(r.chunks, body[:n:n])
		body = body[n:]
	}
	return r
}

// firstIPv6 returns the index of the first IPv6 VRP of a slice in
// payload order, where every IPv4 prefix comes first.
func firstIPv6(vrps []payload.VRP) int {
	return sort.Search(len(vrps), func(i int) bool { return !vrps[i].Prefix.Addr().Is4() })
}

// compareWire is the order of draft-8210bis §11.2.1 among withdrawals:
// address, then max length, then prefix length, then AS, each from low to
// high. Announcements take the reverse.
func compareWire(a, b payload.VRP) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MaxLength, b.MaxLength); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	return cmp.Compare(a.ASN, b.ASN)
}

// appendVRPs appends Prefix PDUs for vrps, which are in payload order
// (address, prefix length, max length, AS), in the wire order: ascending,
// or descending if desc. The two orders differ only among VRPs of one
// address, so only those short runs are sorted again, in scratch.
func appendVRPs(dst []byte, vrps []payload.VRP, version, flags uint8, desc bool, scratch *[]payload.VRP) []byte {
	emit := func(run []payload.VRP) {
		if len(run) > 1 {
			*scratch = append((*scratch)[:0], run...)
			run = *scratch
			slices.SortFunc(run, compareWire)
		}
		if desc {
			for i := len(run) - 1; i >= 0; i-- {
				dst = appendPrefix(dst, version, flags, run[i].Prefix, run[i].MaxLength, run[i].ASN)
			}
			return
		}
		for _, v := range run {
			dst = appendPrefix(dst, version, flags, v.Prefix, v.MaxLength, v.ASN)
		}
	}
	if desc {
		for j := len(vrps); j > 0; {
			i := j - 1
			for i > 0 && vrps[i-1].Prefix.Addr() == vrps[j-1].Prefix.Addr() {
				i--
			}
			emit(vrps[i:j])
			j = i
		}
		return dst
	}
	for i := 0; i < len(vrps); {
		j := i + 1
		for j < len(vrps) && vrps[j].Prefix.Addr() == vrps[i].Prefix.Addr() {
			j++
		}
		emit(vrps[i:j])
		i = j
	}
	return dst
}

// compareKeyWire is the order of draft-8210bis §11.2.2: SKI, key length,
// key, AS.
func compareKeyWire(a, b payload.RouterKey) int {
	if c := bytes.Compare(a.SKI[:], b.SKI[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.SPKI), len(b.SPKI)); c != 0 {
		return c
	}
	if c := bytes.Compare(a.SPKI, b.SPKI); c != 0 {
		return c
	}
	return cmp.Compare(a.ASN, b.ASN)
}

func wireSortedKeys(keys []payload.RouterKey) []payload.RouterKey {
	if slices.IsSortedFunc(keys, compareKeyWire) {
		return keys
	}
	keys = slices.Clone(keys)
	slices.SortFunc(keys, compareKeyWire)
	return keys
}
