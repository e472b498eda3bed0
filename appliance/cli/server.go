package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/listen"
	"github.com/rovd/rovd/appliance/relay"
	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/rtrfast"
)

// newPublisher builds the RTR server that the server command publishes
// each new set to and serves RTR with; tests replace it.
var newPublisher = func(cfg *config.Config, log *slog.Logger) server.Publisher {
	return rtrfast.NewServer(rtrfast.Config{
		Refresh:       cfg.Refresh.Duration(),
		Retry:         cfg.Retry.Duration(),
		Expire:        cfg.Expire.Duration(),
		HistorySize:   cfg.HistorySize,
		EnableASPA:    cfg.EnableASPA,
		EnableBGPsec:  cfg.EnableBGPsec,
		ClientMetrics: cfg.RTRClientMetrics,
		// Zero is rtrfast's one minute between rounds of Serial Notify,
		// as draft-8210bis asks.
		NotifyInterval: notifyInterval,
		Logger:         log,
	})
}

// notifyInterval is the least time between two rounds of Serial Notify
// of the RTR server. Tests shorten it: with the default, a change
// published within a minute of the first set reaches routers only when
// that minute is up.
var notifyInterval time.Duration

// beforeValidation, if set, is called at the start of each validation
// run of the server; tests use it to hold a run.
var beforeValidation func()

// stateFile is the name of the server's state file in the repository
// directory: the set last published, served at once after a restart.
const stateFile = "served-set"

func runServer(g *globals, args []string, stdout, stderr io.Writer) int {
	fs, status, done := subcommand("server", "server [options]",
		"Runs as a server: validates the repository every refresh seconds and\n"+
			"serves the result over RTR, or with --source relays another validator's\n"+
			"JSON VRP list. It listens once the first run has ended, or at once when\n"+
			"the set published before a restart is at most expire seconds old.\n"+
			"SIGUSR1 starts a run at once, SIGUSR2 publishes a set that\n"+
			"--max-vrp-drop holds back, SIGINT and SIGTERM stop the server.",
		args, stdout, stderr, g.cfg.ServerFlags)
	if done {
		return status
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rovd server: %v\n", err)
		return ExitError
	}
	if err := g.cfg.ResolveServer(fs.Changed); err != nil {
		return fail(err)
	}
	log, closeLog, err := g.logger(stderr)
	if err != nil {
		return fail(err)
	}
	defer closeLog()
	// What each run logs is kept for the HTTP service's /log too.
	runLog := newRunLog(log.Handler())
	log = slog.New(runLog)
	if g.cfg.Detach {
		log.Warn("--detach and the daemon options take no effect yet: running in the foreground")
	}
	// Signals are taken from here on: none may end the process while the
	// state file or the store is written.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	ls, err := listen.Prepare(listen.FromConfig(&g.cfg, log))
	if err != nil {
		return fail(err)
	}
	defer ls.Close()
	httpListeners, err := ls.OpenHTTP()
	if err != nil {
		return fail(err)
	}

	opt := server.Options{
		Refresh:        g.cfg.Refresh.Duration(),
		Retry:          g.cfg.Retry.Duration(),
		Expire:         g.cfg.Expire.Duration(),
		MaxVRPDrop:     g.cfg.MaxVRPDrop,
		MaxVRPDropRuns: g.cfg.MaxVRPDropRuns,
		StateFile:      filepath.Join(g.cfg.RepositoryDir, stateFile),
		Listen:         ls.Open,
		Signals:        sigs,
		Notify:         netio.SDNotify,
		Logger:         log,
	}
	if g.cfg.Fresh {
		if err := os.Remove(opt.StateFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(err)
		}
	}
	var src server.Source
	if g.cfg.Source != "" {
		hc := runner.NetConfig(&g.cfg, nil, log).HTTP
		hc.KeepResponses = "" // an RRDP option; the relayed list is no RRDP file
		client, err := netio.NewHTTPClient(hc)
		if err != nil {
			return fail(err)
		}
		src = &server.Relay{Feed: relay.NewFeed(g.cfg.Source, client, g.cfg.Expire.Duration()), Logger: log}
		opt.RunName = "relay fetch"
	} else {
		// Broken exceptions at the start are an error; later, the last
		// good ones stay in force.
		ex, err := g.cfg.LoadExceptions()
		if err != nil {
			return fail(err)
		}
		first := true
		src = &server.Validator{
			Open: func(ex *payload.SLURM) (*runner.Runner, error) {
				cfg := g.cfg
				cfg.Fresh = cfg.Fresh && first // --fresh empties the store once
				first = false
				return runner.OpenWithExceptions(&cfg, log, false, ex)
			},
			LoadExceptions: g.cfg.LoadExceptions,
			Exceptions:     ex,
			Logger:         log,
			TALDir:         g.cfg.TALDir,
			BeforeRun:      beforeValidation,
		}
		opt.RunName = "validation run"
		opt.FirstRunFatal = true
	}
	pub := newPublisher(&g.cfg, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var web *httpService
	if len(httpListeners) > 0 {
		// The HTTP service listens from the start: until the first set
		// its data paths answer 503, /status and /version work.
		web = newHTTPService(&g.cfg, log, runLog, pub)
		opt.Published = web.published
	}
	srv := server.New(src, pub, opt)
	if web != nil {
		web.watchGuard(srv)
		web.serve(ctx, log, httpListeners)
	}
	err = srv.Run(ctx)
	cancel()
	if web != nil {
		web.wg.Wait()
	}
	if err != nil {
		return fail(err)
	}
	return ExitOK
}
