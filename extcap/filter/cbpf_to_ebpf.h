// Translates classic BPF (what libpcap's pcap_compile emits) into the body of an eBPF subprogram
// that filters a packet in kernel memory, read through bpf_probe_read_kernel or, for the
// packet's first bytes where the kernel allows it, by plain loads (BtfWindow).
//
// The calling convention of the generated subprogram:
//   r1 = address of the first packet byte (a plain scalar, e.g. skb->head + skb->mac_header),
//   r2 = address one past the last readable byte (r2 - r1 is what `len` sees);
//   returns r0 = 1 when the packet matches, 0 when it does not.
// It clobbers r1-r5 like any call, keeps A, X and the packet in its own r6-r9, and uses
// `stack_bytes` of its own stack frame (scratch memory M[], an 8-byte load buffer, and a copy of
// the packet's first 64 bytes that serves the absolute loads within them with one helper call;
// with a BtfWindow, no copy but the packet's address).
//
// This header includes neither <pcap/bpf.h> nor <linux/bpf.h>: both declare `struct bpf_insn`
// (the classic and the extended instruction), so a file that compiles a filter with libpcap could
// not also name eBPF instructions. The two structs below have the same layout as those.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace pwru {

// One classic BPF instruction: pcap's `struct bpf_insn`, the kernel's `struct sock_filter`.
struct CbpfInsn {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};

// One eBPF instruction, byte for byte the kernel's `struct bpf_insn` from <linux/bpf.h>: copy a
// vector of these into a libbpf program with memcpy.
struct EbpfInsn {
  uint8_t code;
  uint8_t dst_reg : 4;
  uint8_t src_reg : 4;
  int16_t off;
  int32_t imm;
};

// The packet's first bytes read by plain loads instead of a helper call: the subprogram casts
// the packet's address with the kfunc bpf_rdonly_cast (Linux 6.2; the verifier turns the call
// into a move) to an untrusted pointer to a struct of `size` bytes made of 8-byte integers, whose
// loads the JIT guards against faults. Both ids are the running kernel's vmlinux BTF ids. The
// kfunc is in the kernel's set for every program type.
struct BtfWindow {
  int32_t cast_kfunc_id = 0;  // FUNC bpf_rdonly_cast
  int32_t type_id = 0;        // the STRUCT
  uint32_t size = 0;          // its size, at least 64
};

struct EbpfFilter {
  std::vector<EbpfInsn> insns;
  // For each classic instruction, the index of its first eBPF instruction, or -1 when it is
  // unreachable (and so not translated). Maps a verifier message back to the classic program.
  std::vector<int32_t> cbpf_start;
  // Bytes of stack below r10 the subprogram uses (a multiple of 8, at most 8 + 64 + 64 = 136).
  uint32_t stack_bytes = 0;
  // Whether the absolute loads in the window use the BtfWindow's plain loads.
  bool btf_window = false;
};

// The eBPF subprogram equivalent to `prog` under libpcap's own semantics (pcap_offline_filter
// with caplen = wire length = r2 - r1): a load past the end rejects, as does division or modulo
// by X == 0. An ExitCode::BadFilter error, naming the instruction index and opcode, for what
// cannot run in the kernel: backward jumps (`protochain`), Linux ancillary loads (SKF_AD_*,
// negative offsets), invalid opcodes, jumps out of the program, constant division by zero.
// With `window`, absolute loads within its first `size` bytes are plain loads (BtfWindow).
Result<EbpfFilter> translate_cbpf(std::span<const CbpfInsn> prog,
                                  const BtfWindow* window = nullptr);

}  // namespace pwru
