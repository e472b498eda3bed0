package output

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// Formats lists the formats Write knows, by the manual's names, in the
// order Routinator lists them.
var Formats = []string{
	"csv", "csvcompat", "csvext", "json", "jsonext", "slurm",
	"openbgpd", "bird1", "bird2", "rpsl", "summary", "none",
}

// Selection is the vrps command's -a and -p selectors. A VRP is output
// if it matches any of them ("or"); an empty Selection selects all.
type Selection struct {
	ASNs     []uint32
	Prefixes []netip.Prefix
}

// ParseASN reads an AS number with or without the AS prefix.
func ParseASN(s string) (uint32, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	return uint32(n), nil
}

// Empty reports whether s selects everything.
func (s *Selection) Empty() bool { return len(s.ASNs) == 0 && len(s.Prefixes) == 0 }

// Match reports whether s selects v: its ASN is selected, or its prefix
// covers (equals or is less specific than) a selected prefix.
func (s *Selection) Match(v payload.VRP) bool {
	if s.Empty() {
		return true
	}
	if slices.Contains(s.ASNs, v.ASN) {
		return true
	}
	for _, p := range s.Prefixes {
		if v.Prefix.Bits() <= p.Bits() && v.Prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// matchASN reports whether s selects a router key or an ASPA of asn:
// only -a selects them, as in Routinator; -p never does.
func (s *Selection) matchASN(asn uint32) bool {
	return s.Empty() || slices.Contains(s.ASNs, asn)
}

// Options say what goes into the output beside the VRPs.
type Options struct {
	Format    string
	Selection Selection
	// ASPA and BGPsec are enable-aspa and enable-bgpsec: ASPAs and router
	// keys appear in the formats that have a place for them (json, jsonext
	// and, for router keys, slurm).
	ASPA, BGPsec bool
	// Time is when the data set was made, for the formats that say it
	// (json, jsonext, rpsl, summary).
	Time time.Time
	// ROAsByTA counts verified ROAs per trust anchor, for summary.
	ROAsByTA map[string]int
}

// writeBufferSize is the bufio buffer Write streams through: large
// enough that a write system call carries about a thousand VRPs.
const writeBufferSize = 64 << 10

// Write renders set to w in opt.Format ("" is csv, the default).
func Write(w io.Writer, set *payload.Set, opt Options) error {
	var format func(*writer) error
	switch opt.Format {
	case "csv", "":
		format = (*writer).csv
	case "csvcompat":
		format = (*writer).csvCompat
	case "csvext":
		format = (*writer).csvExt
	case "json":
		format = (*writer).json
	case "jsonext":
		format = (*writer).jsonExt
	case "slurm":
		format = (*writer).slurm
	case "openbgpd":
		format = (*writer).openBGPD
	case "bird1":
		format = (*writer).bird1
	case "bird2":
		format = (*writer).bird2
	case "rpsl":
		format = (*writer).rpsl
	case "summary":
		format = (*writer).summary
	case "none":
		return nil
	default:
		return fmt.Errorf("unknown output format %q (have %s)", opt.Format, strings.Join(Formats, ", "))
	}
	wr := &writer{w: bufio.NewWriterSize(w, writeBufferSize), set: set, opt: &opt}
	if err := format(wr); err != nil {
		return err
	}
	return wr.w.Flush()
}

// writer is the state of one Write: the buffered output and what the
// formats share.
type writer struct {
	w   *bufio.Writer
	set *payload.Set
	opt *Options
	// buf holds the line being built; srcs is scratch space for sorting
	// the sources of one item. Both are reused for every item.
	buf  []byte
	srcs []*payload.Source
}

// start returns the line buffer, emptied, for appending one line to.
func (wr *writer) start() []byte { return wr.buf[:0] }

// line writes b, a line appended to start's buffer, and keeps the
// buffer, grown as needed, for the next line.
func (wr *writer) line(b []byte) error {
	wr.buf = b
	_, err := wr.w.Write(b)
	return err
}

// vrps calls f for each selected VRP with its index, stopping at the
// first error. Before every VRP but the first it writes sep.
func (wr *writer) vrps(sep string, f func(i int, v payload.VRP) error) error {
	first := true
	for i, v := range wr.set.VRPs() {
		if !wr.opt.Selection.Match(v) {
			continue
		}
		if !first {
			wr.w.WriteString(sep)
		}
		first = false
		if err := f(i, v); err != nil {
			return err
		}
	}
	return nil
}

// exception reports whether src is an assertion of a local exceptions
// file: ApplySLURM gives those an empty TA (there is no TAL behind them)
// and the file's path as URI.
func exception(src *payload.Source) bool { return src.TA == "" }

// compareSources orders sources for output: those from the RPKI first,
// by trust anchor and URI, then local exceptions by path. The sources of
// an item come in the order the validation workers happened to finish
// in, so output that lists or picks one must sort them to be stable.
func compareSources(a, b *payload.Source) int {
	if ea, eb := exception(a), exception(b); ea != eb {
		if ea {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.TA, b.TA); c != 0 {
		return c
	}
	return cmp.Compare(a.URI, b.URI)
}

// primary returns the source a payload item is attributed to in the
// formats that name only one (Routinator takes the first it has): the
// least in compareSources order, so a trust anchor wins over a local
// exception. srcs is never empty.
func primary(srcs []*payload.Source) *payload.Source {
	best := srcs[0]
	for _, s := range srcs[1:] {
		if compareSources(s, best) < 0 {
			best = s
		}
	}
	return best
}

// taName returns the trust anchor label a payload item is attributed
// to, "N/A" for a local exception as in Routinator.
func taName(srcs []*payload.Source) string {
	if p := primary(srcs); !exception(p) {
		return p.TA
	}
	return "N/A"
}

// sorted returns srcs in compareSources order, in scratch space that is
// valid until the next call.
func (wr *writer) sorted(srcs []*payload.Source) []*payload.Source {
	wr.srcs = append(wr.srcs[:0], srcs...)
	slices.SortFunc(wr.srcs, compareSources)
	return wr.srcs
}

// appendASN appends asn as "AS64496".
func appendASN(b []byte, asn uint32) []byte {
	return strconv.AppendUint(append(b, "AS"...), uint64(asn), 10)
}

func appendUint(b []byte, n uint32) []byte {
	return strconv.AppendUint(b, uint64(n), 10)
}

// The time layouts of Routinator's formats, all in UTC.
const (
	isoTime  = "2006-01-02T15:04:05Z" // json metadata, jsonext, rpsl
	spaceUTC = "2006-01-02 15:04:05"  // csvext
)

// appendTime appends t in UTC in one of the two layouts above. It writes
// the digits itself: time.AppendFormat interprets the layout on every
// call, and csvext and jsonext write two to five times per VRP.
func appendTime(b []byte, t time.Time, layout string) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, layout)
	}
	hour, minute, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, layout[10])
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	b = append2(b, sec)
	if layout == isoTime {
		b = append(b, 'Z')
	}
	return b
}

// append2 appends n, below 100, as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}
