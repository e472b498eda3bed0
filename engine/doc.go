// Package engine walks the RPKI tree from the TALs to a payload set: it
// validates trust anchors, CAs, manifests, CRLs and the objects they
// list, applies the manual's policies (strict, stale, unsafe-vrps,
// unknown-objects) and produces an immutable engine/payload set.
//
// It asks for repository data through a Collector interface it defines
// and never imports netio, rtrfast or appliance, so it runs offline in
// tests and in `rovd inspect`. The tree walk arrives with the engine
// issue; this package so far holds its decoding layers, engine/der and
// engine/rpki.
package engine
