package cli

import (
	"io"
	"log/slog"
	"time"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/server"
)

// SetStdin makes `validate -i -` read r until the returned function
// restores standard input.
func SetStdin(r io.Reader) (restore func()) {
	old := stdin
	stdin = r
	return func() { stdin = old }
}

// CommandNames lists the commands, in the order of rovd -h.
func CommandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// SetPublisher makes the server command publish through f until the
// returned function restores the RTR server.
func SetPublisher(f func(cfg *config.Config, log *slog.Logger) server.Publisher) (restore func()) {
	old := newPublisher
	newPublisher = f
	return func() { newPublisher = old }
}

// defaultPublisher is the server command's own RTR server (rtrfast),
// kept before any test replaces newPublisher.
var defaultPublisher = newPublisher

// DefaultPublisher builds the RTR server that the server command uses
// when no test replaced it.
func DefaultPublisher(cfg *config.Config, log *slog.Logger) server.Publisher {
	return defaultPublisher(cfg, log)
}

// SetNotifyInterval sets the least time between two rounds of Serial
// Notify of the RTR servers built from then on, until the returned
// function restores rtrfast's default.
func SetNotifyInterval(d time.Duration) (restore func()) {
	old := notifyInterval
	notifyInterval = d
	return func() { notifyInterval = old }
}

// SetBeforeValidation makes each validation run of the server call f
// first, until the returned function restores it.
func SetBeforeValidation(f func()) (restore func()) {
	old := beforeValidation
	beforeValidation = f
	return func() { beforeValidation = old }
}

// StateFile is the name of the server's state file.
const StateFile = stateFile
