package world

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Kind is the type of a published object.
type Kind string

// Object kinds.
const (
	KindTACert     Kind = "ta-cert" // self-signed; reached through the TAL, not on any manifest or in RRDP
	KindCACert     Kind = "ca-cert"
	KindRouterCert Kind = "router-cert"
	KindCRL        Kind = "crl"
	KindManifest   Kind = "manifest"
	KindROA        Kind = "roa"
	KindASPA       Kind = "aspa"
	KindGBR        Kind = "gbr"
	KindOther      Kind = "other" // a file of an unknown type
)

// Object is one published file.
type Object struct {
	// URI is the object's rsync URI.
	URI string
	// Repo is the name of the repository that publishes it.
	Repo string
	// CA is the name of the CA whose publication point holds it (for a
	// trust anchor certificate, the trust anchor itself).
	CA    string
	Kind  Kind
	Bytes []byte
}

// Path returns the object's path under the rsync root of a written world:
// HOST[:PORT]/MODULE/....
func (o *Object) Path() string { return strings.TrimPrefix(o.URI, "rsync://") }

// TA is one trust anchor.
type TA struct {
	Name string
	Repo string
	// RsyncURI and HTTPSURI locate the certificate; the HTTPS one maps
	// to DIR/ta/NAME.cer of a written world.
	RsyncURI, HTTPSURI string
	Cert               []byte
	// TAL is the RFC 8630 TAL text.
	TAL []byte
}

// VRP is a validated ROA payload.
type VRP struct {
	ASN       uint32       `json:"asn"`
	Prefix    netip.Prefix `json:"prefix"`
	MaxLength int          `json:"maxLength"`
	TA        string       `json:"ta"`
}

// String returns the VRP as a line of Routinator's csv format.
func (v VRP) String() string {
	return fmt.Sprintf("AS%d,%s,%d,%s", v.ASN, v.Prefix, v.MaxLength, v.TA)
}

func compareVRP(a, b VRP) int {
	if a.Prefix.Addr().Is4() != b.Prefix.Addr().Is4() {
		if a.Prefix.Addr().Is4() {
			return -1
		}
		return 1
	}
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MaxLength, b.MaxLength); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ASN, b.ASN); c != 0 {
		return c
	}
	return cmp.Compare(a.TA, b.TA)
}

// SortVRPs sorts by address family, prefix, maxLength, ASN and TA, and
// removes duplicates.
func SortVRPs(v []VRP) []VRP {
	slices.SortFunc(v, compareVRP)
	return slices.Compact(v)
}

// ASPA is a validated AS provider attestation.
type ASPA struct {
	Customer  uint32   `json:"customer"`
	Providers []uint32 `json:"providers"`
	TA        string   `json:"ta"`
}

// String returns the ASPA as a line of aspas.csv.
func (a ASPA) String() string {
	ps := make([]string, len(a.Providers))
	for i, p := range a.Providers {
		ps[i] = fmt.Sprintf("AS%d", p)
	}
	return fmt.Sprintf("AS%d,%s,%s", a.Customer, strings.Join(ps, ";"), a.TA)
}

// RouterKey is a validated BGPsec router key.
type RouterKey struct {
	ASN uint32 `json:"asn"`
	// SKI is the key identifier in upper-case hex, SPKI the base64 DER
	// SubjectPublicKeyInfo.
	SKI  string `json:"ski"`
	SPKI string `json:"spki"`
	TA   string `json:"ta"`
}

// String returns the key as a line of router-keys.csv.
func (k RouterKey) String() string { return fmt.Sprintf("AS%d,%s,%s,%s", k.ASN, k.SKI, k.SPKI, k.TA) }

// Payload is a set of VRPs, ASPAs and router keys.
type Payload struct {
	VRPs       []VRP       `json:"vrps"`
	ASPAs      []ASPA      `json:"aspas"`
	RouterKeys []RouterKey `json:"routerKeys"`
}

// Fault is one injected fault and what it does.
type Fault struct {
	CA   string    `json:"ca"`
	Kind FaultKind `json:"kind"`
	// URI is the faulty object (for a missing one, where it should be).
	URI string `json:"uri"`
	// Effect is one of the Effect constants, under default policies.
	Effect string `json:"effect"`
	// Removes is the payload a correct relying party does not output
	// because of the fault (default policies).
	Removes Payload `json:"removes"`
	// Policy, if set, is the option value that changes the effect
	// (e.g. "stale=warn"), PolicyEffect the effect then and
	// PolicyRemoves the payload it then removes.
	Policy        string   `json:"policy,omitempty"`
	PolicyEffect  string   `json:"policyEffect,omitempty"`
	PolicyRemoves *Payload `json:"policyRemoves,omitempty"`
}

// Truth is what a correct relying party outputs under default policies.
type Truth struct {
	Payload
	// Unsafe are the VRPs that unsafe-vrps=reject drops: those whose
	// prefix overlaps the resources of a rejected CA (0.0.0.0/0 and ::/0
	// excepted).
	Unsafe []VRP
	Faults []Fault
}

// Stats counts what a world holds.
type Stats struct {
	CAs        int   `json:"cas"`
	Objects    int   `json:"objects"`
	ROAs       int   `json:"roas"`
	VRPs       int   `json:"vrps"`
	ASPAs      int   `json:"aspas"`
	RouterKeys int   `json:"routerKeys"`
	Faults     int   `json:"faults"`
	Bytes      int64 `json:"bytes"`
}

// World is a generated world in memory.
type World struct {
	Config  Config
	TAs     []TA
	Objects []Object
	Truth   Truth
	Stats   Stats
	// Sessions holds each repository's RRDP session ID, by name.
	Sessions map[string]string

	keyDigest string
}
