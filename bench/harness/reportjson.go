package harness

import (
	"encoding/json"
	"path/filepath"
	"time"
)

// ReportJSONFile is the machine-readable report a run writes into its
// directory.
const ReportJSONFile = "report.json"

// reportJSONFormat is the version of the layout of report.json.
const reportJSONFormat = 1

// ReportJSON is the content of report.json: every figure of the run
// with the facts of the machine it ran on, for tools that compare runs.
// Stages holds each stage's results as results.json stores them, under
// the same keys (NAME, NAME@SIZE); Scaling and Plots are derived from
// them.
type ReportJSON struct {
	Format    int       `json:"format"`
	Generated time.Time `json:"generated"`
	Preset    string    `json:"preset"`
	// Host has the CPU model, cores, memory, kernel, Go version and
	// the versions of the programs.
	Host HostInfo `json:"host"`
	// World is the preset's world, Worlds that of every size.
	World    WorldInfo                  `json:"world"`
	Worlds   map[string]WorldInfo       `json:"worlds,omitempty"`
	Stages   map[string]json.RawMessage `json:"stages"`
	Finished map[string]time.Time       `json:"finished"`
	Scaling  []ScalingTable             `json:"scaling,omitempty"`
	Plots    []PlotFile                 `json:"plots,omitempty"`
}

// WriteReportJSON writes DIR/report.json.
func WriteReportJSON(dir string, r *Results, plots []PlotFile) error {
	scaling, err := scalingTables(r)
	if err != nil {
		return err
	}
	rep := ReportJSON{
		Format:    reportJSONFormat,
		Generated: time.Now().UTC().Truncate(time.Second),
		Preset:    r.Preset,
		Host:      r.Host,
		World:     r.World,
		Worlds:    r.Worlds,
		Stages:    r.Stages,
		Finished:  r.Finished,
		Scaling:   scaling,
		Plots:     plots,
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ReportJSONFile), append(b, '\n'))
}
