package harness

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// WriteReport renders DIR/report.md from the results: a header on the
// world and the machine, then each finished stage's section.
func WriteReport(dir string, r *Results) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# rovd-bench run: preset %s\n\n", r.Preset)
	s := r.World.Stats
	fmt.Fprintf(&b, "World: seed %d, time %s; %d CAs, %d objects, %d ROAs, %d VRPs in the truth, %d faults.\n",
		r.World.Seed, r.World.Now.Format(time.RFC3339), s.CAs, s.Objects, s.ROAs, s.VRPs, s.Faults)
	fmt.Fprintf(&b, "Host: %d cores", r.Host.Cores)
	if r.Host.CPU != "" {
		fmt.Fprintf(&b, " (%s)", r.Host.CPU)
	}
	if r.Host.Kernel != "" {
		fmt.Fprintf(&b, ", Linux %s", r.Host.Kernel)
	}
	fmt.Fprintf(&b, ", %s.\n", r.Host.GoVersion)
	for _, st := range stages {
		raw, ok := r.Stages[st.Name()]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n## Stage %s", st.Name())
		if t, ok := r.Finished[st.Name()]; ok {
			fmt.Fprintf(&b, " (%s)", t.Format(time.RFC3339))
		}
		b.WriteString("\n\n")
		if err := st.Report(&b, raw); err != nil {
			return fmt.Errorf("report of stage %s: %w", st.Name(), err)
		}
	}
	return writeFileAtomic(filepath.Join(dir, ReportFile), b.Bytes())
}

func reportValidate(w io.Writer, r *ValidateResults) error {
	fmt.Fprintf(w, "Validation from a filled store, %d run(s) each; rovd validates as of %s (the world's time + 1 min), the peers at the time they run.\n\n",
		r.Runs, r.ValidationTime.Format(time.RFC3339))
	reportFill(w, &r.Fill)
	fmt.Fprintf(w, "- Full run: `rovd vrps -n --cold-cache`: every object in the store, validation cache ignored, no network; "+
		"with rovd's default of %s (one per CPU) and with `--validation-threads 1`, the runs of the two alternating.\n", threadsLabel(r.Threads))
	if r.Fill.Method == FillImport {
		fmt.Fprintf(w, "- Incremental run: `rovd update --import` after %g%% of the publication points changed (a minute later in world time), "+
			"cache kept: it re-imports the whole rsync tree and validates, so its time includes the import, not an RRDP fetch.\n", r.MutatePercent)
	} else {
		fmt.Fprintf(w, "- Incremental run: `rovd update` after %g%% of the publication points changed (a minute later in world time), "+
			"cache kept: its time includes fetching the changed repositories' RRDP deltas "+
			"over loopback HTTPS from the harness's server, which runs on the same cores (its CPU time is not in rovd's). "+
			"Like `vrps -f none`, `update` builds no payload set: points it reuses from the cache are not asked for their payload.\n", r.MutatePercent)
	}
	fmt.Fprintln(w, "- Its VRPs are those of a following `rovd vrps -n` (not measured), compared with the truth of the mutated world "+
		"(world.Mutate rewrites it); every other row is compared with the truth before any mutation.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| program | wall s (median, min–max) | CPU s | peak RSS MB | peak anon MB | VRPs | vs truth (missing/extra) | ratio to rovd full |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
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
			fmt.Fprintf(w, "| %s | %s | | | | | | |\n", label, mdEscape(why))
			continue
		}
		truth := "—"
		if c := p.Compare; c != nil {
			truth = fmt.Sprintf("%d / %d", c.Missing, c.Extra)
			if c.IgnoreTA {
				truth += " (TA ignored)"
			}
			if len(c.Examples) > 0 {
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
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label, fmtSpread(p.WallSecs),
			fmtSecs(p.CPUSecs.Median), fmtMB(p.PeakRSSBytes.Median), fmtMB(p.PeakAnonBytes.Median), vrps, truth, ratio)
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
	for _, p := range r.Programs {
		if p.ID == ProgRovdIncremental && p.measured() {
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
	fmt.Fprintln(w, "\nIncremental runs:")
	for i, r := range p.Runs {
		fmt.Fprintf(w, "- run %d: %d publication point(s) changed, %s s wall, %s s CPU", i+1, r.MutatedPoints, fmtSecs(r.WallSecs), fmtSecs(r.CPUSecs))
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
