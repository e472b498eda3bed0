package rrdp

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

const (
	// defaultBufSize is the read buffer of a parser. Base64 is decoded
	// straight out of it, in chunks of up to this size.
	defaultBufSize = 64 << 10
	// minBufSize keeps room for the longest lookahead (an entity
	// reference); tests use it to push every token across buffer refills.
	minBufSize = 32
	// maxNameLen bounds element and attribute names. The longest name RRDP
	// uses is "notification"; anything longer is unknown anyway.
	maxNameLen = 32
	// maxRefLen bounds an entity or character reference, from '&' to ';'
	// inclusive. "&#x0000007E;" is 12 bytes; more leading zeros than that
	// are legal XML but never needed.
	maxRefLen = 16
	// maxShortAttr bounds the attributes other than uri: a hash has 64
	// characters, the namespace 29, a serial at most 20 digits.
	maxShortAttr = 64
	// maxReadRetries is how many empty reads in a row we accept from the
	// io.Reader before giving up, like bufio.
	maxReadRetries = 100
)

// Character classes.
const (
	clsSpace  = 1 << iota // XML white space: space, tab, CR, LF
	clsValue              // may appear literally in an attribute value
	clsName               // may appear in an element or attribute name
	clsBase64             // base64 alphabet, without '='
)

// class holds the character classes of every byte.
var class = func() (class [256]uint8) {
	for _, c := range []byte(" \t\r\n") {
		class[c] |= clsSpace
	}
	// Every attribute value RRDP defines (URIs, hex, UUIDs, decimals) is
	// printable ASCII without spaces: rpki-client's valid_uri accepts only
	// isalnum and ispunct characters. '<' is not well-formed XML, '&'
	// starts a reference and the quotes may end the value, so those four
	// take the slow path in attrValue.
	for c := 0x21; c <= 0x7e; c++ {
		switch c {
		case '<', '&', '"', '\'':
		default:
			class[c] |= clsValue
		}
	}
	for c := 0; c < 256; c++ {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '-', c == '.', c == ':', c >= 0x80:
			class[c] |= clsName
		}
	}
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		class[c] |= clsBase64
	}
	return class
}()

func isSpace(c byte) bool { return class[c]&clsSpace != 0 }

// scanner is a read buffer over an io.Reader that keeps track of the file
// offset. Unread bytes are buf[r:w].
type scanner struct {
	rd   io.Reader
	buf  []byte
	r, w int
	base int64 // file offset of buf[0]
	eof  bool  // rd has returned io.EOF
	rerr error // rd has failed with this error
}

func (s *scanner) reset(rd io.Reader) {
	s.rd = rd
	s.r, s.w = 0, 0
	s.base = 0
	s.eof = false
	s.rerr = nil
}

// offset returns the file offset of buf[r].
func (s *scanner) offset() int64 { return s.base + int64(s.r) }

// fill moves the unread bytes to the front of the buffer and reads more.
// It reports whether at least one new byte arrived; if not, the input has
// ended (eof) or failed (rerr).
func (s *scanner) fill() bool {
	if s.eof || s.rerr != nil {
		return false
	}
	if s.rd == nil {
		s.eof = true
		return false
	}
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.base += int64(s.r)
		s.r = 0
	}
	if s.w == len(s.buf) {
		// No caller asks for more lookahead than the buffer holds.
		return false
	}
	for range maxReadRetries {
		n, err := s.rd.Read(s.buf[s.w:])
		if n < 0 || n > len(s.buf)-s.w {
			s.rerr = fmt.Errorf("reader returned invalid count %d", n)
			return false
		}
		s.w += n
		if err != nil {
			if err == io.EOF {
				s.eof = true
			} else {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.rerr = io.ErrNoProgress
	return false
}

// ensure tries to make n bytes available (n <= len(buf)) and reports
// whether it did. At the end of input fewer may remain.
func (s *scanner) ensure(n int) bool {
	for s.w-s.r < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// hasPrefix reports whether the unread input starts with p, reading more
// if needed.
func (s *scanner) hasPrefix(p string) bool {
	s.ensure(len(p))
	return bytes.HasPrefix(s.buf[s.r:s.w], []byte(p))
}

// parser holds what the notification parser and the Reader share: the
// scanner, the limits and scratch space for names and attribute values.
type parser struct {
	s       scanner
	lim     limits
	name    [maxNameLen]byte
	val     []byte // decoded value of the current attribute
	uri     []byte // uri attribute of the current element
	session string // last session ID seen, reused to avoid allocating
}

func (p *parser) init(rd io.Reader, lim Limits, bufSize int) {
	if bufSize < minBufSize {
		bufSize = minBufSize
	}
	if len(p.s.buf) != bufSize {
		p.s.buf = make([]byte, bufSize)
	}
	p.s.reset(rd)
	p.lim = lim.resolve()
	if p.val == nil {
		p.val = make([]byte, 0, 256)
	}
}

// errorf returns a *Error matching ErrMalformed at offset off.
func (p *parser) errorf(off int64, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

// eofError explains why input ran out while reading what: the reader
// failed, or the file is truncated.
func (p *parser) eofError(what string) error {
	if p.s.rerr != nil {
		return &Error{Offset: p.s.offset(), Msg: "reading " + what, Err: p.s.rerr}
	}
	return p.errorf(p.s.offset(), "unexpected end of file in %s", what)
}

// snippet quotes up to 16 unread bytes for an error message.
func (p *parser) snippet() string {
	p.s.ensure(16)
	b := p.s.buf[p.s.r:p.s.w]
	if len(b) > 16 {
		b = b[:16]
	}
	return strconv.Quote(string(b))
}

// skipSpace skips white space and reports whether there was any.
func (p *parser) skipSpace() bool {
	skipped := false
	for {
		for p.s.r < p.s.w && isSpace(p.s.buf[p.s.r]) {
			p.s.r++
			skipped = true
		}
		if p.s.r < p.s.w || !p.s.fill() {
			return skipped
		}
	}
}

// skipMisc skips white space and comments, the only things XML allows
// between elements. It returns at a '<' that does not open a comment, or
// with eof set at the end of input. Any text is an error: RRDP puts text
// only inside publish elements.
func (p *parser) skipMisc(where string) (eof bool, err error) {
	for {
		p.skipSpace()
		if p.s.r == p.s.w {
			if p.s.rerr != nil {
				return false, p.eofError(where)
			}
			return true, nil
		}
		if p.s.buf[p.s.r] != '<' {
			return false, p.errorf(p.s.offset(), "unexpected text %s %s", p.snippet(), where)
		}
		if !p.s.hasPrefix("<!--") {
			return false, nil
		}
		if err := p.skipComment(); err != nil {
			return false, err
		}
	}
}

// skipComment skips a comment; the input starts with "<!--". As XML
// requires, "--" may only appear in the closing "-->". Control characters
// other than white space are rejected; other bytes are not checked.
func (p *parser) skipComment() error {
	start := p.s.offset()
	p.s.r += 4
	for {
		if p.s.r == p.s.w && !p.s.fill() {
			return p.eofError("comment starting at offset " + strconv.FormatInt(start, 10))
		}
		avail := p.s.buf[p.s.r:p.s.w]
		i := 0
		for ; i < len(avail); i++ {
			c := avail[i]
			if c == '-' {
				break
			}
			if (c < 0x20 && !isSpace(c)) || c == 0x7f {
				p.s.r += i
				return p.errorf(p.s.offset(), "control character %q in comment", c)
			}
		}
		p.s.r += i
		if i == len(avail) {
			continue
		}
		if !p.s.ensure(2) {
			return p.eofError("comment")
		}
		if p.s.buf[p.s.r+1] != '-' {
			p.s.r++
			continue
		}
		if !p.s.ensure(3) {
			return p.eofError("comment")
		}
		if p.s.buf[p.s.r+2] != '>' {
			return p.errorf(p.s.offset(), `"--" inside comment`)
		}
		p.s.r += 3
		return nil
	}
}

// inElem returns "in <name>" for error messages, without allocating for
// the RRDP element names.
func inElem(name string) string {
	switch name {
	case "notification":
		return "in <notification>"
	case "snapshot":
		return "in <snapshot>"
	case "delta":
		return "in <delta>"
	case "publish":
		return "in <publish>"
	case "withdraw":
		return "in <withdraw>"
	}
	return "in <" + name + ">"
}

// Kinds of markup at a '<', as returned by markup.
const (
	markStart = iota // a start tag; the '<' has been consumed
	markEnd          // an end tag; the "</" has been consumed
)

// markup classifies the markup at the '<' under the cursor (skipMisc has
// already skipped comments) and consumes its opening characters.
func (p *parser) markup(where string) (int, error) {
	off := p.s.offset()
	if !p.s.ensure(2) {
		return 0, p.eofError("tag")
	}
	switch p.s.buf[p.s.r+1] {
	case '/':
		p.s.r += 2
		return markEnd, nil
	case '?':
		return 0, p.errorf(off, "processing instruction %s not allowed", p.snippet())
	case '!':
		switch {
		case p.s.hasPrefix("<!DOCTYPE"):
			// A DOCTYPE is where entity declarations live: refusing it
			// stops external entities (XXE) and entity expansion bombs.
			return 0, p.errorf(off, "DOCTYPE not allowed")
		case p.s.hasPrefix("<![CDATA["):
			return 0, p.errorf(off, "CDATA section not allowed %s", where)
		}
		return 0, p.errorf(off, "markup declaration %s not allowed", p.snippet())
	}
	p.s.r++
	return markStart, nil
}

// readName reads an element or attribute name.
func (p *parser) readName(what string) ([]byte, error) {
	off := p.s.offset()
	n := 0
	for {
		if p.s.r == p.s.w && !p.s.fill() {
			break
		}
		c := p.s.buf[p.s.r]
		if class[c]&clsName == 0 {
			break
		}
		if n == len(p.name) {
			return nil, p.errorf(off, "%s name %q... too long", what, p.name[:n])
		}
		p.name[n] = c
		n++
		p.s.r++
	}
	if n == 0 {
		if p.s.r == p.s.w {
			return nil, p.eofError(what + " name")
		}
		return nil, p.errorf(off, "missing %s name at %s", what, p.snippet())
	}
	return p.name[:n], nil
}

// endTag reads the rest of an end tag, after "</", and checks its name.
func (p *parser) endTag(want string) error {
	off := p.s.offset() - 2
	name, err := p.readName("element")
	if err != nil {
		return err
	}
	if string(name) != want {
		return p.errorf(off, "end tag </%s> does not match <%s>", name, want)
	}
	p.skipSpace()
	if p.s.r == p.s.w {
		return p.eofError("end tag")
	}
	if p.s.buf[p.s.r] != '>' {
		return p.errorf(p.s.offset(), "unexpected %s in end tag </%s>", p.snippet(), want)
	}
	p.s.r++
	return nil
}

// rootAttrs are the attributes every root element has and needs.
const rootAttrs = attrXmlns | attrVersion | attrSessionID | attrSerial

// prolog reads everything before the root element and the root's start
// tag, and returns the root's type and header.
func (p *parser) prolog(a *attrs) (Header, error) {
	if err := p.xmlDecl(); err != nil {
		return Header{}, err
	}
	eof, err := p.skipMisc("before the root element")
	if err != nil {
		return Header{}, err
	}
	if eof {
		return Header{}, p.errorf(p.s.offset(), "no root element")
	}
	off := p.s.offset()
	kind, err := p.markup("before the root element")
	if err != nil {
		return Header{}, err
	}
	if kind != markStart {
		return Header{}, p.errorf(off, "end tag before the root element")
	}
	name, err := p.readName("element")
	if err != nil {
		return Header{}, err
	}
	var h Header
	switch string(name) {
	case "notification":
		h.Type = TypeNotification
	case "snapshot":
		h.Type = TypeSnapshot
	case "delta":
		h.Type = TypeDelta
	default:
		return Header{}, p.errorf(off, "unknown root element <%s>", name)
	}
	elem := h.Type.String()
	if err := p.readAttrs(elem, rootAttrs, a); err != nil {
		return Header{}, err
	}
	if a.seen != rootAttrs {
		return Header{}, p.errorf(off, "<%s> lacks %s", elem, missing(rootAttrs&^a.seen))
	}
	h.Version = int(a.version)
	h.SessionID = p.sessionString(&a.sessionID)
	h.Serial = a.serial
	return h, nil
}

// xmlDecl reads an XML declaration if the file starts with one. XML
// allows it only at the very beginning. Version 1.0 and the encodings
// UTF-8 and US-ASCII (rpki-client parses RRDP as US-ASCII) are accepted.
func (p *parser) xmlDecl() error {
	if !p.s.hasPrefix("<?xml") {
		return nil
	}
	p.s.ensure(6)
	if p.s.w-p.s.r < 6 || !isSpace(p.s.buf[p.s.r+5]) {
		// Some other processing instruction; markup rejects it.
		return nil
	}
	off := p.s.offset()
	p.s.r += 5
	var val [16]byte
	seen := 0 // 1 version, 2 encoding, 3 standalone: each only after the previous
	for {
		spaced := p.skipSpace()
		if p.s.hasPrefix("?>") {
			p.s.r += 2
			break
		}
		if !spaced {
			return p.errorf(p.s.offset(), "malformed XML declaration at %s", p.snippet())
		}
		name, err := p.readName("XML declaration")
		if err != nil {
			return err
		}
		next := 0
		switch string(name) {
		case "version":
			next = 1
		case "encoding":
			next = 2
		case "standalone":
			next = 3
		}
		if next <= seen || (seen == 0 && next != 1) {
			return p.errorf(off, "malformed XML declaration: unexpected %q", name)
		}
		seen = next
		p.skipSpace()
		if !p.s.hasPrefix("=") {
			return p.errorf(p.s.offset(), "malformed XML declaration: missing '='")
		}
		p.s.r++
		p.skipSpace()
		if !p.s.ensure(1) {
			return p.eofError("XML declaration")
		}
		q := p.s.buf[p.s.r]
		if q != '"' && q != '\'' {
			return p.errorf(p.s.offset(), "malformed XML declaration: value not quoted")
		}
		p.s.r++
		n := 0
		for {
			if !p.s.ensure(1) {
				return p.eofError("XML declaration")
			}
			c := p.s.buf[p.s.r]
			p.s.r++
			if c == q {
				break
			}
			if n == len(val) || class[c]&clsName == 0 || c >= 0x80 {
				return p.errorf(p.s.offset()-1, "malformed XML declaration value")
			}
			val[n] = c
			n++
		}
		v := val[:n]
		ok := false
		switch next {
		case 1:
			ok = string(v) == "1.0"
		case 2:
			ok = bytes.EqualFold(v, []byte("utf-8")) || bytes.EqualFold(v, []byte("us-ascii"))
		case 3:
			ok = string(v) == "yes" || string(v) == "no"
		}
		if !ok {
			return p.errorf(off, "unsupported %s %q in XML declaration", name, string(val[:n]))
		}
	}
	if seen == 0 {
		return p.errorf(off, "XML declaration without version")
	}
	return nil
}

// finish checks that nothing but white space and comments follows the
// root element.
func (p *parser) finish() error {
	eof, err := p.skipMisc("after the root element")
	if err != nil {
		return err
	}
	if eof {
		return nil
	}
	off := p.s.offset()
	if _, err := p.markup("after the root element"); err != nil {
		return err
	}
	p.s.r = int(off - p.s.base)
	return p.errorf(off, "content after the root element: %s", p.snippet())
}
