package httpapi

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

// Snapshot is one published data set and the run that made it. The
// Service keeps it as given and never modifies it; the caller must not
// either once it is published.
type Snapshot struct {
	// Set is the payload served; nil serves an empty set.
	Set *payload.Set
	// Session and Serial identify the set as RTR does (RFC 8210 §5.1):
	// a set with other content than the last one published comes with
	// the next serial, a set with the same content may keep its serial,
	// and a new session starts the history of /json-delta afresh.
	Session uint16
	Serial  uint32
	// Delta is what changed since the previous serial, if the caller has
	// it at hand (the RTR server computes it too); nil lets Publish
	// compute it.
	Delta *payload.Delta

	// Started and Elapsed time the validation run; the set counts as
	// made at its end (the time in json output and Last-Modified).
	Started time.Time
	Elapsed time.Duration
	// Report holds the run's counts and findings; nil leaves them out.
	Report *engine.Report
	// Unsafe is the number of VRPs overlapping rejected CAs' resources.
	Unsafe int
	// Exceptions counts what the local exceptions changed.
	Exceptions payload.ExceptionCounts
	// Repos is the fetch status of each repository the run updated.
	Repos []netio.Status
	// Log is the run's log at the configured level, served on /log.
	Log []byte
}

// SnapshotOf returns the Snapshot of a validation run with the payload
// set, leaving Session, Serial, Delta and Log to the caller.
func SnapshotOf(run *runner.Run) *Snapshot {
	return &Snapshot{
		Set:        run.Set,
		Started:    run.Started,
		Elapsed:    run.Elapsed,
		Report:     run.Report,
		Unsafe:     len(run.Unsafe),
		Exceptions: run.Exceptions,
		Repos:      run.Statuses,
	}
}

// RTRStats are the RTR server's figures for /metrics and /status.
type RTRStats struct {
	// Connections is the number of RTR connections open now.
	Connections int
	// BytesRead and BytesWritten count over all connections so far.
	BytesRead, BytesWritten uint64
	// Clients holds one entry per client address when rtr-client-metrics
	// is on; it is ignored otherwise.
	Clients []RTRClient
	// Sockets holds the kernel's figures of each open RTR connection
	// when rtr-client-metrics is on, and SocketSource says where they
	// came from ("ebpf" or "tcp_info"); empty if no figures are read.
	Sockets      []RTRSocket
	SocketSource string
}

// RTRSocket is the kernel's figures of one RTR connection.
type RTRSocket struct {
	// Addr and Port are the router's end of the connection.
	Addr string
	Port uint16
	// RTT is the smoothed round-trip time, Retransmits the segments
	// retransmitted so far, BytesInFlight what was sent and not yet
	// acknowledged.
	RTT           time.Duration
	Retransmits   uint64
	BytesInFlight uint64
}

// RTRClient is the figures of one RTR client address.
type RTRClient struct {
	Addr        string
	Connections int
	// Serial is the last serial the client was sent, if HasSerial.
	Serial    uint32
	HasSerial bool
	// Updated and LastReset are when the client last got data and last
	// asked for a reset; zero if never.
	Updated, LastReset          time.Time
	ResetQueries, SerialQueries uint64
	BytesRead, BytesWritten     uint64
}

// GuardState is the state of the collapse guard, which holds back a new
// data set that lost most of the VRPs of the one being served.
type GuardState struct {
	// Holding says a data set is being held back now, since Since.
	Holding bool
	Since   time.Time
	// HeldVRPs is the VRP count of the data set held back.
	HeldVRPs int
	// Reason says why, in a few words.
	Reason string
	// Trips counts how often the guard has held a set back so far.
	Trips uint64
}

// state is a published Snapshot with everything the service derives
// from it: immutable apart from the outputs, each rendered at most once.
type state struct {
	snap    *Snapshot
	created time.Time // Started+Elapsed, for json output and Last-Modified
	// etag and etagGzip are the entity tags of an answer in identity and
	// gzip encoding; tag is their common opaque part, quotes excluded.
	etag, etagGzip []byte
	tag            []byte
	lastModified   []byte
	opt            output.Options // the formats' options, no selection

	// history holds the steps of the last serials, oldest first, the
	// last one leading to this state's serial.
	history []*step

	outputs [len(formats)]rendered
	reset   rendered // /json-delta with reset: true

	deltaMu sync.Mutex
	deltas  map[uint32]*rendered // /json-delta by the client's serial

	taOnce sync.Once
	tas    []taPayload

	// runs is the history of recent runs for /ui, oldest first, this
	// state's last.
	runs []uiRun
}

// step is the change from one serial to the next.
type step struct {
	d *payload.Delta
	// aspaNew is parallel to d.AnnouncedASPAs: true where the customer
	// had no ASPA before the step, false where its providers changed.
	aspaNew []bool
}

func newStep(prev *payload.Set, d *payload.Delta) *step {
	st := &step{d: d, aspaNew: make([]bool, len(d.AnnouncedASPAs))}
	old := prev.ASPAs()
	for i, a := range d.AnnouncedASPAs {
		_, found := slices.BinarySearchFunc(old, a.Customer, func(x payload.ASPA, c uint32) int {
			switch {
			case x.Customer < c:
				return -1
			case x.Customer > c:
				return 1
			}
			return 0
		})
		st.aspaNew[i] = !found
	}
	return st
}

func newState(snap *Snapshot, cfg *Config) *state {
	st := &state{snap: snap, created: snap.Started.Add(snap.Elapsed).UTC(), deltas: map[uint32]*rendered{}}
	// Routinator's entity tag: the session in hex and the serial. The
	// gzip answer is another representation and gets a tag of its own.
	st.tag = strconv.AppendUint(append(strconv.AppendUint(nil, uint64(snap.Session), 16), '-'), uint64(snap.Serial), 10)
	st.etag = append(append(append([]byte{}, '"'), st.tag...), '"')
	st.etagGzip = append(append(append([]byte{}, '"'), st.tag...), "-gzip\""...)
	st.lastModified = fasthttp.AppendHTTPDate(nil, st.created)
	st.opt = output.Options{ASPA: cfg.EnableASPA, BGPsec: cfg.EnableBGPsec, Time: st.created, ROAsByTA: map[string]int{}}
	if snap.Report != nil {
		for ta, kinds := range snap.Report.Counts.ValidByTA {
			st.opt.ROAsByTA[ta] = kinds["roa"]
		}
	}
	return st
}

// emptySet serves a Snapshot without a set.
var emptySet = new(payload.Builder).Build()

// Publish makes snap the data set served, in one atomic step: a request
// under way finishes with the set it started with. The history of
// /json-delta grows by one step when snap has the next serial of the
// same session, stays when the serial is the same, and starts afresh
// otherwise.
func (s *Service) Publish(snap *Snapshot) {
	if snap.Set == nil {
		c := *snap
		c.Set = emptySet
		snap = &c
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	st := newState(snap, &s.cfg)
	prev := s.cur.Load()
	recordRun(st, prev)
	if prev != nil && prev.snap.Session == snap.Session {
		// Serials wrap (RFC 1982): the distance is a modular difference.
		switch snap.Serial - prev.snap.Serial {
		case 0:
			st.history = prev.history
		case 1:
			d := snap.Delta
			if d == nil {
				d = payload.Compute(prev.snap.Set, snap.Set)
			}
			h := prev.history
			if len(h) >= s.cfg.HistorySize {
				h = h[len(h)-s.cfg.HistorySize+1:]
			}
			// A new array: the previous state's readers keep theirs.
			st.history = append(slices.Clip(h), newStep(prev.snap.Set, d))
		}
	}
	s.cur.Store(st)
}

// rendered is one answer made on first use and kept with the state,
// with its gzip encoding made on the first request that accepts it.
type rendered struct {
	once sync.Once
	body []byte
	err  error

	gzOnce sync.Once
	gz     []byte
}

func (r *rendered) get(render func() ([]byte, error)) ([]byte, error) {
	r.once.Do(func() { r.body, r.err = render() })
	return r.body, r.err
}

// gzipped returns the gzip encoding of body, r's answer.
func (r *rendered) gzipped(body []byte) []byte {
	r.gzOnce.Do(func() {
		var b bytes.Buffer
		b.Grow(len(body)/4 + 64)
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression) // a valid level cannot fail
		// Writes to a bytes.Buffer do not fail.
		_, _ = zw.Write(body)
		_ = zw.Close()
		r.gz = b.Bytes()
	})
	return r.gz
}

// taPayload counts the payload attributed to one trust anchor.
type taPayload struct {
	name        string
	v4, v6      int
	keys, aspas int
	roas        int
}

// taCounts returns the payload counts per trust anchor, sorted by name,
// including trust anchors that yielded objects but no payload. An item
// with sources under several trust anchors counts for each of them once.
func (st *state) taCounts() []taPayload {
	st.taOnce.Do(func() {
		byName := map[string]*taPayload{}
		get := func(name string) *taPayload {
			t := byName[name]
			if t == nil {
				t = &taPayload{name: name}
				byName[name] = t
			}
			return t
		}
		set := st.snap.Set
		var seen []string
		credit := func(srcs []*payload.Source, f func(*taPayload)) {
			seen = seen[:0]
			for _, src := range srcs {
				// Local exceptions have no trust anchor; they count in
				// vrps_added_locally instead.
				if src == nil || src.TA == "" || slices.Contains(seen, src.TA) {
					continue
				}
				seen = append(seen, src.TA)
				f(get(src.TA))
			}
		}
		for i, v := range set.VRPs() {
			if v.Prefix.Addr().Is4() {
				credit(set.VRPSources(i), func(t *taPayload) { t.v4++ })
			} else {
				credit(set.VRPSources(i), func(t *taPayload) { t.v6++ })
			}
		}
		for i := range set.RouterKeys() {
			credit(set.RouterKeySources(i), func(t *taPayload) { t.keys++ })
		}
		for i := range set.ASPAs() {
			credit(set.ASPASources(i), func(t *taPayload) { t.aspas++ })
		}
		if r := st.snap.Report; r != nil {
			for ta, kinds := range r.Counts.ValidByTA {
				t := get(ta)
				t.roas = kinds["roa"]
			}
		}
		for _, t := range byName {
			st.tas = append(st.tas, *t)
		}
		slices.SortFunc(st.tas, func(a, b taPayload) int {
			switch {
			case a.name < b.name:
				return -1
			case a.name > b.name:
				return 1
			}
			return 0
		})
	})
	return st.tas
}
