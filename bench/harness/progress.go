package harness

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Step is a planned piece of a stage's work for the time estimate.
type Step struct {
	// Kind groups steps that take about as long as each other (the
	// three runs of one program).
	Kind string
	// Weight is the guess of a step's cost relative to the others,
	// used until a step of its kind has finished.
	Weight float64
}

// Progress prints progress lines with an estimate of the time left.
// The estimate of a kind is the mean of its finished steps; a kind not
// yet seen is priced by its weight at the rate of everything finished
// so far. It is crude at the start and good after one step of each
// kind, which is what a multi-hour run needs.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	stage   string
	left    map[string]int
	weight  map[string]float64
	spent   map[string]time.Duration
	count   map[string]int
	doneDur time.Duration
	doneW   float64
}

// NewProgress returns a Progress writing to w (nil discards).
func NewProgress(w io.Writer) *Progress {
	if w == nil {
		w = io.Discard
	}
	return &Progress{w: w}
}

// Plan starts a stage with its planned steps.
func (p *Progress) Plan(stage string, steps []Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage = stage
	p.left, p.weight = map[string]int{}, map[string]float64{}
	p.spent, p.count = map[string]time.Duration{}, map[string]int{}
	p.doneDur, p.doneW = 0, 0
	for _, s := range steps {
		p.left[s.Kind]++
		p.weight[s.Kind] = s.Weight
	}
}

// Printf prints a line tagged with the stage.
func (p *Progress) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printf(format, args...)
}

func (p *Progress) printf(format string, args ...any) {
	prefix := "rovd-bench run: "
	if p.stage != "" {
		prefix += p.stage + ": "
	}
	fmt.Fprintf(p.w, prefix+format+"\n", args...)
}

// Begin announces a step of a planned kind and returns the function
// that marks it finished.
func (p *Progress) Begin(kind, what string) (finish func()) {
	p.mu.Lock()
	left := p.estimate()
	if left < 0 {
		p.printf("%s (estimating time left)", what)
	} else {
		p.printf("%s (about %s left)", what, roundDuration(left))
	}
	p.mu.Unlock()
	start := time.Now()
	return func() {
		d := time.Since(start)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.left[kind] > 0 {
			p.left[kind]--
		}
		p.spent[kind] += d
		p.count[kind]++
		p.doneDur += d
		p.doneW += p.weight[kind]
	}
}

// Skip drops n planned steps of a kind that will not run.
func (p *Progress) Skip(kind string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.left[kind] = max(p.left[kind]-n, 0)
}

// estimate returns the time the steps not finished will take, or -1
// when nothing is known yet.
func (p *Progress) estimate() time.Duration {
	var total time.Duration
	for kind, n := range p.left {
		if n == 0 {
			continue
		}
		switch {
		case p.count[kind] > 0:
			total += time.Duration(n) * p.spent[kind] / time.Duration(p.count[kind])
		case p.doneW > 0:
			total += time.Duration(float64(n) * p.weight[kind] * float64(p.doneDur) / p.doneW)
		default:
			return -1
		}
	}
	return total
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(10 * time.Second)
	default:
		return d.Round(time.Second)
	}
}
