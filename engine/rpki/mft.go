package rpki

import (
	"bytes"
	"errors"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// maxManifestEntries bounds a manifest's file list, as rpki-client does
// (MAX_MANIFEST_ENTRIES); the largest real manifests list tens of thousands.
const maxManifestEntries = 100_000

// maxFileNameLength bounds a listed file name (POSIX NAME_MAX).
const maxFileNameLength = 255

// FileAndHash is one manifest entry. Both slices alias the manifest.
type FileAndHash struct {
	Name []byte
	Hash []byte // SHA-256 of the file
}

// Manifest is a decoded RPKI manifest (RFC 9286).
type Manifest struct {
	SignedObject
	Number     []byte // manifestNumber INTEGER contents
	ThisUpdate time.Time
	NextUpdate time.Time
	Files      []FileAndHash

	findings
}

// Type returns TypeManifest.
func (m *Manifest) Type() Type { return TypeManifest }

// ParseManifest decodes a manifest and checks the RFC 9286 profile.
func ParseManifest(data []byte, mode der.Mode) (*Manifest, error) {
	var r report
	m := new(Manifest)
	if err := parseCMS(&m.SignedObject, data, mode, oidCTManifest, &r); err != nil {
		return nil, err
	}
	if err := m.parseContent(mode, &r); err != nil {
		return nil, err
	}
	if m.EE != nil && !(m.EE.Resources.IPv4.Inherit && m.EE.Resources.IPv6.Inherit && m.EE.Resources.AS.Inherit) {
		r.inspect("certificates[0].tbsCertificate.extensions", "RFC 9286 §5.1", "EE certificate resources must be inherit")
	}
	m.problems = r.problems
	return m, nil
}

func (m *Manifest) parseContent(mode der.Mode, r *report) error {
	const ref = "RFC 9286 §4.2"
	p := der.Parse(m.Content, mode)
	seq, err := p.Sequence()
	if err != nil {
		return decodeErr("manifest", ref, err)
	}
	if err := p.Done(); err != nil {
		return decodeErr("manifest", ref, err)
	}
	if err := checkVersion(&seq, 0, "manifest.version", ref, r); err != nil {
		return err
	}
	if m.Number, err = seq.Integer(); err != nil {
		return decodeErr("manifest.manifestNumber", "RFC 9286 §4.2.1", err)
	}
	checkSequenceNumber(m.Number, "manifest.manifestNumber", "RFC 9286 §4.2.1", r)
	for _, f := range []struct {
		dst  *time.Time
		name string
	}{{&m.ThisUpdate, "thisUpdate"}, {&m.NextUpdate, "nextUpdate"}} {
		el, err := seq.Next()
		if err == nil {
			*f.dst, err = el.GeneralizedTime()
		}
		if err != nil {
			return decodeErr("manifest."+f.name, "RFC 9286 §4.2.1", err)
		}
	}
	if !m.ThisUpdate.Before(m.NextUpdate) {
		r.inspect("manifest.nextUpdate", "RFC 9286 §4.2.1", "nextUpdate is not after thisUpdate")
	}
	alg, err := seq.OID()
	if err != nil {
		return decodeErr("manifest.fileHashAlg", "RFC 9286 §4.2.1", err)
	}
	if !alg.Equal(oidSHA256) {
		r.inspect("manifest.fileHashAlg", "RFC 9286 §4.2.1", "hash algorithm %s, want sha256", oidName(alg))
	}
	list, err := seq.Sequence()
	if err != nil {
		return decodeErr("manifest.fileList", "RFC 9286 §4.2.1", err)
	}
	if err := seq.Done(); err != nil {
		return decodeErr("manifest", ref, err)
	}
	return m.parseFileList(&list, mode, r)
}

func (m *Manifest) parseFileList(list *der.Parser, mode der.Mode, r *report) error {
	const field = "manifest.fileList"
	for !list.Empty() {
		if len(m.Files) == maxManifestEntries {
			return decodeErr(field, "", errTooMany("manifest entries", maxManifestEntries))
		}
		entry, err := list.Sequence()
		if err != nil {
			return decodeErr(field, "RFC 9286 §4.2.1", err)
		}
		nameEl, err := entry.Expect(der.TagIA5String)
		if err != nil {
			return decodeErr(field+".file", "RFC 9286 §4.2.1", err)
		}
		hashEl, err := entry.Expect(der.TagBitString)
		if err != nil {
			return decodeErr(field+".hash", "RFC 9286 §4.2.1", err)
		}
		hash, err := hashEl.BitString()
		if err != nil {
			return decodeErr(field+".hash", "RFC 9286 §4.2.1", err)
		}
		if err := entry.Done(); err != nil {
			return decodeErr(field, "RFC 9286 §4.2.1", err)
		}
		name := nameEl.Content()
		if err := CheckFileName(name, mode); err != nil {
			r.inspect(field+".file", "RFC 9286 §4.2.2", "%v", err)
		}
		if len(hash.Bytes) != 32 || hash.UnusedBits != 0 {
			r.inspect(field+".hash", "RFC 9286 §4.2.1", "hash of %s is %d bits, want 256", name, hash.Len())
		}
		m.Files = append(m.Files, FileAndHash{Name: name, Hash: hash.Bytes})
	}
	// A name listed twice: sort the names and compare neighbours, which
	// costs one allocation instead of a map key per entry.
	sorted := make([][]byte, len(m.Files))
	for i, f := range m.Files {
		sorted[i] = f.Name
	}
	slices.SortFunc(sorted, bytes.Compare)
	for i := 1; i < len(sorted); i++ {
		if bytes.Equal(sorted[i-1], sorted[i]) {
			r.inspect(field, "RFC 9286 §4.2.2", "%s listed twice", sorted[i])
		}
	}
	if len(m.Files) == 0 {
		r.inspect(field, "RFC 9286 §4.2.1", "empty file list")
	}
	// The manifest lists exactly one CRL, the one its EE certificate's
	// distribution point names (RFC 9286 §6.4).
	if m.EE != nil && m.EE.CRLURI != "" {
		crl := path.Base(m.EE.CRLURI)
		crls, listed := 0, false
		for _, f := range m.Files {
			if TypeFromName(string(f.Name)) == TypeCRL {
				crls++
				listed = listed || string(f.Name) == crl
			}
		}
		switch {
		case !listed:
			r.inspect(field, "RFC 9286 §6.4", "the CRL %s is not listed", crl)
		case crls > 1:
			r.inspect(field, "RFC 9286 §6.4", "more than one CRL listed")
		}
	}
	return nil
}

// CheckFileName checks a name a manifest lists (RFC 9286 §4.2.2): letters,
// digits, '-' and '_', then one '.' and the extension. Relaxed mode, like
// rpki-client, takes any extension made of those characters; Strict mode
// wants three lower-case letters.
func CheckFileName(name []byte, mode der.Mode) error {
	if len(name) == 0 || len(name) > maxFileNameLength {
		return errors.New("file name empty or too long")
	}
	dot := -1
	for i, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if dot >= 0 {
				return errors.New("file name " + quote(name) + " has more than one dot")
			}
			dot = i
		default:
			return errors.New("file name " + quote(name) + " has a character outside [A-Za-z0-9._-]")
		}
	}
	if dot <= 0 || dot == len(name)-1 {
		return errors.New("file name " + quote(name) + " lacks a base name or an extension")
	}
	if mode == der.Strict {
		ext := name[dot+1:]
		if len(ext) != 3 || !lowerLetters(ext) {
			return errors.New("file name " + quote(name) + " does not end in a three-letter extension")
		}
	}
	return nil
}

func lowerLetters(b []byte) bool {
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// Stale reports whether nextUpdate is past at: the CA should have issued
// a newer manifest (the manual's stale policy applies).
func (m *Manifest) Stale(at time.Time) bool { return at.After(m.NextUpdate) }

// Validate checks the manifest against its issuer at time at: the CMS
// signature, the EE certificate, and a thisUpdate not in the future
// (RFC 9286 §6.3). Staleness is left to the caller's policy.
func (m *Manifest) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	m.validate(iss, at, &r)
	if at.Before(m.ThisUpdate) {
		r.add(Verify, "manifest.thisUpdate", "RFC 9286 §6.3", "issued in the future (%s)", m.ThisUpdate.Format(time.RFC3339))
	}
	return r.problems
}

// checkVersion reads an optional "version [0] EXPLICIT INTEGER DEFAULT 0"
// and checks it is want. DER omits a default value, so an explicit 0 is
// an encoding error, as rpki-client also holds.
func checkVersion(p *der.Parser, want int64, field, ref string, r *report) error {
	v, ok, err := p.OptionalExplicit(0)
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if !ok {
		if want != 0 {
			r.inspect(field, ref, "version missing, want %d", want)
		}
		return nil
	}
	el, err := v.Expect(der.TagInteger)
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if err := v.Done(); err != nil {
		return decodeErr(field, ref, err)
	}
	n, err := el.Int64()
	switch {
	case err != nil:
		return decodeErr(field, ref, err)
	case n == 0:
		r.inspect(field, "X.690 §11.5", "version 0 is the default and must be omitted")
	case n != want:
		r.inspect(field, ref, "version %d, want %d", n, want)
	}
	return nil
}

func quote(b []byte) string { return strconv.Quote(string(b)) }
