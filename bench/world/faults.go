package world

// FaultKind names one deliberate defect of a world.
type FaultKind string

// The fault kinds. Each is injected into one CA, and its effect under the
// default policies follows the Validation section of the Routinator
// manual, as Routinator, rpki-client and FORT apply it. An object fault
// adds its own faulty object (fault.roa, fault.asa, ...), so the CA's
// other objects stay valid and the effect is exactly that object's
// payload.
const (
	// Objects that are on the manifest with the right hash but fail
	// their own checks: the object alone is dropped.
	FaultROABadCMSSignature     FaultKind = "roa-bad-cms-signature"
	FaultROAEEBadSignature      FaultKind = "roa-ee-bad-signature"
	FaultROAEEExpired           FaultKind = "roa-ee-expired"
	FaultROAEENotYetValid       FaultKind = "roa-ee-not-yet-valid"
	FaultROAEERevoked           FaultKind = "roa-ee-revoked"
	FaultROAOutsideIssuer       FaultKind = "roa-resources-outside-issuer"
	FaultROAPrefixNotInEE       FaultKind = "roa-prefix-not-in-ee"
	FaultROAMaxLengthBelow      FaultKind = "roa-maxlength-below-prefix"
	FaultROAMaxLengthTooLong    FaultKind = "roa-maxlength-too-long"
	FaultROAEEInherit           FaultKind = "roa-ee-inherit"
	FaultASPACustomerInProvider FaultKind = "aspa-customer-in-providers"
	FaultRouterKeyNotP256       FaultKind = "router-key-not-p256"
	FaultGBRBadSignature        FaultKind = "gbr-bad-signature"

	// Files that are not used: the object is ignored and the CA stays.
	FaultFileNotOnManifest FaultKind = "file-not-on-manifest"
	// FaultUnknownObject follows unknown-objects: warn (the default)
	// ignores the file, reject rejects the CA.
	FaultUnknownObject FaultKind = "unknown-object-type"

	// Publication point failures: the CA is rejected with all its
	// children, and its resources make overlapping VRPs unsafe.
	FaultManifestHashMismatch FaultKind = "manifest-hash-mismatch"
	FaultManifestFileMissing  FaultKind = "manifest-file-missing"
	FaultManifestStale        FaultKind = "manifest-stale"
	FaultCRLStale             FaultKind = "crl-stale"
	FaultManifestBadSignature FaultKind = "manifest-bad-signature"
	FaultManifestMissing      FaultKind = "manifest-missing"
	FaultCRLMissing           FaultKind = "crl-missing"
	FaultCRLBadSignature      FaultKind = "crl-bad-signature"

	// The CA's own certificate, published by its parent, is invalid: the
	// CA and its children are never validated. Routinator drops such a
	// certificate with a warning and does not count its resources as
	// rejected, so these make no VRP unsafe.
	FaultCABadSignature FaultKind = "ca-cert-bad-signature"
	FaultCAExpired      FaultKind = "ca-cert-expired"
	FaultCAOverclaim    FaultKind = "ca-cert-overclaim"
)

// FaultKinds lists every kind in the order faults are handed out.
var FaultKinds = []FaultKind{
	FaultManifestHashMismatch,
	FaultROABadCMSSignature,
	FaultCABadSignature,
	FaultManifestStale,
	FaultROAEEBadSignature,
	FaultCAExpired,
	FaultCRLStale,
	FaultROAEEExpired,
	FaultCAOverclaim,
	FaultManifestFileMissing,
	FaultROAEENotYetValid,
	FaultUnknownObject,
	FaultManifestBadSignature,
	FaultROAEERevoked,
	FaultFileNotOnManifest,
	FaultManifestMissing,
	FaultROAOutsideIssuer,
	FaultASPACustomerInProvider,
	FaultCRLMissing,
	FaultROAPrefixNotInEE,
	FaultRouterKeyNotP256,
	FaultCRLBadSignature,
	FaultROAMaxLengthBelow,
	FaultROAMaxLengthTooLong,
	FaultROAEEInherit,
	FaultGBRBadSignature,
}

// Effects of a fault on the validation result.
const (
	// EffectCARejected: the CA's publication point is rejected with its
	// children; its resources count for unsafe VRPs.
	EffectCARejected = "ca-rejected"
	// EffectCACertRejected: the CA's certificate is invalid, so neither
	// it nor its children are validated.
	EffectCACertRejected = "ca-cert-rejected"
	// EffectObjectRejected: the object alone is dropped.
	EffectObjectRejected = "object-rejected"
	// EffectObjectIgnored: the file is not used; the CA stays.
	EffectObjectIgnored = "object-ignored"
	// EffectAccepted: the object is used (with a warning).
	EffectAccepted = "accepted"
)

// faultClass groups kinds by where they act.
type faultClass int

const (
	classObject  faultClass = iota // a faulty object in the CA's own point
	classIgnored                   // a file the validator does not use
	classPoint                     // the CA's publication point fails
	classCACert                    // the CA's certificate, in the parent's point
)

func (k FaultKind) class() faultClass {
	switch k {
	case FaultFileNotOnManifest, FaultUnknownObject:
		return classIgnored
	case FaultManifestHashMismatch, FaultManifestFileMissing, FaultManifestStale, FaultCRLStale,
		FaultManifestBadSignature, FaultManifestMissing, FaultCRLMissing, FaultCRLBadSignature:
		return classPoint
	case FaultCABadSignature, FaultCAExpired, FaultCAOverclaim:
		return classCACert
	}
	return classObject
}

// policy returns the policy that changes the kind's effect, and the
// effect under it.
func (k FaultKind) policy() (policy, effect string) {
	switch k {
	case FaultManifestStale, FaultCRLStale:
		return "stale=warn", EffectAccepted
	case FaultUnknownObject:
		return "unknown-objects=reject", EffectCARejected
	}
	return "", ""
}

// effect returns the effect under the default policies.
func (k FaultKind) effect() string {
	switch k.class() {
	case classIgnored:
		return EffectObjectIgnored
	case classPoint:
		return EffectCARejected
	case classCACert:
		return EffectCACertRejected
	}
	return EffectObjectRejected
}

// objectKind returns the kind of the extra object a fault adds, if any.
func (k FaultKind) objectKind() Kind {
	switch k {
	case FaultASPACustomerInProvider:
		return KindASPA
	case FaultRouterKeyNotP256:
		return KindRouterCert
	case FaultGBRBadSignature:
		return KindGBR
	case FaultUnknownObject:
		return KindOther
	}
	switch k.class() {
	case classObject, classIgnored:
		return KindROA
	}
	// Two point faults hang on a valid extra ROA: the one whose hash is
	// wrong and the one that is missing.
	if k == FaultManifestHashMismatch || k == FaultManifestFileMissing {
		return KindROA
	}
	return ""
}
