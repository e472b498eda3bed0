//go:build !linux

package sockstat

import "net"

// probe stands in for the eBPF program, which needs Linux.
type probe struct{}

func openProbe(string) (*probe, error) {
	return nil, &notSupported{what: "eBPF socket stats outside Linux"}
}

func (*probe) watch(uint16) error { return nil }

func (*probe) stat(net.Conn) (Info, bool, error) { return Info{}, false, nil }

func (*probe) close() error { return nil }

func tcpInfo(net.Conn) (Info, error) {
	return Info{}, &notSupported{what: "TCP_INFO outside Linux"}
}
