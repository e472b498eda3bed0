package encode

import (
	"fmt"
)

// RouterSubject returns the subject of a BGPsec router certificate: CN
// "ROUTER-" followed by the AS number as 8 hex digits (RFC 8209 §3.1.1),
// with the router identifier, if any, as serialNumber.
func RouterSubject(asn uint32, routerID string) Name {
	return Name{CommonName: fmt.Sprintf("ROUTER-%08X", asn), SerialNumber: routerID}
}

// MakeRouter turns c into a BGPsec router certificate (RFC 8209 §3.1): an
// EE certificate with id-kp-bgpsec-router, AS resources only and no SIA.
// The caller sets the key (P-256), issuer, AKI, CRL and AIA.
func (c *Cert) MakeRouter(asns ...uint32) {
	c.CA = false
	c.ExtKeyUsage = []OID{OIDKPBGPsecRouter}
	c.IP = nil
	c.AS = ASNs(asns...)
	c.CARepository, c.Manifest, c.Notify, c.SignedObject = "", "", "", ""
}
