package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/appliance/sockstat"
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

// Settle runs the daemon's change of directory, root, group and user on
// c with recording stand-ins for the system calls, running as euid, the
// call named fail failing. It returns the calls made, in order.
func Settle(c *config.Config, uid, gid, euid int, fail string) ([]string, error) {
	var calls []string
	rec := func(name string, arg any) error {
		calls = append(calls, fmt.Sprintf("%s %v", name, arg))
		if name == fail {
			return errors.New("refused")
		}
		return nil
	}
	sys := daemonSys{
		chdir:     func(dir string) error { return rec("chdir", dir) },
		chroot:    func(dir string) error { return rec("chroot", dir) },
		setgroups: func(gids []int) error { return rec("setgroups", gids) },
		setgid:    func(gid int) error { return rec("setgid", gid) },
		setuid:    func(uid int) error { return rec("setuid", uid) },
		geteuid:   func() int { return euid },
	}
	err := settle(c, ids{uid: uid, gid: gid}, sys)
	return calls, err
}

// LookupIDs returns the user and group IDs of --user and --group, -1
// for one not given.
func LookupIDs(userName, groupName string) (uid, gid int, err error) {
	id, err := lookupIDs(userName, groupName)
	return id.uid, id.gid, err
}

// LockPIDFile locks the pid file at path as the server does; remove
// removes and unlocks it.
func LockPIDFile(path string) (remove func(), err error) {
	p, err := lockPIDFile(path)
	if err != nil {
		return nil, err
	}
	return func() { p.remove(slog.New(slog.DiscardHandler)) }, nil
}

// SetSockStatOptions sets up the socket figures of rtr-client-metrics
// with opt until the returned function restores the default.
func SetSockStatOptions(opt sockstat.Options) (restore func()) {
	old := sockStatOptions
	sockStatOptions = opt
	return func() { sockStatOptions = old }
}
