package rtrfast

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"unicode/utf8"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=PDUType,ErrorCode -linecomment -output=enum_string.go

// MaxVersion is the highest protocol version served: version 2 of
// draft-ietf-sidrops-8210bis-27. Versions 0 (RFC 6810) and 1 (RFC 8210)
// are served too.
const MaxVersion = 2

// versions is the number of protocol versions served, 0 to MaxVersion.
const versions = MaxVersion + 1

// MaxPDUSize is the largest PDU read or written, header included:
// draft-ietf-sidrops-8210bis-27 §5.1 caps the Length field at 65,535.
// RFC 6810 and RFC 8210 set no cap; applying the draft's to every
// version only ever drops a router key or ASPA no router could take.
const MaxPDUSize = 65535

// headerLen is the length of the header common to all PDUs (RFC 8210 §5.1).
const headerLen = 8

// PDUType is the type field of a PDU (RFC 8210 §5, draft-8210bis §14).
type PDUType uint8

// The PDU types.
const (
	TypeSerialNotify  PDUType = 0  // Serial Notify
	TypeSerialQuery   PDUType = 1  // Serial Query
	TypeResetQuery    PDUType = 2  // Reset Query
	TypeCacheResponse PDUType = 3  // Cache Response
	TypeIPv4Prefix    PDUType = 4  // IPv4 Prefix
	TypeIPv6Prefix    PDUType = 6  // IPv6 Prefix
	TypeEndOfData     PDUType = 7  // End of Data
	TypeCacheReset    PDUType = 8  // Cache Reset
	TypeRouterKey     PDUType = 9  // Router Key
	TypeErrorReport   PDUType = 10 // Error Report
	TypeASPA          PDUType = 11 // ASPA
)

// ErrorCode is the code of an Error Report (draft-8210bis §12).
type ErrorCode uint16

// The error codes. Codes 9 and up exist only in version 2, code 8 from
// version 1 on (draft-8210bis §12: send only the codes of the session's
// version).
const (
	CorruptData           ErrorCode = 0  // Corrupt Data
	InternalError         ErrorCode = 1  // Internal Error
	NoDataAvailable       ErrorCode = 2  // No Data Available
	InvalidRequest        ErrorCode = 3  // Invalid Request
	UnsupportedVersion    ErrorCode = 4  // Unsupported Protocol Version
	UnsupportedPDUType    ErrorCode = 5  // Unsupported PDU Type
	WithdrawalOfUnknown   ErrorCode = 6  // Withdrawal of Unknown Record
	DuplicateAnnouncement ErrorCode = 7  // Duplicate Announcement Received
	UnexpectedVersion     ErrorCode = 8  // Unexpected Protocol Version
	ASPAProviderListError ErrorCode = 9  // ASPA Provider List Error
	TransportFailure      ErrorCode = 10 // Transport Failure
	OrderingError         ErrorCode = 11 // Ordering Error
	CacheRestart          ErrorCode = 12 // Cache Restart
	CacheShutdown         ErrorCode = 13 // Cache Shutdown
)

// fatal reports whether an Error Report with code c ends the session
// (draft-8210bis §12).
func (c ErrorCode) fatal() bool {
	return c != NoDataAvailable && c != UnsupportedVersion && c != CacheRestart
}

// FlagAnnounce is the announce/withdraw bit of the Flags field: set for
// an announcement, clear for a withdrawal (RFC 8210 §5.1).
const FlagAnnounce = 1

// ProtocolError is a PDU that breaks the protocol: Code goes into the
// Error Report sent back, PDU is the offending PDU as received (or as
// much of it as was read), Text says what was wrong.
type ProtocolError struct {
	Code ErrorCode
	PDU  []byte
	Text string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("rtr: %s: %s", e.Code, e.Text)
}

func protoErr(code ErrorCode, pdu []byte, text string) *ProtocolError {
	return &ProtocolError{Code: code, PDU: pdu, Text: text}
}

// PDU is one decoded PDU of any type. Which fields mean something depends
// on Type; the others are zero. Byte slices alias the buffer the PDU was
// parsed from.
type PDU struct {
	Version uint8
	Type    PDUType
	// SessionID: Serial Notify, Serial Query, Cache Response, End of Data.
	SessionID uint16
	// Serial: Serial Notify, Serial Query, End of Data.
	Serial Serial
	// Refresh, Retry and Expire are the End of Data timers in seconds,
	// version 1 and up.
	Refresh, Retry, Expire uint32
	// Flags: IPv4 Prefix, IPv6 Prefix, Router Key, ASPA.
	Flags uint8
	// Prefix and MaxLength: IPv4 Prefix, IPv6 Prefix.
	Prefix    netip.Prefix
	MaxLength uint8
	// ASN is the origin AS of a prefix, the AS of a router key or the
	// customer AS of an ASPA.
	ASN uint32
	// SKI and SPKI: Router Key.
	SKI  [20]byte
	SPKI []byte
	// Providers: ASPA.
	Providers []uint32
	// ErrorCode, ErrorPDU and ErrorText: Error Report.
	ErrorCode ErrorCode
	ErrorPDU  []byte
	ErrorText string
}

// Announce reports whether the announce/withdraw flag is set.
func (p *PDU) Announce() bool { return p.Flags&FlagAnnounce != 0 }

// header is the part common to every PDU: version, type, the 16-bit
// field after them (session ID, error code, flags or zero) and length.
type header struct {
	version uint8
	typ     PDUType
	field   uint16
	length  uint32
}

func parseHeader(b []byte) header {
	return header{
		version: b[0],
		typ:     PDUType(b[1]),
		field:   binary.BigEndian.Uint16(b[2:]),
		length:  binary.BigEndian.Uint32(b[4:]),
	}
}

// fixedLength returns the only length a PDU of type t may have in
// version v, or 0 for the types of variable length and the unknown ones.
func fixedLength(v uint8, t PDUType) uint32 {
	switch t {
	case TypeSerialNotify, TypeSerialQuery:
		return 12
	case TypeResetQuery, TypeCacheResponse, TypeCacheReset:
		return 8
	case TypeIPv4Prefix:
		return 20
	case TypeIPv6Prefix:
		return 32
	case TypeEndOfData:
		if v == 0 {
			return 12
		}
		return 24
	}
	return 0
}

// knownType reports whether t is a PDU type of version v (draft-8210bis
// §14: type 9 is reserved in version 0, type 11 below version 2).
func knownType(v uint8, t PDUType) bool {
	switch t {
	case TypeSerialNotify, TypeSerialQuery, TypeResetQuery, TypeCacheResponse,
		TypeIPv4Prefix, TypeIPv6Prefix, TypeEndOfData, TypeCacheReset, TypeErrorReport:
		return true
	case TypeRouterKey:
		return v >= 1
	case TypeASPA:
		return v >= 2
	}
	return false
}

// routerKeyFixed is the length of a Router Key PDU without its key:
// header, SKI and AS (RFC 8210 §5.10).
const routerKeyFixed = headerLen + 20 + 4

// aspaFixed is the length of an ASPA PDU without providers: header and
// customer AS (draft-8210bis §5.12).
const aspaFixed = headerLen + 4

// ParsePDU decodes the PDU at the start of b and returns it with its
// length. If b holds less than the whole PDU it returns
// io.ErrUnexpectedEOF; a PDU that breaks the protocol gives a
// *ProtocolError whose code is the one to report. Byte slices in the
// PDU alias b. Reserved fields are ignored, as RFC 8210 §5 asks.
func ParsePDU(b []byte) (PDU, int, error) {
	if len(b) < headerLen {
		return PDU{}, 0, io.ErrUnexpectedEOF
	}
	h := parseHeader(b)
	head := b[:headerLen]
	if h.version > MaxVersion {
		return PDU{}, 0, protoErr(UnsupportedVersion, head, fmt.Sprintf("protocol version %d not supported", h.version))
	}
	if h.length < headerLen || h.length > MaxPDUSize {
		return PDU{}, 0, protoErr(CorruptData, head, fmt.Sprintf("PDU length %d out of range", h.length))
	}
	if !knownType(h.version, h.typ) {
		return PDU{}, 0, protoErr(UnsupportedPDUType, head, fmt.Sprintf("PDU type %d unknown in version %d", uint8(h.typ), h.version))
	}
	if want := fixedLength(h.version, h.typ); want != 0 && h.length != want {
		return PDU{}, 0, protoErr(CorruptData, head, fmt.Sprintf("%s PDU of length %d, want %d", h.typ, h.length, want))
	}
	n := int(h.length)
	if len(b) < n {
		return PDU{}, 0, io.ErrUnexpectedEOF
	}
	b = b[:n]
	p := PDU{Version: h.version, Type: h.typ}
	switch h.typ {
	case TypeSerialNotify, TypeSerialQuery:
		p.SessionID = h.field
		p.Serial = Serial(binary.BigEndian.Uint32(b[8:]))
	case TypeResetQuery, TypeCacheReset:
	case TypeCacheResponse:
		p.SessionID = h.field
	case TypeEndOfData:
		p.SessionID = h.field
		p.Serial = Serial(binary.BigEndian.Uint32(b[8:]))
		if h.version >= 1 {
			p.Refresh = binary.BigEndian.Uint32(b[12:])
			p.Retry = binary.BigEndian.Uint32(b[16:])
			p.Expire = binary.BigEndian.Uint32(b[20:])
		}
	case TypeIPv4Prefix, TypeIPv6Prefix:
		if err := parsePrefix(&p, b); err != nil {
			return PDU{}, 0, err
		}
	case TypeRouterKey:
		if n <= routerKeyFixed {
			return PDU{}, 0, protoErr(CorruptData, b, fmt.Sprintf("Router Key PDU of length %d has no key", n))
		}
		p.Flags = b[2]
		copy(p.SKI[:], b[8:28])
		p.ASN = binary.BigEndian.Uint32(b[28:])
		p.SPKI = b[routerKeyFixed:]
	case TypeErrorReport:
		if err := parseErrorReport(&p, h, b); err != nil {
			return PDU{}, 0, err
		}
	case TypeASPA:
		if err := parseASPA(&p, b); err != nil {
			return PDU{}, 0, err
		}
	}
	return p, n, nil
}

func parsePrefix(p *PDU, b []byte) error {
	p.Flags = b[8]
	plen, maxLen := int(b[9]), b[10]
	var addr netip.Addr
	if p.Type == TypeIPv4Prefix {
		addr = netip.AddrFrom4([4]byte(b[12:16]))
		p.ASN = binary.BigEndian.Uint32(b[16:])
	} else {
		addr = netip.AddrFrom16([16]byte(b[12:28]))
		p.ASN = binary.BigEndian.Uint32(b[28:])
	}
	if plen > addr.BitLen() || int(maxLen) > addr.BitLen() || int(maxLen) < plen {
		return protoErr(CorruptData, b, fmt.Sprintf("prefix length %d, max length %d", plen, maxLen))
	}
	pfx := netip.PrefixFrom(addr, plen)
	// draft-8210bis §5.9: the bits beyond the prefix length must be zero.
	if pfx.Masked().Addr() != addr {
		return protoErr(CorruptData, b, "prefix has bits set beyond its length")
	}
	p.Prefix, p.MaxLength = pfx, maxLen
	return nil
}

func parseErrorReport(p *PDU, h header, b []byte) error {
	p.ErrorCode = ErrorCode(h.field)
	if len(b) < 16 {
		return protoErr(CorruptData, b, "Error Report too short")
	}
	encLen := binary.BigEndian.Uint32(b[8:])
	if uint64(encLen) > uint64(len(b)-16) {
		return protoErr(CorruptData, b, "Error Report: encapsulated PDU overruns the PDU")
	}
	rest := b[12+encLen:]
	textLen := binary.BigEndian.Uint32(rest)
	if uint64(textLen) != uint64(len(rest)-4) {
		return protoErr(CorruptData, b, "Error Report: text length does not match the PDU length")
	}
	text := rest[4:]
	if !utf8.Valid(text) {
		return protoErr(CorruptData, b, "Error Report: text is not UTF-8")
	}
	p.ErrorPDU = b[12 : 12+encLen]
	p.ErrorText = string(text)
	return nil
}

func parseASPA(p *PDU, b []byte) error {
	p.Flags = b[2]
	if len(b) < aspaFixed || (len(b)-aspaFixed)%4 != 0 {
		return protoErr(CorruptData, b, fmt.Sprintf("ASPA PDU of length %d", len(b)))
	}
	p.ASN = binary.BigEndian.Uint32(b[8:])
	n := (len(b) - aspaFixed) / 4
	// draft-8210bis §5.12: a withdrawal has no providers; an announcement
	// has at least one, in increasing order, and AS 0 only alone.
	if !p.Announce() {
		if n != 0 {
			return protoErr(ASPAProviderListError, b, "ASPA withdrawal with providers")
		}
		return nil
	}
	if n == 0 {
		return protoErr(ASPAProviderListError, b, "ASPA announcement without providers")
	}
	p.Providers = make([]uint32, n)
	for i := range p.Providers {
		p.Providers[i] = binary.BigEndian.Uint32(b[aspaFixed+4*i:])
		if i > 0 && p.Providers[i] <= p.Providers[i-1] {
			return protoErr(ASPAProviderListError, b, "ASPA providers not in increasing order")
		}
	}
	if n > 1 && p.Providers[0] == 0 {
		return protoErr(ASPAProviderListError, b, "ASPA provider AS 0 among others")
	}
	return nil
}

// AppendPDU appends the wire form of p to dst. Fields p's type does not
// use are ignored; lengths come from the fields. It is the general
// encoder for control PDUs and tests; payload PDUs of a response are
// built by the faster appenders below.
func AppendPDU(dst []byte, p *PDU) []byte {
	switch p.Type {
	case TypeSerialNotify, TypeSerialQuery:
		dst = appendHeader(dst, p.Version, p.Type, p.SessionID, 12)
		return binary.BigEndian.AppendUint32(dst, uint32(p.Serial))
	case TypeResetQuery, TypeCacheReset:
		return appendHeader(dst, p.Version, p.Type, 0, 8)
	case TypeCacheResponse:
		return appendHeader(dst, p.Version, p.Type, p.SessionID, 8)
	case TypeEndOfData:
		return appendEndOfData(dst, p.Version, p.SessionID, p.Serial, p.Refresh, p.Retry, p.Expire)
	case TypeIPv4Prefix, TypeIPv6Prefix:
		return appendPrefix(dst, p.Version, p.Flags, p.Prefix, p.MaxLength, p.ASN)
	case TypeRouterKey:
		return appendRouterKey(dst, p.Version, p.Flags, p.ASN, &p.SKI, p.SPKI)
	case TypeErrorReport:
		return appendErrorReport(dst, p.Version, p.ErrorCode, p.ErrorPDU, p.ErrorText)
	case TypeASPA:
		return appendASPA(dst, p.Version, p.Flags, p.ASN, p.Providers)
	}
	return appendHeader(dst, p.Version, p.Type, 0, headerLen)
}

func appendHeader(dst []byte, version uint8, t PDUType, field uint16, length uint32) []byte {
	dst = append(dst, version, byte(t))
	dst = binary.BigEndian.AppendUint16(dst, field)
	return binary.BigEndian.AppendUint32(dst, length)
}

func appendEndOfData(dst []byte, version uint8, session uint16, serial Serial, refresh, retry, expire uint32) []byte {
	if version == 0 {
		// RFC 6810 §5.8: version 0 has no timers.
		dst = appendHeader(dst, 0, TypeEndOfData, session, 12)
		return binary.BigEndian.AppendUint32(dst, uint32(serial))
	}
	dst = appendHeader(dst, version, TypeEndOfData, session, 24)
	dst = binary.BigEndian.AppendUint32(dst, uint32(serial))
	dst = binary.BigEndian.AppendUint32(dst, refresh)
	dst = binary.BigEndian.AppendUint32(dst, retry)
	return binary.BigEndian.AppendUint32(dst, expire)
}

// appendPrefix appends an IPv4 or IPv6 Prefix PDU. The address is
// masked to the prefix length (draft-8210bis §5.9). It runs once per VRP
// and version for every published serial, hence the IPv4 fast path.
func appendPrefix(dst []byte, version, flags uint8, pfx netip.Prefix, maxLen uint8, asn uint32) []byte {
	addr, bits := pfx.Addr(), pfx.Bits()
	if addr.Is4() {
		a := addr.As4()
		masked := binary.BigEndian.Uint32(a[:]) & (^uint32(0) << (32 - bits))
		dst = append(dst, version, byte(TypeIPv4Prefix), 0, 0, 0, 0, 0, 20, flags, byte(bits), maxLen, 0)
		dst = binary.BigEndian.AppendUint32(dst, masked)
		return binary.BigEndian.AppendUint32(dst, asn)
	}
	dst = append(dst, version, byte(TypeIPv6Prefix), 0, 0, 0, 0, 0, 32, flags, byte(bits), maxLen, 0)
	a := pfx.Masked().Addr().As16()
	dst = append(dst, a[:]...)
	return binary.BigEndian.AppendUint32(dst, asn)
}

func appendRouterKey(dst []byte, version, flags uint8, asn uint32, ski *[20]byte, spki []byte) []byte {
	dst = appendHeader(dst, version, TypeRouterKey, uint16(flags)<<8, uint32(routerKeyFixed+len(spki)))
	dst = append(dst, ski[:]...)
	dst = binary.BigEndian.AppendUint32(dst, asn)
	return append(dst, spki...)
}

func appendASPA(dst []byte, version, flags uint8, customer uint32, providers []uint32) []byte {
	dst = appendHeader(dst, version, TypeASPA, uint16(flags)<<8, uint32(aspaFixed+4*len(providers)))
	dst = binary.BigEndian.AppendUint32(dst, customer)
	for _, p := range providers {
		dst = binary.BigEndian.AppendUint32(dst, p)
	}
	return dst
}

// maxErrorText bounds the text of the Error Reports sent; they are short
// sentences, and a bound keeps the report far below MaxPDUSize.
const maxErrorText = 512

// appendErrorReport appends an Error Report. The erroneous PDU is cut so
// that the report stays within MaxPDUSize (draft-8210bis §5.8 allows
// truncation, keeping at least the first four octets).
func appendErrorReport(dst []byte, version uint8, code ErrorCode, pdu []byte, text string) []byte {
	if len(text) > maxErrorText {
		text = text[:maxErrorText]
		for len(text) > 0 && !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	if room := MaxPDUSize - 16 - len(text); len(pdu) > room {
		pdu = pdu[:room]
	}
	dst = appendHeader(dst, version, TypeErrorReport, uint16(code), uint32(16+len(pdu)+len(text)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(pdu)))
	dst = append(dst, pdu...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(text)))
	return append(dst, text...)
}
