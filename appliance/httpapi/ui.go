package httpapi

import (
	_ "embed"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/rovd/rovd/netio"
)

// The status page of /ui (ours): one HTML page with its style and script
// inline, which draws what /ui/data.json says. It loads nothing from
// elsewhere, so that it works on an appliance without internet access,
// and the Content-Security-Policy it is served with makes the browser
// hold it to that.

//go:embed ui.html
var uiPage []byte

const typeHTML = "text/html;charset=utf-8"

// uiRuns is how many recent runs /ui/data.json lists for the page's
// chart: at the default refresh of ten minutes, the last eight hours.
const uiRuns = 50

var (
	hdrCSP          = []byte("Content-Security-Policy")
	hdrNoSniff      = []byte("X-Content-Type-Options")
	hdrCacheControl = []byte("Cache-Control")
	hdrLocation     = []byte("Location")
	// The page may run its own inline script and style and fetch from
	// its own origin, nothing else: no external scripts, styles, fonts
	// or images, no frames, no forms.
	valCSP = []byte("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
		"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	valNoSniff = []byte("nosniff")
	valNoCache = []byte("no-cache")
	// "/ui/" is sent to the page by a relative reference, so that a
	// reverse proxy serving rovd under a path prefix keeps working.
	valUILocation = []byte("../ui")
)

// uiRun is one run in the history of the page's chart.
type uiRun struct {
	Serial     uint32    `json:"serial"`
	Done       time.Time `json:"done"`
	Duration   float64   `json:"duration"` // seconds
	VRPs       int       `json:"vrps"`
	ASPAs      int       `json:"aspas"`
	RouterKeys int       `json:"routerKeys"`
}

func runOf(st *state) uiRun {
	set := st.snap.Set
	return uiRun{
		Serial:     st.snap.Serial,
		Done:       st.created,
		Duration:   st.snap.Elapsed.Seconds(),
		VRPs:       len(set.VRPs()),
		ASPAs:      len(set.ASPAs()),
		RouterKeys: len(set.RouterKeys()),
	}
}

// recordRun sets st's history of runs: prev's, plus st's run unless st
// publishes prev's run again (the same start and serial). The slice is
// new whenever it changes, so that readers of prev keep theirs.
func recordRun(st, prev *state) {
	if prev != nil && prev.snap.Started.Equal(st.snap.Started) && prev.snap.Serial == st.snap.Serial {
		st.runs = prev.runs
		return
	}
	var old []uiRun
	if prev != nil {
		old = prev.runs
	}
	if len(old) >= uiRuns {
		old = old[len(old)-uiRuns+1:]
	}
	runs := make([]uiRun, 0, len(old)+1)
	st.runs = append(append(runs, old...), runOf(st))
}

// uiData is the document of /ui/data.json: the figures of /status, with
// the same names where /status has them, in JSON for the page.
type uiData struct {
	Version            string    `json:"version"`
	Now                time.Time `json:"now"`
	Session            uint16    `json:"session"`
	Serial             uint32    `json:"serial"`
	LastUpdateStart    time.Time `json:"lastUpdateStart"`
	LastUpdateDone     time.Time `json:"lastUpdateDone"`
	LastUpdateDuration float64   `json:"lastUpdateDuration"` // seconds

	ValidROAs           int  `json:"validROAs"`
	VRPs                int  `json:"vrps"` // before duplicates were removed, as /status's "vrps"
	FinalVRPs           int  `json:"finalVRPs"`
	UnsafeVRPs          *int `json:"unsafeVRPs,omitempty"` // left out under unsafe-vrps = accept
	LocallyFilteredVRPs int  `json:"locallyFilteredVRPs"`
	LocallyAddedVRPs    int  `json:"locallyAddedVRPs"`
	ASPAs               int  `json:"aspas"`
	RouterKeys          int  `json:"routerKeys"`
	StaleCount          int  `json:"staleCount"`

	PublicationPoints uiPoints `json:"publicationPoints"`
	// Problems counts the run's findings (/status's pub-point-issues).
	Problems int `json:"problems"`

	TAs          []uiTA     `json:"tas"`
	Repositories []uiRepo   `json:"repositories"`
	RTR          uiRTR      `json:"rtr"`
	HTTP         uiHTTP     `json:"http"`
	Guard        *uiGuard   `json:"collapseGuard,omitempty"`
	DeltaHistory int        `json:"jsonDeltaHistory"`
	Runs         []uiRun    `json:"runs"`
	Config       uiSettings `json:"config"`
}

type uiPoints struct {
	Valid    int `json:"valid"`
	Rejected int `json:"rejected"`
	LastGood int `json:"lastGood"`
}

type uiTA struct {
	Name       string `json:"name"`
	ROAs       int    `json:"roas"`
	VRPs       int    `json:"vrps"`
	VRPsV4     int    `json:"vrpsV4"`
	VRPsV6     int    `json:"vrpsV6"`
	ASPAs      int    `json:"aspas"`
	RouterKeys int    `json:"routerKeys"`
}

type uiRepo struct {
	URI      string `json:"uri"`
	Protocol string `json:"protocol"`
	OK       bool   `json:"ok"`
	// Status is /status's: the HTTP status of the notification file
	// (RRDP) or rsync's exit status, -1 for a failure without one.
	Status int `json:"status"`
	// Method says how an RRDP update went: snapshot, deltas,
	// not-modified, unchanged.
	Method   string  `json:"method,omitempty"`
	Serial   uint64  `json:"serial,omitempty"`
	Deltas   int     `json:"deltas,omitempty"`
	Duration float64 `json:"duration"` // seconds
	Error    string  `json:"error,omitempty"`
}

type uiRTR struct {
	Connections  int           `json:"connections"`
	BytesRead    uint64        `json:"bytesRead"`
	BytesWritten uint64        `json:"bytesWritten"`
	Clients      []uiRTRClient `json:"clients,omitempty"`
}

type uiRTRClient struct {
	Addr          string     `json:"addr"`
	Connections   int        `json:"connections"`
	Serial        *uint32    `json:"serial,omitempty"`
	Updated       *time.Time `json:"updated,omitempty"`
	LastReset     *time.Time `json:"lastReset,omitempty"`
	ResetQueries  uint64     `json:"resetQueries"`
	SerialQueries uint64     `json:"serialQueries"`
	BytesRead     uint64     `json:"bytesRead"`
	BytesWritten  uint64     `json:"bytesWritten"`
}

type uiHTTP struct {
	Connections uint64 `json:"connections"` // open now
	Total       uint64 `json:"total"`
	Requests    uint64 `json:"requests"`
}

type uiGuard struct {
	Holding  bool       `json:"holding"`
	Since    *time.Time `json:"since,omitempty"`
	HeldVRPs int        `json:"heldVRPs"`
	Reason   string     `json:"reason,omitempty"`
	Trips    uint64     `json:"trips"`
}

type uiSettings struct {
	EnableASPA   bool `json:"enableASPA"`
	EnableBGPsec bool `json:"enableBGPsec"`
}

// serveUI answers /ui and /ui/.
func serveUI(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) == "/ui/" {
		ctx.Response.Header.SetCanonical(hdrLocation, valUILocation)
		ctx.SetStatusCode(fasthttp.StatusMovedPermanently)
		return
	}
	h := &ctx.Response.Header
	h.SetCanonical(hdrCSP, valCSP)
	h.SetCanonical(hdrNoSniff, valNoSniff)
	ctx.SetContentType(typeHTML)
	ctx.Response.SetBodyRaw(uiPage)
}

// serveUIData answers /ui/data.json.
func (s *Service) serveUIData(ctx *fasthttp.RequestCtx, st *state) {
	ctx.Response.Header.SetCanonical(hdrCacheControl, valNoCache)
	ctx.Response.Header.SetCanonical(hdrNoSniff, valNoSniff)
	b, err := json.Marshal(s.uiData(st))
	if err != nil {
		// Nothing in uiData can fail to marshal: a bug, not the client's.
		s.log.Error("http ui data", "err", err)
		fail(ctx, true, fasthttp.StatusInternalServerError, "internal server error")
		return
	}
	ctx.SetContentType(typeJSON)
	ctx.SetBody(b)
}

// uiData gathers the figures of st and of the service now. The counts are
// those of /status, computed the same way.
func (s *Service) uiData(st *state) *uiData {
	snap := st.snap
	set := snap.Set
	d := &uiData{
		Version:             s.cfg.Version,
		Now:                 s.cfg.Now().UTC(),
		Session:             snap.Session,
		Serial:              snap.Serial,
		LastUpdateStart:     snap.Started.UTC(),
		LastUpdateDone:      st.created,
		LastUpdateDuration:  snap.Elapsed.Seconds(),
		FinalVRPs:           len(set.VRPs()),
		LocallyFilteredVRPs: snap.Exceptions.FilteredVRPs,
		LocallyAddedVRPs:    snap.Exceptions.AddedVRPs,
		ASPAs:               len(set.ASPAs()),
		RouterKeys:          len(set.RouterKeys()),
		DeltaHistory:        len(st.history),
		Runs:                st.runs,
		Config:              uiSettings{EnableASPA: s.cfg.EnableASPA, EnableBGPsec: s.cfg.EnableBGPsec},
		TAs:                 []uiTA{},
		Repositories:        []uiRepo{},
	}
	if s.cfg.UnsafeVRPs != "accept" {
		n := snap.Unsafe
		d.UnsafeVRPs = &n
	}
	if r := snap.Report; r != nil {
		c := &r.Counts
		d.ValidROAs = c.ObjectsValid["roa"]
		d.StaleCount = c.StaleObjectsAdded
		d.PublicationPoints = uiPoints{Valid: c.PointsValid, Rejected: c.PointsRejected, LastGood: c.PointsLastGood}
		d.Problems = len(r.Findings)
		for _, rc := range c.ByRepo {
			d.VRPs += rc.VRPs
		}
	}
	if d.VRPs == 0 {
		d.VRPs = d.FinalVRPs // as /status: a run without a per-repository count
	}
	for _, t := range st.taCounts() {
		d.TAs = append(d.TAs, uiTA{Name: t.name, ROAs: t.roas, VRPs: t.v4 + t.v6, VRPsV4: t.v4, VRPsV6: t.v6, ASPAs: t.aspas, RouterKeys: t.keys})
	}
	for i := range snap.Repos {
		d.Repositories = append(d.Repositories, repoOf(&snap.Repos[i]))
	}
	// Failed repositories first: they are what an operator looks for.
	slices.SortStableFunc(d.Repositories, func(a, b uiRepo) int {
		if a.OK != b.OK {
			if !a.OK {
				return -1
			}
			return 1
		}
		return strings.Compare(a.URI, b.URI)
	})

	rtr := s.rtr()
	d.RTR = uiRTR{Connections: rtr.Connections, BytesRead: rtr.BytesRead, BytesWritten: rtr.BytesWritten}
	if s.cfg.RTRClientMetrics {
		for i := range rtr.Clients {
			c := &rtr.Clients[i]
			uc := uiRTRClient{
				Addr: c.Addr, Connections: c.Connections,
				Updated: timeOrNil(c.Updated), LastReset: timeOrNil(c.LastReset),
				ResetQueries: c.ResetQueries, SerialQueries: c.SerialQueries,
				BytesRead: c.BytesRead, BytesWritten: c.BytesWritten,
			}
			if c.HasSerial {
				serial := c.Serial
				uc.Serial = &serial
			}
			d.RTR.Clients = append(d.RTR.Clients, uc)
		}
	}
	opened, closed := s.connsOpened.Load(), s.connsClosed.Load()
	d.HTTP = uiHTTP{Connections: opened - closed, Total: opened, Requests: s.requests.Load()}
	if g, ok := s.guardState(); ok {
		d.Guard = &uiGuard{Holding: g.Holding, HeldVRPs: g.HeldVRPs, Reason: g.Reason, Trips: g.Trips}
		if g.Holding {
			d.Guard.Since = timeOrNil(g.Since)
		}
	}
	return d
}

func repoOf(r *netio.Status) uiRepo {
	u := uiRepo{URI: r.URI, Protocol: r.Protocol, OK: r.Err == nil, Duration: r.Duration.Seconds()}
	if r.Protocol == "rsync" {
		u.Status = rsyncExit(r)
	} else {
		u.Status, _ = rrdpCodes(r)
		if r.Err == nil {
			u.Method, u.Serial, u.Deltas = r.Method, r.Serial, r.Deltas
		}
	}
	if r.Err != nil {
		u.Error = r.Err.Error()
	}
	return u
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
