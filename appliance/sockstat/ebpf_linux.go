package sockstat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// probe is the loaded and attached sockops program with its maps.
type probe struct {
	objs sockstatObjects
	link link.Link
	mu   sync.RWMutex // guards closed
	// closed is set by close; stat and watch then fail.
	closed bool
}

// openProbe loads the program and attaches it to cgroup (the root of the
// cgroup v2 hierarchy if empty).
func openProbe(cgroup string) (*probe, error) {
	if cgroup == "" {
		root, err := cgroup2Root()
		if err != nil {
			return nil, err
		}
		cgroup = root
	}
	// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK; later ones
	// to the memory cgroup, and this does nothing. A failure shows as a
	// failed load below, which says more.
	_ = rlimit.RemoveMemlock()
	p := &probe{}
	if err := loadSockstatObjects(&p.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			// The verifier's log is long; its last lines say why.
			err = fmt.Errorf("%w (verifier: %v)", err, lastLines(ve.Log, 3))
		}
		return nil, &notSupported{what: "load sockops program", err: err}
	}
	l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroup, Attach: ebpf.AttachCGroupSockOps, Program: p.objs.RtrSockops})
	if err != nil {
		_ = p.objs.Close() // only releases descriptors
		return nil, &notSupported{what: "attach sockops program to cgroup " + cgroup, err: err}
	}
	p.link = l
	return p, nil
}

func lastLines(lines []string, n int) []string {
	return lines[max(0, len(lines)-n):]
}

// cgroup2Root returns the mount point of the cgroup v2 hierarchy.
func cgroup2Root() (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", &notSupported{what: "find cgroup v2", err: err}
	}
	dir, ok := parseCgroup2Mount(b)
	if !ok {
		return "", &notSupported{what: "find cgroup v2", err: errors.New("no cgroup2 file system mounted")}
	}
	return dir, nil
}

// watch records the connections accepted on port from now on.
func (p *probe) watch(port uint16) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return net.ErrClosed
	}
	if err := p.objs.Ports.Put(port, uint8(1)); err != nil {
		return fmt.Errorf("watch port %d: %w", port, err)
	}
	return nil
}

// stat looks conn up in the map; ok is false if it is not there (a
// connection accepted before its port was watched, or not on a watched
// port at all).
func (p *probe) stat(conn net.Conn) (info Info, ok bool, err error) {
	local, remote, err := addrPorts(tcpConn(conn))
	if err != nil {
		return info, false, err
	}
	k := keyOf(local, remote)
	var v sockstatSockStats
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return info, false, nil
	}
	err = p.objs.Socks.Lookup(&k, &v)
	p.mu.RUnlock()
	switch {
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return info, false, nil
	case err != nil:
		return info, false, fmt.Errorf("socket stats of %s: %w", remote, err)
	}
	return Info{
		RTT:           time.Duration(v.SrttUs) * time.Microsecond,
		Retransmits:   uint64(v.TotalRetrans),
		BytesInFlight: uint64(v.BytesInFlight),
	}, true, nil
}

// keyOf is the map key of the connection from local to remote: both
// addresses as 16 octets in network byte order (IPv4 ones mapped into
// IPv6, as the program stores them), the ports in host byte order.
func keyOf(local, remote netip.AddrPort) sockstatSockKey {
	k := sockstatSockKey{LocalPort: local.Port(), RemotePort: remote.Port()}
	la, ra := local.Addr().As16(), remote.Addr().As16()
	for i := range 4 {
		// The program copies the address words as they lie in memory.
		k.Local[i] = binary.NativeEndian.Uint32(la[4*i:])
		k.Remote[i] = binary.NativeEndian.Uint32(ra[4*i:])
	}
	return k
}

// close detaches the program and releases the maps.
func (p *probe) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.link.Close()
	return errors.Join(err, p.objs.Close())
}
