package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
)

// minMutateEvery keeps --mutate-every above the time a mutation of a
// large world takes.
const minMutateEvery = time.Second

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	return serveWorld(ctx, args, usr1, stdout, stderr)
}

// serveWorld runs the serve command until ctx ends; every value on
// mutateNow (SIGUSR1) applies one mutation.
func serveWorld(ctx context.Context, args []string, mutateNow <-chan os.Signal, stdout, stderr io.Writer) int {
	fs, parse := commandFlags("serve", "serve [options] DIR",
		"Serves the world in DIR (made by 'rovd-bench world') over HTTPS (RRDP and\n"+
			"the TA certificates) and rsync, where its world.json says, until SIGINT or\n"+
			"SIGTERM. SIGUSR1 applies one mutation of --mutate percent at once. The test\n"+
			"CA and the rsync daemons' files are kept in DIR/serve/.", 1, stderr)
	var (
		mutate   = fs.Float64("mutate", 1, "percentage of the publication points each mutation changes")
		every    = fs.Duration("mutate-every", 0, "mutate the world this often while serving (0: only on SIGUSR1)")
		noGzip   = fs.Bool("no-gzip", false, "never gzip HTTPS responses")
		http1    = fs.Bool("http1", false, "offer HTTP/1.1 only, no HTTP/2")
		noRsync  = fs.Bool("no-rsync", false, "serve RRDP only, start no rsync daemon")
		keyCache = fs.String("key-cache", world.DefaultKeyCache(), "directory of cached CA keys (mutations need the world's keys)")
		quiet    = fs.BoolP("quiet", "q", false, "log only warnings and errors")
	)
	if status, done := parse(args, stdout); done {
		return status
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rovd-bench serve: %v\n", err)
		return 1
	}
	if *mutate <= 0 || *mutate > 100 {
		return fail(errors.New("--mutate: want a percentage in (0, 100]"))
	}
	if *every < 0 || (*every > 0 && *every < minMutateEvery) {
		return fail(fmt.Errorf("--mutate-every: want 0 or at least %s", minMutateEvery))
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	srv, err := serve.Start(ctx, fs.Arg(0), serve.Options{
		NoGzip: *noGzip, HTTP1Only: *http1, NoRsync: *noRsync, KeyCache: *keyCache, Logger: log,
	})
	if err != nil {
		return fail(err)
	}
	printServing(stdout, srv, *noRsync)
	if *every > 0 {
		fmt.Fprintf(stdout, "mutating %g%% of the publication points every %s and on SIGUSR1 (kill -USR1 %d)\n", *mutate, *every, os.Getpid())
	} else {
		fmt.Fprintf(stdout, "SIGUSR1 mutates %g%% of the publication points (kill -USR1 %d)\n", *mutate, os.Getpid())
	}
	fmt.Fprintln(stdout, "stop with Ctrl-C or SIGTERM")

	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick:
			mutateOnce(ctx, srv, *mutate, log)
		case <-mutateNow:
			mutateOnce(ctx, srv, *mutate, log)
		}
	}
	if err := srv.Close(); err != nil {
		return fail(err)
	}
	return 0
}

// mutateOnce applies one mutation; a failed one is logged and serving
// goes on with the world as it was.
func mutateOnce(ctx context.Context, srv *serve.Server, percent float64, log *slog.Logger) {
	start := time.Now()
	res, err := srv.Mutate(ctx, percent)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("mutation failed", "err", err)
		}
		return
	}
	st, err := srv.State()
	if err != nil {
		log.Error("mutation: read state", "err", err)
		return
	}
	var serials []string
	for _, r := range st.Repositories {
		serials = append(serials, fmt.Sprintf("%s=%d", r.Name, r.Serial))
	}
	log.Info("mutated", "points", res.Points, "repos", strings.Join(res.Repositories, ","),
		"serial", strings.Join(serials, ","), "vrps", res.Stats.VRPs, "elapsed", time.Since(start).Round(time.Millisecond))
}

// printServing tells where the world is served and what a relying party
// needs to fetch it.
func printServing(w io.Writer, srv *serve.Server, noRsync bool) {
	fmt.Fprintf(w, "serving %s\n", srv.Dir())
	for _, u := range srv.NotifyURIs() {
		fmt.Fprintf(w, "  rrdp   %s\n", u)
	}
	if !noRsync {
		for _, u := range srv.RsyncModules() {
			fmt.Fprintf(w, "  rsync  %s\n", u)
		}
	}
	for _, u := range srv.TAURIs() {
		fmt.Fprintf(w, "  ta     %s\n", u)
	}
	for _, p := range srv.TALs() {
		fmt.Fprintf(w, "  tal    %s\n", p)
	}
	fmt.Fprintf(w, "  ca     %s\n", srv.CAFile())
	for _, p := range srv.RsyncLogs() {
		fmt.Fprintf(w, "  log    %s\n", p)
	}
	flags := []string{"--tal-dir", shellQuote(srv.TALDir()), "--rrdp-root-cert", shellQuote(srv.CAFile()), "--allow-dubious-hosts"}
	if noRsync {
		flags = append(flags, "--disable-rsync")
	}
	fmt.Fprintf(w, "relying party options:\n  %s\n", strings.Join(flags, " "))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
