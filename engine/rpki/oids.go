package rpki

import "github.com/rovd/rovd/engine/der"

// Object identifiers, in their encoded form so decoding only compares bytes.
var (
	// Algorithms (RFC 7935).
	oidSHA256        = der.MustOID("2.16.840.1.101.3.4.2.1")
	oidRSAEncryption = der.MustOID("1.2.840.113549.1.1.1")
	oidSHA256WithRSA = der.MustOID("1.2.840.113549.1.1.11")
	oidECPublicKey   = der.MustOID("1.2.840.10045.2.1")
	oidP256          = der.MustOID("1.2.840.10045.3.1.7")

	// Name attributes (RFC 6487 §4.4).
	oidCommonName   = der.MustOID("2.5.4.3")
	oidSerialNumber = der.MustOID("2.5.4.5")

	// Certificate and CRL extensions (RFC 5280, RFC 3779, RFC 6487).
	oidSubjectKeyID      = der.MustOID("2.5.29.14")
	oidKeyUsage          = der.MustOID("2.5.29.15")
	oidBasicConstraints  = der.MustOID("2.5.29.19")
	oidCRLNumber         = der.MustOID("2.5.29.20")
	oidCRLDistribution   = der.MustOID("2.5.29.31")
	oidCertPolicies      = der.MustOID("2.5.29.32")
	oidAuthorityKeyID    = der.MustOID("2.5.29.35")
	oidExtKeyUsage       = der.MustOID("2.5.29.37")
	oidAuthorityInfo     = der.MustOID("1.3.6.1.5.5.7.1.1")
	oidIPAddrBlocks      = der.MustOID("1.3.6.1.5.5.7.1.7")
	oidASIdentifiers     = der.MustOID("1.3.6.1.5.5.7.1.8")
	oidIPAddrBlocksV2    = der.MustOID("1.3.6.1.5.5.7.1.28")
	oidASIdentifiersV2   = der.MustOID("1.3.6.1.5.5.7.1.29")
	oidSubjectInfoAccess = der.MustOID("1.3.6.1.5.5.7.1.11")

	// Access methods (RFC 6487 §4.8.7, §4.8.8; RFC 8182 §3.2).
	oidCAIssuers    = der.MustOID("1.3.6.1.5.5.7.48.2")
	oidCARepository = der.MustOID("1.3.6.1.5.5.7.48.5")
	oidRPKIManifest = der.MustOID("1.3.6.1.5.5.7.48.10")
	oidSignedObject = der.MustOID("1.3.6.1.5.5.7.48.11")
	oidRPKINotify   = der.MustOID("1.3.6.1.5.5.7.48.13")

	// Policies and key purposes.
	oidPolicyRPKI     = der.MustOID("1.3.6.1.5.5.7.14.2") // id-cp-ipAddr-asNumber
	oidPolicyRPKIv2   = der.MustOID("1.3.6.1.5.5.7.14.3") // RFC 8360, not in use
	oidQualifierCPS   = der.MustOID("1.3.6.1.5.5.7.2.1")
	oidKPBGPsecRouter = der.MustOID("1.3.6.1.5.5.7.3.30")

	// CMS (RFC 5652) and its signed attributes.
	oidSignedData        = der.MustOID("1.2.840.113549.1.7.2")
	oidAttrContentType   = der.MustOID("1.2.840.113549.1.9.3")
	oidAttrMessageDigest = der.MustOID("1.2.840.113549.1.9.4")
	oidAttrSigningTime   = der.MustOID("1.2.840.113549.1.9.5")
	oidAttrBinaryTime    = der.MustOID("1.2.840.113549.1.9.16.2.46")

	// eContent types of RPKI signed objects.
	oidCTROA      = der.MustOID("1.2.840.113549.1.9.16.1.24")
	oidCTManifest = der.MustOID("1.2.840.113549.1.9.16.1.26")
	oidCTGBR      = der.MustOID("1.2.840.113549.1.9.16.1.35")
	oidCTRSC      = der.MustOID("1.2.840.113549.1.9.16.1.48")
	oidCTASPA     = der.MustOID("1.2.840.113549.1.9.16.1.49")
	oidCTTAK      = der.MustOID("1.2.840.113549.1.9.16.1.50")
	oidCTSPL      = der.MustOID("1.2.840.113549.1.9.16.1.51")
)

// oidNames gives readable names for the OIDs that problems and inspect
// output mention.
var oidNames = map[string]string{
	string(oidSHA256):            "sha256",
	string(oidRSAEncryption):     "rsaEncryption",
	string(oidSHA256WithRSA):     "sha256WithRSAEncryption",
	string(oidECPublicKey):       "id-ecPublicKey",
	string(oidCTROA):             "routeOriginAuthz",
	string(oidCTManifest):        "rpkiManifest",
	string(oidCTGBR):             "rpkiGhostbusters",
	string(oidCTRSC):             "signedChecklist",
	string(oidCTASPA):            "ASPA",
	string(oidCTTAK):             "trustAnchorKey",
	string(oidCTSPL):             "signedPrefixList",
	string(oidAttrBinaryTime):    "binarySigningTime",
	string(oidAttrContentType):   "contentType",
	string(oidAttrMessageDigest): "messageDigest",
	string(oidAttrSigningTime):   "signingTime",
}

// oidName returns the readable name of o, or its dotted form.
func oidName(o der.OID) string {
	if n, ok := oidNames[string(o)]; ok {
		return n + " (" + o.String() + ")"
	}
	return o.String()
}
