package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// ResultsFile and ReportFile are the names of the files a run writes
// into its directory.
const (
	ResultsFile = "results.json"
	ReportFile  = "report.md"
)

// resultsFormat is the version of the layout of results.json; a file of
// another version is not resumed from.
const resultsFormat = 2

// Results is the content of results.json: what was measured on which
// world and machine, one entry per finished stage.
type Results struct {
	Format int       `json:"format"`
	Preset string    `json:"preset"`
	World  WorldInfo `json:"world"`
	// Worlds describes the world of each size the stages ran on, by
	// Scale.String ("1" is World).
	Worlds map[string]WorldInfo `json:"worlds,omitempty"`
	Host   HostInfo             `json:"host"`
	// Stages holds each finished stage's results under its name; the
	// stage decodes its own entry.
	Stages map[string]json.RawMessage `json:"stages"`
	// Finished records when each stage finished.
	Finished map[string]time.Time `json:"finished"`
}

// WorldInfo identifies the world the results belong to.
type WorldInfo struct {
	Seed      int64       `json:"seed"`
	Now       time.Time   `json:"now"`
	KeyDigest string      `json:"keyDigest"`
	Stats     world.Stats `json:"stats"`
}

func worldInfo(st *world.State) WorldInfo {
	return WorldInfo{Seed: st.Config.Seed, Now: st.Config.Now, KeyDigest: st.KeyDigest, Stats: st.Stats}
}

// sameWorld tells whether results were measured on the world st
// describes (mutations aside: they are part of the stages' work).
func (w WorldInfo) sameWorld(o WorldInfo) bool {
	return w.Seed == o.Seed && w.Now.Equal(o.Now) && w.KeyDigest == o.KeyDigest
}

// HostInfo describes the machine.
type HostInfo struct {
	Cores     int    `json:"cores"`
	GoVersion string `json:"goVersion"`
	Kernel    string `json:"kernel,omitempty"`
	CPU       string `json:"cpu,omitempty"`
	// MemoryBytes is the machine's memory (MemTotal).
	MemoryBytes int64 `json:"memoryBytes,omitempty"`
	// Versions holds the first line each program prints for its
	// version option, by program: rovd, the peers, rsync.
	Versions map[string]string `json:"versions,omitempty"`
}

func hostInfo() HostInfo {
	h := HostInfo{Cores: Cores(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				h.MemoryBytes = parseKB([]byte(strings.TrimSpace(v)))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

// LoadResults reads DIR/results.json for a run on the world described by
// st. A missing file, one of another format or preset, or one measured
// on another world gives fresh results; the reason is returned for a
// log line.
func LoadResults(dir, preset string, st *world.State) (r *Results, discarded string, err error) {
	fresh := &Results{
		Format:   resultsFormat,
		Preset:   preset,
		World:    worldInfo(st),
		Worlds:   map[string]WorldInfo{},
		Host:     hostInfo(),
		Stages:   map[string]json.RawMessage{},
		Finished: map[string]time.Time{},
	}
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return fresh, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var old Results
	if err := json.Unmarshal(b, &old); err != nil {
		return fresh, fmt.Sprintf("%s is not readable (%v)", ResultsFile, err), nil
	}
	switch {
	case old.Format != resultsFormat:
		return fresh, fmt.Sprintf("%s has format %d, want %d", ResultsFile, old.Format, resultsFormat), nil
	case old.Preset != preset:
		return fresh, fmt.Sprintf("%s is for preset %q", ResultsFile, old.Preset), nil
	case !old.World.sameWorld(fresh.World):
		return fresh, fmt.Sprintf("%s was measured on another world (seed %d, time %s)", ResultsFile,
			old.World.Seed, old.World.Now.Format(time.RFC3339)), nil
	}
	if old.Stages == nil {
		old.Stages = map[string]json.RawMessage{}
	}
	if old.Finished == nil {
		old.Finished = map[string]time.Time{}
	}
	if old.Worlds == nil {
		old.Worlds = map[string]WorldInfo{}
	}
	// The machine's facts are those of this run; the versions of
	// programs not run this time are kept.
	host := fresh.Host
	host.Versions = old.Host.Versions
	old.Host = host
	old.World.Stats = fresh.World.Stats
	return &old, "", nil
}

// Done tells whether a stage's results are present.
func (r *Results) Done(stage string) bool {
	_, ok := r.Stages[stage]
	return ok
}

// Set stores a stage's results.
func (r *Results) Set(stage string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("stage %s: %w", stage, err)
	}
	r.Stages[stage] = b
	r.Finished[stage] = time.Now().UTC().Truncate(time.Second)
	return nil
}

// ReadStage reads the results of one stage from DIR/results.json into v.
func ReadStage(dir, stage string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", ResultsFile, err)
	}
	raw, ok := r.Stages[stage]
	if !ok {
		return fmt.Errorf("%s: no results of stage %s", ResultsFile, stage)
	}
	return json.Unmarshal(raw, v)
}

// Save writes DIR/results.json atomically, so that an interrupted run
// leaves the previous file intact.
func (r *Results) Save(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ResultsFile), append(b, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name()) // best effort: the error that matters is err
	}
	return err
}
