package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
)

func runRun(args []string, stdout, stderr io.Writer) int {
	fs, parse := commandFlags("run", "run [--preset NAME] [options] -o DIR",
		"Runs the benchmark stages on the preset's world (built into DIR/world unless\n"+
			"it is there already): rovd beside rpki-client and FORT, each measured for wall\n"+
			"and CPU time and peak memory of its process tree and checked against the\n"+
			"world's truth. Results go to DIR/results.json, DIR/report.md, DIR/report.json\n"+
			"and the plots in DIR/plots; a stage whose results are in DIR/results.json is\n"+
			"skipped, so an interrupted run resumes.\n"+
			"\n"+
			"The fetch stage fetches the whole world into an empty store with 'rovd update',\n"+
			"over RRDP and over rsync, beside the ingest bound (SHA-256 and base64 of the\n"+
			"snapshots on one core). The validate stage measures a full and an incremental\n"+
			"validation from a filled store beside the peers and the signature floor; with\n"+
			"--scale it runs on worlds of each size, built from the preset into\n"+
			"DIR/worlds/SIZE and reused (the rtr stage too, with that share of its VRPs). Both serve the world on loopback on the ports in\n"+
			"its world.json (127.0.0.1:8443 and :8873 for the presets).\n"+
			"\n"+
			"The rtr and http stages run 'rovd server --source' relaying a generated VRP\n"+
			"set of the preset's size (800,000 at world). The http stage times the first\n"+
			"request of every output format, then /json and the validity API under 1, 16\n"+
			"and 64 concurrent clients for --http-round each, beside a bare fasthttp server\n"+
			"answering with the same bytes, and rovd's memory with RTR sessions connected.", 0, stderr)
	var (
		out      = fs.StringP("output", "o", "", "output directory (required)")
		preset   = fs.StringP("preset", "p", "small", "world preset: "+strings.Join(world.Presets, ", "))
		runs     = fs.Int("runs", 0, "measured runs of each program (default 3, 1 for the world preset)")
		stages   = fs.StringSlice("stages", harness.StageNames(), "stages to run: "+strings.Join(harness.StageNames(), ", "))
		scale    = fs.StringSlice("scale", []string{"1"}, "world sizes relative to the preset for the validate and rtr stages, e.g. 1/8,1/4,1/2,1")
		redo     = fs.Bool("redo", false, "run the stages again even if DIR/results.json holds their results")
		peers    = fs.StringSlice("peers", harness.Peers, "peers to run beside rovd, each if installed; 'none' for none")
		rovd     = fs.String("rovd", "", "the rovd binary (default: build ./cmd/rovd of this module into DIR/bin/rovd)")
		keyCache = fs.String("key-cache", world.DefaultKeyCache(), "directory of cached CA keys")
		timeout  = fs.Duration("timeout", harness.DefaultTimeout, "time limit of each program run")
		mutate   = fs.Float64("mutate", 1, "percentage of publication points changed before each incremental run")
		floor    = fs.Duration("floor-time", harness.DefaultFloorDuration, "how long RSA verification and the ingest bound are measured")
		httpRnd  = fs.Duration("http-round", 0, "length of each load round of the http stage (default by preset: 500ms small, 2s medium, 5s world)")
		quiet    = fs.BoolP("quiet", "q", false, "no world generator log")
	)
	if status, done := parse(args, stdout); done {
		return status
	}
	if *out == "" {
		fs.Usage()
		return 2
	}
	if slices.Equal(*peers, []string{"none"}) {
		*peers = nil
	}
	scales, err := harness.ParseScales(*scale)
	if err != nil {
		fmt.Fprintf(stderr, "rovd-bench run: --scale: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err = harness.Run(ctx, harness.Options{
		Preset:        *preset,
		Dir:           *out,
		Runs:          *runs,
		Stages:        *stages,
		Scale:         scales,
		Redo:          *redo,
		Peers:         *peers,
		Rovd:          *rovd,
		KeyCache:      *keyCache,
		Timeout:       *timeout,
		MutatePercent: *mutate,
		FloorDuration: *floor,
		HTTPRound:     *httpRnd,
		Progress:      stderr,
		Logger:        slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "rovd-bench run: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "finished in %s; report in %s/%s, %s/%s and %s/%s\n", time.Since(start).Round(time.Second),
		*out, harness.ReportFile, *out, harness.ReportJSONFile, *out, harness.PlotsDir)
	return 0
}
