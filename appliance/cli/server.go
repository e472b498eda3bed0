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
	"github.com/rovd/rovd/appliance/logging"
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
			"--max-vrp-drop holds back, SIGHUP reopens the log file, SIGINT and\n"+
			"SIGTERM stop the server. With -d it runs as a daemon.",
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
	pipe, err := daemonPipe()
	if err != nil {
		return fail(err)
	}
	if g.cfg.Detach && pipe == nil {
		if g.cfg.ListenSystemd {
			// systemd's sockets belong to this process: a daemon
			// started anew could not take them.
			return fail(errors.New("--detach and --listen-systemd exclude each other: under systemd, rovd runs in the foreground"))
		}
		return detach(g.args, stderr)
	}
	// From here on, a daemon reports errors to the terminal through the
	// pipe until it has started.
	st := &startup{pipe: pipe, stderr: stderr}
	fail = st.fail
	lg, err := logging.Open(g.cfg.Logging(), stderr)
	if err != nil {
		if g.cfg.Detach && (g.cfg.Log == "" || g.cfg.Log == "default") {
			err = fmt.Errorf("%w (detached, rovd logs to syslog unless --logfile or the log key says otherwise)", err)
		}
		return fail(err)
	}
	defer lg.Close()
	log := lg.Logger
	// What each run logs is kept for the HTTP service's /log too.
	runLog := newRunLog(log.Handler())
	log = slog.New(runLog)
	st.log = log
	var pid *pidFile
	if g.cfg.PIDFile != "" {
		if pid, err = lockPIDFile(g.cfg.PIDFile); err != nil {
			return fail(err)
		}
		defer pid.remove(log)
	}
	// Signals are taken from here on: none may end the process while the
	// state file or the store is written.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	if lg.File() != "" || g.cfg.Detach {
		defer reopenOnHUP(lg)()
	}

	ls, err := listen.Prepare(listen.FromConfig(&g.cfg, log))
	if err != nil {
		return fail(err)
	}
	defer ls.Close()
	httpListeners, err := ls.OpenHTTP()
	if err != nil {
		return fail(err)
	}
	// Loaded before a daemon gives up its privileges.
	sock := openSockStats(&g.cfg, len(httpListeners) > 0, log)
	if sock != nil {
		defer sock.Close()
	}
	switch {
	case g.cfg.Detach:
		// A daemon binds every address before it reports its start and
		// before it gives up its privileges (ports below 1024 need
		// them); routers that connect early wait for the first set.
		if err := ls.Bind(); err != nil {
			return fail(err)
		}
		if err := becomeDaemon(&g.cfg, lg, pid, osDaemonSys); err != nil {
			return fail(err)
		}
	case daemonOptions(&g.cfg):
		log.Info("working-dir, chroot, user and group take effect only with --detach")
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
	if sock != nil {
		opt.Listen = watchRTR(sock, ls.Open, log)
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
	if r, ok := src.(server.Reloader); ok && pipe != nil {
		// The commonest mistake, a TAL directory without TALs, shows on
		// the terminal rather than in the log after the start.
		if err := r.Reload(); err != nil {
			return fail(err)
		}
	}
	pub := newPublisher(&g.cfg, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var web *httpService
	if len(httpListeners) > 0 {
		// The HTTP service listens from the start: until the first set
		// its data paths answer 503, /status and /version work.
		web = newHTTPService(&g.cfg, log, runLog, pub, sock)
		opt.Published = web.published
	}
	srv := server.New(src, pub, opt)
	if web != nil {
		web.watchGuard(srv)
		web.serve(ctx, log, httpListeners)
	}
	st.done()
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

// reopenOnHUP reopens the log file on each SIGHUP, so that logrotate
// can rename it, until the returned function is called. A daemon
// without a log file ignores SIGHUP rather than end on it.
func reopenOnHUP(lg *logging.Log) (stop func()) {
	hasFile := lg.File() != ""
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-hup:
				switch err := lg.Reopen(); {
				case !hasFile:
					lg.Logger.Debug("SIGHUP: no log file to reopen")
				case err != nil:
					lg.Logger.Error("SIGHUP: log file not reopened", "err", err)
				default:
					lg.Logger.Info("SIGHUP: log file reopened")
				}
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}
