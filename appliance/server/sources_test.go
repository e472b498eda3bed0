package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/runner"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/engine/payload"
)

// TestValidatorExceptions checks the reload rule of the local
// exceptions: read before every run; a file broken since the last run
// leaves the previous exceptions in force, with a warning.
func TestValidatorExceptions(t *testing.T) {
	first := &payload.SLURM{}
	second := &payload.SLURM{}
	loads := []struct {
		ex  *payload.SLURM
		err error
	}{{second, nil}, {nil, errors.New("exceptions.json: line 3: bad prefix")}}
	var logs bytes.Buffer
	var used []*payload.SLURM
	errOpen := errors.New("no store in this test")
	v := &server.Validator{
		Open: func(ex *payload.SLURM) (*runner.Runner, error) {
			used = append(used, ex)
			return nil, errOpen
		},
		LoadExceptions: func() (*payload.SLURM, error) {
			l := loads[0]
			loads = loads[1:]
			return l.ex, l.err
		},
		Exceptions: first,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	}
	for range 2 {
		if _, err := v.Next(context.Background()); !errors.Is(err, errOpen) {
			t.Fatalf("Next: %v", err)
		}
	}
	if len(used) != 2 || used[0] != second || used[1] != second {
		t.Errorf("runs used exceptions %v, want the reloaded ones twice", used)
	}
	if !strings.Contains(logs.String(), "previous ones stay in force") || !strings.Contains(logs.String(), "bad prefix") {
		t.Errorf("no warning naming the broken file: %q", logs.String())
	}
}
