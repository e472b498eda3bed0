package sockstat

import "net"

var (
	InfoOf            = infoOf
	ParseCgroup2Mount = parseCgroup2Mount
)

// ProbeError is why the eBPF program cannot be used here, nil if it can.
func ProbeError() error {
	p, err := openProbe("")
	if err != nil {
		return err
	}
	return p.close()
}

// Recorded says whether the eBPF program has an entry for conn.
func (c *Collector) Recorded(conn net.Conn) (bool, error) {
	p := c.probe.Load()
	if p == nil {
		return false, nil
	}
	_, ok, err := p.stat(conn)
	return ok, err
}

// BreakMaps closes the program's maps under it, so that the next map
// operation fails.
func (c *Collector) BreakMaps() {
	p := c.probe.Load()
	_ = p.objs.Socks.Close()
	_ = p.objs.Ports.Close()
}
