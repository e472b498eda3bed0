package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/engine/payload"
)

// Publisher serves payload sets to routers: the RTR server. Publish
// hands it each new set; Serve serves RTR on one listener until ctx is
// done or the listener closes; Close ends every session.
type Publisher interface {
	Publish(set *payload.Set)
	Serve(ctx context.Context, l net.Listener) error
	Close() error
}

// Update is what a run of a source produced.
type Update struct {
	Set *payload.Set
	// Time is when the set's data was current: the start of the
	// validation run, or the relayed document's generation time. The
	// state file keeps it, for the restart rule.
	Time time.Time
	// Expires is the earliest time an object behind the set expires,
	// zero if unknown: the next run starts by then (not sooner than a
	// minute after this one).
	Expires time.Time
	// Unchanged says the source has nothing new (the relayed document is
	// not modified): Set is nil and the published set stays.
	Unchanged bool
	// Run is the validation run that made the set, for the HTTP
	// service's status and metrics; nil for a relayed or restored set.
	Run *runner.Run
}

// Source produces payload sets.
type Source interface {
	// Next runs once. It must return soon after ctx is done.
	Next(ctx context.Context) (*Update, error)
}

// Reloader is a Source that re-reads its configuration on SIGUSR1 (the
// validation source: the TALs). An error stops the server, as the
// manual says of TALs that cannot be read.
type Reloader interface {
	Reload() error
}

// Options configure a Server.
type Options struct {
	// Refresh is the wait after a successful run, Retry after a failed
	// one.
	Refresh, Retry time.Duration
	// Expire is the age beyond which the state file's set is not served
	// at start.
	Expire time.Duration
	// MaxVRPDrop is the collapse guard's threshold in percent of the
	// published VRPs; zero turns the guard off. MaxVRPDropRuns is the
	// number of runs in a row that must show the drop before it is
	// published (at least 1).
	MaxVRPDrop, MaxVRPDropRuns int
	// StateFile is where the published set is kept across restarts; ""
	// keeps none.
	StateFile string
	// Listen opens the RTR listeners. It is called once, when the first
	// set has been published; nil listens nowhere.
	Listen func() ([]net.Listener, error)
	// Signals delivers SIGINT, SIGTERM, SIGUSR1 and SIGUSR2.
	Signals <-chan os.Signal
	// Published, if set, is called after each set is published, the set
	// kept from before a restart included (restored): the HTTP service
	// follows the RTR server with it.
	Published func(upd *Update, restored bool)
	// Notify tells the service manager the server's state: "READY=1"
	// once it serves, "STOPPING=1" when it stops (a unit of Type=notify
	// waits for the first). nil tells nobody.
	Notify func(state string) error
	// FirstRunFatal makes a failure of the first run stop the server
	// when no set is served yet: for validation, where it means a
	// configuration that cannot work (no TALs, an unusable repository
	// directory). A relay keeps trying.
	FirstRunFatal bool
	// RunName names a run in the log ("validation run", "relay fetch").
	RunName string
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// minExpiryWait bounds how soon after a run an object's expiry may
// start the next one: at global scale some object always expires
// within minutes, and back-to-back runs would serve nobody.
const minExpiryWait = time.Minute

// GuardState is the state of the collapse guard.
type GuardState struct {
	// Holding says a smaller set is held back: the published one is
	// served instead.
	Holding bool
	// Runs counts the runs in a row that showed the drop.
	Runs int
	// Published and Candidate are the VRP counts of the set served and
	// of the set held back.
	Published, Candidate int
	// Since is when the first of these runs ended.
	Since time.Time
}

// Published is the set being served.
type Published struct {
	Set *payload.Set
	// Time is the Update's Time.
	Time time.Time
	// Restored says the set came from the state file at start.
	Restored bool
}

// Server runs the refresh loop.
type Server struct {
	src Source
	pub Publisher
	opt Options
	log *slog.Logger

	published atomic.Pointer[Published]

	mu    sync.Mutex
	guard GuardState
	// held is the set the guard holds back (only the loop touches it).
	held *Update

	listeners []net.Listener
	serving   sync.WaitGroup
	serveErr  chan error
}

// New returns a Server taking sets from src and publishing them to pub.
// Run owns pub from then on and closes it when it returns.
func New(src Source, pub Publisher, opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxVRPDropRuns < 1 {
		opt.MaxVRPDropRuns = 1
	}
	if opt.RunName == "" {
		opt.RunName = "run"
	}
	return &Server{src: src, pub: pub, opt: opt, log: opt.Logger, serveErr: make(chan error, 1)}
}

// Guard returns the collapse guard's state. It is safe to call at any
// time from any goroutine.
func (s *Server) Guard() GuardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.guard
}

// Current returns the set being served, nil before the first. It is safe
// to call at any time from any goroutine.
func (s *Server) Current() *Published { return s.published.Load() }

// errStop ends the loop without an error: a signal to stop.
var errStop = errors.New("stop")

// Run runs the loop until ctx is done or SIGINT or SIGTERM arrives (nil),
// or until it cannot go on: the first run failed with FirstRunFatal, the
// listeners could not be opened, serving failed, or a reload failed.
// Before it returns it closes the listeners and the publisher and waits
// for the sessions to end.
func (s *Server) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		s.notify("STOPPING=1")
		cancel()
		if cerr := s.shutdown(); err == nil {
			err = cerr
		}
	}()
	if s.restore() {
		if err := s.listen(ctx); err != nil {
			return err
		}
	}
	for {
		upd, again, err, stop := s.runOnce(ctx)
		if errors.Is(stop, errStop) {
			return nil
		} else if stop != nil {
			return stop
		}
		wait := s.opt.Refresh
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error(s.opt.RunName+" failed", "err", err)
			if s.opt.FirstRunFatal && s.Current() == nil {
				return err
			}
			wait = s.opt.Retry
		case upd.Unchanged:
			s.log.Debug(s.opt.RunName + ": nothing new")
		default:
			if err := s.apply(ctx, upd); err != nil {
				return err
			}
			wait = s.nextWait(upd)
		}
		if !again {
			if err := s.wait(ctx, wait); errors.Is(err, errStop) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
}

// runOnce runs the source once while handling signals and returns what
// the run gave (upd or err). SIGUSR1 during the run asks for another
// right after (again); SIGUSR2 releases a held set. A stop signal, a
// failed reload or a serving error cancel the run and come back as stop
// (errStop for a signal).
func (s *Server) runOnce(ctx context.Context) (upd *Update, again bool, err, stop error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		upd *Update
		err error
	}
	done := make(chan result, 1)
	go func() {
		u, err := s.src.Next(runCtx)
		if err == nil && u == nil {
			err = errors.New("no set")
		}
		done <- result{u, err}
	}()
	for {
		select {
		case r := <-done:
			return r.upd, again, r.err, nil
		case sig := <-s.opt.Signals:
			switch sig {
			case syscall.SIGUSR1:
				if err := s.reload(); err != nil {
					cancel()
					<-done
					return nil, false, nil, err
				}
				again = true
			case syscall.SIGUSR2:
				if err := s.release(ctx); err != nil {
					cancel()
					<-done
					return nil, false, nil, err
				}
			default:
				s.log.Info("stopping", "signal", sig.String())
				cancel()
				<-done
				return nil, false, nil, errStop
			}
		case err := <-s.serveErr:
			cancel()
			<-done
			return nil, false, nil, err
		case <-ctx.Done():
			<-done
			return nil, false, nil, errStop
		}
	}
}

// wait waits d, or less if a signal says so: SIGUSR1 ends the wait (a
// run follows), SIGUSR2 releases a held set and waits on, SIGINT and
// SIGTERM stop (errStop).
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	s.log.Debug("next run", "in", d.String())
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case sig := <-s.opt.Signals:
			switch sig {
			case syscall.SIGUSR1:
				return s.reload()
			case syscall.SIGUSR2:
				if err := s.release(ctx); err != nil {
					return err
				}
			default:
				s.log.Info("stopping", "signal", sig.String())
				return errStop
			}
		case err := <-s.serveErr:
			return err
		case <-ctx.Done():
			return errStop
		}
	}
}

// reload re-reads the source's configuration after SIGUSR1.
func (s *Server) reload() error {
	s.log.Info("SIGUSR1: starting a new run")
	if r, ok := s.src.(Reloader); ok {
		if err := r.Reload(); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
	}
	return nil
}

// nextWait is the time until the next run after a successful one.
func (s *Server) nextWait(upd *Update) time.Duration {
	wait := s.opt.Refresh
	if upd.Expires.IsZero() {
		return wait
	}
	if until := upd.Expires.Sub(s.opt.Now()); until > 0 && until < wait {
		wait = max(until, min(minExpiryWait, wait))
	}
	return wait
}

// apply runs the collapse guard on a new set and publishes it, unless
// the guard holds it back.
func (s *Server) apply(ctx context.Context, upd *Update) error {
	cur := s.Current()
	if cur != nil && s.opt.MaxVRPDrop > 0 {
		p, c := len(cur.Set.VRPs()), len(upd.Set.VRPs())
		if p > 0 && (p-c)*100 > s.opt.MaxVRPDrop*p {
			s.mu.Lock()
			if !s.guard.Holding {
				s.guard = GuardState{Holding: true, Since: s.opt.Now()}
			}
			s.guard.Runs++
			s.guard.Published, s.guard.Candidate = p, c
			g := s.guard
			s.mu.Unlock()
			drop := float64(p-c) * 100 / float64(p)
			if g.Runs < s.opt.MaxVRPDropRuns {
				s.held = upd
				s.log.Error("VRPs would drop beyond max-vrp-drop: still serving the previous set (SIGUSR2 publishes the new one)",
					"published", p, "new", c, "drop_percent", fmt.Sprintf("%.1f", drop), "runs", g.Runs, "max_vrp_drop_runs", s.opt.MaxVRPDropRuns)
				return nil
			}
			s.log.Warn("VRP drop beyond max-vrp-drop persisted: publishing the new set",
				"published", p, "new", c, "drop_percent", fmt.Sprintf("%.1f", drop), "runs", g.Runs)
		}
	}
	s.publish(upd, false)
	return s.listen(ctx)
}

// release publishes the held set after SIGUSR2.
func (s *Server) release(ctx context.Context) error {
	if s.held == nil {
		s.log.Info("SIGUSR2: no set held back")
		return nil
	}
	s.log.Warn("SIGUSR2: publishing the set held back", "published", len(s.Current().Set.VRPs()), "new", len(s.held.Set.VRPs()))
	s.publish(s.held, false)
	return s.listen(ctx)
}

// publish makes upd the served set: it ends a hold of the guard, hands
// the set to the publisher if it differs from the one served (a new
// serial for nothing would only make every router ask), keeps it in the
// state file.
func (s *Server) publish(upd *Update, restored bool) {
	s.held = nil
	s.mu.Lock()
	s.guard = GuardState{}
	s.mu.Unlock()
	cur := s.published.Swap(&Published{Set: upd.Set, Time: upd.Time, Restored: restored})
	if cur == nil || !payload.Compute(cur.Set, upd.Set).Empty() {
		s.pub.Publish(upd.Set)
		s.log.Debug("published", "vrps", len(upd.Set.VRPs()), "router_keys", len(upd.Set.RouterKeys()), "aspas", len(upd.Set.ASPAs()))
	}
	if s.opt.Published != nil {
		s.opt.Published(upd, restored)
	}
	if !restored && s.opt.StateFile != "" {
		if err := WriteState(s.opt.StateFile, upd.Set, upd.Time); err != nil {
			s.log.Warn("state file not written: a restart waits for the first run", "err", err)
		}
	}
}

// restore publishes the state file's set if it is young enough; it
// reports whether it did.
func (s *Server) restore() bool {
	if s.opt.StateFile == "" {
		return false
	}
	now := s.opt.Now()
	set, t, err := ReadState(s.opt.StateFile, now)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false
	case err != nil:
		s.log.Warn("state file not used", "err", err)
		return false
	case now.Sub(t) > s.opt.Expire:
		s.log.Info("state file not used: its set is older than expire", "time", t.UTC().Format(time.RFC3339))
		return false
	}
	s.log.Info("serving the set kept from the previous run until the first run ends", "time", t.UTC().Format(time.RFC3339), "vrps", len(set.VRPs()))
	s.publish(&Update{Set: set, Time: t}, true)
	return true
}

// listen opens the listeners once and serves RTR on each.
func (s *Server) listen(ctx context.Context) error {
	if s.listeners != nil || s.opt.Listen == nil {
		return nil
	}
	ls, err := s.opt.Listen()
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []net.Listener{}
	}
	s.listeners = ls
	defer s.notify("READY=1")
	for _, l := range ls {
		s.log.Info("serving RTR", "addr", l.Addr().String())
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			err := s.pub.Serve(ctx, l)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("stopped serving")
			}
			select {
			case s.serveErr <- fmt.Errorf("rtr %s: %w", l.Addr(), err):
			default:
			}
		}()
	}
	return nil
}

// notify tells the service manager state; a failure is only logged.
func (s *Server) notify(state string) {
	if s.opt.Notify == nil {
		return
	}
	if err := s.opt.Notify(state); err != nil {
		s.log.Warn("could not notify the service manager", "state", state, "err", err)
	}
}

// shutdown closes the listeners and the publisher and waits for the
// sessions to end.
func (s *Server) shutdown() error {
	var errs []error
	for _, l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.pub.Close())
	s.serving.Wait()
	return errors.Join(errs...)
}
