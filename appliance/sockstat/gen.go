package sockstat

// The eBPF program is compiled from bpf/sockstat.c by bpf2go into
// sockstat_bpfel.{go,o} and sockstat_bpfeb.{go,o}, which are committed:
// building rovd needs no C compiler. `make bpf` regenerates them (it
// needs clang, llvm-strip and libbpf-dev, and sets BPF_INCLUDE to the
// multiarch header directory that holds asm/types.h).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -type sock_key -type sock_stats sockstat bpf/sockstat.c -- -Wall -Werror -I${BPF_INCLUDE}
