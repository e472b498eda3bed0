//go:build !linux

package netio

import (
	"errors"
	"net"
	"time"
)

// activatedListener: socket activation is systemd's, which runs on Linux
// only.
func activatedListener(fd int, name string) (net.Listener, error) {
	return nil, errors.New("socket activation is supported on Linux only")
}

func closeFDs(first, n int) {}

// setKeepAlive uses the portable options of the standard library.
func setKeepAlive(c *net.TCPConn, idle time.Duration) error {
	if idle <= 0 {
		return c.SetKeepAlive(false)
	}
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(keepAliveSeconds(idle)) * time.Second})
}
