package rtrfast

// Serial is an RTR serial number: 32 bits that wrap from 2^32-1 to 0 and
// compare by serial number arithmetic (RFC 1982), as RFC 8210 §2 asks.
// Never compare two serials with < or >; use Less.
type Serial uint32

// serialHalf is 2^(SERIAL_BITS-1), the distance at which RFC 1982 §3.2
// leaves the order of two serials undefined.
const serialHalf = 1 << 31

// Add returns s advanced by n (RFC 1982 §3.1); n must be below 2^31.
func (s Serial) Add(n uint32) Serial { return s + Serial(n) }

// Less reports whether s comes before o (RFC 1982 §3.2). Two serials
// exactly 2^31 apart are not ordered: Less is false both ways.
func (s Serial) Less(o Serial) bool {
	return (s < o && o-s < serialHalf) || (s > o && s-o > serialHalf)
}
