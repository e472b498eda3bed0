package netio

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Socket activation as sd_listen_fds(3) describes it: the service
// manager passes listening sockets as file descriptors from 3 on and
// tells the process how many in LISTEN_FDS, for which process in
// LISTEN_PID, and their FileDescriptorName= in LISTEN_FDNAMES (colon
// separated; systemd 227 and later).
const (
	listenFDsStart = 3
	envListenPID   = "LISTEN_PID"
	envListenFDs   = "LISTEN_FDS"
	envListenNames = "LISTEN_FDNAMES"
)

// maxListenFDs bounds LISTEN_FDS before the descriptors are walked: a
// socket unit with more than a few listeners is already unusual, and
// the default soft limit of open files (1024) caps what could be passed.
const maxListenFDs = 1024

// ErrNotActivated is returned by SystemdListeners when the environment
// passes no sockets to this process: LISTEN_FDS or LISTEN_PID unset, or
// LISTEN_PID naming another process (the sockets were meant for a parent
// that started us).
var ErrNotActivated = errors.New("no sockets passed by systemd (LISTEN_FDS and LISTEN_PID unset or meant for another process)")

// ActivatedListener is a listening socket passed by systemd.
type ActivatedListener struct {
	// Name is the socket's FileDescriptorName= from LISTEN_FDNAMES: by
	// default the name of the socket unit, "" when the service manager
	// passes no names.
	Name string
	// FD is the descriptor number the socket was passed as.
	FD int
	net.Listener
}

// SystemdListeners takes the listening sockets that systemd socket
// activation passed to this process. It unsets LISTEN_PID, LISTEN_FDS
// and LISTEN_FDNAMES first, whatever they hold, so that no child process
// takes the sockets for its own. Each socket is made non-blocking and
// close-on-exec (systemd passes them blocking and inheritable), so that
// rsync and other children do not hold them open. Every descriptor
// passed must be a listening stream socket; the error names the first
// that is not, and all are closed then.
func SystemdListeners() ([]ActivatedListener, error) {
	pid, fds, names := os.Getenv(envListenPID), os.Getenv(envListenFDs), os.Getenv(envListenNames)
	for _, k := range []string{envListenPID, envListenFDs, envListenNames} {
		if err := os.Unsetenv(k); err != nil {
			return nil, fmt.Errorf("systemd sockets: unset %s: %w", k, err)
		}
	}
	if pid == "" || fds == "" {
		return nil, ErrNotActivated
	}
	p, err := strconv.Atoi(pid)
	if err != nil {
		return nil, fmt.Errorf("systemd sockets: %s=%q is not a process ID", envListenPID, pid)
	}
	if p != os.Getpid() {
		return nil, ErrNotActivated
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 || n > maxListenFDs {
		return nil, fmt.Errorf("systemd sockets: %s=%q is not a count from 0 to %d", envListenFDs, fds, maxListenFDs)
	}
	var nameOf []string
	if names != "" {
		nameOf = strings.Split(names, ":")
		if len(nameOf) != n {
			closeFDs(listenFDsStart, n)
			return nil, fmt.Errorf("systemd sockets: %s names %d sockets, %s says %d", envListenNames, len(nameOf), envListenFDs, n)
		}
	}
	out := make([]ActivatedListener, 0, n)
	for i := range n {
		fd := listenFDsStart + i
		name := ""
		if nameOf != nil {
			name = nameOf[i]
		}
		l, err := activatedListener(fd, name)
		if err != nil {
			for _, a := range out {
				_ = a.Close() // the error below is what matters
			}
			closeFDs(fd+1, n-i-1)
			return nil, fmt.Errorf("systemd sockets: descriptor %d (%q): %w", fd, name, err)
		}
		out = append(out, ActivatedListener{Name: name, FD: fd, Listener: l})
	}
	return out, nil
}

// KeepAlive wraps l so that each TCP connection it accepts sends TCP
// keepalive probes after idle seconds without traffic (TCP_KEEPIDLE;
// the probe interval and count stay the system's), or none at all if
// idle is zero: Go's listeners turn keepalives on with their own period
// otherwise. A connection whose option cannot be set (it may already be
// reset) is returned all the same and logged at debug level; log may be
// nil. Accept errors pass through unchanged, so that the server can tell
// a temporary one (EMFILE, ECONNABORTED) from a closed listener.
func KeepAlive(l net.Listener, idle time.Duration, log *slog.Logger) net.Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &keepAliveListener{Listener: l, idle: idle, log: log}
}

type keepAliveListener struct {
	net.Listener
	idle time.Duration
	log  *slog.Logger
}

func (k *keepAliveListener) Accept() (net.Conn, error) {
	c, err := k.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := setKeepAlive(tc, k.idle); err != nil {
			k.log.Debug("tcp keepalive not set", "peer", c.RemoteAddr().String(), "err", err)
		}
	}
	return c, nil
}

// keepAliveSeconds rounds idle up to whole seconds, the unit of
// TCP_KEEPIDLE.
func keepAliveSeconds(idle time.Duration) int {
	return int((idle + time.Second - 1) / time.Second)
}

// envNotifySocket names the service manager's notification socket
// (sd_notify(3)).
const envNotifySocket = "NOTIFY_SOCKET"

// SDNotify sends state ("READY=1", "STOPPING=1", ...) to the service
// manager, as sd_notify(3) does, if it asked for notifications: a unit
// of Type=notify sets NOTIFY_SOCKET. Without it, SDNotify does nothing.
func SDNotify(state string) error {
	path := os.Getenv(envNotifySocket)
	if path == "" {
		return nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("%s: %w", envNotifySocket, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("%s: %w", envNotifySocket, err)
	}
	return nil
}
