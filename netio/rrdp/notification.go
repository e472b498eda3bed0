package rrdp

import (
	"io"
	"slices"
)

// Notification is a parsed update notification file (RFC 8182 §3.5.1).
type Notification struct {
	Header
	// Snapshot is the current snapshot; its Serial is zero (the snapshot's
	// serial is the notification's).
	Snapshot FileRef
	// Deltas lists the delta elements in file order, which RFC 8182 does
	// not prescribe (RIPE NCC lists the newest first). Serials may have
	// gaps or repeat: use DeltaChain to pick the deltas to apply.
	Deltas []FileRef
	// TooManyDeltas is set when the file listed more than Limits.MaxDeltas
	// deltas. Deltas is then empty and the snapshot must be used, as
	// Routinator does with an oversized delta list.
	TooManyDeltas bool
}

// ParseNotification reads an update notification file. The returned
// Notification owns its memory.
func ParseNotification(r io.Reader, lim Limits) (*Notification, error) {
	var p parser
	// A notification is a few kilobytes; a smaller buffer will do.
	p.init(r, lim, 16<<10)
	n, err := p.notification()
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) notification() (*Notification, error) {
	var a attrs
	h, err := p.prolog(&a)
	if err != nil {
		return nil, err
	}
	if h.Type != TypeNotification {
		return nil, p.errorf(0, "root element is <%s>, want <notification>", h.Type)
	}
	n := &Notification{Header: h}
	if a.empty {
		return nil, p.errorf(p.s.offset(), "notification without snapshot")
	}
	// The URIs go into one arena, turned into a single string at the end.
	var arena []byte
	type span struct{ start, end int }
	var spans []span
	var snapshotURI span
	haveSnapshot := false
	for {
		eof, err := p.skipMisc("in <notification>")
		if err != nil {
			return nil, err
		}
		if eof {
			return nil, p.eofError("<notification>")
		}
		off := p.s.offset()
		kind, err := p.markup("in <notification>")
		if err != nil {
			return nil, err
		}
		if kind == markEnd {
			if err := p.endTag("notification"); err != nil {
				return nil, err
			}
			break
		}
		name, err := p.readName("element")
		if err != nil {
			return nil, err
		}
		var elem string
		var want uint8
		switch string(name) {
		case "snapshot":
			// RFC 8182 §3.5.1: exactly one snapshot element, before the
			// deltas (rpki-client enforces the order too).
			if haveSnapshot {
				return nil, p.errorf(off, "second <snapshot> in notification")
			}
			elem, want = "snapshot", attrURI|attrHash
		case "delta":
			if !haveSnapshot {
				return nil, p.errorf(off, "<delta> before <snapshot> in notification")
			}
			elem, want = "delta", attrSerial|attrURI|attrHash
		default:
			return nil, p.errorf(off, "unknown element <%s> in <notification>", name)
		}
		if err := p.readAttrs(elem, want|attrXmlns, &a); err != nil {
			return nil, err
		}
		if a.seen&want != want {
			return nil, p.errorf(off, "<%s> lacks %s", elem, missing(want&^a.seen))
		}
		if !a.empty {
			// Only white space and comments may come before the end tag.
			eof, err := p.skipMisc(inElem(elem))
			if err != nil {
				return nil, err
			}
			if eof {
				return nil, p.eofError("<" + elem + ">")
			}
			eoff := p.s.offset()
			kind, err := p.markup(inElem(elem))
			if err != nil {
				return nil, err
			}
			if kind != markEnd {
				return nil, p.errorf(eoff, "element inside <%s>", elem)
			}
			if err := p.endTag(elem); err != nil {
				return nil, err
			}
		}
		if elem == "snapshot" {
			haveSnapshot = true
			n.Snapshot.Hash = a.hash
			snapshotURI = span{len(arena), len(arena) + len(p.uri)}
			arena = append(arena, p.uri...)
			continue
		}
		if n.TooManyDeltas {
			continue
		}
		if len(n.Deltas) == p.lim.maxDeltas {
			n.TooManyDeltas = true
			n.Deltas = nil
			spans = nil
			arena = arena[:snapshotURI.end]
			continue
		}
		n.Deltas = append(n.Deltas, FileRef{Serial: a.serial, Hash: a.hash})
		spans = append(spans, span{len(arena), len(arena) + len(p.uri)})
		arena = append(arena, p.uri...)
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if !haveSnapshot {
		return nil, p.errorf(p.s.offset(), "notification without snapshot")
	}
	all := string(arena)
	n.Snapshot.URI = all[snapshotURI.start:snapshotURI.end]
	for i, s := range spans {
		n.Deltas[i].URI = all[s.start:s.end]
	}
	return n, nil
}

// DeltaChain returns the deltas that bring a client at serial from up to
// n.Serial, in the order to apply them (increasing serials), and true. It
// returns nil and true when from is n.Serial already. It returns false,
// meaning the client must load the snapshot, when the list does not hold
// exactly one delta for each serial from+1 through n.Serial, when it
// lists a delta newer than the notification, when from is ahead of the
// notification, or when TooManyDeltas is set.
//
// RRDP serials are plain counters that start at 1 within a session and
// grow by one with each delta (RFC 8182); unlike RTR serials they are not
// RFC 1982 serial numbers and do not wrap, so ordinary comparisons apply.
func (n *Notification) DeltaChain(from uint64) ([]FileRef, bool) {
	if n.TooManyDeltas || from > n.Serial {
		return nil, false
	}
	need := n.Serial - from
	if need == 0 {
		return nil, true
	}
	if need > uint64(len(n.Deltas)) {
		return nil, false
	}
	chain := make([]FileRef, need)
	for _, d := range n.Deltas {
		switch {
		case d.Serial > n.Serial:
			return nil, false
		case d.Serial <= from:
			continue
		}
		i := d.Serial - from - 1
		if chain[i].URI != "" {
			return nil, false // the same serial twice
		}
		chain[i] = d
	}
	if slices.ContainsFunc(chain, func(d FileRef) bool { return d.URI == "" }) {
		return nil, false
	}
	return chain, true
}
