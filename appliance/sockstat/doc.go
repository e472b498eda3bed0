// Package sockstat reads what the kernel knows of a TCP connection: its
// smoothed round-trip time, the segments it retransmitted and the bytes
// it has in flight. rovd server exports them per RTR session on
// /metrics when rtr-client-metrics is on.
//
// A Collector gets the figures in one of two ways and says which
// (Method):
//
//   - eBPF: a sockops program (bpf/sockstat.c) attached to the root of
//     the cgroup v2 hierarchy records the figures of the connections
//     accepted on the watched ports (Collector.Watch: rovd's RTR
//     listeners) in a map keyed by the connection's addresses and ports,
//     and deletes the entry when the connection closes. The kernel calls
//     the program once per round trip, at each retransmission and
//     retransmission timeout, and for segments it receives outside its
//     fast path; it has no callback for the acknowledgments of the fast
//     path. So the round-trip time is at most one round trip old and the
//     retransmissions are exact, but the bytes in flight of an idle
//     session may be those of its last round trip rather than zero. A
//     scrape is one map lookup per session. A connection the program
//     has not seen (accepted before its port was watched) is read with
//     TCP_INFO instead.
//   - TCP_INFO: getsockopt(TCP_INFO) on the connection's descriptor
//     (golang.org/x/sys/unix), exact at the moment of the scrape.
//
// Open tries eBPF and falls back to TCP_INFO when it is unavailable (no
// CAP_BPF and CAP_NET_ADMIN, a kernel before 5.10 or without cgroup v2,
// a seccomp filter such as the packaged unit's), logs that once, and
// works the same either way.
//
// Why sockops and not a tracing (fentry/kprobe) program: the fields of
// struct bpf_sock_ops are a stable kernel ABI, so the object runs
// unchanged on any kernel from 5.10 on (the first to hand the program
// the received segment) without BTF or CO-RE relocations against
// kernel-internal structures; the callbacks are opted into per socket,
// so only RTR connections pay for them; and the program sees the
// connection's own addresses, which is all rovd needs to find a
// session's entry. It is attached to the root of the cgroup v2
// hierarchy, not to rovd's own cgroup, because a socket belongs to the
// cgroup of the process that created it, and under systemd socket
// activation that is systemd.
//
// The program is compiled by bpf2go into sockstat_bpfel.o and
// sockstat_bpfeb.o with their Go wrappers; all four are committed, so
// building rovd needs no C compiler and stays pure Go (CGO_ENABLED=0).
// `make bpf` regenerates them.
//
// Nothing here is on the RTR hot path: figures are read when asked for
// (a /metrics scrape), never per PDU. sockstat imports no rovd package.
package sockstat
