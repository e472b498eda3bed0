package sockstat

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	probe *probe // nil: TCP_INFO
}

// Open returns a Collector that uses eBPF if it can be loaded and
// attached, and TCP_INFO otherwise; it logs the fallback once, at info
// level (nothing changes but where the figures come from). Close
// releases the program.
func Open(opt Options) *Collector {
	if opt.TCPInfoOnly {
		return &Collector{}
	}
	p, err := openProbe(opt.Cgroup)
	if err != nil {
		log := opt.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		log.Info("rtr socket metrics from TCP_INFO: eBPF unavailable", "err", err)
		return &Collector{}
	}
	return &Collector{probe: p}
}

// Method says where the figures come from.
func (c *Collector) Method() Method {
	if c.probe != nil {
		return MethodEBPF
	}
	return MethodTCPInfo
}

// Watch has the connections accepted on l recorded from now on; with
// TCP_INFO it does nothing. Connections of a listener not watched are
// still read, with TCP_INFO.
func (c *Collector) Watch(l net.Listener) error {
	if c.probe == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(l.Addr().String())
	if err != nil {
		return &notSupported{what: "watch " + l.Addr().String(), err: err}
	}
	return c.probe.watch(ap.Port())
}

// Stat returns the figures of conn, a TCP connection or a TLS
// connection over one. The figures are those of the moment with
// TCP_INFO, and those of the connection's last RTT sample,
// retransmission or timeout with eBPF.
func (c *Collector) Stat(conn net.Conn) (Info, error) {
	if c.probe != nil {
		info, ok, err := c.probe.stat(conn)
		if err != nil || ok {
			return info, err
		}
	}
	return tcpInfo(conn)
}

// Close detaches and unloads the eBPF program, if any. Stat then reads
// TCP_INFO.
func (c *Collector) Close() error {
	if c.probe == nil {
		return nil
	}
	err := c.probe.close()
	c.probe = nil
	return err
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
