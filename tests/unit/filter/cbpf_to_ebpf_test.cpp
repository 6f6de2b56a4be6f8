// translate_cbpf without a kernel: the shape of the output (what the verifier insists on), its
// behaviour under a small interpreter of the eBPF it emits, jump fix-ups, and the refusals.
// The kernel itself runs the output in tests/kernel/cbpf_to_ebpf_kernel_test.cpp.
#include "filter/cbpf_to_ebpf.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/filter.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

namespace pwru {
namespace {

using Bytes = std::vector<uint8_t>;

// An Ethernet frame: any addresses, `type`, then `payload`.
// Sized once: GCC 16 sees push_back's reallocation past a 12-byte vector as out of bounds
// (-Warray-bounds, a false positive).
Bytes ethernet(uint16_t type, const Bytes& payload) {
  Bytes b(14 + payload.size(), 0x02);
  b[12] = static_cast<uint8_t>(type >> 8);
  b[13] = static_cast<uint8_t>(type);
  std::copy(payload.begin(), payload.end(), b.begin() + 14);
  return b;
}

constexpr uint16_t kJa = BPF_JMP | BPF_JA;

// A BtfWindow as KernelBtf::btf_window gives it, with made-up ids: the interpreter's kfunc
// checks them. rtnl_link_stats64 has 200 bytes in 6.x.
constexpr BtfWindow kWindow = {4242, 77, 200};

EbpfFilter translate(const std::vector<CbpfInsn>& prog, const BtfWindow* window = nullptr) {
  auto f = translate_cbpf(prog, window);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().text());
  return f.ok() ? std::move(f.value()) : EbpfFilter{};
}

Error refusal(const std::vector<CbpfInsn>& prog) {
  auto f = translate_cbpf(prog);
  EXPECT_FALSE(f.ok());
  return f.ok() ? Error{} : f.error();
}

bool is_jump(const EbpfInsn& in) {
  const uint8_t cls = BPF_CLASS(in.code);
  const uint8_t op = BPF_OP(in.code);
  return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

// What the verifier checks before it runs anything: every jump forward and inside the program,
// every instruction reachable, no path falling off the end, only bpf_probe_read_kernel called
// (and with a BtfWindow its kfunc), the frame pointer never written, every stack access inside
// the frame the filter reports, and loads through the window's pointer (r6) inside the struct
// and, but for single bytes, inside one of its 8-byte members.
void expect_verifier_shape(const EbpfFilter& f, const BtfWindow* window = nullptr) {
  const size_t n = f.insns.size();
  ASSERT_GT(n, 0u);
  std::vector<bool> reached(n, false);
  reached[0] = true;
  for (size_t i = 0; i < n; i++) {
    if (!reached[i]) {
      ADD_FAILURE() << "instruction " << i << " is unreachable";
      continue;
    }
    const EbpfInsn& in = f.insns[i];
    EXPECT_LE(in.dst_reg, 10) << i;
    EXPECT_LE(in.src_reg, 10) << i;
    const uint8_t cls = BPF_CLASS(in.code);
    if ((cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX) && in.dst_reg == 10)
      ADD_FAILURE() << "instruction " << i << " writes r10";
    const bool stack_read = cls == BPF_LDX && in.src_reg == 10;
    const bool stack_write = (cls == BPF_ST || cls == BPF_STX) && in.dst_reg == 10;
    if (stack_read || stack_write) {
      EXPECT_LT(in.off, 0) << i;
      EXPECT_GE(in.off, -static_cast<int>(f.stack_bytes)) << i;
    }
    if (cls == BPF_LDX && in.src_reg != 10) {
      ASSERT_TRUE(window && f.btf_window) << "instruction " << i << " loads from r" << +in.src_reg;
      EXPECT_EQ(in.src_reg, 6) << i;
      const int size = BPF_SIZE(in.code) == BPF_W ? 4 : BPF_SIZE(in.code) == BPF_H ? 2 : 1;
      EXPECT_NE(BPF_SIZE(in.code), BPF_DW) << i;
      EXPECT_GE(in.off, 0) << i;
      EXPECT_LE(in.off + size, static_cast<int>(window->size)) << i;
      if (size > 1) {
        EXPECT_LE(in.off % 8 + size, 8) << "instruction " << i << " spans members";
      }
    }
    if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_KFUNC_CALL) {
      ASSERT_TRUE(window) << "instruction " << i << " calls a kfunc without a BtfWindow";
      EXPECT_EQ(in.imm, window->cast_kfunc_id) << i;
    } else if (in.code == (BPF_JMP | BPF_CALL)) {
      EXPECT_EQ(in.src_reg, 0) << "instruction " << i << " is not a helper call";
      EXPECT_EQ(in.imm, BPF_FUNC_probe_read_kernel) << i;
    }
    if (in.code == (BPF_JMP | BPF_EXIT)) continue;
    if (is_jump(in)) {
      ASSERT_GE(in.off, 0) << "instruction " << i << " jumps backwards";
      ASSERT_LT(i + 1 + in.off, n) << "instruction " << i << " jumps out of the program";
      reached[i + 1 + in.off] = true;
      if (BPF_OP(in.code) == BPF_JA) continue;
    }
    ASSERT_LT(i + 1, n) << "instruction " << i << " falls off the end";
    reached[i + 1] = true;
  }
  EXPECT_LE(f.stack_bytes, 136u);
  EXPECT_EQ(f.stack_bytes % 8, 0u);
}

// Runs the subprogram on `packet` with the semantics the kernel documents for the instructions
// translate_cbpf emits. A read outside the packet fails the test: the bounds checks must come
// first. Returns r0.
class Interpreter {
 public:
  // `window`: the BtfWindow the filter was translated with, whose kfunc call it checks.
  explicit Interpreter(const BtfWindow* window = nullptr) : window_(window) {}

  uint64_t run(const EbpfFilter& f, const Bytes& packet) {
    uint64_t r[11] = {};
    uint8_t stack[512] = {};
    r[10] = kStackTop;
    r[1] = kPacket;
    r[2] = kPacket + packet.size();
    auto mem = [&](uint64_t addr, size_t size) -> uint8_t* {
      if (addr >= kStackTop - sizeof(stack) && addr + size <= kStackTop)
        return stack + sizeof(stack) - (kStackTop - addr);
      ADD_FAILURE() << "access outside the stack at " << addr;
      return stack;
    };
    // A plain load of packet bytes (through the BtfWindow's pointer): inside the packet only.
    Bytes zeros(8, 0);
    auto packet_mem = [&](uint64_t addr, size_t size) -> const uint8_t* {
      if (addr >= kPacket && addr + size <= kPacket + packet.size()) {
        direct_loads++;
        return packet.data() + (addr - kPacket);
      }
      ADD_FAILURE() << "loads " << size << " bytes at packet offset "
                    << static_cast<int64_t>(addr - kPacket) << " of " << packet.size();
      return zeros.data();
    };
    for (size_t pc = 0; pc < f.insns.size(); pc++) {
      const EbpfInsn& in = f.insns[pc];
      uint64_t& dst = r[in.dst_reg];
      const uint8_t cls = BPF_CLASS(in.code);
      if (cls == BPF_ALU || cls == BPF_ALU64) {
        const bool is64 = cls == BPF_ALU64;
        if (BPF_OP(in.code) == BPF_END) {
          const uint32_t v = static_cast<uint32_t>(dst);
          dst = in.imm == 16 ? __builtin_bswap16(static_cast<uint16_t>(v)) : __builtin_bswap32(v);
          continue;
        }
        const uint64_t src = BPF_SRC(in.code) == BPF_X ? r[in.src_reg]
                                                       : static_cast<uint64_t>(int64_t{in.imm});
        dst = is64 ? alu64(BPF_OP(in.code), dst, src)
                   : alu32(BPF_OP(in.code), static_cast<uint32_t>(dst), static_cast<uint32_t>(src));
      } else if (cls == BPF_LDX) {
        const size_t size = size_of(in.code);
        const uint64_t addr = r[in.src_reg] + in.off;
        uint64_t v = 0;
        std::memcpy(&v, in.src_reg == 10 ? mem(addr, size) : packet_mem(addr, size), size);
        dst = v;
      } else if (cls == BPF_ST || cls == BPF_STX) {
        const uint64_t v = cls == BPF_ST ? static_cast<uint64_t>(int64_t{in.imm}) : r[in.src_reg];
        std::memcpy(mem(dst + in.off, size_of(in.code)), &v, size_of(in.code));
      } else if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_KFUNC_CALL) {
        // bpf_rdonly_cast(obj, btf_id): the verifier makes it r0 = r1.
        if (!window_ || in.imm != window_->cast_kfunc_id || r[2] != uint64_t(window_->type_id)) {
          ADD_FAILURE() << "kfunc " << in.imm << " called with r2 = " << r[2];
          return ~uint64_t{0};
        }
        r[0] = r[1];
        for (int i = 1; i <= 5; i++) r[i] = 0xdeadbeefdeadbeef;  // clobbered
        kfunc_calls++;
      } else if (in.code == (BPF_JMP | BPF_CALL)) {
        // bpf_probe_read_kernel(dst, size, src)
        const uint64_t src = r[3], size = r[2];
        if (src < kPacket || src + size > kPacket + packet.size()) {
          ADD_FAILURE() << "reads " << size << " bytes at packet offset "
                        << static_cast<int64_t>(src - kPacket) << " of " << packet.size();
          return ~uint64_t{0};
        }
        std::memcpy(mem(r[1], size), packet.data() + (src - kPacket), size);
        r[0] = 0;
        for (int i = 1; i <= 5; i++) r[i] = 0xdeadbeefdeadbeef;  // clobbered
        helper_calls++;
      } else if (in.code == (BPF_JMP | BPF_EXIT)) {
        return r[0];
      } else {
        const uint64_t src = BPF_SRC(in.code) == BPF_X ? r[in.src_reg]
                                                       : static_cast<uint64_t>(int64_t{in.imm});
        const bool taken = cls == BPF_JMP32 ? cond(BPF_OP(in.code), static_cast<uint32_t>(dst),
                                                   static_cast<uint32_t>(src))
                                            : cond(BPF_OP(in.code), dst, src);
        if (taken) pc += in.off;
      }
    }
    ADD_FAILURE() << "ran off the end";
    return ~uint64_t{0};
  }

  int helper_calls = 0;
  int kfunc_calls = 0;
  int direct_loads = 0;

 private:
  const BtfWindow* window_;
  static constexpr uint64_t kStackTop = 0x10000000;
  static constexpr uint64_t kPacket = 0x20000000;

  static size_t size_of(uint8_t code) {
    switch (BPF_SIZE(code)) {
      case BPF_B: return 1;
      case BPF_H: return 2;
      case BPF_W: return 4;
      default: return 8;
    }
  }
  static uint64_t alu64(uint8_t op, uint64_t a, uint64_t b) {
    switch (op) {
      case BPF_MOV: return b;
      case BPF_ADD: return a + b;
      case BPF_SUB: return a - b;
      case BPF_NEG: return 0 - a;
      case BPF_RSH: return a >> (b & 63);
      default: ADD_FAILURE() << "unexpected 64-bit ALU op " << int{op}; return 0;
    }
  }
  static uint32_t alu32(uint8_t op, uint32_t a, uint32_t b) {
    switch (op) {
      case BPF_MOV: return b;
      case BPF_ADD: return a + b;
      case BPF_SUB: return a - b;
      case BPF_MUL: return a * b;
      case BPF_DIV: return b ? a / b : 0;
      case BPF_MOD: return b ? a % b : a;
      case BPF_AND: return a & b;
      case BPF_OR: return a | b;
      case BPF_XOR: return a ^ b;
      case BPF_LSH: return a << (b & 31);
      case BPF_RSH: return a >> (b & 31);
      case BPF_NEG: return 0 - a;
      default: ADD_FAILURE() << "unexpected 32-bit ALU op " << int{op}; return 0;
    }
  }
  template <typename T>
  static bool cond(uint8_t op, T a, T b) {
    switch (op) {
      case BPF_JA: return true;
      case BPF_JEQ: return a == b;
      case BPF_JNE: return a != b;
      case BPF_JGT: return a > b;
      case BPF_JGE: return a >= b;
      case BPF_JLT: return a < b;
      case BPF_JLE: return a <= b;
      case BPF_JSET: return (a & b) != 0;
      default: ADD_FAILURE() << "unexpected jump op " << int{op}; return false;
    }
  }
};

// The verdict of `prog` on `packet`, translated both ways: with the helper's window and with
// the BtfWindow; the two must agree.
uint64_t run(const std::vector<CbpfInsn>& prog, const Bytes& packet) {
  EbpfFilter f = translate(prog);
  expect_verifier_shape(f);
  const uint64_t verdict = Interpreter().run(f, packet);
  EbpfFilter direct = translate(prog, &kWindow);
  expect_verifier_shape(direct, &kWindow);
  EXPECT_EQ(Interpreter(&kWindow).run(direct, packet), verdict) << "with the BtfWindow";
  return verdict;
}

Bytes counting(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) b[i] = static_cast<uint8_t>(i);
  return b;
}

// --- real libpcap output (`tcpdump -dd`), the shape everything else is checked against

// tcp[tcpflags] & tcp-syn != 0, DLT_EN10MB
const std::vector<CbpfInsn> kTcpSyn = {
    {0x28, 0, 0, 0x0000000c}, {0x15, 0, 8, 0x00000800}, {0x30, 0, 0, 0x00000017},
    {0x15, 0, 6, 0x00000006}, {0x28, 0, 0, 0x00000014}, {0x45, 4, 0, 0x00001fff},
    {0xb1, 0, 0, 0x0000000e}, {0x50, 0, 0, 0x0000001b}, {0x45, 0, 1, 0x00000002},
    {0x06, 0, 0, 0x00040000}, {0x06, 0, 0, 0x00000000}};

// ip[2:2] - ((ip[0]&0xf)<<2) > 40, DLT_RAW: scratch memory and ALU with X
const std::vector<CbpfInsn> kIpPayloadOver40 = {
    {0x30, 0, 0, 0x00000000}, {0x54, 0, 0, 0x000000f0}, {0x15, 0, 10, 0x00000040},
    {0x28, 0, 0, 0x00000002}, {0x02, 0, 0, 0x00000001}, {0x30, 0, 0, 0x00000000},
    {0x54, 0, 0, 0x0000000f}, {0x64, 0, 0, 0x00000002}, {0x07, 0, 0, 0x00000005},
    {0x60, 0, 0, 0x00000001}, {0x1c, 0, 0, 0x00000000}, {0x25, 0, 1, 0x00000028},
    {0x06, 0, 0, 0x00040000}, {0x06, 0, 0, 0x00000000}};

Bytes ipv4_tcp(uint8_t flags, uint16_t total_len = 40) {
  Bytes ip = {0x45, 0, static_cast<uint8_t>(total_len >> 8), static_cast<uint8_t>(total_len),
              0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  Bytes tcp = {0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0};
  ip.insert(ip.end(), tcp.begin(), tcp.end());
  return ip;
}

TEST(CbpfToEbpf, LibpcapTcpSynFilterMatchesLikeLibpcap) {
  EXPECT_EQ(run(kTcpSyn, ethernet(0x0800, ipv4_tcp(0x02))), 1u);
  EXPECT_EQ(run(kTcpSyn, ethernet(0x0800, ipv4_tcp(0x12))), 1u);
  EXPECT_EQ(run(kTcpSyn, ethernet(0x0800, ipv4_tcp(0x10))), 0u);
  EXPECT_EQ(run(kTcpSyn, ethernet(0x86dd, ipv4_tcp(0x02))), 0u);
  // Cut before the flags byte: the load past the end rejects.
  Bytes cut = ethernet(0x0800, ipv4_tcp(0x02));
  cut.resize(14 + 20 + 13);
  EXPECT_EQ(run(kTcpSyn, cut), 0u);
  cut.push_back(0x02);
  EXPECT_EQ(run(kTcpSyn, cut), 1u);
}

TEST(CbpfToEbpf, ScratchMemoryAndArithmeticOnTwoLoads) {
  EbpfFilter f = translate(kIpPayloadOver40);
  EXPECT_EQ(f.stack_bytes, 80u);  // load buffer, the 64-byte window, M[1] (the only word used)
  EXPECT_EQ(Interpreter().run(f, ipv4_tcp(0, 61)), 1u);
  EXPECT_EQ(Interpreter().run(f, ipv4_tcp(0, 60)), 0u);
}

TEST(CbpfToEbpf, EveryPathOfLibpcapProgramsPassesTheVerifierShape) {
  expect_verifier_shape(translate(kTcpSyn));
  expect_verifier_shape(translate(kIpPayloadOver40));
}

// --- loads

// <load at k>; jeq #expect -> ret #1 / ret #0
std::vector<CbpfInsn> load_equals(uint16_t load, uint32_t k, uint32_t expect) {
  return {{load, 0, 0, k},
          {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, expect},
          {BPF_RET | BPF_K, 0, 0, 1},
          {BPF_RET | BPF_K, 0, 0, 0}};
}

TEST(CbpfToEbpf, LoadsAreBigEndianAndNeverReadPastTheEnd) {
  const Bytes p = counting(8);
  const auto word = load_equals(BPF_LD | BPF_W | BPF_ABS, 4, 0x04050607);
  EXPECT_EQ(run(word, p), 1u);
  EXPECT_EQ(run(word, counting(7)), 0u);  // needs bytes 4..7
  const auto half = load_equals(BPF_LD | BPF_H | BPF_ABS, 6, 0x0607);
  EXPECT_EQ(run(half, p), 1u);
  EXPECT_EQ(run(half, counting(7)), 0u);
  const auto byte = load_equals(BPF_LD | BPF_B | BPF_ABS, 7, 7);
  EXPECT_EQ(run(byte, p), 1u);
  EXPECT_EQ(run(byte, counting(7)), 0u);
  EXPECT_EQ(run(byte, {}), 0u);
}

TEST(CbpfToEbpf, IndirectLoadsAddXAndCheckTheSum) {
  // ldxb 4*([0]&0xf); ldh [x+2]; ret a
  const std::vector<CbpfInsn> prog = {{BPF_LDX | BPF_MSH | BPF_B, 0, 0, 0},
                                      {BPF_LD | BPF_H | BPF_IND, 0, 0, 2},
                                      {BPF_RET | BPF_A, 0, 0, 0}};
  Bytes p(30, 0);
  p[0] = 0x45;  // X = 20
  p[22] = 0x12;
  p[23] = 0x34;
  EXPECT_EQ(run(prog, p), 1u);
  p[22] = p[23] = 0;
  EXPECT_EQ(run(prog, p), 0u);  // ret a with A == 0
  p.resize(23);
  EXPECT_EQ(run(prog, p), 0u);
  // X + k that would wrap in 32 bits is still past the end.
  const std::vector<CbpfInsn> wrap = {{BPF_LDX | BPF_IMM, 0, 0, 0xffffffff},
                                      {BPF_LD | BPF_B | BPF_IND, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 1}};
  EXPECT_EQ(run(wrap, counting(8)), 0u);
  const std::vector<CbpfInsn> big_k = {{BPF_LD | BPF_B | BPF_IND, 0, 0, 0x80000000},
                                       {BPF_RET | BPF_K, 0, 0, 1}};
  EXPECT_EQ(run(big_k, counting(8)), 0u);
}

TEST(CbpfToEbpf, LenIsTheReadableLength) {
  // ld #pktlen; jeq #5; ldx #pktlen; txa; jgt #4
  const std::vector<CbpfInsn> prog = {{BPF_LD | BPF_W | BPF_LEN, 0, 0, 0},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 5},
                                      {BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0},
                                      {BPF_MISC | BPF_TXA, 0, 0, 0},
                                      {BPF_RET | BPF_A, 0, 0, 0},
                                      {BPF_RET | BPF_K, 0, 0, 0}};
  EXPECT_EQ(run(prog, counting(5)), 1u);
  EXPECT_EQ(run(prog, counting(6)), 0u);
}

// --- ALU

uint64_t alu_result(uint16_t code, uint32_t a, uint32_t x_or_k, uint32_t expect) {
  const bool x = BPF_SRC(code) == BPF_X;
  // ld #a; ldx #x; <op>; jeq #expect -> 1 / 0
  const std::vector<CbpfInsn> prog = {{BPF_LD | BPF_IMM, 0, 0, a},
                                      {BPF_LDX | BPF_IMM, 0, 0, x ? x_or_k : 0},
                                      {code, 0, 0, x ? 0 : x_or_k},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, expect},
                                      {BPF_RET | BPF_K, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 0}};
  return run(prog, {});
}

TEST(CbpfToEbpf, AluIs32BitUnsigned) {
  for (uint16_t src : {BPF_K, BPF_X}) {
    EXPECT_EQ(alu_result(BPF_ALU | BPF_ADD | src, 0xffffffff, 2, 1), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_SUB | src, 1, 2, 0xffffffff), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_MUL | src, 0x10000, 0x10001, 0x10000), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_DIV | src, 0xfffffffe, 0x80000000, 1), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_MOD | src, 100, 7, 2), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_AND | src, 0xf0f0, 0xff00, 0xf000), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_OR | src, 0xf0f0, 0x0f00, 0xfff0), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_XOR | src, 0xf0f0, 0xffff, 0x0f0f), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_LSH | src, 0x80000001, 1, 2), 1u);
    EXPECT_EQ(alu_result(BPF_ALU | BPF_RSH | src, 0x80000000, 31, 1), 1u);
  }
  EXPECT_EQ(alu_result(BPF_ALU | BPF_NEG, 1, 0, 0xffffffff), 1u);
}

TEST(CbpfToEbpf, ShiftsBy32OrMoreGiveZeroAsInLibpcap) {
  for (uint32_t n : {32u, 33u, 63u, 0xffffffffu}) {
    EXPECT_EQ(alu_result(BPF_ALU | BPF_LSH | BPF_X, 0xffffffff, n, 0), 1u) << n;
    EXPECT_EQ(alu_result(BPF_ALU | BPF_RSH | BPF_X, 0xffffffff, n, 0), 1u) << n;
    EXPECT_EQ(alu_result(BPF_ALU | BPF_LSH | BPF_K, 0xffffffff, n, 0), 1u) << n;
    EXPECT_EQ(alu_result(BPF_ALU | BPF_RSH | BPF_K, 0xffffffff, n, 0), 1u) << n;
  }
}

TEST(CbpfToEbpf, DivisionOrModuloByXZeroRejects) {
  for (uint16_t op : {BPF_DIV, BPF_MOD}) {
    // ldx #0; ld #7; div x; ret #1  -- never reaches the ret
    const std::vector<CbpfInsn> prog = {{BPF_LDX | BPF_IMM, 0, 0, 0},
                                        {BPF_LD | BPF_IMM, 0, 0, 7},
                                        {static_cast<uint16_t>(BPF_ALU | op | BPF_X), 0, 0, 0},
                                        {BPF_RET | BPF_K, 0, 0, 1}};
    EXPECT_EQ(run(prog, {}), 0u);
  }
}

TEST(CbpfToEbpf, ComparisonsAreUnsigned32Bit) {
  // ld #0x80000000; jgt #0x7fffffff; jge x (x = 0xffffffff) must be false
  const std::vector<CbpfInsn> prog = {{BPF_LD | BPF_IMM, 0, 0, 0x80000000},
                                      {BPF_LDX | BPF_IMM, 0, 0, 0xffffffff},
                                      {BPF_JMP | BPF_JGT | BPF_K, 0, 3, 0x7fffffff},
                                      {BPF_JMP | BPF_JGE | BPF_X, 2, 0, 0},
                                      {BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x80000000},
                                      {BPF_RET | BPF_K, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 0}};
  EXPECT_EQ(run(prog, {}), 1u);
}

TEST(CbpfToEbpf, ScratchMemoryStartsZeroedAndIsCompacted) {
  // ld M[9]; st M[15]; ldx M[15]; txa; jeq #0 -> 1
  const std::vector<CbpfInsn> prog = {{BPF_LD | BPF_IMM, 0, 0, 3},
                                      {BPF_LD | BPF_MEM, 0, 0, 9},
                                      {BPF_ST, 0, 0, 15},
                                      {BPF_LDX | BPF_MEM, 0, 0, 15},
                                      {BPF_MISC | BPF_TXA, 0, 0, 0},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0},
                                      {BPF_RET | BPF_K, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 0}};
  EXPECT_EQ(run(prog, {}), 1u);
  EXPECT_EQ(translate(prog).stack_bytes, 16u);  // 8-byte load buffer + two words
}

TEST(CbpfToEbpf, RetAIsOneForAnyNonZeroA) {
  for (uint32_t a : {1u, 0x80000000u, 0xffffffffu, 262144u}) {
    EXPECT_EQ(run({{BPF_LD | BPF_IMM, 0, 0, a}, {BPF_RET | BPF_A, 0, 0, 0}}, {}), 1u) << a;
  }
  EXPECT_EQ(run({{BPF_LD | BPF_IMM, 0, 0, 0}, {BPF_RET | BPF_A, 0, 0, 0}}, {}), 0u);
  EXPECT_EQ(run({{BPF_RET | BPF_K, 0, 0, 262144}}, {}), 1u);
}

// --- layout and jump fix-ups

TEST(CbpfToEbpf, AbsoluteLoadsInTheFirst64BytesShareOneRead) {
  // ldh [12] (ethertype), ldb [23] (protocol), ld [30] (IPv4 destination): one helper call for
  // all three, whatever their alignment.
  const std::vector<CbpfInsn> prog = {
      {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12}, {BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0x0800},
      {BPF_LD | BPF_B | BPF_ABS, 0, 0, 23}, {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 6},
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, 30}, {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x0a000002},
      {BPF_RET | BPF_K, 0, 0, 1},           {BPF_RET | BPF_K, 0, 0, 0}};
  const EbpfFilter f = translate(prog);
  expect_verifier_shape(f);
  EXPECT_EQ(f.stack_bytes, 72u);  // load buffer and window
  Interpreter one;
  EXPECT_EQ(one.run(f, ethernet(0x0800, ipv4_tcp(0x02))), 1u);
  EXPECT_EQ(one.helper_calls, 1);
  Bytes other = ethernet(0x0800, ipv4_tcp(0x02));
  other[33] = 3;  // 10.0.0.3
  EXPECT_EQ(Interpreter().run(f, other), 0u);
  // Shorter than the window: the read takes what there is, a load past it still rejects.
  Bytes cut = ethernet(0x0800, ipv4_tcp(0x02));
  cut.resize(33);
  Interpreter short_one;
  EXPECT_EQ(short_one.run(f, cut), 0u);
  EXPECT_EQ(short_one.helper_calls, 1);
  Bytes just = ethernet(0x0800, ipv4_tcp(0x02));
  just.resize(34);
  EXPECT_EQ(run(prog, just), 1u);
  // Bytes 64 and beyond, and loads at X + k, are read on their own.
  const auto far = load_equals(BPF_LD | BPF_H | BPF_ABS, 63, 0x3f40);
  Interpreter beyond;
  EXPECT_EQ(beyond.run(translate(far), counting(65)), 1u);
  EXPECT_EQ(beyond.helper_calls, 1);
  EXPECT_EQ(translate(far).stack_bytes, 8u);  // no window for a load it cannot serve
  EXPECT_EQ(run(load_equals(BPF_LD | BPF_B | BPF_ABS, 63, 63), counting(64)), 1u);
}

TEST(CbpfToEbpf, BtfWindowLoadsThePacketWithoutHelperCalls) {
  // ldh [12], ldb [23], ld [30] (across the struct's 8-byte members 24..31 and 32..39: byte by
  // byte), ldh [190] (past 64 bytes, still inside the 200-byte struct).
  const std::vector<CbpfInsn> prog = {
      {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},  {BPF_JMP | BPF_JEQ | BPF_K, 0, 7, 0x0800},
      {BPF_LD | BPF_B | BPF_ABS, 0, 0, 23},  {BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 6},
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, 30},  {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0x0a000002},
      {BPF_LD | BPF_H | BPF_ABS, 0, 0, 190}, {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0xbebf},
      {BPF_RET | BPF_K, 0, 0, 1},            {BPF_RET | BPF_K, 0, 0, 0}};
  const EbpfFilter f = translate(prog, &kWindow);
  expect_verifier_shape(f, &kWindow);
  EXPECT_TRUE(f.btf_window);
  EXPECT_EQ(f.stack_bytes, 8u);  // the load buffer only: no copy of the packet
  Bytes p = ethernet(0x0800, ipv4_tcp(0x02));
  const Bytes tail = counting(200);
  p.insert(p.end(), tail.begin() + static_cast<long>(p.size()), tail.end());
  Interpreter in(&kWindow);
  EXPECT_EQ(in.run(f, p), 1u);
  EXPECT_EQ(in.helper_calls, 0);
  EXPECT_EQ(in.kfunc_calls, 1);
  EXPECT_EQ(in.direct_loads, 1 + 1 + 4 + 1);
  EXPECT_EQ(run(prog, p), 1u);
  p[191] = 0;
  EXPECT_EQ(run(prog, p), 0u);
  p.resize(191);  // the last load would pass the end: rejected before it loads
  EXPECT_EQ(run(prog, p), 0u);
}

TEST(CbpfToEbpf, BtfWindowKeepsTheAddressForHelperLoads) {
  // ldxb 4*([14]&0xf); ldh [x+16] (TCP destination port behind an IPv4 header, at X + k: a
  // helper call), ldh [250] (past the struct: a helper call).
  const std::vector<CbpfInsn> prog = {{BPF_LDX | BPF_MSH | BPF_B, 0, 0, 14},
                                      {BPF_LD | BPF_H | BPF_IND, 0, 0, 16},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 80},
                                      {BPF_LD | BPF_H | BPF_ABS, 0, 0, 250},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0xfafb},
                                      {BPF_RET | BPF_K, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 0}};
  const EbpfFilter f = translate(prog, &kWindow);
  expect_verifier_shape(f, &kWindow);
  EXPECT_EQ(f.stack_bytes, 16u);  // the load buffer and the packet's address
  Bytes p = ethernet(0x0800, ipv4_tcp(0x02));
  const Bytes tail = counting(256);
  p.insert(p.end(), tail.begin() + static_cast<long>(p.size()), tail.end());
  Interpreter in(&kWindow);
  EXPECT_EQ(in.run(f, p), 1u);
  EXPECT_EQ(in.kfunc_calls, 1);
  EXPECT_EQ(in.direct_loads, 1);
  EXPECT_EQ(in.helper_calls, 2);
  EXPECT_EQ(run(prog, p), 1u);
  p[14 + 20 + 3] = 81;
  EXPECT_EQ(run(prog, p), 0u);
  // Without absolute loads in the window there is nothing to cast.
  const auto far = load_equals(BPF_LD | BPF_H | BPF_ABS, 250, 0xfafb);
  const EbpfFilter no_window = translate(far, &kWindow);
  EXPECT_FALSE(no_window.btf_window);
  EXPECT_EQ(no_window.stack_bytes, 8u);
  EXPECT_EQ(Interpreter(&kWindow).run(no_window, counting(252)), 1u);
}

TEST(CbpfToEbpf, UnusableBtfWindowIsABug) {
  const BtfWindow small = {4242, 77, 32};
  const std::vector<CbpfInsn> prog = {{BPF_RET | BPF_K, 0, 0, 1}};
  auto f = translate_cbpf(prog, &small);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ExitCode::Failure);
  EXPECT_NE(f.error().message.find("unusable BTF window"), std::string::npos);
}

TEST(CbpfToEbpf, SmallestProgramLayout) {
  EbpfFilter f = translate({{BPF_RET | BPF_K, 0, 0, 262144}});
  ASSERT_EQ(f.insns.size(), 10u);
  // r1 > r2 rejects, then r6 = data, r7 = data_end - data, A = X = 0.
  EXPECT_EQ(f.insns[0].code, BPF_JMP | BPF_JGT | BPF_X);
  EXPECT_EQ(f.insns[0].off, 7);  // to the reject block at 8
  EXPECT_EQ(f.insns[6].code, BPF_ALU64 | BPF_MOV | BPF_K);
  EXPECT_EQ(f.insns[6].imm, 1);
  EXPECT_EQ(f.insns[7].code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ(f.insns[8].imm, 0);
  EXPECT_EQ(f.insns[9].code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ(f.cbpf_start, (std::vector<int32_t>{6}));
}

// The eBPF jumps of classic instruction `i` and the classic instructions they land on.
std::set<int32_t> jump_targets(const EbpfFilter& f, size_t i) {
  std::set<int32_t> out;
  size_t end = f.insns.size();
  for (size_t j = i + 1; j < f.cbpf_start.size(); j++) {
    if (f.cbpf_start[j] >= 0) {
      end = static_cast<size_t>(f.cbpf_start[j]);
      break;
    }
  }
  for (size_t pc = static_cast<size_t>(f.cbpf_start[i]); pc < end; pc++) {
    if (!is_jump(f.insns[pc])) continue;
    const int32_t to = static_cast<int32_t>(pc + 1 + f.insns[pc].off);
    for (size_t c = 0; c < f.cbpf_start.size(); c++)
      if (f.cbpf_start[c] == to) out.insert(static_cast<int32_t>(c));
  }
  return out;
}

TEST(CbpfToEbpf, JumpOffsetsLandOnTheirClassicTargets) {
  // 0: ldh [0]; 1: jeq #1 jt 7 jf 2; 2: jgt #5 jt 3 jf 5; 3: jset #1 jt 4 jf 5; 4: ja 6;
  // 5: ret #1; 6: ret #0; 7: ret #2
  const std::vector<CbpfInsn> prog = {{BPF_LD | BPF_H | BPF_ABS, 0, 0, 0},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1},
                                      {BPF_JMP | BPF_JGT | BPF_K, 0, 2, 5},
                                      {BPF_JMP | BPF_JSET | BPF_K, 0, 1, 1},
                                      {kJa, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 1},
                                      {BPF_RET | BPF_K, 0, 0, 0},
                                      {BPF_RET | BPF_K, 0, 0, 2}};
  EbpfFilter f = translate(prog);
  expect_verifier_shape(f);
  EXPECT_EQ(jump_targets(f, 1), (std::set<int32_t>{7}));     // true far, false falls through
  EXPECT_EQ(jump_targets(f, 2), (std::set<int32_t>{5}));     // inverted: jle to the false target
  EXPECT_EQ(jump_targets(f, 3), (std::set<int32_t>{4, 5}));  // jset skips a ja to the false target
  EXPECT_EQ(jump_targets(f, 4), (std::set<int32_t>{6}));
  // Behaviour on every branch, 2-byte big-endian values at offset 0.
  EXPECT_EQ(Interpreter().run(f, {0, 1}), 1u);  // 1 -> 7: ret #2
  EXPECT_EQ(Interpreter().run(f, {0, 6}), 1u);  // >5 -> 3: jset #1 false -> 5
  EXPECT_EQ(Interpreter().run(f, {0, 7}), 0u);  // >5 -> 3: jset #1 true -> 4 -> 6
  EXPECT_EQ(Interpreter().run(f, {0, 4}), 1u);  // <=5 -> 5
}

TEST(CbpfToEbpf, ConditionWithEqualTargetsBecomesAJumpOrNothing) {
  // 0: jeq #0 jt 1 jf 2; 1: jeq #7 jt 3 jf 3; 2: ret #0; 3: jeq #0 jt 4 jf 4; 4: ret #1
  const std::vector<CbpfInsn> prog = {{BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 7},
                                      {BPF_RET | BPF_K, 0, 0, 0},
                                      {BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0},
                                      {BPF_RET | BPF_K, 0, 0, 1}};
  EbpfFilter f = translate(prog);
  expect_verifier_shape(f);
  EXPECT_EQ(f.insns[static_cast<size_t>(f.cbpf_start[1])].code, kJa);
  EXPECT_EQ(f.cbpf_start[3], f.cbpf_start[4]);  // falls through: nothing to emit
  EXPECT_EQ(Interpreter().run(f, {}), 1u);
  // The instruction in between is unreachable, so the target is what comes next.
  EbpfFilter skip = translate({{BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0},
                               {BPF_RET | BPF_K, 0, 0, 0},
                               {BPF_RET | BPF_K, 0, 0, 1}});
  expect_verifier_shape(skip);
  EXPECT_EQ(skip.cbpf_start, (std::vector<int32_t>{6, -1, 6}));
}

TEST(CbpfToEbpf, UnreachableInstructionsAreLeftOutEvenIfInvalid) {
  const std::vector<CbpfInsn> prog = {
      {BPF_RET | BPF_K, 0, 0, 1}, {0xff, 0, 0, 0}, {kJa, 0, 0, 0xfffffff0}};
  EbpfFilter f = translate(prog);
  expect_verifier_shape(f);
  EXPECT_EQ(f.cbpf_start, (std::vector<int32_t>{6, -1, -1}));
}

TEST(CbpfToEbpf, JumpsBeyond16BitOffsetsAreRefused) {
  // 0: jeq #0 jt 0 jf 1 (both reachable); 1: ja over n loads; 2..n+1: ldh [100] (past the
  // window: a helper call each); ret #1
  auto with_loads = [](uint32_t n) {
    std::vector<CbpfInsn> prog = {{BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0}, {kJa, 0, 0, n}};
    for (uint32_t i = 0; i < n; i++) prog.push_back({BPF_LD | BPF_H | BPF_ABS, 0, 0, 100});
    prog.push_back({BPF_RET | BPF_K, 0, 0, 1});
    return prog;
  };
  expect_verifier_shape(translate(with_loads(1000)));
  Error e = refusal(with_loads(5000));
  EXPECT_EQ(e.code, ExitCode::BadFilter);
  EXPECT_NE(e.message.find("too large"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("32767"), std::string::npos) << e.message;
}

// --- refusals

TEST(CbpfToEbpf, BackwardJumpIsRefusedNamingInstructionAndProtochain) {
  Error e = refusal({{BPF_LD | BPF_IMM, 0, 0, 0}, {kJa, 0, 0, 0xfffffffe}});
  EXPECT_EQ(e.code, ExitCode::BadFilter);
  EXPECT_EQ(e.message,
            "cannot translate the pcap filter to eBPF: instruction 1 (opcode 0x05, ja): backward "
            "jump (by -2); eBPF filters may only jump forward");
  EXPECT_NE(e.hint.find("protochain"), std::string::npos);
}

TEST(CbpfToEbpf, AncillaryAndNegativeOffsetsAreRefused) {
  for (uint32_t k : {uint32_t(SKF_AD_OFF) + SKF_AD_PROTOCOL, uint32_t(SKF_AD_OFF) + SKF_AD_VLAN_TAG,
                     uint32_t(SKF_NET_OFF), uint32_t(SKF_LL_OFF) + 12}) {
    for (uint16_t code : {BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS,
                          BPF_LD | BPF_B | BPF_ABS, BPF_LDX | BPF_MSH | BPF_B}) {
      Error e = refusal({{code, 0, 0, k}, {BPF_RET | BPF_K, 0, 0, 1}});
      EXPECT_EQ(e.code, ExitCode::BadFilter);
      EXPECT_NE(e.message.find("instruction 0 (opcode 0x"), std::string::npos) << e.message;
      EXPECT_NE(e.message.find("negative offset"), std::string::npos) << e.message;
      EXPECT_NE(e.message.find("SKF_AD_*"), std::string::npos) << e.message;
    }
  }
}

TEST(CbpfToEbpf, InvalidProgramsAreRefusedWithTheReason) {
  struct Case {
    std::vector<CbpfInsn> prog;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {{}, "cannot translate the pcap filter to eBPF: the program is empty"},
      {{{BPF_RET | BPF_X, 0, 0, 0}}, "instruction 0 (opcode 0x0e, unknown opcode): not a classic"},
      {{{0xff, 0, 0, 0}}, "instruction 0 (opcode 0xff, unknown opcode)"},
      {{{BPF_LD | BPF_H | BPF_IMM, 0, 0, 0}, {BPF_RET | BPF_K, 0, 0, 0}}, "opcode 0x08"},
      {{{BPF_ALU | BPF_NEG | BPF_X, 0, 0, 0}, {BPF_RET | BPF_K, 0, 0, 0}}, "opcode 0x8c"},
      {{{BPF_LD | BPF_IMM, 0, 0, 0}},
       "instruction 0 (opcode 0x00, ld #k): the program ends here without a ret"},
      {{{BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0}, {BPF_RET | BPF_K, 0, 0, 0}},
       "instruction 0 (opcode 0x15, jeq #k): the false branch leads past the end of the program "
       "(to instruction 2 of 2)"},
      {{{kJa, 0, 0, 5}, {BPF_RET | BPF_K, 0, 0, 0}}, "instruction 0 (opcode 0x05, ja): the jump"},
      {{{BPF_ST, 0, 0, 16}, {BPF_RET | BPF_K, 0, 0, 0}},
       "instruction 0 (opcode 0x02, st M[k]): scratch memory M[16] does not exist"},
      {{{BPF_LDX | BPF_MEM, 0, 0, 99}, {BPF_RET | BPF_K, 0, 0, 0}}, "M[99]"},
      {{{BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0}, {BPF_RET | BPF_K, 0, 0, 0}},
       "instruction 0 (opcode 0x34, div #k): division by the constant 0"},
      {{{BPF_ALU | BPF_MOD | BPF_K, 0, 0, 0}, {BPF_RET | BPF_K, 0, 0, 0}}, "(opcode 0x94, mod #k)"},
  };
  for (const Case& c : cases) {
    Error e = refusal(c.prog);
    EXPECT_EQ(e.code, ExitCode::BadFilter);
    EXPECT_NE(e.message.find(c.expected), std::string::npos) << e.message;
    EXPECT_FALSE(e.hint.empty());
  }
}

}  // namespace
}  // namespace pwru
