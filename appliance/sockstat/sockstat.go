package sockstat

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// Info is what the kernel knows of one TCP connection.
type Info struct {
	// RTT is the smoothed round-trip time (RFC 6298's SRTT).
	RTT time.Duration
	// Retransmits counts the segments retransmitted over the
	// connection's life.
	Retransmits uint64
	// BytesInFlight is what was sent and is not acknowledged yet.
	BytesInFlight uint64
}

// Method names where a Collector's figures come from.
type Method string

// The methods, as they appear in rovd's metrics.
const (
	MethodEBPF    Method = "ebpf"
	MethodTCPInfo Method = "tcp_info"
)

// ErrNotSupported is matched (errors.Is) by the errors of what this
// system cannot do: eBPF without the privileges or kernel support, a
// connection that is not TCP, TCP_INFO outside Linux.
var ErrNotSupported = errors.New("not supported")

// notSupported is an error saying why something is unavailable; it
// matches ErrNotSupported.
type notSupported struct {
	what string
	err  error
}

func (e *notSupported) Error() string {
	if e.err == nil {
		return e.what + ": not supported"
	}
	return e.what + ": " + e.err.Error()
}

func (e *notSupported) Unwrap() error { return e.err }

func (e *notSupported) Is(target error) bool { return target == ErrNotSupported }

// Options set up a Collector.
type Options struct {
	// TCPInfoOnly skips eBPF: figures come from TCP_INFO.
	TCPInfoOnly bool
	// Cgroup is the cgroup v2 directory the eBPF program is attached
	// to; empty means the root of the cgroup v2 hierarchy mounted in
	// this process's mount namespace (from /proc/self/mountinfo).
	Cgroup string
	// Logger receives the one line saying eBPF is unavailable; nil
	// discards it.
	Logger *slog.Logger
}

// Collector reads the figures of TCP connections. It is safe for
// concurrent use.
type Collector struct {
	probe atomic.Pointer[probe] // nil: TCP_INFO
	log   *slog.Logger
}

// Open returns a Collector that uses eBPF if it can be loaded and
// attached, and TCP_INFO otherwise; it logs the fallback once, at info
// level (nothing changes but where the figures come from). Close
// releases the program.
func Open(opt Options) *Collector {
	c := &Collector{log: opt.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if opt.TCPInfoOnly {
		return c
	}
	p, err := openProbe(opt.Cgroup)
	if err != nil {
		c.log.Info("rtr socket metrics from TCP_INFO: eBPF unavailable", "err", err)
		return c
	}
	c.probe.Store(p)
	return c
}

// Method says where the figures come from.
func (c *Collector) Method() Method {
	if c.probe.Load() != nil {
		return MethodEBPF
	}
	return MethodTCPInfo
}

// Watch has the connections accepted on l recorded from now on; with
// TCP_INFO it does nothing. Connections of a listener not watched are
// still read, with TCP_INFO. If the program's map cannot be written (a
// kernel before 6.5 refuses bpf(2) to a process that gave up its
// privileges), the Collector falls back to TCP_INFO for good.
func (c *Collector) Watch(l net.Listener) error {
	p := c.probe.Load()
	if p == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(l.Addr().String())
	if err != nil {
		return &notSupported{what: "watch " + l.Addr().String(), err: err}
	}
	if err := p.watch(ap.Port()); err != nil {
		c.fallBack(p, err)
	}
	return nil
}

// Stat returns the figures of conn, a TCP connection or a TLS
// connection over one. The figures are those of the moment with
// TCP_INFO, and those of the connection's last event with eBPF (see the
// package documentation). A failed map lookup has the Collector fall
// back to TCP_INFO for good.
func (c *Collector) Stat(conn net.Conn) (Info, error) {
	if p := c.probe.Load(); p != nil {
		info, ok, err := p.stat(conn)
		switch {
		case errors.Is(err, ErrNotSupported):
			return info, err
		case err != nil:
			c.fallBack(p, err)
		case ok:
			return info, nil
		}
	}
	return tcpInfo(conn)
}

// fallBack drops the program p after err, once, and says so.
func (c *Collector) fallBack(p *probe, err error) {
	if !c.probe.CompareAndSwap(p, nil) {
		return
	}
	c.log.Info("rtr socket metrics from TCP_INFO from now on: eBPF failed", "err", err)
	_ = p.close() // only releases descriptors
}

// Close detaches and unloads the eBPF program, if any. Stat then reads
// TCP_INFO.
func (c *Collector) Close() error {
	if p := c.probe.Swap(nil); p != nil {
		return p.close()
	}
	return nil
}

// tcpConn returns the connection under TLS and other wrappers that, like
// *tls.Conn, give theirs with NetConn. Wrappers are peeled a bounded
// number of times.
func tcpConn(conn net.Conn) net.Conn {
	for range 8 {
		w, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		conn = w.NetConn()
	}
	return conn
}

// addrPorts returns the local and remote address and port of conn.
func addrPorts(conn net.Conn) (local, remote netip.AddrPort, err error) {
	la, ok1 := conn.LocalAddr().(*net.TCPAddr)
	ra, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return local, remote, &notSupported{what: fmt.Sprintf("socket stats of a %T", conn)}
	}
	return la.AddrPort(), ra.AddrPort(), nil
}
