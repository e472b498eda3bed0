package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/rovd/rovd/engine/rpki"
)

// Finding is one problem a run met: an invalid object, a rejected
// publication point, a repository that could not be updated.
type Finding struct {
	Level slog.Level
	// Point is the publication point (its manifest URI), or the TAL or
	// repository the finding is about.
	Point string
	// URI is the object at fault, if it is not the point itself.
	URI string
	// Stage and Ref say how far the object got and which rule it broke.
	Stage string
	Ref   string
	Msg   string
}

// Counts are a run's totals.
type Counts struct {
	TAs, CAs       int
	TAsFailed      int // TALs whose trust anchor did not validate
	PointsValid    int
	PointsRejected int
	PointsLastGood int // rejected fresh data, served the kept copy
	ObjectsValid   map[string]int
	ObjectsInvalid map[string]int
	// ValidByTA counts valid objects by trust anchor label and kind.
	ValidByTA         map[string]map[string]int
	ReposFailed       int
	ReposNotFresh     int // served from older data or nothing
	StaleObjectsAdded int // stale manifests and CRLs accepted by policy
	// CacheHits counts the points whose result came from the validation
	// cache.
	CacheHits int
	// ByRepo counts points and VRPs (before deduplication) by the
	// repository they came from: notification URI or rsync module.
	ByRepo map[string]*RepoCounts
}

// RepoCounts are one repository's share of a run.
type RepoCounts struct {
	PointsValid, PointsRejected, PointsLastGood int
	VRPs                                        int
}

func (c *Counts) repo(key string) *RepoCounts {
	if c.ByRepo == nil {
		c.ByRepo = map[string]*RepoCounts{}
	}
	rc := c.ByRepo[key]
	if rc == nil {
		rc = &RepoCounts{}
		c.ByRepo[key] = rc
	}
	return rc
}

// Report is everything a run found. Its fields are final once Run
// returns.
type Report struct {
	mu       sync.Mutex
	Findings []Finding
	Counts   Counts
	// Incomplete says some repository was left without fresh data (the
	// manual's --complete).
	Incomplete bool
}

func newReport() *Report {
	return &Report{Counts: Counts{ObjectsValid: map[string]int{}, ObjectsInvalid: map[string]int{}, ValidByTA: map[string]map[string]int{}}}
}

// pointLog gathers the findings of one publication point and logs at
// most maxLines of them, with a count of the rest, so that a broken
// repository cannot flood the log.
type pointLog struct {
	point    string
	ta       string // label, for the per-TA counts
	findings []Finding
	valid    map[string]int
	invalid  map[string]int
	stale    int // stale manifests and CRLs accepted by policy
}

const maxLines = 3

func (l *pointLog) add(level slog.Level, uri string, p *rpki.Problem, msg string) {
	f := Finding{Level: level, Point: l.point, URI: uri, Msg: msg}
	if p != nil {
		f.Stage, f.Ref = p.Stage.String(), p.Ref
		if f.Msg == "" {
			f.Msg = p.Error()
		}
	}
	l.findings = append(l.findings, f)
}

// absorb moves the findings and counts of o into l.
func (l *pointLog) absorb(o *pointLog) {
	l.findings = append(l.findings, o.findings...)
	for k, n := range o.valid {
		l.countN(k, true, n)
	}
	for k, n := range o.invalid {
		l.countN(k, false, n)
	}
	l.stale += o.stale
}

// problems records every problem of an object at level.
func (l *pointLog) problems(level slog.Level, uri string, ps []rpki.Problem) {
	for i := range ps {
		l.add(level, uri, &ps[i], "")
	}
}

func (l *pointLog) count(kind string, ok bool) { l.countN(kind, ok, 1) }

func (l *pointLog) countN(kind string, ok bool, n int) {
	m := &l.invalid
	if ok {
		m = &l.valid
	}
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[kind] += n
}

// flush logs the point's findings and moves them into the report.
func (r *Report) flush(log *slog.Logger, l *pointLog) {
	if len(l.findings) > 0 {
		ctx := context.Background()
		for i, f := range l.findings {
			if i == maxLines {
				rest := len(l.findings) - maxLines
				log.Log(ctx, maxLevel(l.findings[maxLines:]), "more problems at this publication point", "point", l.point, "count", rest)
				break
			}
			attrs := []any{"point", f.Point}
			if f.URI != "" && f.URI != f.Point {
				attrs = append(attrs, "uri", f.URI)
			}
			log.Log(ctx, f.Level, f.Msg, attrs...)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Findings = append(r.Findings, l.findings...)
	r.Counts.StaleObjectsAdded += l.stale
	byTA := r.Counts.ValidByTA[l.ta]
	if byTA == nil && len(l.valid) > 0 {
		byTA = map[string]int{}
		r.Counts.ValidByTA[l.ta] = byTA
	}
	for k, n := range l.valid {
		r.Counts.ObjectsValid[k] += n
		byTA[k] += n
	}
	for k, n := range l.invalid {
		r.Counts.ObjectsInvalid[k] += n
	}
	*l = pointLog{point: l.point, ta: l.ta}
}

func maxLevel(fs []Finding) slog.Level {
	lv := slog.LevelDebug
	for _, f := range fs {
		lv = max(lv, f.Level)
	}
	return lv
}

func (r *Report) update(fn func(c *Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&r.Counts)
}

// sort puts the findings in a stable order: workers finish points in
// any order.
func (r *Report) sort() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if c := strings.Compare(a.Point, b.Point); c != 0 {
			return c
		}
		return strings.Compare(a.URI, b.URI)
	})
}

// errMsg renders an error for a finding.
func errMsg(err error) string {
	var p *rpki.Problem
	if errors.As(err, &p) {
		return p.Error()
	}
	return err.Error()
}
