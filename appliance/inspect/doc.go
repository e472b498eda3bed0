// Package inspect implements `rovd inspect`: it decodes RPKI objects from
// files and reports their content and every problem found, as text or
// JSON, much like `rpki-client -f`.
//
// Without the issuing CA at hand, inspection checks what an object proves
// on its own: its encoding, its profile, the CMS signature of a signed
// object with its EE key, and the self-signature of a trust anchor.
package inspect
