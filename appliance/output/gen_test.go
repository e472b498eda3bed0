package output_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// genSet returns a payload set of n VRPs shaped like a real one: three
// in four IPv4, maximum lengths at and above the prefix length, a few
// hundred ROAs under five trust anchors, some VRPs in two ROAs, and one
// ASPA and one router key per hundred VRPs.
func genSet(n int) *payload.Set {
	tas := []string{"afrinic", "apnic", "arin", "lacnic", "ripe"}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	srcs := make([]*payload.Source, 256)
	for i := range srcs {
		srcs[i] = &payload.Source{
			TA:       tas[i%len(tas)],
			URI:      "rsync://rpki.example.net/repo/ca" + strconv.Itoa(i/16) + "/roa" + strconv.Itoa(i) + ".roa",
			Validity: payload.Validity{NotBefore: at, NotAfter: at.AddDate(1, 0, 0)},
			Chain:    payload.Validity{NotBefore: at, NotAfter: at.AddDate(0, 0, 2)},
		}
	}
	spki := testSPKI(3)
	var b payload.Builder
	b.Grow(n + n/10)
	for i := range n {
		v := payload.VRP{ASN: 64496 + uint32(i%1000)}
		if i%4 == 3 {
			var a [16]byte
			binary.BigEndian.PutUint32(a[:], 0x20010db8)
			binary.BigEndian.PutUint32(a[4:], uint32(i)<<8)
			v.Prefix = netip.PrefixFrom(netip.AddrFrom16(a), 48)
			v.MaxLength = 48
		} else {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], 0x01000000+uint32(i)<<8)
			v.Prefix = netip.PrefixFrom(netip.AddrFrom4(a), 24)
			v.MaxLength = 24 + uint8(i%3)
		}
		b.AddVRP(v, srcs[i%len(srcs)])
		if i%10 == 0 {
			b.AddVRP(v, srcs[(i+7)%len(srcs)])
		}
		if i%100 == 0 {
			b.AddASPA(payload.ASPA{Customer: 4200000000 + uint32(i), Providers: []uint32{64500, 64501, 64502}}, srcs[i%len(srcs)])
			k := payload.RouterKey{ASN: v.ASN, SPKI: spki}
			binary.BigEndian.PutUint32(k.SKI[:], uint32(i))
			b.AddRouterKey(k, srcs[i%len(srcs)])
		}
	}
	return b.Build()
}

var errFail = errors.New("disk full")

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }
