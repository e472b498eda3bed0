package rpki

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rovd/rovd/engine/der"
)

// maxVCardLines bounds a Ghostbusters vCard.
const maxVCardLines = 1000

// VCardProperty is one line of a Ghostbusters vCard.
type VCardProperty struct {
	Name  string // upper case, without parameters: FN, ORG, ADR, TEL, EMAIL
	Value string
}

// GBR is a decoded Ghostbusters Record (RFC 6493): a vCard naming who to
// contact about a CA.
type GBR struct {
	SignedObject
	// VCard is the eContent text.
	VCard      []byte
	Properties []VCardProperty

	mode der.Mode
	findings
}

// Type returns TypeGBR.
func (g *GBR) Type() Type { return TypeGBR }

// ParseGBR decodes a Ghostbusters record and checks its vCard profile
// (RFC 6493 §5): BEGIN, VERSION:4.0, FN, then ORG, ADR, TEL or EMAIL, at
// least one way to reach someone, END.
func ParseGBR(data []byte, mode der.Mode) (*GBR, error) {
	var r report
	g := new(GBR)
	if err := parseCMS(&g.SignedObject, data, mode, oidCTGBR, &r); err != nil {
		return nil, err
	}
	g.VCard, g.mode = g.Content, mode
	g.parseVCard(&r)
	g.problems = r.problems
	return g, nil
}

func (g *GBR) parseVCard(r *report) {
	const field, ref = "vCard", "RFC 6493 §5"
	if !utf8.Valid(g.VCard) {
		r.inspect(field, ref, "vCard is not UTF-8 text")
		return
	}
	// Unfold continuation lines (RFC 6350 §3.2) before splitting.
	text := strings.ReplaceAll(string(g.VCard), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n ", "")
	text = strings.ReplaceAll(text, "\n\t", "")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > maxVCardLines {
		r.inspect(field, ref, "more than %d lines", maxVCardLines)
		return
	}
	count := map[string]int{}
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			r.inspect(field, ref, "line %d has no property name", i+1)
			continue
		}
		name, _, _ = strings.Cut(name, ";") // drop parameters such as TYPE=
		name = strings.ToUpper(name)
		count[name]++
		switch name {
		case "BEGIN", "END", "VERSION":
		case "FN", "ORG", "ADR", "TEL", "EMAIL":
			g.Properties = append(g.Properties, VCardProperty{Name: name, Value: value})
		default:
			// RFC 6493 lists the properties a Ghostbusters vCard uses;
			// real ones also carry N and others, which only Strict mode
			// objects to.
			if g.mode == der.Strict {
				r.inspect(field, ref, "property %s is not in the Ghostbusters profile", name)
			}
		}
	}
	switch {
	case len(lines) < 2 || !strings.EqualFold(lines[0], "BEGIN:VCARD") || !strings.EqualFold(lines[len(lines)-1], "END:VCARD"):
		r.inspect(field, ref, "vCard must start with BEGIN:VCARD and end with END:VCARD")
	case count["VERSION"] != 1:
		r.inspect(field, ref, "want exactly one VERSION")
	case g.mode == der.Strict && !bytes.Contains(bytes.ToUpper(g.VCard), []byte("VERSION:4.0")):
		// Real records still use vCard 3.0; only Strict mode insists on
		// the 4.0 that RFC 6493 names.
		r.inspect(field, ref, "VERSION:4.0 missing")
	}
	if count["FN"] != 1 {
		r.inspect(field, ref, "want exactly one FN, have %d", count["FN"])
	}
	if count["ADR"]+count["TEL"]+count["EMAIL"] == 0 {
		r.inspect(field, ref, "no ADR, TEL or EMAIL to reach anyone")
	}
}

// Validate checks the record against its issuer at time at.
func (g *GBR) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	g.validate(iss, at, &r)
	return r.problems
}
