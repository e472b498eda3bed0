package rtrfast_test

import (
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rovd/rovd/rtrfast"
)

// unhex reads hex with spaces, one PDU field per group.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var ski = [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

// The wire forms of every PDU type, written out from the figures of RFC
// 6810 §5, RFC 8210 §5 and draft-8210bis-27 §5.
var pduCases = []struct {
	name string
	pdu  rtrfast.PDU
	wire string
}{
	{"serial notify v0", rtrfast.PDU{Version: 0, Type: rtrfast.TypeSerialNotify, SessionID: 0x1234, Serial: 7},
		"00 00 1234 0000000c 00000007"},
	{"serial notify v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeSerialNotify, SessionID: 0x1234, Serial: 0xffffffff},
		"02 00 1234 0000000c ffffffff"},
	{"serial query v1", rtrfast.PDU{Version: 1, Type: rtrfast.TypeSerialQuery, SessionID: 9, Serial: 3},
		"01 01 0009 0000000c 00000003"},
	{"reset query v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeResetQuery},
		"02 02 0000 00000008"},
	{"cache response v0", rtrfast.PDU{Version: 0, Type: rtrfast.TypeCacheResponse, SessionID: 0xabcd},
		"00 03 abcd 00000008"},
	{"ipv4 prefix announce v0", rtrfast.PDU{Version: 0, Type: rtrfast.TypeIPv4Prefix, Flags: 1, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 28, ASN: 64496},
		"00 04 0000 00000014 01 18 1c 00 c0000200 0000fbf0"},
	{"ipv4 prefix withdraw v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeIPv4Prefix, Flags: 0, Prefix: netip.MustParsePrefix("0.0.0.0/0"), MaxLength: 32, ASN: 0},
		"02 04 0000 00000014 00 00 20 00 00000000 00000000"},
	{"ipv6 prefix v1", rtrfast.PDU{Version: 1, Type: rtrfast.TypeIPv6Prefix, Flags: 1, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 48, ASN: 4200000000},
		"01 06 0000 00000020 01 20 30 00 20010db8000000000000000000000000 fa56ea00"},
	{"end of data v0", rtrfast.PDU{Version: 0, Type: rtrfast.TypeEndOfData, SessionID: 5, Serial: 42},
		"00 07 0005 0000000c 0000002a"},
	{"end of data v1", rtrfast.PDU{Version: 1, Type: rtrfast.TypeEndOfData, SessionID: 5, Serial: 42, Refresh: 3600, Retry: 600, Expire: 7200},
		"01 07 0005 00000018 0000002a 00000e10 00000258 00001c20"},
	{"end of data v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeEndOfData, SessionID: 5, Serial: 42, Refresh: 1, Retry: 2, Expire: 600},
		"02 07 0005 00000018 0000002a 00000001 00000002 00000258"},
	{"cache reset v1", rtrfast.PDU{Version: 1, Type: rtrfast.TypeCacheReset},
		"01 08 0000 00000008"},
	{"router key v1", rtrfast.PDU{Version: 1, Type: rtrfast.TypeRouterKey, Flags: 1, SKI: ski, ASN: 65000, SPKI: []byte{0x30, 0x03, 0x01, 0x02, 0x03}},
		"01 09 01 00 00000025 0102030405060708090a0b0c0d0e0f1011121314 0000fde8 3003010203"},
	{"error report v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeErrorReport, ErrorCode: rtrfast.UnsupportedVersion, ErrorPDU: []byte{3, 2, 0, 0, 0, 0, 0, 8}, ErrorText: "no"},
		"02 0a 0004 0000001a 00000008 0302000000000008 00000002 6e6f"},
	{"error report without PDU or text", rtrfast.PDU{Version: 0, Type: rtrfast.TypeErrorReport, ErrorCode: rtrfast.NoDataAvailable},
		"00 0a 0002 00000010 00000000 00000000"},
	{"aspa announce v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeASPA, Flags: 1, ASN: 64496, Providers: []uint32{1, 64497}},
		"02 0b 01 00 00000014 0000fbf0 00000001 0000fbf1"},
	{"aspa only AS 0", rtrfast.PDU{Version: 2, Type: rtrfast.TypeASPA, Flags: 1, ASN: 64496, Providers: []uint32{0}},
		"02 0b 01 00 00000010 0000fbf0 00000000"},
	{"aspa withdraw v2", rtrfast.PDU{Version: 2, Type: rtrfast.TypeASPA, Flags: 0, ASN: 64496},
		"02 0b 00 00 0000000c 0000fbf0"},
}

var pduOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func TestPDUWireForm(t *testing.T) {
	for _, tc := range pduCases {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.wire)
			got := rtrfast.AppendPDU(nil, &tc.pdu)
			if string(got) != string(want) {
				t.Errorf("AppendPDU:\n got %x\nwant %x", got, want)
			}
			p, n, err := rtrfast.ParsePDU(append(want, 0xee)) // a byte of the next PDU
			if err != nil {
				t.Fatalf("ParsePDU: %v", err)
			}
			if n != len(want) {
				t.Errorf("ParsePDU consumed %d octets, want %d", n, len(want))
			}
			if diff := cmp.Diff(tc.pdu, p, pduOpts); diff != "" {
				t.Errorf("ParsePDU (-want +got):\n%s", diff)
			}
			if _, _, err := rtrfast.ParsePDU(want[:len(want)-1]); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("ParsePDU of a cut PDU: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// TestParsePDUMalformed covers each way a PDU can break the protocol and
// the error code it earns.
func TestParsePDUMalformed(t *testing.T) {
	tests := []struct {
		name string
		wire string
		code rtrfast.ErrorCode
	}{
		{"version 3", "03 02 0000 00000008", rtrfast.UnsupportedVersion},
		{"version 255", "ff 01 0000 0000000c 00000000", rtrfast.UnsupportedVersion},
		{"length below the header", "02 02 0000 00000004", rtrfast.CorruptData},
		{"length beyond 65535", "02 0a 0000 00010000", rtrfast.CorruptData},
		{"length 4 GiB", "01 02 0000 ffffffff", rtrfast.CorruptData},
		{"unknown type 5", "01 05 0000 00000008", rtrfast.UnsupportedPDUType},
		{"unknown type 255", "02 ff 0000 00000008", rtrfast.UnsupportedPDUType},
		{"router key in version 0", "00 09 0100 00000025 0102030405060708090a0b0c0d0e0f1011121314 0000fde8 3003010203", rtrfast.UnsupportedPDUType},
		{"ASPA in version 1", "01 0b 0100 00000010 0000fbf0 00000001", rtrfast.UnsupportedPDUType},
		{"reset query of length 12", "02 02 0000 0000000c 00000000", rtrfast.CorruptData},
		{"serial query of length 8", "02 01 0000 00000008", rtrfast.CorruptData},
		{"v0 end of data with timers", "00 07 0005 00000018 0000002a 00000e10 00000258 00001c20", rtrfast.CorruptData},
		{"v1 end of data without timers", "01 07 0005 0000000c 0000002a", rtrfast.CorruptData},
		{"ipv4 prefix length 33", "02 04 0000 00000014 01 21 21 00 c0000200 0000fbf0", rtrfast.CorruptData},
		{"ipv4 max length below prefix length", "02 04 0000 00000014 01 18 10 00 c0000200 0000fbf0", rtrfast.CorruptData},
		{"ipv4 host bits set", "02 04 0000 00000014 01 18 18 00 c0000201 0000fbf0", rtrfast.CorruptData},
		{"ipv6 max length 129", "01 06 0000 00000020 01 20 81 00 20010db8000000000000000000000000 fa56ea00", rtrfast.CorruptData},
		{"router key without key", "01 09 0100 00000020 0102030405060708090a0b0c0d0e0f1011121314 0000fde8", rtrfast.CorruptData},
		{"error report too short", "02 0a 0000 0000000c 00000000", rtrfast.CorruptData},
		{"error report PDU overruns", "02 0a 0000 00000010 00000009 00000000", rtrfast.CorruptData},
		{"error report text length wrong", "02 0a 0000 00000012 00000000 00000001 6e6f", rtrfast.CorruptData},
		{"error report text not UTF-8", "02 0a 0000 00000011 00000000 00000001 ff", rtrfast.CorruptData},
		{"aspa length not a multiple of 4", "02 0b 0100 0000000e 0000fbf0 0000", rtrfast.CorruptData},
		{"aspa announcement without providers", "02 0b 0100 0000000c 0000fbf0", rtrfast.ASPAProviderListError},
		{"aspa withdrawal with providers", "02 0b 0000 00000010 0000fbf0 00000001", rtrfast.ASPAProviderListError},
		{"aspa providers out of order", "02 0b 0100 00000014 0000fbf0 00000002 00000001", rtrfast.ASPAProviderListError},
		{"aspa duplicate provider", "02 0b 0100 00000014 0000fbf0 00000002 00000002", rtrfast.ASPAProviderListError},
		{"aspa AS 0 among providers", "02 0b 0100 00000014 0000fbf0 00000000 00000002", rtrfast.ASPAProviderListError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := rtrfast.ParsePDU(unhex(t, tc.wire))
			var pe *rtrfast.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePDU: %v, want a ProtocolError", err)
			}
			if pe.Code != tc.code {
				t.Errorf("code %s, want %s (%v)", pe.Code, tc.code, err)
			}
			if len(pe.PDU) < 4 {
				t.Errorf("the error carries %d octets of the PDU, want at least 4", len(pe.PDU))
			}
		})
	}
}

func TestParsePDUIgnoresReservedFields(t *testing.T) {
	// RFC 8210 §5: reserved fields are ignored on receipt.
	p, _, err := rtrfast.ParsePDU(unhex(t, "02 02 ffff 00000008"))
	if err != nil || p.Type != rtrfast.TypeResetQuery {
		t.Fatalf("reset query with a non-zero reserved field: %v, %v", p, err)
	}
	p, _, err = rtrfast.ParsePDU(unhex(t, "02 04 0000 00000014 fe 18 18 ff c0000200 0000fbf0"))
	if err != nil || p.Announce() {
		t.Fatalf("withdrawal with reserved flag bits: %+v, %v", p, err)
	}
}

func TestAppendPDUTruncatesLongErrorReports(t *testing.T) {
	big := make([]byte, 70000)
	b := rtrfast.AppendPDU(nil, &rtrfast.PDU{Version: 2, Type: rtrfast.TypeErrorReport, ErrorPDU: big, ErrorText: strings.Repeat("é", 1000)})
	if len(b) > rtrfast.MaxPDUSize {
		t.Fatalf("error report of %d octets, above %d", len(b), rtrfast.MaxPDUSize)
	}
	p, _, err := rtrfast.ParsePDU(b)
	if err != nil {
		t.Fatalf("the truncated report does not parse: %v", err)
	}
	if len(p.ErrorPDU) == 0 || len(p.ErrorText) == 0 {
		t.Errorf("truncation dropped the PDU or the text entirely")
	}
}

// FuzzDecodePDU checks that any input either fails with an error that is
// io.ErrUnexpectedEOF or a ProtocolError, or parses into a PDU whose
// encoding parses back to the same PDU and is no longer than the input.
func FuzzDecodePDU(f *testing.F) {
	for _, tc := range pduCases {
		f.Add(unhex(f, tc.wire))
	}
	f.Add(unhex(f, "02 0b 0100 00000014 0000fbf0 00000000 00000002"))
	f.Add(unhex(f, "02 0a 0000 00000012 00000000 00000001 6e6f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := rtrfast.ParsePDU(b)
		if err != nil {
			var pe *rtrfast.ProtocolError
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if n != 0 || !cmp.Equal(p, rtrfast.PDU{}, pduOpts) {
				t.Fatalf("error %v with a PDU %+v of %d octets", err, p, n)
			}
			return
		}
		if n < 8 || n > len(b) || n > rtrfast.MaxPDUSize {
			t.Fatalf("parsed length %d of %d octets", n, len(b))
		}
		enc := rtrfast.AppendPDU(nil, &p)
		if len(enc) != n {
			t.Fatalf("re-encoded %d octets, parsed %d", len(enc), n)
		}
		q, m, err := rtrfast.ParsePDU(enc)
		if err != nil || m != n {
			t.Fatalf("re-encoded PDU does not parse: %v (%d octets)", err, m)
		}
		if diff := cmp.Diff(p, q, pduOpts); diff != "" {
			t.Fatalf("parse, encode, parse is not stable (-first +second):\n%s", diff)
		}
	})
}
