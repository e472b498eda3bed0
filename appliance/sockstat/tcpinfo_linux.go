package sockstat

import (
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tcpInfo reads conn's figures with getsockopt(TCP_INFO).
func tcpInfo(conn net.Conn) (Info, error) {
	sc, ok := tcpConn(conn).(syscall.Conn)
	if !ok {
		return Info{}, &notSupported{what: fmt.Sprintf("socket stats of a %T", conn)}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Info{}, fmt.Errorf("socket stats: %w", err)
	}
	var ti *unix.TCPInfo
	var serr error
	if err := raw.Control(func(fd uintptr) {
		ti, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return Info{}, fmt.Errorf("socket stats: %w", err)
	}
	if serr != nil {
		return Info{}, fmt.Errorf("socket stats: TCP_INFO: %w", serr)
	}
	return infoOf(ti), nil
}

// infoOf picks the figures out of a TCP_INFO answer.
func infoOf(ti *unix.TCPInfo) Info {
	info := Info{
		RTT:         time.Duration(ti.Rtt) * time.Microsecond,
		Retransmits: uint64(ti.Total_retrans),
	}
	// Bytes sent count retransmissions too; what was sent once and not
	// acknowledged is snd_nxt - snd_una, the figure eBPF reads. A
	// kernel before 4.19 answers without these byte counts: then the
	// segments in flight at full size stand in.
	if sent := ti.Bytes_sent - ti.Bytes_retrans; ti.Bytes_sent != 0 {
		if sent > ti.Bytes_acked {
			info.BytesInFlight = sent - ti.Bytes_acked
		}
	} else {
		info.BytesInFlight = uint64(ti.Unacked) * uint64(ti.Snd_mss)
	}
	return info
}
