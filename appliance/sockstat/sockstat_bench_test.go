package sockstat_test

import (
	"net"
	"testing"

	"github.com/rovd/rovd/appliance/sockstat"
)

// BenchmarkStat1000 reads the figures of 1,000 open loopback sessions,
// as one /metrics scrape of rovd server with 1,000 routers does, with
// each method.
func BenchmarkStat1000(b *testing.B) {
	const sessions = 1000
	for _, tc := range []struct {
		name string
		open func(testing.TB) *sockstat.Collector
	}{
		{"tcp_info", func(testing.TB) *sockstat.Collector { return sockstat.Open(sockstat.Options{TCPInfoOnly: true}) }},
		{"ebpf", openEBPF},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := tc.open(b)
			defer c.Close()
			l := listen(b, "tcp", "127.0.0.1:0")
			if err := c.Watch(l); err != nil {
				b.Fatal(err)
			}
			conns := make([]net.Conn, sessions)
			for i := range conns {
				conns[i], _ = pair(b, l)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for _, conn := range conns {
					if _, err := c.Stat(conn); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
