package relay

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

// MaxDocumentSize bounds a relayed document. Routinator's json output of
// the global RPKI (about 800,000 VRPs) is about 70 MB and its jsonext
// several times that; a quarter gigabyte leaves room while keeping a
// runaway source from filling the memory.
const MaxDocumentSize = 256 << 20

// Document is one parsed VRP list.
type Document struct {
	Set *payload.Set
	// Generated is the document's own time: metadata generated (Unix
	// seconds; Routinator, rovd, StayRTR), generatedTime or buildtime
	// (RFC 3339; Routinator, rpki-client), the first present. Zero if
	// none is.
	Generated time.Time
	// Valid is metadata valid (GoRTR and StayRTR cache files): the
	// document must not be used after it. Zero if absent.
	Valid time.Time
	// Expires is the earliest expires of an entry still in the set
	// (rpki-client, StayRTR); zero if no entry says.
	Expires time.Time
	// Expired counts the entries left out because their expires had
	// passed.
	Expired int
	// Step says how a /json-delta answer made Set; nil for a VRP list.
	Step *Step
}

// Step is how a feed that follows deltas came to its set.
type Step struct {
	// Reset says the answer held the whole set: the first answer, one
	// after a refused answer, or one the source gave because its
	// history did not reach back to the serial asked for or its
	// session is new.
	Reset bool
	// Session and Serial name the set now held; FromSerial the one a
	// delta started from.
	Session            string
	Serial, FromSerial uint32
	// Announced and Withdrawn count the items of the answer.
	Announced, Withdrawn int
}

// Check refuses a document that is too old to serve: one without a
// generation time, one generated more than maxAge before now (the
// server passes its expire setting, the time a router may go on using
// data it cannot refresh), and one whose metadata valid has passed.
func (d *Document) Check(now time.Time, maxAge time.Duration) error {
	switch {
	case d.Generated.IsZero():
		return errors.New("no generation time in the metadata (generated, generatedTime or buildtime)")
	case now.Sub(d.Generated) > maxAge:
		return fmt.Errorf("generated %s, more than %s ago", d.Generated.UTC().Format(time.RFC3339), maxAge)
	case !d.Valid.IsZero() && now.After(d.Valid):
		return fmt.Errorf("valid until %s only", d.Valid.UTC().Format(time.RFC3339))
	}
	return nil
}

// Parse reads a JSON VRP list. Entries whose expires is before now are
// left out (and counted); any entry that does not parse makes the whole
// document an error.
func Parse(r io.Reader, now time.Time) (*Document, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	p := &parser{dec: dec, now: now.Unix(), sources: map[string]*payload.Source{}, doc: &Document{}}
	if err := p.document(); err != nil {
		return nil, err
	}
	p.doc.Set = p.b.Build()
	return p.doc, nil
}

type parser struct {
	dec     *json.Decoder
	now     int64
	b       payload.Builder
	sources map[string]*payload.Source // by trust anchor
	doc     *Document
}

func (p *parser) document() error {
	seen, err := p.object(func(key string) error {
		switch key {
		case "metadata":
			return p.metadata()
		case "roas":
			return p.array(key, p.roa)
		case "routerKeys", "bgpsec_keys":
			return p.array(key, p.routerKey)
		case "aspas":
			return p.array(key, p.aspa)
		}
		// Other members (rpki-client's nonfunc_cas, ...) are skipped.
		var skip json.RawMessage
		return p.dec.Decode(&skip)
	})
	if err != nil {
		return err
	}
	if !seen["roas"] {
		return errors.New("no roas list")
	}
	return nil
}

// object reads the whole input as one JSON object, handing each member's
// key to member, which reads the value. A member twice or anything after
// the object is an error. It returns the keys seen.
func (p *parser) object(member func(key string) error) (map[string]bool, error) {
	if err := p.delim('{', "the document"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key := tok.(string) // object keys are strings
		if seen[key] {
			return nil, fmt.Errorf("member %q twice", key)
		}
		seen[key] = true
		if err := member(key); err != nil {
			return nil, err
		}
	}
	if err := p.delim('}', "the document"); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return seen, nil
}

// syntax names a truncated document as such.
func syntax(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("document ends early (truncated)")
	}
	return err
}

func (p *parser) delim(want json.Delim, what string) error {
	tok, err := p.dec.Token()
	if err != nil {
		return syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%s: want %q, found %v", what, want, tok)
	}
	return nil
}

// array reads a list, handing each item's index to item.
func (p *parser) array(name string, item func(i int) error) error {
	if err := p.delim('[', name); err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		if err := item(i); err != nil {
			return fmt.Errorf("%s item %d: %w", name, i+1, syntax(err))
		}
	}
	return p.delim(']', name)
}

func (p *parser) metadata() error {
	var m struct {
		Generated     *json.Number `json:"generated"`
		GeneratedTime string       `json:"generatedTime"`
		Buildtime     string       `json:"buildtime"`
		Valid         *json.Number `json:"valid"`
	}
	if err := p.dec.Decode(&m); err != nil {
		return fmt.Errorf("metadata: %w", syntax(err))
	}
	switch {
	case m.Generated != nil:
		s, err := unixTime(*m.Generated)
		if err != nil {
			return fmt.Errorf("metadata generated: %w", err)
		}
		p.doc.Generated = s
	case m.GeneratedTime != "" || m.Buildtime != "":
		v := cmpOr(m.GeneratedTime, m.Buildtime)
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("metadata time %q is not RFC 3339", v)
		}
		p.doc.Generated = t
	}
	if m.Valid != nil {
		t, err := unixTime(*m.Valid)
		if err != nil {
			return fmt.Errorf("metadata valid: %w", err)
		}
		p.doc.Valid = t
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func unixTime(n json.Number) (time.Time, error) {
	s, err := strconv.ParseInt(n.String(), 10, 64)
	// Bound to years 0 to 9999, which every time format here can hold.
	if err != nil || s < -62135596800 || s > 253402300799 {
		return time.Time{}, fmt.Errorf("%s is not a time in Unix seconds", n)
	}
	return time.Unix(s, 0).UTC(), nil
}

// source returns the shared source of the entries of trust anchor ta.
func (p *parser) source(ta string) *payload.Source {
	s, ok := p.sources[ta]
	if !ok {
		s = &payload.Source{TA: ta}
		p.sources[ta] = s
	}
	return s
}

// live reports whether an entry with the given expires (nil: none) is
// still valid, counts it if not, and keeps the earliest expiry.
func (p *parser) live(expires *json.Number) (bool, error) {
	if expires == nil {
		return true, nil
	}
	t, err := unixTime(*expires)
	if err != nil {
		return false, fmt.Errorf("expires: %w", err)
	}
	if t.Unix() < p.now {
		p.doc.Expired++
		return false, nil
	}
	if p.doc.Expires.IsZero() || t.Before(p.doc.Expires) {
		p.doc.Expires = t
	}
	return true, nil
}

// roaJSON is an entry of roas. encoding/json matches member names
// without regard to case.
type roaJSON struct {
	ASN       json.RawMessage `json:"asn"`
	Prefix    *string         `json:"prefix"`
	MaxLength *json.Number    `json:"maxLength"`
	TA        string          `json:"ta"`
	Expires   *json.Number    `json:"expires"`
	// Source is jsonext's list of sources, which name the trust anchor
	// in tal instead of ta.
	Source []sourceJSON `json:"source"`
}

// sourceJSON is an item of jsonext's source list.
type sourceJSON struct {
	TAL string `json:"tal"`
}

// ta returns the trust anchor of an entry.
func (e *roaJSON) ta() string { return taOf(e.TA, e.Source) }

// taOf returns an entry's trust anchor: ta, else the first source's tal
// (jsonext).
func taOf(ta string, source []sourceJSON) string {
	if ta == "" && len(source) > 0 {
		return source[0].TAL
	}
	return ta
}

func (p *parser) roa(int) error {
	var e roaJSON
	if err := p.dec.Decode(&e); err != nil {
		return err
	}
	v, err := parseVRP(e.ASN, e.Prefix, e.MaxLength)
	if err != nil {
		return err
	}
	ok, err := p.live(e.Expires)
	if err != nil || !ok {
		return err
	}
	p.b.AddVRP(v, p.source(e.ta()))
	return nil
}

// keyJSON is an entry of Routinator's routerKeys (asn, SKI,
// routerPublicKey) or rpki-client's bgpsec_keys (asn, ski, pubkey).
type keyJSON struct {
	ASN             json.RawMessage `json:"asn"`
	SKI             string          `json:"ski"`
	RouterPublicKey string          `json:"routerPublicKey"`
	Pubkey          string          `json:"pubkey"`
	TA              string          `json:"ta"`
	Expires         *json.Number    `json:"expires"`
	Source          []sourceJSON    `json:"source"`
}

// maxSPKISize bounds a router key: an ECDSA P-256 SubjectPublicKeyInfo
// (RFC 8208 §3.1) is 91 bytes.
const maxSPKISize = 1024

func (p *parser) routerKey(int) error {
	var e keyJSON
	if err := p.dec.Decode(&e); err != nil {
		return err
	}
	asn, err := parseASN(e.ASN)
	if err != nil {
		return fmt.Errorf("asn: %w", err)
	}
	var k payload.RouterKey
	k.ASN = asn
	ski, err := hex.DecodeString(strings.ReplaceAll(e.SKI, ":", ""))
	if err != nil || len(ski) != len(k.SKI) {
		return fmt.Errorf("SKI %q is not 20 bytes in hex", e.SKI)
	}
	copy(k.SKI[:], ski)
	text := cmpOr(e.RouterPublicKey, e.Pubkey)
	if k.SPKI, err = decodeBase64(text); err != nil || len(k.SPKI) == 0 || len(k.SPKI) > maxSPKISize {
		return fmt.Errorf("public key %q is not a key in base64", short(text))
	}
	ok, err := p.live(e.Expires)
	if err != nil || !ok {
		return err
	}
	p.b.AddRouterKey(k, p.source(taOf(e.TA, e.Source)))
	return nil
}

// decodeBase64 reads base64 with the URL alphabet (Routinator, without
// padding) or the standard one (rpki-client), padded or not.
func decodeBase64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// aspaJSON is an entry of Routinator's aspas (customer, providers as
// "ASn" strings) or rpki-client's (customer_asid, providers as numbers).
type aspaJSON struct {
	Customer     json.RawMessage   `json:"customer"`
	CustomerASID json.RawMessage   `json:"customer_asid"`
	Providers    []json.RawMessage `json:"providers"`
	TA           string            `json:"ta"`
	Expires      *json.Number      `json:"expires"`
	Source       []sourceJSON      `json:"source"`
}

// maxProviders bounds an ASPA's providers: the profile
// (draft-ietf-sidrops-aspa-profile) sets no limit, but no customer has
// this many upstreams.
const maxProviders = 10000

func (p *parser) aspa(int) error {
	var e aspaJSON
	if err := p.dec.Decode(&e); err != nil {
		return err
	}
	raw := e.Customer
	if raw == nil {
		raw = e.CustomerASID
	}
	customer, err := parseASN(raw)
	if err != nil {
		return fmt.Errorf("customer: %w", err)
	}
	if e.Providers == nil {
		return errors.New("no providers")
	}
	providers, err := parseProviders(e.Providers)
	if err != nil {
		return err
	}
	ok, err := p.live(e.Expires)
	if err != nil || !ok {
		return err
	}
	p.b.AddASPA(payload.ASPA{Customer: customer, Providers: providers}, p.source(taOf(e.TA, e.Source)))
	return nil
}

// parseASN reads an AS number given as a JSON number or as a string,
// with or without "AS" in front.
func parseASN(raw json.RawMessage) (uint32, error) {
	if len(raw) == 0 {
		return 0, errors.New("missing")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, err
		}
		if len(text) > 2 && strings.EqualFold(text[:2], "AS") {
			text = text[2:]
		}
	}
	// ParseUint takes digits only: no sign, exponent or fraction.
	n, err := strconv.ParseUint(text, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s is not an AS number", raw)
	}
	return uint32(n), nil
}

// Feed polls one URL for VRP lists, or follows a /json-delta service
// (see FollowsDeltas).
type Feed struct {
	url    string
	client *netio.HTTPClient
	maxAge time.Duration
	// maxSize is MaxDocumentSize; tests lower it.
	maxSize int64
	// cond are the validators of the document last accepted.
	cond netio.Conditional
	last *Document

	// deltas says the URL is a /json-delta service; the set last
	// accepted is then last.Set, of session and serial. An empty
	// session asks for the whole set.
	deltas  bool
	session string
	serial  uint32
}

// deltaSource is the source of the items a /json-delta answer brings,
// which names no trust anchor.
var deltaSource = &payload.Source{}

// NewFeed polls url through client and refuses documents older than
// maxAge (see Document.Check). A URL whose path ends in DeltaPath is
// followed by deltas.
func NewFeed(url string, client *netio.HTTPClient, maxAge time.Duration) *Feed {
	return &Feed{url: url, client: client, maxAge: maxAge, maxSize: MaxDocumentSize, deltas: FollowsDeltas(url)}
}

// URL returns the feed's URL.
func (f *Feed) URL() string { return f.url }

// Fetch gets the document, asking with the ETag and Last-Modified of
// the one last accepted. It returns netio.ErrNotModified if the server
// has nothing newer, unless the document kept has grown too old since:
// then that is the error. A document that is refused is fetched in full
// again next time. Errors do not name the URL; the caller does.
func (f *Feed) Fetch(ctx context.Context, now time.Time) (*Document, error) {
	if f.deltas {
		return f.fetchDelta(ctx, now)
	}
	var cond *netio.Conditional
	if f.last != nil {
		cond = &f.cond
	}
	resp, err := f.client.Get(ctx, f.url, cond, "")
	if errors.Is(err, netio.ErrNotModified) {
		if err := f.last.Check(now, f.maxAge); err != nil {
			return nil, fmt.Errorf("not modified, and the document kept is too old: %w", err)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body := &limited{r: resp.Body, left: f.maxSize}
	doc, err := Parse(body, now)
	if body.over {
		return nil, fmt.Errorf("larger than %d bytes", f.maxSize)
	}
	if err != nil {
		return nil, err
	}
	if err := doc.Check(now, f.maxAge); err != nil {
		return nil, err
	}
	f.cond, f.last = resp.Validators, doc
	return doc, nil
}

// errTooLarge ends a body beyond the size limit.
var errTooLarge = errors.New("document too large")

// limited reads at most left bytes and fails after.
type limited struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.over = true
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
