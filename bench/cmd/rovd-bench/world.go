package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/bench/world"
)

func runWorld(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("world", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rovd-bench world [--preset NAME] [options] -o DIR")
		fmt.Fprintln(stderr, "       rovd-bench world --mutate PERCENT [--time T] -o DIR")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Generates an RPKI world (TALs, rsync tree, RRDP files, ground truth)")
		fmt.Fprintln(stderr, "into DIR, or mutates the world already there.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "options:")
		fs.PrintDefaults()
	}
	var (
		out       = fs.StringP("output", "o", "", "output directory (required)")
		preset    = fs.StringP("preset", "p", "small", "base configuration: "+strings.Join(world.Presets, ", "))
		seed      = fs.Int64("seed", 0, "random seed (default: the preset's)")
		at        = fs.String("time", "", "the world's current time, RFC 3339 (default: now)")
		tas       = fs.Int("tas", 0, "number of trust anchors")
		taNames   = fs.StringSlice("ta-names", nil, "trust anchor names, comma separated (sets --tas)")
		depth     = fs.Int("depth", 0, "CA levels below each trust anchor")
		topWidth  = fs.Int("top-width", 0, "children of each trust anchor")
		width     = fs.Int("width", 0, "mean children of every other CA")
		spread    = fs.Float64("width-spread", 0, "children vary by up to this share of the mean (0..1)")
		roas      = fs.Float64("roas", 0, "mean ROAs per CA")
		prefixes  = fs.Int("prefixes", 0, "maximum prefixes per ROA")
		ipv6      = fs.Float64("ipv6-share", 0, "share of IPv6 prefixes")
		maxLen    = fs.Float64("maxlength-share", 0, "share of prefixes with a maxLength above their length")
		aspas     = fs.Float64("aspas", 0, "ASPAs per CA")
		routers   = fs.Float64("routers", 0, "router certificates per CA")
		gbrs      = fs.Float64("gbrs", 0, "Ghostbusters records per CA")
		repos     = fs.Int("repos", 0, "number of repositories on 127.0.0.1:8873 (rsync) and :8443 (https)")
		repoSpecs = fs.StringArray("repo", nil, "a repository NAME=RSYNC-HOST[:PORT]/MODULE,HTTPS-HOST[:PORT] (repeatable; replaces --repos)")
		faults    = fs.String("faults", "", "faulty CAs: a count, or a share of all CAs such as 1%")
		keyCache  = fs.String("key-cache", world.DefaultKeyCache(), "directory of cached CA keys")
		mutate    = fs.Float64("mutate", 0, "mutate this percentage of the publication points of the world in DIR")
		quiet     = fs.BoolP("quiet", "q", false, "print only the summary")
		help      = fs.BoolP("help", "h", false, "show this help")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *help {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rovd-bench world: %v\n", err)
		return 1
	}
	var now time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fail(fmt.Errorf("--time: %w", err))
		}
		now = t
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()

	if fs.Changed("mutate") {
		if *mutate <= 0 || *mutate > 100 {
			return fail(errors.New("--mutate: want a percentage in (0, 100]"))
		}
		res, err := world.Mutate(ctx, *out, world.MutateOptions{Percent: *mutate, Now: now, KeyCache: *keyCache, Logger: log})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "mutated %d publication points in %d repositories in %s\n",
			res.Points, len(res.Repositories), time.Since(start).Round(time.Millisecond))
		printStats(stdout, res.Stats)
		return 0
	}

	cfg, err := world.Preset(*preset)
	if err != nil {
		return fail(err)
	}
	cfg.Now, cfg.KeyCache, cfg.Logger = now, *keyCache, log
	setInt := func(name string, dst *int, v int) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	setFloat := func(name string, dst *float64, v float64) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	if fs.Changed("seed") {
		cfg.Seed = *seed
	}
	setInt("tas", &cfg.TAs, *tas)
	if fs.Changed("ta-names") {
		cfg.TANames, cfg.TAs = *taNames, len(*taNames)
	}
	setInt("depth", &cfg.Depth, *depth)
	setInt("top-width", &cfg.TopWidth, *topWidth)
	setInt("width", &cfg.Width, *width)
	if fs.Changed("width") && !fs.Changed("top-width") {
		cfg.TopWidth = *width
	}
	setFloat("width-spread", &cfg.WidthSpread, *spread)
	setFloat("roas", &cfg.ROAsPerCA, *roas)
	setInt("prefixes", &cfg.MaxPrefixesPerROA, *prefixes)
	setFloat("ipv6-share", &cfg.IPv6Share, *ipv6)
	setFloat("maxlength-share", &cfg.MaxLengthShare, *maxLen)
	setFloat("aspas", &cfg.ASPARate, *aspas)
	setFloat("routers", &cfg.RouterRate, *routers)
	setFloat("gbrs", &cfg.GBRRate, *gbrs)
	if fs.Changed("repos") {
		cfg.Repositories = world.DefaultRepositories(*repos)
	}
	if len(*repoSpecs) > 0 {
		cfg.Repositories = nil
		for _, s := range *repoSpecs {
			r, err := parseRepo(s)
			if err != nil {
				return fail(err)
			}
			cfg.Repositories = append(cfg.Repositories, r)
		}
	}
	if *faults != "" {
		n, err := parseFaults(*faults, cfg)
		if err != nil {
			return fail(err)
		}
		cfg.Faults = n
	}
	wd, err := world.Build(ctx, cfg, *out)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "built world %q (seed %d, time %s) in %s into %s\n", *preset, wd.Config.Seed,
		wd.Config.Now.Format(time.RFC3339), time.Since(start).Round(time.Millisecond), *out)
	printStats(stdout, wd.Stats)
	return 0
}

func printStats(w io.Writer, s world.Stats) {
	fmt.Fprintf(w, "  CAs %d, objects %d, ROAs %d, VRPs %d, ASPAs %d, router keys %d, faults %d, bytes written %d\n",
		s.CAs, s.Objects, s.ROAs, s.VRPs, s.ASPAs, s.RouterKeys, s.Faults, s.Bytes)
}

// parseRepo parses NAME=RSYNC-HOST[:PORT]/MODULE,HTTPS-HOST[:PORT].
func parseRepo(s string) (world.Repository, error) {
	name, rest, ok1 := strings.Cut(s, "=")
	rs, https, ok2 := strings.Cut(rest, ",")
	host, module, ok3 := strings.Cut(rs, "/")
	if !ok1 || !ok2 || !ok3 || name == "" || host == "" || module == "" || https == "" {
		return world.Repository{}, fmt.Errorf("--repo %q: want NAME=RSYNC-HOST[:PORT]/MODULE,HTTPS-HOST[:PORT]", s)
	}
	return world.Repository{Name: name, Rsync: host, Module: module, HTTPS: https}, nil
}

// parseFaults reads a count or a percentage of the configuration's CAs.
func parseFaults(s string, cfg world.Config) (int, error) {
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || v < 0 || v > 100 {
			return 0, fmt.Errorf("--faults %q: want a count or a percentage", s)
		}
		return int(float64(cfg.ExpectedCAs())*v/100 + 0.5), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--faults %q: want a count or a percentage", s)
	}
	return n, nil
}
