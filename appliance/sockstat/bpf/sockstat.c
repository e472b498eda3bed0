// rtr_sockops records the round-trip time, the retransmissions and the
// bytes in flight of the TCP connections accepted on the ports listed in
// the ports map (rovd's RTR listeners), keyed by the connection's
// addresses and ports, in the socks map. It is a sockops program
// attached to a cgroup v2: the kernel calls it on TCP events of the
// sockets of that cgroup and its descendants.
//
// Only the connections on watched ports ask for the callbacks that keep
// an entry current: once per round trip (RTT), at each retransmission
// and retransmission timeout, for each received segment that takes the
// kernel's slow path (header options), and at state changes. Every other
// socket sees the program only at the few events the kernel always
// reports (connection setup), where it returns at once. The kernel has
// no callback for an acknowledgment on its fast path, so the bytes in
// flight of an entry are those of its last event: an idle connection may
// show what was in flight at its last round trip. An entry is deleted
// when its connection closes, so the map holds the open RTR sessions;
// the LRU map bounds it in any case.
//
// Rebuild with `make bpf` (see Makefile); the objects are committed.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// From the socket headers, which a BPF build does not include.
#define AF_INET 2
#define AF_INET6 10

// max_socks bounds the socks map: well above the sessions one rovd
// serves (thousands), at about 60 bytes a socket.
#define max_socks 65536

// sock_key names one TCP connection. Addresses are 16 octets in network
// byte order, IPv4 ones as IPv4-mapped IPv6 addresses, so that a
// connection of an IPv4 client to a dual-stack listener has the same key
// whichever family the kernel gives its socket; ports are in host byte
// order.
struct sock_key {
	__u32 local[4];
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
};

// sock_stats is what the program last saw of a connection.
struct sock_stats {
	__u32 srtt_us;         // smoothed round-trip time, microseconds
	__u32 total_retrans;   // segments retransmitted over its life
	__u32 bytes_in_flight; // snd_nxt - snd_una: sent, not acknowledged
	__u32 packets_out;     // segments in flight
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, max_socks);
	__type(key, struct sock_key);
	__type(value, struct sock_stats);
} socks SEC(".maps");

// ports holds the local ports (host byte order) whose connections are
// recorded; rovd fills it with those of its RTR listeners.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

static __always_inline void sock_key_of(struct bpf_sock_ops *ops, struct sock_key *k)
{
	// Every field is loaded unconditionally, before the family is looked
	// at: left to itself, clang merges the two branches into one load
	// through a pointer computed from ctx, which the verifier rejects
	// ("dereference of modified ctx ptr").
	__u32 family = ops->family;
	__u32 l4 = ops->local_ip4, r4 = ops->remote_ip4;
	__u32 l0 = ops->local_ip6[0], l1 = ops->local_ip6[1], l2 = ops->local_ip6[2], l3 = ops->local_ip6[3];
	__u32 r0 = ops->remote_ip6[0], r1 = ops->remote_ip6[1], r2 = ops->remote_ip6[2], r3 = ops->remote_ip6[3];
	__u32 lport = ops->local_port, rport = ops->remote_port;

	asm volatile("" ::: "memory");
	if (family == AF_INET) {
		l0 = 0;
		l1 = 0;
		l2 = bpf_htonl(0xffff);
		l3 = l4;
		r0 = 0;
		r1 = 0;
		r2 = bpf_htonl(0xffff);
		r3 = r4;
	}
	k->local[0] = l0;
	k->local[1] = l1;
	k->local[2] = l2;
	k->local[3] = l3;
	k->remote[0] = r0;
	k->remote[1] = r1;
	k->remote[2] = r2;
	k->remote[3] = r3;
	k->local_port = (__u16)lport;
	// remote_port holds the port in network byte order in its first two
	// octets in memory, on either endianness.
	k->remote_port = (__u16)bpf_ntohl(rport);
}

// tcp_flag_ack is the ACK bit of the TCP header's flags octet (octet 13,
// RFC 9293 §3.1).
#define tcp_flag_ack 0x10

// before says whether sequence number a comes before b (RFC 9293 §3.4:
// arithmetic modulo 2^32).
static __always_inline int before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

// record stores the figures of the connection. una is the oldest
// unacknowledged sequence number as the caller knows it, srtt the
// smoothed RTT scaled by 8, as the kernel keeps it.
static __always_inline void record(struct bpf_sock_ops *ops, __u32 una, __u32 srtt)
{
	struct sock_key k = {};
	struct sock_stats v = {};

	sock_key_of(ops, &k);
	v.srtt_us = srtt >> 3;
	v.total_retrans = ops->total_retrans;
	v.bytes_in_flight = ops->snd_nxt - una;
	v.packets_out = ops->packets_out;
	bpf_map_update_elem(&socks, &k, &v, BPF_ANY);
}

// parse_ack returns the acknowledgment number of the segment being
// received if it has one that acknowledges new data (snd_una < ack <=
// snd_nxt), else snd_una. The callback comes before the kernel processes
// the segment, so snd_una does not count it yet; without this, the last
// acknowledgment of a burst would never be seen.
static __always_inline __u32 parse_ack(struct bpf_sock_ops *ops)
{
	__u8 *data = (__u8 *)(long)ops->skb_data;
	__u8 *end = (__u8 *)(long)ops->skb_data_end;
	__u32 una = ops->snd_una, nxt = ops->snd_nxt, ack;

	if (data + 14 > end || !(data[13] & tcp_flag_ack))
		return una;
	ack = (__u32)data[8] << 24 | (__u32)data[9] << 16 | (__u32)data[10] << 8 | data[11];
	if (before(una, ack) && !before(nxt, ack))
		return ack;
	return una;
}

SEC("sockops")
int rtr_sockops(struct bpf_sock_ops *ops)
{
	__u32 op = ops->op;

	if (ops->family != AF_INET && ops->family != AF_INET6)
		return 1;

	switch (op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB: {
		__u16 port = (__u16)ops->local_port;

		if (!bpf_map_lookup_elem(&ports, &port))
			return 1;
		// On a kernel without some of the callbacks, the others are
		// still set; the helper returns the bits it could not set.
		bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_RETRANS_CB_FLAG |
						       BPF_SOCK_OPS_RTO_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG |
						       BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
		record(ops, ops->snd_una, ops->srtt_us);
		break;
	}
	case BPF_SOCK_OPS_RTT_CB: {
		// The kernel calls this once per round trip, before it stores
		// the new smoothed RTT; from 6.10 on, args[1] has it.
		__u32 srtt = ops->args[1];

		record(ops, ops->snd_una, srtt ? srtt : ops->srtt_us);
		break;
	}
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		// Every received segment: its acknowledgment updates the bytes
		// in flight.
		record(ops, parse_ack(ops), ops->srtt_us);
		break;
	case BPF_SOCK_OPS_RETRANS_CB:
	case BPF_SOCK_OPS_RTO_CB:
		record(ops, ops->snd_una, ops->srtt_us);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		// args[1] is the new state.
		if (ops->args[1] == BPF_TCP_CLOSE) {
			struct sock_key k = {};

			sock_key_of(ops, &k);
			bpf_map_delete_elem(&socks, &k);
		}
		break;
	}
	return 1;
}

// The license the kernel is told; none of the helpers used needs GPL.
char _license[] SEC("license") = "Dual BSD/GPL";
