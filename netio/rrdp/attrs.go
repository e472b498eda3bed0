package rrdp

// Attributes of RRDP elements: reading them, decoding references in
// their values and parsing the values RFC 8182 defines.

import "bytes"

// Attribute bits, for attrs.seen and the allowed sets.
const (
	attrXmlns = 1 << iota
	attrVersion
	attrSessionID
	attrSerial
	attrURI
	attrHash
)

// attrs are the parsed attributes of one start tag. The uri is in p.uri.
type attrs struct {
	seen      uint8
	version   uint64
	sessionID [36]byte // lower case
	serial    uint64
	hash      [32]byte
	empty     bool // the tag ended with "/>"
}

// readAttrs reads the attributes of a start tag, after its name, through
// the closing '>' or "/>". Attributes outside allowed, and repeated ones,
// are errors. Whether the required ones are there is for the caller to
// check against a.seen.
func (p *parser) readAttrs(elem string, allowed uint8, a *attrs) error {
	*a = attrs{}
	p.uri = p.uri[:0]
	for {
		spaced := p.skipSpace()
		if p.s.r == p.s.w {
			return p.eofError("<" + elem + "> tag")
		}
		switch p.s.buf[p.s.r] {
		case '>':
			p.s.r++
			return nil
		case '/':
			if !p.s.ensure(2) {
				return p.eofError("<" + elem + "> tag")
			}
			if p.s.buf[p.s.r+1] != '>' {
				return p.errorf(p.s.offset(), "unexpected %s in <%s> tag", p.snippet(), elem)
			}
			p.s.r += 2
			a.empty = true
			return nil
		}
		off := p.s.offset()
		if !spaced {
			return p.errorf(off, "missing white space before %s in <%s> tag", p.snippet(), elem)
		}
		name, err := p.readName("attribute")
		if err != nil {
			return err
		}
		var bit uint8
		switch string(name) {
		case "xmlns":
			bit = attrXmlns
		case "version":
			bit = attrVersion
		case "session_id":
			bit = attrSessionID
		case "serial":
			bit = attrSerial
		case "uri":
			bit = attrURI
		case "hash":
			bit = attrHash
		}
		if bit&allowed == 0 {
			return p.errorf(off, "attribute %q not allowed on <%s>", name, elem)
		}
		if a.seen&bit != 0 {
			return p.errorf(off, "duplicate attribute %q on <%s>", name, elem)
		}
		a.seen |= bit
		max := maxShortAttr
		if bit == attrURI {
			max = p.lim.maxURI
		}
		v, err := p.attrValue(elem, bit, max)
		if err != nil {
			return err
		}
		switch bit {
		case attrXmlns:
			// An xmlns attribute on a child element is legal XML and
			// harmless when it repeats the RRDP namespace; rpki-client
			// ignores it on publish elements because some servers send
			// it. Any other namespace would move the element out of RRDP.
			if string(v) != Namespace {
				return p.errorf(off, "namespace %q on <%s>, want %q", v, elem, Namespace)
			}
		case attrVersion:
			// RFC 8182 §3.5: version is a positiveInteger with
			// maxInclusive 1.
			n, ok := parseDecimal(v)
			if !ok || n != 1 {
				return p.errorf(off, "unsupported version %q on <%s>", v, elem)
			}
			a.version = n
		case attrSessionID:
			if !parseUUID(v, &a.sessionID) {
				return p.errorf(off, "session_id %q on <%s> is not a UUID", v, elem)
			}
		case attrSerial:
			// RFC 8182 §3.5: serial is a positiveInteger.
			n, ok := parseDecimal(v)
			if !ok || n == 0 {
				return p.errorf(off, "serial %q on <%s> is not a positive 64-bit decimal number", v, elem)
			}
			a.serial = n
		case attrURI:
			if len(v) == 0 {
				return p.errorf(off, "empty uri on <%s>", elem)
			}
			p.uri = append(p.uri, v...)
		case attrHash:
			if !parseHash(v, &a.hash) {
				return p.errorf(off, "hash %q on <%s> is not 64 hex digits", v, elem)
			}
		}
	}
}

// attrValue reads '=' and a quoted attribute value into p.val, decoding
// references. The decoded value may hold at most max bytes, all printable
// ASCII other than space: that covers every value RRDP defines and keeps
// NUL, control characters and non-ASCII out of URIs.
func (p *parser) attrValue(elem string, bit uint8, max int) ([]byte, error) {
	p.skipSpace()
	if !p.s.ensure(1) {
		return nil, p.eofError("<" + elem + "> tag")
	}
	if p.s.buf[p.s.r] != '=' {
		return nil, p.errorf(p.s.offset(), "missing '=' after attribute name in <%s> tag", elem)
	}
	p.s.r++
	p.skipSpace()
	if !p.s.ensure(1) {
		return nil, p.eofError("<" + elem + "> tag")
	}
	quote := p.s.buf[p.s.r]
	if quote != '"' && quote != '\'' {
		return nil, p.errorf(p.s.offset(), "attribute value in <%s> tag not quoted", elem)
	}
	p.s.r++
	voff := p.s.offset()
	p.val = p.val[:0]
	for {
		if p.s.r == p.s.w && !p.s.fill() {
			return nil, p.eofError("attribute value")
		}
		avail := p.s.buf[p.s.r:p.s.w]
		i := 0
		for i < len(avail) && class[avail[i]]&clsValue != 0 {
			i++
		}
		if len(p.val)+i > max {
			return nil, p.errorf(voff, "%s attribute on <%s> longer than %d bytes", attrString(bit), elem, max)
		}
		p.val = append(p.val, avail[:i]...)
		p.s.r += i
		if i == len(avail) {
			continue
		}
		c := avail[i]
		switch {
		case c == quote:
			p.s.r++
			return p.val, nil
		case c == '&':
			ch, err := p.reference()
			if err != nil {
				return nil, err
			}
			c = ch
		case c == '"' || c == '\'':
			p.s.r++
		case c == '<':
			return nil, p.errorf(p.s.offset(), "'<' in attribute value")
		default:
			return nil, p.errorf(p.s.offset(), "character %q not allowed in %s attribute", c, attrString(bit))
		}
		if len(p.val)+1 > max {
			return nil, p.errorf(voff, "%s attribute on <%s> longer than %d bytes", attrString(bit), elem, max)
		}
		p.val = append(p.val, c)
	}
}

func attrString(bit uint8) string {
	switch bit {
	case attrXmlns:
		return "xmlns"
	case attrVersion:
		return "version"
	case attrSessionID:
		return "session_id"
	case attrSerial:
		return "serial"
	case attrURI:
		return "uri"
	case attrHash:
		return "hash"
	}
	return "unknown"
}

// reference decodes the entity or character reference under the cursor
// (at '&') and consumes it. Only the five predefined entities and
// character references are known: with no DOCTYPE there can be no others.
// The character must be printable ASCII other than space, like every
// literal character of an attribute value.
func (p *parser) reference() (byte, error) {
	off := p.s.offset()
	p.s.ensure(maxRefLen)
	avail := p.s.buf[p.s.r:p.s.w]
	if len(avail) > maxRefLen {
		avail = avail[:maxRefLen]
	}
	end := bytes.IndexByte(avail, ';')
	if end < 0 {
		return 0, p.errorf(off, "unterminated or overlong reference %q", avail)
	}
	ref := avail[1:end]
	var c uint64
	switch string(ref) {
	case "lt":
		c = '<'
	case "gt":
		c = '>'
	case "amp":
		c = '&'
	case "apos":
		c = '\''
	case "quot":
		c = '"'
	default:
		ok := false
		switch {
		case len(ref) > 2 && ref[0] == '#' && ref[1] == 'x':
			c, ok = parseHex(ref[2:])
		case len(ref) > 1 && ref[0] == '#':
			c, ok = parseDecimal(ref[1:])
		default:
			return 0, p.errorf(off, "undefined entity &%s;", ref)
		}
		if !ok {
			return 0, p.errorf(off, "bad character reference &%s;", ref)
		}
	}
	if c < 0x21 || c > 0x7e {
		return 0, p.errorf(off, "character reference &%s; to U+%04X not allowed", ref, c)
	}
	p.s.r += end + 1
	return byte(c), nil
}

// parseDecimal parses 1 to 20 decimal digits into a uint64, rejecting
// overflow, signs and anything else.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseHex parses 1 to 8 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseHash decodes a SHA-256 hash written as 64 hex digits, in either
// case (RFC 8182 §3.5: hash is a string of [0-9a-fA-F]; peers write both).
func parseHash(b []byte, h *[32]byte) bool {
	if len(b) != 64 {
		return false
	}
	for i := range h {
		hi, ok1 := hexDigit(b[2*i])
		lo, ok2 := hexDigit(b[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		h[i] = hi<<4 | lo
	}
	return true
}

// parseUUID checks the 8-4-4-4-12 hex form of a UUID, in either case, and
// writes it in lower case to out. RFC 8182's schema only asks for
// [-0-9a-fA-F]+, but its text makes the session_id a (version 4) UUID.
// rpki-client requires the hyphenated form and also version 4 and the
// RFC 4122 variant; Routinator parses any UUID. We take the syntax
// without checking the version: a server with non-random session IDs is
// no threat, and rejecting it would only lose its RRDP repository.
func parseUUID(b []byte, out *[36]byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			out[i] = c
			continue
		}
		if _, ok := hexDigit(c); !ok {
			return false
		}
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return true
}

// sessionString returns id as a string, reusing the previous one when it
// is the same session, which it nearly always is.
func (p *parser) sessionString(id *[36]byte) string {
	if p.session != string(id[:]) {
		p.session = string(id[:])
	}
	return p.session
}

// missing names the first attribute in bits.
func missing(bits uint8) string {
	for bit := uint8(1); bit != 0; bit <<= 1 {
		if bits&bit != 0 {
			if bit == attrXmlns {
				return "the RRDP namespace declaration (xmlns=\"" + Namespace + "\")"
			}
			return "attribute " + attrString(bit)
		}
	}
	return "nothing"
}
