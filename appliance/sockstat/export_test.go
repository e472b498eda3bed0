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
	if c.probe == nil {
		return false, nil
	}
	_, ok, err := c.probe.stat(conn)
	return ok, err
}
