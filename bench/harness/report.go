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
	fmt.Fprintf(w, "Validation from a filled store, %d run(s) each; rovd validates as of %s, the peers at the time they run.\n",
		r.Runs, r.ValidationTime.Format(time.RFC3339))
	fmt.Fprintf(w, "Full run: every object in the store, validation cache dropped (--cold-cache). "+
		"Incremental: cache kept, %g%% of the publication points changed and re-imported before each run.\n\n", r.MutatePercent)
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
		if p.Version != "" && p.ID != ProgRovdIncremental {
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
	fmt.Fprintf(w, ".\nStore import (rovd update --import, not measured above): %s s.\n", fmtSecs(r.ImportSecs))
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

// mdEscape keeps text from breaking a Markdown table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
