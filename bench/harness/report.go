package harness

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// WriteReport renders DIR/report.md from the results: a header on the
// world, the machine and the programs, each finished stage's section
// (every size of a Scaled stage, the preset's first), the scaling
// tables and the plots.
func WriteReport(dir string, r *Results, plots []PlotFile) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# rovd-bench run: preset %s\n\n", r.Preset)
	s := r.World.Stats
	fmt.Fprintf(&b, "World: seed %d, time %s; %d CAs, %d objects, %d ROAs, %d VRPs in the truth, %d faults.\n",
		r.World.Seed, r.World.Now.Format(time.RFC3339), s.CAs, s.Objects, s.ROAs, s.VRPs, s.Faults)
	fmt.Fprintf(&b, "Host: %d cores", r.Host.Cores)
	if r.Host.CPU != "" {
		fmt.Fprintf(&b, " (%s)", r.Host.CPU)
	}
	if r.Host.MemoryBytes > 0 {
		fmt.Fprintf(&b, ", %.1f GB of memory", float64(r.Host.MemoryBytes)/1e9)
	}
	if r.Host.Kernel != "" {
		fmt.Fprintf(&b, ", Linux %s", r.Host.Kernel)
	}
	fmt.Fprintf(&b, ", %s.\n", r.Host.GoVersion)
	if len(r.Host.Versions) > 0 {
		var vs []string
		for _, name := range slices.Sorted(maps.Keys(r.Host.Versions)) {
			vs = append(vs, fmt.Sprintf("%s: %s", name, r.Host.Versions[name]))
		}
		fmt.Fprintf(&b, "Programs: %s.\n", mdEscape(strings.Join(vs, "; ")))
	}
	for _, st := range stages {
		for _, key := range stageUnits(r, st.Name()) {
			_, sc, _ := unitScale(key)
			fmt.Fprintf(&b, "\n## Stage %s", st.Name())
			if !sc.IsFull() {
				w := r.Worlds[sc.String()].Stats
				fmt.Fprintf(&b, " at %s of the preset's size (%d CAs, %d objects, %d VRPs)", sc, w.CAs, w.Objects, w.VRPs)
			}
			if t, ok := r.Finished[key]; ok {
				fmt.Fprintf(&b, " (%s)", t.Format(time.RFC3339))
			}
			b.WriteString("\n\n")
			if err := st.Report(&b, r.Stages[key]); err != nil {
				return fmt.Errorf("report of stage %s: %w", key, err)
			}
			for _, p := range plots {
				if p.Unit == key {
					fmt.Fprintf(&b, "\n![%s](%s)\n", p.Title, p.File)
				}
			}
		}
	}
	tables, err := scalingTables(r)
	if err != nil {
		return err
	}
	for _, t := range tables {
		reportScaling(&b, &t, plots)
	}
	return writeFileAtomic(filepath.Join(dir, ReportFile), b.Bytes())
}

// reportScaling writes a Scaled stage's costs at every world size: the
// wall times with rovd's ratios to the peers and bounds, then the peak
// memory, then the plots.
func reportScaling(w io.Writer, t *ScalingTable, plots []PlotFile) {
	progs := t.programs()
	var rovd *ScalePoint
	for i := range progs {
		if progs[i].Rovd {
			rovd = &progs[i]
			break
		}
	}
	fmt.Fprintf(w, "\n## Scaling of stage %s\n\n", t.Stage)
	fmt.Fprintln(w, "Median wall time in seconds at each world size (relative to the preset). "+
		"A * marks VRPs that differ from the truth beyond what the injected faults explain (see the stage's section).")
	fmt.Fprintln(w)
	head := []string{"size", "CAs", "objects", "VRPs"}
	for _, p := range progs {
		head = append(head, p.Program)
	}
	var others []ScalePoint
	if rovd != nil {
		for _, p := range progs {
			if p.Program != rovd.Program && !p.Rovd {
				others = append(others, p)
				head = append(head, rovd.Program+" ÷ "+p.Program)
			}
		}
	}
	tableHeader(w, head)
	for _, row := range t.Rows {
		st := row.World.Stats
		cells := []string{row.Scale, fmt.Sprint(st.CAs), fmt.Sprint(st.Objects), fmt.Sprint(st.VRPs)}
		for _, p := range progs {
			cell := ""
			if q := row.point(p.Program); q != nil {
				cell = fmtSecs(q.WallSecs)
				if !q.Agrees {
					cell += " *"
				}
			}
			cells = append(cells, cell)
		}
		for _, o := range others {
			r, q := row.point(rovd.Program), row.point(o.Program)
			cell := ""
			if r != nil && q != nil && q.WallSecs > 0 {
				cell = fmt.Sprintf("%.3g", r.WallSecs/q.WallSecs)
			}
			cells = append(cells, cell)
		}
		tableRow(w, cells)
	}
	fmt.Fprintln(w, "\nPeak memory of each program's process tree in MB at each world size: RSS / anonymous RSS (medians).")
	fmt.Fprintln(w)
	head = []string{"size"}
	var mem []ScalePoint
	for _, p := range progs {
		if !p.Bound {
			mem = append(mem, p)
			head = append(head, p.Program)
		}
	}
	tableHeader(w, head)
	for _, row := range t.Rows {
		cells := []string{row.Scale}
		for _, p := range mem {
			cell := ""
			if q := row.point(p.Program); q != nil {
				anon := "—" // not measured (the rtr stage reads RSS alone)
				if q.PeakAnonBytes > 0 {
					anon = fmtMB(q.PeakAnonBytes)
				}
				cell = fmtMB(q.PeakRSSBytes) + " / " + anon
			}
			cells = append(cells, cell)
		}
		tableRow(w, cells)
	}
	for _, p := range plots {
		if p.Stage == t.Stage && p.Unit == "" {
			fmt.Fprintf(w, "\n![%s](%s)\n", p.Title, p.File)
		}
	}
}

func tableHeader(w io.Writer, cols []string) {
	tableRow(w, cols)
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(cols)))
}

func tableRow(w io.Writer, cells []string) {
	for i, c := range cells {
		cells[i] = mdEscape(c)
	}
	fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
}

func reportValidate(w io.Writer, r *ValidateResults) error {
	fmt.Fprintf(w, "Validation from a filled store, %d run(s) each; rovd validates as of %s (the world's time + 1 min), the peers at the time they run.\n\n",
		r.Runs, r.ValidationTime.Format(time.RFC3339))
	reportFill(w, &r.Fill)
	fmt.Fprintf(w, "- Full run: `rovd vrps -n --cold-cache`: every object in the store, validation cache ignored, no network; "+
		"with rovd's default of %s (one per CPU) and with `--validation-threads 1`, the runs of the two alternating.\n", threadsLabel(r.Threads))
	take := "the harness first fetches the changed repositories' RRDP deltas into rovd's store with rovd's own fetcher (not measured)"
	upd := "`rovd update`: fetching the changed repositories' RRDP deltas over loopback HTTPS from the harness's server, " +
		"which runs on the same cores (its CPU time is not in rovd's), and validating, as rovd's server does each refresh"
	if r.Fill.Method == FillImport {
		take = "the harness first imports the world's rsync tree into rovd's store (not measured)"
		upd = "`rovd update --import`: re-importing the whole rsync tree and validating"
	}
	fmt.Fprintf(w, "- Incremental run: %g%% of the publication points change (a minute later in world time); %s; "+
		"then `rovd vrps -n -f none` validates from the store with the cache kept: like the full run, no network; unlike it, no output, "+
		"so points reused from the cache are not asked for their payload. Since -n writes nothing, a `rovd update` (not measured) then writes the cache.\n",
		r.MutatePercent, take)
	fmt.Fprintf(w, "- Update after a change: another %g%% of the points change, then %s.\n", r.MutatePercent, upd)
	fmt.Fprintln(w, "- Their VRPs are those of a following `rovd vrps -n` (not measured), compared with the truth of the mutated world "+
		"(world.Mutate rewrites it); every other row is compared with the truth before any mutation.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| program | wall s (median, min–max) | CPU s | peak RSS MB | peak anon MB | VRPs | vs truth (missing/extra) | ratio to rovd full | ÷ signature floor |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	var fullWall float64
	for _, p := range r.Programs {
		if p.ID == ProgRovdFull && p.measured() {
			fullWall = p.WallSecs.Median
		}
	}
	var notes []string
	for _, p := range r.Programs {
		label := p.Label
		// The version once for rovd's rows, on the first.
		if p.Version != "" && (p.ID == ProgRovdFull || !strings.HasPrefix(p.ID, "rovd-")) {
			label += " (" + p.Version + ")"
		}
		if !p.measured() {
			why := p.Skipped
			if why == "" {
				why = "failed: " + p.Error
			} else {
				why = "skipped: " + why
			}
			fmt.Fprintf(w, "| %s | %s | | | | | | | |\n", label, mdEscape(why))
			continue
		}
		truth := "—"
		if c := p.Compare; c != nil {
			truth = fmt.Sprintf("%d / %d", c.Missing, c.Extra)
			if c.IgnoreTA {
				truth += " (TA ignored)"
			}
			if len(c.Examples) > 0 && r.Diff == nil {
				notes = append(notes, fmt.Sprintf("%s differs from the truth, e.g. %s", p.Label, strings.Join(c.Examples, " ")))
			}
		}
		ratio := "—"
		if fullWall > 0 {
			ratio = fmt.Sprintf("%.3g×", p.WallSecs.Median/fullWall)
		}
		vrps := "—"
		if p.Compare != nil {
			vrps = fmt.Sprint(p.Compare.VRPs)
		}
		floor := "—"
		if r.Floor.Secs > 0 {
			floor = fmt.Sprintf("%.3g×", p.WallSecs.Median/r.Floor.Secs)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, fmtSpread(p.WallSecs),
			fmtSecs(p.CPUSecs.Median), fmtMB(p.PeakRSSBytes.Median), fmtMB(p.PeakAnonBytes.Median), vrps, truth, ratio, floor)
		if p.Error != "" {
			notes = append(notes, fmt.Sprintf("%s stopped after %d run(s): %s", p.Label, len(p.Runs), p.Error))
		}
		for _, n := range p.Notes {
			notes = append(notes, p.Label+": "+n)
		}
	}
	f := r.Floor
	fmt.Fprintf(w, "\nSignature floor: %d verifications (%d certificates + %d CRLs + 2 × %d signed objects) × %s ms per verification ÷ %d cores = %s s",
		f.Verifications, f.Signatures.Certs, f.Signatures.CRLs, f.Signatures.Signed, fmtMillis(f.VerifySecs), f.Cores, fmtSecs(f.Secs))
	if fullWall > 0 && f.Secs > 0 {
		fmt.Fprintf(w, "; rovd full ÷ floor = %.2f", fullWall/f.Secs)
	}
	fmt.Fprintln(w, ".")
	if r.ThreadSpeedup > 0 {
		fmt.Fprintf(w, "\nThreads: rovd full with 1 thread ÷ with %s = %.2f× in wall time (speed-up of the %s).\n",
			threadsLabel(r.Threads), r.ThreadSpeedup, threadsLabel(r.Threads))
	}
	reportPeerRatios(w, r)
	for _, p := range r.Programs {
		if (p.ID == ProgRovdIncremental || p.ID == ProgRovdUpdate) && p.measured() {
			reportIncrementalRuns(w, &p)
		}
	}
	fmt.Fprintln(w, "\n| target | measured | status |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.Name, c.Value, c.Status)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", mdEscape(n))
		}
	}
	labels := map[string]string{"truth": "truth"}
	for _, p := range r.Programs {
		labels[p.ID] = shortLabel(p.ID, p.Label)
	}
	reportDiff(w, "rovd full and the peers beside the truth", r.Diff, labels)
	reportDiff(w, "the last incremental run beside the truth of the changed world", r.IncrementalDiff, labels)
	return nil
}

// reportPeerRatios writes rovd full's figures over each peer's.
func reportPeerRatios(w io.Writer, r *ValidateResults) {
	ratios := validateRatios(r)
	var peers []string
	for _, x := range ratios {
		if p, ok := strings.CutPrefix(x.Name, "rovd full ÷ "); ok && p != "signature floor" && !slices.Contains(peers, p) {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return
	}
	fmt.Fprintln(w, "\nrovd full beside each peer (below 1: rovd takes less):")
	fmt.Fprintln(w)
	tableHeader(w, []string{"peer", "rovd ÷ peer, wall", "rovd ÷ peer, CPU", "rovd ÷ peer, peak RSS", "rovd peak anon ÷ peer peak RSS"})
	for _, p := range peers {
		cells := []string{p}
		for _, of := range []string{"wall", "cpu", "peak RSS", "peak anon ÷ peak RSS"} {
			cell := "—"
			for _, x := range ratios {
				if x.Name == "rovd full ÷ "+p && x.Of == of {
					cell = fmt.Sprintf("%.3g", x.Value)
				}
			}
			cells = append(cells, cell)
		}
		tableRow(w, cells)
	}
}

// reportDiff lists the VRPs on which the lists of a DiffTable disagree:
// counts per list, then the first lines with their causes; the table's
// file has them all.
func reportDiff(w io.Writer, title string, d *DiffTable, labels map[string]string) {
	if d == nil {
		return
	}
	label := func(id string) string {
		if l, ok := labels[id]; ok {
			return l
		}
		return id
	}
	var names []string
	for _, s := range d.Sets[1:] {
		names = append(names, label(s))
	}
	fmt.Fprintf(w, "\nVRP differences, %s", title)
	ta := ""
	if d.IgnoreTA {
		ta = " (trust anchors left out: some list names none, or names them otherwise)"
	}
	if d.Lines == 0 {
		fmt.Fprintf(w, ": none; %s and the truth hold the same VRPs%s.\n", strings.Join(names, ", "), ta)
		return
	}
	fmt.Fprintf(w, ": %d VRP(s) are not in every list%s; %d of them explained by the world's injected faults or unsafe VRPs. "+
		"Every one is in `%s`.\n\n", d.Lines, ta, d.Explained, d.File)
	ref := ""
	if d.Ref > 0 {
		ref = label(d.Sets[d.Ref])
	}
	head := []string{"list", "missing vs truth", "extra vs truth", "unexplained"}
	if ref != "" {
		head = append(head, "missing vs "+ref, "extra vs "+ref)
	}
	tableHeader(w, head)
	for _, c := range d.Counts {
		cells := []string{label(c.Set), fmt.Sprint(c.Missing), fmt.Sprint(c.Extra), fmt.Sprint(c.Unexplained)}
		if ref != "" {
			if c.Set == d.Sets[d.Ref] {
				cells = append(cells, "—", "—")
			} else {
				cells = append(cells, fmt.Sprint(c.MissingVsRef), fmt.Sprint(c.ExtraVsRef))
			}
		}
		tableRow(w, cells)
	}
	fmt.Fprintln(w)
	head = []string{"VRP"}
	for _, s := range d.Sets {
		head = append(head, label(s))
	}
	tableHeader(w, append(head, "cause"))
	for _, l := range d.First {
		cells := []string{l.VRP}
		for _, in := range l.In {
			cell := "no"
			if in {
				cell = "yes"
			}
			cells = append(cells, cell)
		}
		cause := l.Cause
		if cause == "" {
			cause = "unexplained"
		}
		tableRow(w, append(cells, cause))
	}
	if d.Lines > len(d.First) {
		fmt.Fprintf(w, "\n(the first %d of %d; the rest in `%s`)\n", len(d.First), d.Lines, d.File)
	}
}

// reportFetch writes the fetch stage's section.
func reportFetch(w io.Writer, r *FetchResults) error {
	fmt.Fprintf(w, "Fetching the whole world into an empty store, %d run(s) each, the runs of the rows alternating; "+
		"rovd validates as of %s. Each `rovd update` also validates what it fetched (with an empty validation cache); "+
		"the validation alone is measured on the RRDP run's store right after it. "+
		"The world is served on loopback by the harness (HTTPS) and Debian's rsync daemon, on the same cores; their CPU time is not in rovd's. "+
		"Over rsync, rovd's rsync client processes are part of its process tree.\n\n",
		r.Runs, r.ValidationTime.Format(time.RFC3339))
	b := r.Bound
	tableHeader(w, []string{"program", "wall s (median, min–max)", "CPU s", "peak RSS MB", "peak anon MB", "fetched (last run)",
		"VRPs", "vs truth (missing/extra)", "÷ ingest bound"})
	var notes []string
	for _, p := range r.Programs {
		label := p.Label
		if p.Version != "" && p.ID == ProgUpdateRRDP {
			label += " (" + p.Version + ")"
		}
		if !p.measured() {
			tableRow(w, []string{label, "not measured", "", "", "", "", "", "", ""})
			continue
		}
		fetched := "—"
		if last := p.Runs[len(p.Runs)-1]; last.Fetch != nil {
			fetched = fmtFetch(last.Fetch)
		}
		vrps, truth := "—", "—"
		if c := p.Compare; c != nil {
			vrps, truth = fmt.Sprint(c.VRPs), fmt.Sprintf("%d / %d", c.Missing, c.Extra)
		}
		bound := "—"
		if b.Secs > 0 && p.ID != ProgValidationAlone {
			bound = fmt.Sprintf("%.3g×", p.WallSecs.Median/b.Secs)
		}
		tableRow(w, []string{label, fmtSpread(p.WallSecs), fmtSecs(p.CPUSecs.Median), fmtMB(p.PeakRSSBytes.Median),
			fmtMB(p.PeakAnonBytes.Median), fetched, vrps, truth, bound})
		for _, n := range p.Notes {
			notes = append(notes, p.Label+": "+n)
		}
	}
	tableRow(w, []string{"ingest bound: SHA-256 + base64 decoding of the snapshots, 1 core", fmtSecs(b.Secs), "", "", "",
		fmt.Sprintf("%d snapshot(s), %s, %d objects", b.Files, fmtSize(b.Bytes), b.Objects), "", "", "1×"})
	fmt.Fprintf(w, "\nIngest bound: %s of RRDP snapshots at %.0f MB/s (fastest of up to %d passes per file, each file read into memory first). "+
		"The rsync row stands beside the same bound: the same objects, which rsync carries without base64.",
		fmtSize(b.Bytes), b.MBPerSec, b.Passes)
	if r.FetchSecs > 0 && b.Secs > 0 {
		fmt.Fprintf(w, " The RRDP fetch alone, update less validation alone, takes about %s s: %.3g× the bound.", fmtSecs(r.FetchSecs), r.FetchSecs/b.Secs)
	}
	fmt.Fprintln(w)
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", mdEscape(n))
		}
	}
	labels := map[string]string{"truth": "truth"}
	for _, p := range r.Programs {
		labels[p.ID] = shortLabel(p.ID, p.Label)
	}
	reportDiff(w, "the stores filled over RRDP and over rsync beside the truth", r.Diff, labels)
	return nil
}

// reportFill says how rovd's store was filled.
func reportFill(w io.Writer, f *FillResult) {
	cost := fmt.Sprintf("%s s wall, %s s CPU, peak RSS %s MB, peak anon %s MB",
		fmtSecs(f.WallSecs), fmtSecs(f.CPUSecs), fmtMB(float64(f.PeakRSSBytes)), fmtMB(float64(f.PeakAnonBytes)))
	switch f.Method {
	case FillImport:
		fmt.Fprintf(w, "- Store fill (not in the table): `rovd update --import` from the world's rsync tree, %s. "+
			"The world could not be served on loopback (%s), so this is the fallback: no RRDP was used in this stage.\n", cost, mdEscape(f.Fallback))
	default:
		fmt.Fprintf(w, "- Store fill (not in the table): `rovd update` over RRDP from the world served on loopback, %s", cost)
		if s := f.Fetch; s != nil {
			fmt.Fprintf(w, "; fetched %s", fmtFetch(s))
		}
		fmt.Fprintln(w, ". It also fills the validation cache the incremental runs start from.")
	}
	for _, n := range f.Notes {
		fmt.Fprintf(w, "  - %s\n", mdEscape(n))
	}
}

// reportIncrementalRuns lists what each incremental run changed and
// fetched.
func reportIncrementalRuns(w io.Writer, p *ProgramResult) {
	fmt.Fprintf(w, "\n%s, each run:\n", p.Label)
	for i, r := range p.Runs {
		fmt.Fprintf(w, "- run %d: %d publication point(s) changed, %s s wall, %s s CPU", i+1, r.MutatedPoints, fmtSecs(r.WallSecs), fmtSecs(r.CPUSecs))
		if r.TakeInSecs > 0 {
			fmt.Fprintf(w, "; before it, %s s to bring the changes into the store", fmtSecs(r.TakeInSecs))
		}
		if r.Fetch != nil {
			fmt.Fprintf(w, "; fetched %s", fmtFetch(r.Fetch))
		}
		fmt.Fprintf(w, "; VRPs %d, missing/extra %d / %d\n", r.VRPs, r.Missing, r.Extra)
	}
}

func fmtFetch(s *FetchStats) string {
	out := fmt.Sprintf("%d notification, %d snapshot, %d delta and %d other file(s), %s", s.Notifications, s.Snapshots,
		s.Deltas, s.Other, fmtSize(s.Bytes))
	if s.NotModified > 0 {
		out += fmt.Sprintf(", %d not modified", s.NotModified)
	}
	if s.Failed > 0 {
		out += fmt.Sprintf(", %d failed", s.Failed)
	}
	out += fmt.Sprintf(", %d rsync connection(s)", s.RsyncConnections)
	return out
}

func fmtSpread(s Spread) string {
	if s.Min == s.Max {
		return fmtSecs(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtSecs(s.Median), fmtSecs(s.Min), fmtSecs(s.Max))
}

// fmtSecs prints seconds with about three significant digits.
func fmtSecs(x float64) string {
	switch {
	case x < 1:
		return fmt.Sprintf("%.3f", x)
	case x < 100:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

func fmtMillis(secs float64) string { return fmt.Sprintf("%.3f", secs*1000) }

func fmtMB(bytes float64) string { return fmt.Sprintf("%.1f", bytes/1e6) }

// fmtSize prints a byte count with its unit, kB below a megabyte.
func fmtSize(bytes int64) string {
	if bytes < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(bytes)/1e3)
	}
	return fmtMB(float64(bytes)) + " MB"
}

// mdEscape keeps text from breaking a Markdown table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
