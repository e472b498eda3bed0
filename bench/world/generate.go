package world

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// prepared is a plan with its keys, ready to build.
type prepared struct {
	cfg Config
	p   *plan
	b   *builder
}

func prepare(ctx context.Context, cfg Config) (*prepared, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	log := cfg.logger()
	start := time.Now()
	p, err := makePlan(&cfg)
	if err != nil {
		return nil, err
	}
	log.Info("planned world", "cas", len(p.cas), "faults", len(p.faults), "elapsed", time.Since(start))
	ks := &KeySource{CacheDir: cfg.KeyCache}
	if cfg.Logger != nil {
		last := time.Now()
		ks.Progress = func(done, total int) {
			if time.Since(last) > 10*time.Second || done == total {
				last = time.Now()
				log.Info("generating CA keys", "done", done, "total", total)
			}
		}
	}
	keys, err := ks.CAKeys(ctx, len(p.cas))
	if err != nil {
		return nil, err
	}
	b, err := newBuilder(p, keys)
	if err != nil {
		return nil, err
	}
	p.cfg = &cfg
	return &prepared{cfg: cfg, p: p, b: b}, nil
}

// Stream generates the world of cfg and hands each published object to
// emit, from one goroutine, in a fixed order: trust anchor certificates
// first, then the publication points in breadth-first order of the CA
// tree. Signing runs on all cores; at most a few publication points are
// held in memory at a time, so worlds of any size stream in bounded
// memory. The returned World has everything but Objects. The bytes handed
// to emit are never reused, so emit may keep them.
func Stream(ctx context.Context, cfg Config, emit func(*Object) error) (*World, error) {
	pr, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return pr.stream(ctx, emit)
}

func (pr *prepared) stream(ctx context.Context, emit func(*Object) error) (*World, error) {
	p, b := pr.p, pr.b
	w := &World{Config: pr.cfg, Sessions: map[string]string{}, keyDigest: b.keyDigest()}
	for _, r := range pr.cfg.Repositories {
		w.Sessions[r.Name] = sessionID(pr.cfg.Seed, r.Name)
	}
	for _, n := range p.cas[:pr.cfg.TAs] {
		ta, err := b.taObjects(n)
		if err != nil {
			return nil, err
		}
		w.TAs = append(w.TAs, ta)
		o := &Object{URI: ta.RsyncURI, Repo: ta.Repo, CA: n.name, Kind: KindTACert, Bytes: ta.Cert}
		if err := emit(o); err != nil {
			return nil, err
		}
		w.Stats.Objects++
		w.Stats.Bytes += int64(len(o.Bytes))
	}
	err := buildOrdered(ctx, len(p.cas), func(i int) (*point, error) {
		return b.buildPoint(p.cas[i], nil)
	}, func(pt *point) error {
		for i := range pt.objects {
			o := &pt.objects[i]
			if o.Kind == KindROA {
				w.Stats.ROAs++
			}
			w.Stats.Objects++
			w.Stats.Bytes += int64(len(o.Bytes))
			if err := emit(o); err != nil {
				return err
			}
		}
		return nil
	}, pr.cfg.logger())
	if err != nil {
		return nil, err
	}
	w.Truth = p.truth(b)
	w.Stats.CAs = len(p.cas)
	w.Stats.VRPs = len(w.Truth.VRPs)
	w.Stats.ASPAs = len(w.Truth.ASPAs)
	w.Stats.RouterKeys = len(w.Truth.RouterKeys)
	w.Stats.Faults = len(w.Truth.Faults)
	return w, nil
}

// Generate builds the whole world in memory. Use it for small worlds;
// Build streams large ones to disk.
func Generate(ctx context.Context, cfg Config) (*World, error) {
	var objs []Object
	w, err := Stream(ctx, cfg, func(o *Object) error {
		objs = append(objs, *o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.Objects = objs
	return w, nil
}

// buildOrdered runs build(i) for i in [0, n) on all cores and hands the
// results to emit in index order. A window bounds how far building may run
// ahead of emitting, and so the memory held.
func buildOrdered(ctx context.Context, n int, build func(int) (*point, error), emit func(*point) error, log *slog.Logger) error {
	workers := runtime.GOMAXPROCS(0)
	window := 8 * workers
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type result struct {
		pt  *point
		err error
	}
	done := make([]chan result, n)
	for i := range done {
		done[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, window)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				pt, err := build(i)
				done[i] <- result{pt, err}
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	last := time.Now()
	for i := range n {
		var r result
		select {
		case r = <-done[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := emit(r.pt); err != nil {
			return err
		}
		<-slots
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			log.Info("building publication points", "done", i+1, "total", n)
		}
	}
	return nil
}
