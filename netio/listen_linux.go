package netio

import (
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// activatedListener turns the passed descriptor fd into a listener. The
// descriptor is closed afterwards, also on error: it was passed to us.
func activatedListener(fd int, name string) (net.Listener, error) {
	accepting, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		_ = unix.Close(fd) // not a socket, or no descriptor at all
		return nil, errors.New("not a socket")
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil || typ != unix.SOCK_STREAM || accepting == 0 {
		_ = unix.Close(fd) // the error says what is wrong
		return nil, errors.New("not a listening stream socket")
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd) // the error says what is wrong
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "systemd socket "+name)
	// FileListener works on a duplicate of the descriptor, which shares
	// the non-blocking flag; the original is no longer needed.
	l, err := net.FileListener(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		l.Close()
		return nil, cerr
	}
	return l, err
}

// closeFDs closes n passed descriptors from first on, after an error
// made them useless.
func closeFDs(first, n int) {
	for fd := first; fd < first+n; fd++ {
		_ = unix.Close(fd) // some may not be open; nothing else to do
	}
}

// setKeepAlive sets the keepalive options of c.
func setKeepAlive(c *net.TCPConn, idle time.Duration) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if idle <= 0 {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, keepAliveSeconds(idle))
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
