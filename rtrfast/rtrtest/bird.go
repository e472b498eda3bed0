package rtrtest

import "github.com/rovd/rovd/engine/payload"

// BIRDKeeps reports whether BIRD 2 keeps v in its ROA table. BIRD checks
// every route's prefix address as it would a unicast route's, and drops
// (logging "Ignoring bogus route") those whose address is not a unicast
// address of site or global scope. An all-zero address is always kept.
// Dropped are, as BIRD 2.0.12 does it:
//   - IPv4: 0.0.0.0/8 (apart from the zero address), 127.0.0.0/8,
//     224.0.0.0/4 (multicast) and 255.255.255.255; the former class E
//     space below it is kept;
//   - IPv6: fe80::/10 (link-local), ff00::/8 (multicast), and addresses
//     whose first 64 bits are zero unless they are IPv4 compatible
//     (::/96) or IPv4 mapped (::ffff:0:0/96) with an IPv4 address that
//     BIRD keeps; ::1 (loopback) is dropped too.
//
// An RTR server sends such VRPs like any other; only BIRD leaves them
// out, so a test compares BIRD's tables with the VRPs BIRD keeps.
func BIRDKeeps(v payload.VRP) bool {
	a := v.Prefix.Addr()
	if a.IsUnspecified() {
		return true
	}
	if a.Is4() {
		return keepsIPv4(a.As4())
	}
	b := a.As16()
	switch {
	case b[0]&0xe0 == 0x20: // 2000::/3, global unicast
		return true
	case b[0] == 0xfe && b[1]&0xc0 == 0x80: // fe80::/10, link-local
		return false
	case b[0] == 0xff: // multicast
		return false
	}
	for _, x := range b[:8] {
		if x != 0 {
			return true // site-local, unique local and unassigned space
		}
	}
	v4 := [4]byte(b[12:])
	switch [4]byte(b[8:12]) {
	case [4]byte{0, 0, 0, 0}: // IPv4 compatible
		return v4 != [4]byte{0, 0, 0, 1} && keepsIPv4(v4) // ::1 is loopback
	case [4]byte{0, 0, 0xff, 0xff}: // IPv4 mapped
		return keepsIPv4(v4)
	}
	return false
}

// keepsIPv4 reports whether BIRD takes an IPv4 address for a unicast
// address beyond the host. (The all-zero address is kept before it gets
// here.)
func keepsIPv4(a [4]byte) bool {
	switch {
	case a[0] == 0, a[0] == 127: // "this network", loopback
		return false
	case a[0] >= 224 && a[0] <= 239: // multicast
		return false
	}
	return a != [4]byte{255, 255, 255, 255} // broadcast
}

// BIRDView returns the VRPs of want that BIRD keeps (see BIRDKeeps).
func BIRDView(want VRPs) VRPs {
	out := make(VRPs, len(want))
	for v := range want {
		if BIRDKeeps(v) {
			out[v] = true
		}
	}
	return out
}
