package relay

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

// DeltaPath is the path of Routinator's (and rovd's) HTTP service that
// answers with the changes since a version: a source URL whose path ends
// in it is followed by deltas rather than fetched whole.
const DeltaPath = "/json-delta"

// FollowsDeltas reports whether a feed of the source URL s asks for
// deltas: whether its path ends in DeltaPath.
func FollowsDeltas(s string) bool {
	u, err := url.Parse(s)
	return err == nil && strings.HasSuffix(u.Path, DeltaPath)
}

// Delta is one parsed /json-delta answer: the whole set (Reset) or the
// changes from FromSerial to Serial of Session.
//
// The lists of Changes are sorted as payload.Compute sorts them and hold
// no duplicates; a reset has its items in Changes.Announced* and nothing
// withdrawn. A withdrawn ASPA names the customer only.
type Delta struct {
	Reset bool
	// Session is the source's session as it writes it (rovd and
	// Routinator: decimal digits).
	Session    string
	Serial     uint32
	FromSerial uint32
	// Generated is when the source made its current set (generated,
	// else generatedTime); zero if neither is given.
	Generated time.Time
	Changes   payload.Delta
}

// ParseDelta reads a /json-delta answer. Everything it needs must be
// there and well formed: reset, session and serial, fromSerial for a
// delta, announced, and withdrawn for a delta; an item of unknown type,
// an item twice in one list, or one both announced and withdrawn is an
// error.
func ParseDelta(r io.Reader) (*Delta, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	p := &deltaParser{parser: parser{dec: dec}, d: &Delta{}}
	if err := p.document(); err != nil {
		return nil, err
	}
	if err := p.d.sortCheck(); err != nil {
		return nil, err
	}
	return p.d, nil
}

type deltaParser struct {
	parser
	d *Delta
	// withdrawing says the list being read is withdrawn.
	withdrawing bool
}

func (p *deltaParser) document() error {
	seen, err := p.object(func(key string) error {
		var err error
		switch key {
		case "reset":
			err = p.dec.Decode(&p.d.Reset)
		case "session":
			p.d.Session, err = p.session()
		case "serial":
			p.d.Serial, err = p.serial()
		case "fromSerial":
			p.d.FromSerial, err = p.serial()
		case "generated":
			var n json.Number
			if err = p.dec.Decode(&n); err == nil {
				p.d.Generated, err = unixTime(n)
			}
		case "generatedTime":
			// generated, the same time in Unix seconds, goes first.
			var s string
			if err = p.dec.Decode(&s); err == nil && p.d.Generated.IsZero() {
				p.d.Generated, err = time.Parse(time.RFC3339, s)
			}
		case "announced":
			p.withdrawing = false
			err = p.array(key, p.item)
		case "withdrawn":
			p.withdrawing = true
			err = p.array(key, p.item)
		default:
			var skip json.RawMessage
			err = p.dec.Decode(&skip)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, syntax(err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	need := []string{"reset", "session", "serial", "announced"}
	if !p.d.Reset {
		need = append(need, "fromSerial", "withdrawn")
	}
	for _, k := range need {
		if !seen[k] {
			return fmt.Errorf("no %s", k)
		}
	}
	if c := &p.d.Changes; p.d.Reset && len(c.WithdrawnVRPs)+len(c.WithdrawnKeys)+len(c.WithdrawnASPAs) > 0 {
		return errors.New("a reset withdraws items")
	}
	return nil
}

// session reads the session, a string or a number of decimal digits.
func (p *deltaParser) session() (string, error) {
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return "", err
	}
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return "", fmt.Errorf("%s is not a session number", raw)
	}
	return s, nil
}

func (p *deltaParser) serial() (uint32, error) {
	var n json.Number
	if err := p.dec.Decode(&n); err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(n.String(), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s is not a serial number", n)
	}
	return uint32(v), nil
}

// deltaItemJSON is an item of announced or withdrawn: a route origin
// (asn, prefix, maxLength), a router key (asn, keyIdentifier, keyInfo)
// or an ASPA (customerAsn, providerAsns), as its type says.
type deltaItemJSON struct {
	Type          string            `json:"type"`
	ASN           json.RawMessage   `json:"asn"`
	Prefix        *string           `json:"prefix"`
	MaxLength     *json.Number      `json:"maxLength"`
	KeyIdentifier string            `json:"keyIdentifier"`
	KeyInfo       string            `json:"keyInfo"`
	CustomerASN   json.RawMessage   `json:"customerAsn"`
	ProviderASNs  []json.RawMessage `json:"providerAsns"`
}

func (p *deltaParser) item(int) error {
	var e deltaItemJSON
	if err := p.dec.Decode(&e); err != nil {
		return err
	}
	c := &p.d.Changes
	switch e.Type {
	case "routeOrigin":
		v, err := parseVRP(e.ASN, e.Prefix, e.MaxLength)
		if err != nil {
			return err
		}
		if p.withdrawing {
			c.WithdrawnVRPs = append(c.WithdrawnVRPs, v)
		} else {
			c.AnnouncedVRPs = append(c.AnnouncedVRPs, v)
		}
	case "routerKey":
		var k payload.RouterKey
		asn, err := parseASN(e.ASN)
		if err != nil {
			return fmt.Errorf("asn: %w", err)
		}
		k.ASN = asn
		ski, err := hex.DecodeString(e.KeyIdentifier)
		if err != nil || len(ski) != len(k.SKI) {
			return fmt.Errorf("keyIdentifier %q is not 20 bytes in hex", short(e.KeyIdentifier))
		}
		copy(k.SKI[:], ski)
		if k.SPKI, err = decodeBase64(e.KeyInfo); err != nil || len(k.SPKI) == 0 || len(k.SPKI) > maxSPKISize {
			return fmt.Errorf("keyInfo %q is not a key in base64", short(e.KeyInfo))
		}
		if p.withdrawing {
			c.WithdrawnKeys = append(c.WithdrawnKeys, k)
		} else {
			c.AnnouncedKeys = append(c.AnnouncedKeys, k)
		}
	case "aspa":
		customer, err := parseASN(e.CustomerASN)
		if err != nil {
			return fmt.Errorf("customerAsn: %w", err)
		}
		if p.withdrawing {
			// The withdrawal names the customer; a list, if any, is
			// not looked at.
			c.WithdrawnASPAs = append(c.WithdrawnASPAs, customer)
			return nil
		}
		if e.ProviderASNs == nil {
			return errors.New("no providerAsns")
		}
		providers, err := parseProviders(e.ProviderASNs)
		if err != nil {
			return fmt.Errorf("providerAsns: %w", err)
		}
		c.AnnouncedASPAs = append(c.AnnouncedASPAs, payload.ASPA{Customer: customer, Providers: providers})
	case "":
		return errors.New("no type")
	default:
		return fmt.Errorf("unknown type %q", short(e.Type))
	}
	return nil
}

// parseVRP reads a route origin's members, shared by the VRP lists and
// the deltas.
func parseVRP(rawASN json.RawMessage, prefix *string, maxLength *json.Number) (payload.VRP, error) {
	asn, err := parseASN(rawASN)
	if err != nil {
		return payload.VRP{}, fmt.Errorf("asn: %w", err)
	}
	if prefix == nil {
		return payload.VRP{}, errors.New("no prefix")
	}
	pfx, err := netip.ParsePrefix(*prefix)
	if err != nil || pfx != pfx.Masked() || pfx.Addr().Zone() != "" {
		return payload.VRP{}, fmt.Errorf("prefix %q is not an address prefix without host bits", short(*prefix))
	}
	if maxLength == nil {
		return payload.VRP{}, errors.New("no maxLength")
	}
	ml, err := strconv.Atoi(maxLength.String())
	if err != nil || ml < pfx.Bits() || ml > pfx.Addr().BitLen() {
		return payload.VRP{}, fmt.Errorf("maxLength %s is not between %d and %d", maxLength, pfx.Bits(), pfx.Addr().BitLen())
	}
	return payload.VRP{ASN: asn, Prefix: pfx, MaxLength: uint8(ml)}, nil
}

// parseProviders reads an ASPA's provider list into sorted, unique AS
// numbers, shared by the VRP lists and the deltas.
func parseProviders(raw []json.RawMessage) ([]uint32, error) {
	if len(raw) > maxProviders {
		return nil, fmt.Errorf("more than %d providers", maxProviders)
	}
	providers := make([]uint32, 0, len(raw))
	for i, r := range raw {
		asn, err := parseASN(r)
		if err != nil {
			return nil, fmt.Errorf("provider %d: %w", i+1, err)
		}
		providers = append(providers, asn)
	}
	slices.Sort(providers)
	return slices.Compact(providers), nil
}

// sortCheck sorts the lists of a parsed delta and refuses one with an
// item twice in a list or both announced and withdrawn.
func (d *Delta) sortCheck() error {
	c := &d.Changes
	if err := sortUnique(c.AnnouncedVRPs, payload.VRP.Compare, "announced", vrpString); err != nil {
		return err
	}
	if err := sortUnique(c.WithdrawnVRPs, payload.VRP.Compare, "withdrawn", vrpString); err != nil {
		return err
	}
	if err := sortUnique(c.AnnouncedKeys, payload.RouterKey.Compare, "announced", keyString); err != nil {
		return err
	}
	if err := sortUnique(c.WithdrawnKeys, payload.RouterKey.Compare, "withdrawn", keyString); err != nil {
		return err
	}
	byCustomer := func(a, b payload.ASPA) int { return cmp.Compare(a.Customer, b.Customer) }
	if err := sortUnique(c.AnnouncedASPAs, byCustomer, "announced", aspaString); err != nil {
		return err
	}
	if err := sortUnique(c.WithdrawnASPAs, cmp.Compare[uint32], "withdrawn", customerString); err != nil {
		return err
	}
	if v, ok := common(c.AnnouncedVRPs, c.WithdrawnVRPs, payload.VRP.Compare); ok {
		return fmt.Errorf("%s both announced and withdrawn", vrpString(v))
	}
	if k, ok := common(c.AnnouncedKeys, c.WithdrawnKeys, payload.RouterKey.Compare); ok {
		return fmt.Errorf("%s both announced and withdrawn", keyString(k))
	}
	for _, a := range c.AnnouncedASPAs {
		if _, ok := slices.BinarySearch(c.WithdrawnASPAs, a.Customer); ok {
			return fmt.Errorf("%s both announced and withdrawn", customerString(a.Customer))
		}
	}
	return nil
}

func vrpString(v payload.VRP) string {
	return fmt.Sprintf("route origin AS%d %s-%d", v.ASN, v.Prefix, v.MaxLength)
}

func keyString(k payload.RouterKey) string {
	return fmt.Sprintf("router key AS%d %X", k.ASN, k.SKI)
}

func aspaString(a payload.ASPA) string { return customerString(a.Customer) }

func customerString(c uint32) string { return fmt.Sprintf("ASPA of AS%d", c) }

// sortUnique sorts s and refuses an item in it twice.
func sortUnique[T any](s []T, compare func(T, T) int, list string, name func(T) string) error {
	slices.SortFunc(s, compare)
	for i := 1; i < len(s); i++ {
		if compare(s[i-1], s[i]) == 0 {
			return fmt.Errorf("%s: %s twice", list, name(s[i]))
		}
	}
	return nil
}

// common returns an item of both sorted lists, if there is one.
func common[T any](a, b []T, compare func(T, T) int) (T, bool) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compare(a[i], b[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			return a[i], true
		}
	}
	var zero T
	return zero, false
}

// Apply returns the set that d's changes make of set: withdrawn items
// left out, announced ones added with the source src, an announced ASPA
// replacing the customer's list. As in RTR (RFC 8210 §5.6, "Withdrawal
// of Unknown Record" and "Duplicate Announcement Received"), a delta
// that withdraws an item set does not hold or announces a route origin
// or router key it holds already does not fit set and is an error. The
// items kept keep their sources.
func Apply(set *payload.Set, d *payload.Delta, src *payload.Source) (*payload.Set, error) {
	var b payload.Builder
	b.Grow(len(set.VRPs()) + len(d.AnnouncedVRPs))
	err := applyList(set.VRPs(), set.VRPSources, d.AnnouncedVRPs, d.WithdrawnVRPs, payload.VRP.Compare, vrpString,
		func(v payload.VRP, s *payload.Source) { b.AddVRP(v, s) }, src)
	if err != nil {
		return nil, err
	}
	err = applyList(set.RouterKeys(), set.RouterKeySources, d.AnnouncedKeys, d.WithdrawnKeys, payload.RouterKey.Compare, keyString,
		func(k payload.RouterKey, s *payload.Source) { b.AddRouterKey(k, s) }, src)
	if err != nil {
		return nil, err
	}
	// An ASPA is keyed by its customer: an announced list replaces the
	// one held, if any.
	aspas := set.ASPAs()
	for _, c := range d.WithdrawnASPAs {
		if _, ok := slices.BinarySearchFunc(aspas, c, func(a payload.ASPA, c uint32) int { return cmp.Compare(a.Customer, c) }); !ok {
			return nil, fmt.Errorf("withdraws the %s, which it does not hold", customerString(c))
		}
	}
	for i, a := range aspas {
		_, gone := slices.BinarySearch(d.WithdrawnASPAs, a.Customer)
		_, replaced := slices.BinarySearchFunc(d.AnnouncedASPAs, a.Customer, func(x payload.ASPA, c uint32) int { return cmp.Compare(x.Customer, c) })
		if gone || replaced {
			continue
		}
		for _, s := range set.ASPASources(i) {
			b.AddASPA(a, s)
		}
	}
	for _, a := range d.AnnouncedASPAs {
		b.AddASPA(a, src)
	}
	return b.Build(), nil
}

// applyList adds to a builder (through add) the items of the sorted list
// have (with their sources) less those of wdr, and those of ann, all
// three sorted.
func applyList[T any](have []T, sources func(int) []*payload.Source, ann, wdr []T, compare func(T, T) int, name func(T) string, add func(T, *payload.Source), src *payload.Source) error {
	j := 0
	for i, x := range have {
		if j < len(wdr) && compare(wdr[j], x) < 0 {
			return fmt.Errorf("withdraws the %s, which it does not hold", name(wdr[j]))
		}
		if j < len(wdr) && compare(wdr[j], x) == 0 {
			j++
			continue
		}
		for _, s := range sources(i) {
			add(x, s)
		}
	}
	if j < len(wdr) {
		return fmt.Errorf("withdraws the %s, which it does not hold", name(wdr[j]))
	}
	if x, ok := common(have, ann, compare); ok {
		return fmt.Errorf("announces the %s, which it holds already", name(x))
	}
	for _, x := range ann {
		add(x, src)
	}
	return nil
}

// fetchDelta asks the /json-delta service for the changes since the set
// held, or for the whole set if none is held, and applies them. An
// answer that cannot be read or does not fit the set held is refused,
// and the next fetch asks for the whole set; one that is too old is
// refused too, but leaves the set held standing for the next delta.
func (f *Feed) fetchDelta(ctx context.Context, now time.Time) (*Document, error) {
	uri := f.url
	if f.session != "" {
		u, err := url.Parse(f.url)
		if err != nil {
			return nil, err
		}
		u.RawQuery = url.Values{"session": {f.session}, "serial": {strconv.FormatUint(uint64(f.serial), 10)}}.Encode()
		uri = u.String()
	}
	resp, err := f.client.Get(ctx, uri, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body := &limited{r: resp.Body, left: f.maxSize}
	d, err := ParseDelta(body)
	if body.over {
		err = fmt.Errorf("larger than %d bytes", f.maxSize)
	}
	if err != nil {
		f.session = ""
		return nil, err
	}
	doc := &Document{Generated: d.Generated}
	if err := doc.Check(now, f.maxAge); err != nil {
		return nil, err
	}
	if doc.Set, doc.Step, err = f.take(d); err != nil {
		f.session = ""
		return nil, err
	}
	if doc.Set == nil {
		return nil, netio.ErrNotModified
	}
	f.session, f.serial, f.last = d.Session, d.Serial, doc
	return doc, nil
}

// emptySet is what a reset starts from.
var emptySet = new(payload.Builder).Build()

// take returns the set that the answer d makes of the set held, and how;
// a nil set if d changes nothing.
func (f *Feed) take(d *Delta) (*payload.Set, *Step, error) {
	c := &d.Changes
	step := &Step{Reset: d.Reset, Session: d.Session, Serial: d.Serial, FromSerial: d.FromSerial,
		Announced: len(c.AnnouncedVRPs) + len(c.AnnouncedKeys) + len(c.AnnouncedASPAs),
		Withdrawn: len(c.WithdrawnVRPs) + len(c.WithdrawnKeys) + len(c.WithdrawnASPAs)}
	from := emptySet
	switch {
	case d.Reset:
	case f.session == "":
		return nil, nil, fmt.Errorf("a delta from serial %d, where the whole set was asked for", d.FromSerial)
	case d.Session != f.session || d.FromSerial != f.serial:
		return nil, nil, fmt.Errorf("a delta from session %s serial %d, where one from serial %d of session %s was asked for",
			d.Session, d.FromSerial, f.serial, f.session)
	case d.Serial == f.serial:
		if !c.Empty() {
			return nil, nil, fmt.Errorf("changes without a new serial (%d)", d.Serial)
		}
		return nil, step, nil
	default:
		from = f.last.Set
	}
	set, err := Apply(from, c, deltaSource)
	if err != nil {
		return nil, nil, fmt.Errorf("delta from serial %d to %d: %w", d.FromSerial, d.Serial, err)
	}
	return set, step, nil
}
