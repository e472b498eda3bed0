package rrdp_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/rovd/rovd/netio/rrdp"
)

// This file holds a slow reference parser built on encoding/xml, written
// independently from the package: straight from the RFC 8182 schema and
// the rules in the package documentation. The fuzz targets check that
// whatever the fast parser accepts, the reference accepts too and reads
// the same way. The reference is laxer about XML syntax (encoding/xml
// does not check everything), which is fine: the claim is one-way.

// refElement is an Element that owns its memory.
type refElement struct {
	Withdraw bool
	URI      string
	HasHash  bool
	Hash     [32]byte
	Data     []byte
}

// refFile is everything the reference reads from a file.
type refFile struct {
	Header   rrdp.Header
	Snapshot rrdp.FileRef
	Deltas   []rrdp.FileRef
	Elements []refElement
}

var refUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func refSerial(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("bad serial %q", s)
	}
	return n, nil
}

func refHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func refURI(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty uri")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", fmt.Errorf("bad character in uri %q", s)
		}
	}
	return s, nil
}

// refAttrs checks the attributes of an element against the allowed names
// and returns them by local name.
func refAttrs(el xml.StartElement, allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range el.Attr {
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			if a.Value != rrdp.Namespace {
				return nil, fmt.Errorf("namespace %q", a.Value)
			}
			continue
		}
		if a.Name.Space != "" {
			return nil, fmt.Errorf("qualified attribute %v", a.Name)
		}
		ok := false
		for _, n := range allowed {
			ok = ok || n == a.Name.Local
		}
		if !ok {
			return nil, fmt.Errorf("attribute %q on <%s>", a.Name.Local, el.Name.Local)
		}
		if _, dup := m[a.Name.Local]; dup {
			return nil, fmt.Errorf("duplicate attribute %q", a.Name.Local)
		}
		m[a.Name.Local] = a.Value
	}
	return m, nil
}

func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

func refBlank(b []byte) bool { return len(bytes.TrimFunc(b, isXMLSpace)) == 0 }

// refParse parses any of the three RRDP files.
func refParse(data []byte) (*refFile, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("charset %q", charset)
	}
	var f refFile
	depth := 0
	rootDone := false
	var child *xml.StartElement // the open child of the root
	var text []byte
	haveSnapshot := false
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" || off != 0 {
				return nil, fmt.Errorf("processing instruction %q", t.Target)
			}
		case xml.Directive:
			return nil, errors.New("directive")
		case xml.Comment:
		case xml.CharData:
			if depth == 2 && child.Name.Local == "publish" {
				text = append(text, t...)
			} else if !refBlank(t) {
				return nil, fmt.Errorf("text %q", t)
			}
		case xml.StartElement:
			if t.Name.Space != rrdp.Namespace {
				return nil, fmt.Errorf("element %v outside the RRDP namespace", t.Name)
			}
			switch depth {
			case 0:
				if rootDone {
					return nil, errors.New("second root")
				}
				if err := refRoot(&f, t); err != nil {
					return nil, err
				}
			case 1:
				if err := refChild(&f, t, &haveSnapshot); err != nil {
					return nil, err
				}
				c := t.Copy()
				child = &c
				text = text[:0]
			default:
				return nil, fmt.Errorf("element <%s> too deep", t.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
			switch depth {
			case 0:
				rootDone = true
				if f.Header.Type == rrdp.TypeDelta && len(f.Elements) == 0 {
					return nil, errors.New("empty delta")
				}
				if f.Header.Type == rrdp.TypeNotification && !haveSnapshot {
					return nil, errors.New("no snapshot")
				}
			case 1:
				if child.Name.Local == "publish" {
					s := strings.Map(func(r rune) rune {
						if isXMLSpace(r) {
							return -1
						}
						return r
					}, string(text))
					b, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						return nil, err
					}
					f.Elements[len(f.Elements)-1].Data = b
				}
				child = nil
			}
		}
	}
	if !rootDone {
		return nil, errors.New("no complete root element")
	}
	return &f, nil
}

func refRoot(f *refFile, t xml.StartElement) error {
	switch t.Name.Local {
	case "notification":
		f.Header.Type = rrdp.TypeNotification
	case "snapshot":
		f.Header.Type = rrdp.TypeSnapshot
	case "delta":
		f.Header.Type = rrdp.TypeDelta
	default:
		return fmt.Errorf("root <%s>", t.Name.Local)
	}
	hasNS := false
	for _, a := range t.Attr {
		hasNS = hasNS || (a.Name.Space == "" && a.Name.Local == "xmlns")
	}
	if !hasNS {
		return errors.New("no namespace declaration on the root")
	}
	m, err := refAttrs(t, "version", "session_id", "serial")
	if err != nil {
		return err
	}
	if len(m) != 3 {
		return errors.New("missing root attribute")
	}
	if v, err := strconv.ParseUint(m["version"], 10, 8); err != nil || v != 1 {
		return fmt.Errorf("version %q", m["version"])
	}
	f.Header.Version = 1
	if !refUUID.MatchString(m["session_id"]) {
		return fmt.Errorf("session_id %q", m["session_id"])
	}
	f.Header.SessionID = strings.ToLower(m["session_id"])
	f.Header.Serial, err = refSerial(m["serial"])
	return err
}

func refChild(f *refFile, t xml.StartElement, haveSnapshot *bool) error {
	switch f.Header.Type {
	case rrdp.TypeNotification:
		switch t.Name.Local {
		case "snapshot":
			if *haveSnapshot {
				return errors.New("second snapshot")
			}
			*haveSnapshot = true
			m, err := refAttrs(t, "uri", "hash")
			if err != nil {
				return err
			}
			if len(m) != 2 {
				return errors.New("snapshot attributes missing")
			}
			if f.Snapshot.URI, err = refURI(m["uri"]); err != nil {
				return err
			}
			f.Snapshot.Hash, err = refHash(m["hash"])
			return err
		case "delta":
			if !*haveSnapshot {
				return errors.New("delta before snapshot")
			}
			m, err := refAttrs(t, "serial", "uri", "hash")
			if err != nil {
				return err
			}
			if len(m) != 3 {
				return errors.New("delta attributes missing")
			}
			var d rrdp.FileRef
			if d.Serial, err = refSerial(m["serial"]); err != nil {
				return err
			}
			if d.URI, err = refURI(m["uri"]); err != nil {
				return err
			}
			if d.Hash, err = refHash(m["hash"]); err != nil {
				return err
			}
			f.Deltas = append(f.Deltas, d)
			return nil
		}
	case rrdp.TypeSnapshot, rrdp.TypeDelta:
		var e refElement
		switch t.Name.Local {
		case "publish":
		case "withdraw":
			if f.Header.Type == rrdp.TypeSnapshot {
				return errors.New("withdraw in snapshot")
			}
			e.Withdraw = true
		default:
			return fmt.Errorf("element <%s>", t.Name.Local)
		}
		m, err := refAttrs(t, "uri", "hash")
		if err != nil {
			return err
		}
		if e.URI, err = refURI(m["uri"]); err != nil {
			return err
		}
		if h, ok := m["hash"]; ok {
			if f.Header.Type == rrdp.TypeSnapshot {
				return errors.New("hash in snapshot")
			}
			e.HasHash = true
			if e.Hash, err = refHash(h); err != nil {
				return err
			}
		} else if e.Withdraw {
			return errors.New("withdraw without hash")
		}
		f.Elements = append(f.Elements, e)
		return nil
	}
	return fmt.Errorf("element <%s> in <%s>", t.Name.Local, f.Header.Type)
}
