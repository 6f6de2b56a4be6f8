// Builds the test's main program by hand, appends the translated subprogram, loads, runs.
#include "kernel_filter.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <iterator>

namespace pwru::testing {

namespace {

constexpr uint32_t kHeader = 8;  // u32 length, 4 bytes of padding, then the packet

struct bpf_insn raw(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

Error bench_error(const std::string& what, int err) {
  return Error{ExitCode::KernelFeature, "cannot " + what + ": " + std::strerror(err),
               "run as root on a kernel with BPF test runs for raw tracepoints (5.10 or later)"};
}

}  // namespace

Result<KernelFilterBench> KernelFilterBench::create() {
  KernelFilterBench b;
  b.map_.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "pwru_pkt", sizeof(uint32_t),
                              kHeader + kMaxPacket, 1, nullptr));
  if (!b.map_.valid()) return bench_error("create the packet map", errno);
  b.value_.assign(kHeader + kMaxPacket, 0);
  return b;
}

Result<UniqueFd> KernelFilterBench::load(const EbpfFilter& filter) const {
  const struct bpf_insn head[] = {
      raw(BPF_ST | BPF_W | BPF_MEM, 10, 0, -4, 0),  // key 0
      raw(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      raw(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
      raw(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_.get()),
      raw(0, 0, 0, 0, 0),
      raw(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      raw(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0),
      raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      raw(BPF_LDX | BPF_W | BPF_MEM, 6, 0, 0, 0),  // r6 = length
      raw(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, kHeader),
      // The verifier knows r0 as a map value pointer; the filter must work on an address it
      // knows nothing about, as skb data read with BPF_CORE_READ is. Spilling the pointer and
      // reading it back through a helper turns it into such a plain number.
      raw(BPF_STX | BPF_DW | BPF_MEM, 10, 0, -16, 0),
      raw(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
      raw(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -24),
      raw(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 8),
      raw(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
      raw(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16),
      raw(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel),
      raw(BPF_LDX | BPF_DW | BPF_MEM, 1, 10, -24, 0),
      raw(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0),
      raw(BPF_ALU64 | BPF_ADD | BPF_X, 2, 6, 0, 0),
      raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 1),  // the subprogram right after exit
      raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  // Sized once: GCC 16 sees a vector of the head grown by resize() as written out of bounds
  // (-Warray-bounds, a false positive).
  std::vector<struct bpf_insn> code(std::size(head) + filter.insns.size());
  std::memcpy(code.data(), head, sizeof(head));
  std::memcpy(code.data() + std::size(head), filter.insns.data(),
              filter.insns.size() * sizeof(struct bpf_insn));

  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pwru_filter_t", "GPL", code.data(),
                              code.size(), nullptr));
  if (prog.valid()) return prog;
  const int err = errno;
  std::string log(1 << 20, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1,
              .log_size = static_cast<__u32>(log.size()), .log_buf = log.data());
  UniqueFd retry(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pwru_filter_t", "GPL",
                               code.data(), code.size(), &opts));
  log.resize(std::strlen(log.c_str()));
  if (log.size() > 4000) log = "...\n" + log.substr(log.size() - 4000);
  Error e = bench_error("load the filter program", err);
  e.message += "\nverifier log (tail):\n" + log;
  return e;
}

Status KernelFilterBench::set_packet(std::span<const uint8_t> packet) {
  if (packet.size() > kMaxPacket) return bench_error("hold the packet", EMSGSIZE);
  const uint32_t len = static_cast<uint32_t>(packet.size());
  std::memcpy(value_.data(), &len, sizeof(len));
  std::memcpy(value_.data() + kHeader, packet.data(), packet.size());
  // Bytes past the end stay from earlier packets: a filter that read them would show.
  const uint32_t key = 0;
  if (bpf_map_update_elem(map_.get(), &key, value_.data(), BPF_ANY) != 0)
    return bench_error("write the packet map", errno);
  return Ok{};
}

Result<uint32_t> KernelFilterBench::run(int prog_fd) const {
  uint64_t args[1] = {0};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) return bench_error("run the filter", errno);
  return opts.retval;
}

}  // namespace pwru::testing
