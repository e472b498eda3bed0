package encode

// Object identifiers of the RPKI profiles. The comment on each names the
// document that assigns it.
var (
	OIDRSAEncryption       = ParseOID("1.2.840.113549.1.1.1")   // RFC 8017
	OIDSHA256WithRSA       = ParseOID("1.2.840.113549.1.1.11")  // RFC 4055
	OIDSHA256              = ParseOID("2.16.840.1.101.3.4.2.1") // RFC 5754
	OIDECPublicKey         = ParseOID("1.2.840.10045.2.1")      // RFC 5480
	OIDP256                = ParseOID("1.2.840.10045.3.1.7")    // RFC 5480 secp256r1
	OIDP384                = ParseOID("1.3.132.0.34")           // RFC 5480 secp384r1
	OIDCommonName          = ParseOID("2.5.4.3")
	OIDSerialNumber        = ParseOID("2.5.4.5")
	OIDSubjectKeyID        = ParseOID("2.5.29.14")
	OIDKeyUsage            = ParseOID("2.5.29.15")
	OIDBasicConstraints    = ParseOID("2.5.29.19")
	OIDCRLNumber           = ParseOID("2.5.29.20")
	OIDCRLDistPoints       = ParseOID("2.5.29.31")
	OIDCertPolicies        = ParseOID("2.5.29.32")
	OIDAuthorityKeyID      = ParseOID("2.5.29.35")
	OIDExtKeyUsage         = ParseOID("2.5.29.37")
	OIDAuthorityInfoAccess = ParseOID("1.3.6.1.5.5.7.1.1")
	OIDIPAddrBlocks        = ParseOID("1.3.6.1.5.5.7.1.7") // RFC 3779 sbgp-ipAddrBlock
	OIDASIdentifiers       = ParseOID("1.3.6.1.5.5.7.1.8") // RFC 3779 sbgp-autonomousSysNum
	OIDSubjectInfoAccess   = ParseOID("1.3.6.1.5.5.7.1.11")
	OIDCPIPAddrASNumber    = ParseOID("1.3.6.1.5.5.7.14.2") // RFC 6484
	OIDKPBGPsecRouter      = ParseOID("1.3.6.1.5.5.7.3.30") // RFC 8209
	OIDADCAIssuers         = ParseOID("1.3.6.1.5.5.7.48.2")
	OIDADCARepository      = ParseOID("1.3.6.1.5.5.7.48.5")
	OIDADRPKIManifest      = ParseOID("1.3.6.1.5.5.7.48.10") // RFC 6487
	OIDADSignedObject      = ParseOID("1.3.6.1.5.5.7.48.11") // RFC 6487
	OIDADRPKINotify        = ParseOID("1.3.6.1.5.5.7.48.13") // RFC 8182

	OIDSignedData        = ParseOID("1.2.840.113549.1.7.2") // RFC 5652
	OIDAttrContentType   = ParseOID("1.2.840.113549.1.9.3")
	OIDAttrMessageDigest = ParseOID("1.2.840.113549.1.9.4")
	OIDAttrSigningTime   = ParseOID("1.2.840.113549.1.9.5")
	OIDAttrBinaryTime    = ParseOID("1.2.840.113549.1.9.16.2.46") // RFC 6019

	OIDCTROA      = ParseOID("1.2.840.113549.1.9.16.1.24") // RFC 9582
	OIDCTManifest = ParseOID("1.2.840.113549.1.9.16.1.26") // RFC 9286
	OIDCTGBR      = ParseOID("1.2.840.113549.1.9.16.1.35") // RFC 6493
	OIDCTASPA     = ParseOID("1.2.840.113549.1.9.16.1.49") // draft-ietf-sidrops-aspa-profile
)
