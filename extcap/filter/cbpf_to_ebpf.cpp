// Classic BPF -> eBPF: check the reachable classic instructions, emit each one's expansion with
// symbolic jump targets, then resolve the targets into 16-bit eBPF offsets.
#include "filter/cbpf_to_ebpf.h"

#include <linux/bpf.h>
#include <linux/filter.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

namespace pwru {

static_assert(sizeof(CbpfInsn) == sizeof(struct sock_filter));
static_assert(offsetof(CbpfInsn, jt) == offsetof(struct sock_filter, jt));
static_assert(offsetof(CbpfInsn, jf) == offsetof(struct sock_filter, jf));
static_assert(offsetof(CbpfInsn, k) == offsetof(struct sock_filter, k));
static_assert(sizeof(EbpfInsn) == sizeof(struct bpf_insn));
static_assert(offsetof(EbpfInsn, off) == offsetof(struct bpf_insn, off));
static_assert(offsetof(EbpfInsn, imm) == offsetof(struct bpf_insn, imm));

namespace {

// Classic and extended BPF share the class, size, mode, ALU and jump encodings; the classic
// classes RET (0x06) and MISC (0x07) are the extended JMP32 and ALU64.
constexpr uint16_t kRetK = BPF_RET | BPF_K;
constexpr uint16_t kRetA = BPF_RET | BPF_A;
constexpr uint16_t kTax = BPF_MISC | BPF_TAX;
constexpr uint16_t kTxa = BPF_MISC | BPF_TXA;

enum Reg : uint8_t { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };
// Callee-saved, so they survive the helper calls of packet loads.
constexpr Reg kData = R6;  // first packet byte; with a BtfWindow the pointer to it
constexpr Reg kLen = R7;   // readable bytes, 64-bit
constexpr Reg kA = R8;     // accumulator, always zero-extended 32-bit
constexpr Reg kX = R9;     // index register, always zero-extended 32-bit

constexpr int16_t kLoadBuf = -8;  // 8-byte buffer for bpf_probe_read_kernel
constexpr uint32_t kLoadBufBytes = 8;
// The packet's first bytes, read once in the prologue when the program has absolute loads in
// them (headers up to IPv6 addresses behind Ethernet): a helper call costs tens of nanoseconds,
// a load from the stack almost nothing, and a filter runs for every skb at every probe.
constexpr uint32_t kWindowBytes = 64;
constexpr int16_t kWindow = kLoadBuf - static_cast<int16_t>(kWindowBytes);
// With a BtfWindow, the packet's address as a plain number, for the loads past the window.
constexpr int16_t kDataSlot = kLoadBuf - 8;
// The verifier takes a load through the cast pointer when it lies inside one member of the
// struct; BtfWindow's members are 8-byte integers.
constexpr uint32_t kBtfMemberBytes = 8;

// Every instruction libpcap's interpreter runs (pcapint_valid_insn), with bpf_image's name.
struct Opcode {
  uint16_t code;
  const char* name;
};
constexpr Opcode kOpcodes[] = {
    {kRetK, "ret #k"},
    {kRetA, "ret a"},
    {BPF_LD | BPF_W | BPF_ABS, "ld [k]"},
    {BPF_LD | BPF_H | BPF_ABS, "ldh [k]"},
    {BPF_LD | BPF_B | BPF_ABS, "ldb [k]"},
    {BPF_LD | BPF_W | BPF_LEN, "ld #pktlen"},
    {BPF_LDX | BPF_W | BPF_LEN, "ldx #pktlen"},
    {BPF_LD | BPF_W | BPF_IND, "ld [x+k]"},
    {BPF_LD | BPF_H | BPF_IND, "ldh [x+k]"},
    {BPF_LD | BPF_B | BPF_IND, "ldb [x+k]"},
    {BPF_LDX | BPF_MSH | BPF_B, "ldxb 4*([k]&0xf)"},
    {BPF_LD | BPF_IMM, "ld #k"},
    {BPF_LDX | BPF_IMM, "ldx #k"},
    {BPF_LD | BPF_MEM, "ld M[k]"},
    {BPF_LDX | BPF_MEM, "ldx M[k]"},
    {BPF_ST, "st M[k]"},
    {BPF_STX, "stx M[k]"},
    {BPF_JMP | BPF_JA, "ja"},
    {BPF_JMP | BPF_JEQ | BPF_K, "jeq #k"},
    {BPF_JMP | BPF_JGT | BPF_K, "jgt #k"},
    {BPF_JMP | BPF_JGE | BPF_K, "jge #k"},
    {BPF_JMP | BPF_JSET | BPF_K, "jset #k"},
    {BPF_JMP | BPF_JEQ | BPF_X, "jeq x"},
    {BPF_JMP | BPF_JGT | BPF_X, "jgt x"},
    {BPF_JMP | BPF_JGE | BPF_X, "jge x"},
    {BPF_JMP | BPF_JSET | BPF_X, "jset x"},
    {BPF_ALU | BPF_ADD | BPF_K, "add #k"},
    {BPF_ALU | BPF_SUB | BPF_K, "sub #k"},
    {BPF_ALU | BPF_MUL | BPF_K, "mul #k"},
    {BPF_ALU | BPF_DIV | BPF_K, "div #k"},
    {BPF_ALU | BPF_MOD | BPF_K, "mod #k"},
    {BPF_ALU | BPF_AND | BPF_K, "and #k"},
    {BPF_ALU | BPF_OR | BPF_K, "or #k"},
    {BPF_ALU | BPF_XOR | BPF_K, "xor #k"},
    {BPF_ALU | BPF_LSH | BPF_K, "lsh #k"},
    {BPF_ALU | BPF_RSH | BPF_K, "rsh #k"},
    {BPF_ALU | BPF_ADD | BPF_X, "add x"},
    {BPF_ALU | BPF_SUB | BPF_X, "sub x"},
    {BPF_ALU | BPF_MUL | BPF_X, "mul x"},
    {BPF_ALU | BPF_DIV | BPF_X, "div x"},
    {BPF_ALU | BPF_MOD | BPF_X, "mod x"},
    {BPF_ALU | BPF_AND | BPF_X, "and x"},
    {BPF_ALU | BPF_OR | BPF_X, "or x"},
    {BPF_ALU | BPF_XOR | BPF_X, "xor x"},
    {BPF_ALU | BPF_LSH | BPF_X, "lsh x"},
    {BPF_ALU | BPF_RSH | BPF_X, "rsh x"},
    {BPF_ALU | BPF_NEG, "neg"},
    {kTax, "tax"},
    {kTxa, "txa"},
};

// bpf_image's name of `code`, or nullptr when libpcap would not run it.
const char* mnemonic(uint16_t code) {
  for (const Opcode& op : kOpcodes)
    if (op.code == code) return op.name;
  return nullptr;
}

bool is_alu_op(uint16_t code) {
  if (BPF_CLASS(code) != BPF_ALU || (code & ~uint16_t{0xff}) != 0) return false;
  switch (BPF_OP(code)) {
    case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_MOD:
    case BPF_AND: case BPF_OR: case BPF_XOR: case BPF_LSH: case BPF_RSH:
      return true;
    default:
      return false;
  }
}

bool is_cond_jump(uint16_t code) {
  if (BPF_CLASS(code) != BPF_JMP || (code & ~uint16_t{0xff}) != 0) return false;
  switch (BPF_OP(code)) {
    case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET: return true;
    default: return false;
  }
}

// Bytes read by a packet load, 0 for any other instruction.
uint32_t load_size(uint16_t code) {
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_W | BPF_IND: return 4;
    case BPF_LD | BPF_H | BPF_ABS: case BPF_LD | BPF_H | BPF_IND: return 2;
    case BPF_LD | BPF_B | BPF_ABS: case BPF_LD | BPF_B | BPF_IND:
    case BPF_LDX | BPF_MSH | BPF_B: return 1;
    default: return 0;
  }
}

bool uses_scratch(uint16_t code) {
  return code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM) || code == BPF_ST ||
         code == BPF_STX;
}

EbpfInsn insn(uint8_t code, Reg dst, Reg src, int16_t off, int32_t imm) {
  EbpfInsn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

class Translator {
 public:
  Translator(std::span<const CbpfInsn> prog, const BtfWindow* btf)
      : prog_(prog),
        reachable_(prog.size(), false),
        reject_(prog.size()),
        btf_(btf),
        window_bytes_(btf ? btf->size : kWindowBytes) {}

  Result<EbpfFilter> run() {
    if (prog_.empty()) {
      return Error{ExitCode::BadFilter,
                   "cannot translate the pcap filter to eBPF: the program is empty",
                   "pass the program libpcap compiled (bpf_program.bf_insns, bf_len)"};
    }
    if (auto err = check()) return *err;
    plan_stack();
    prologue();
    for (size_t i = 0; i < prog_.size(); i++) {
      out_.cbpf_start.push_back(reachable_[i] ? static_cast<int32_t>(out_.insns.size()) : -1);
      if (reachable_[i]) translate(i);
    }
    label_pos_.resize(prog_.size() + 1);
    for (size_t i = 0; i < prog_.size(); i++) label_pos_[i] = out_.cbpf_start[i];
    label_pos_[reject_] = static_cast<int32_t>(out_.insns.size());
    emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, R0, 0, 0));
    emit(insn(BPF_JMP | BPF_EXIT, R0, R0, 0, 0));
    if (auto err = resolve()) return *err;
    return std::move(out_);
  }

 private:
  using Label = size_t;  // classic instruction index; prog_.size() is the reject block

  Error fail(size_t i, const std::string& why, std::string hint = {}) const {
    const uint16_t code = prog_[i].code;
    char op[16];
    std::snprintf(op, sizeof(op), "0x%02x", code);
    const char* name = mnemonic(code);
    if (hint.empty()) {
      hint = "this filter cannot run in the kernel; please report it with the expression";
    }
    return Error{ExitCode::BadFilter,
                 "cannot translate the pcap filter to eBPF: instruction " + std::to_string(i) +
                     " (opcode " + op + ", " + (name ? name : "unknown opcode") + "): " + why,
                 hint};
  }

  // Marks what runs and rejects what cannot be translated. Jumps only go forward, so one pass
  // in order sees every instruction's predecessors first.
  std::optional<Error> check() {
    const size_t n = prog_.size();
    reachable_[0] = true;
    auto reach = [&](size_t i, uint64_t target, const char* what) -> std::optional<Error> {
      if (target >= n) {
        return fail(i, std::string(what) + " leads past the end of the program (to instruction " +
                           std::to_string(target) + " of " + std::to_string(n) + ")");
      }
      reachable_[target] = true;
      return std::nullopt;
    };
    for (size_t i = 0; i < n; i++) {
      if (!reachable_[i]) continue;
      const CbpfInsn& in = prog_[i];
      const uint16_t code = in.code;
      if (!mnemonic(code)) return fail(i, "not a classic BPF instruction libpcap runs");
      if (code == kRetK || code == kRetA) continue;
      if (code == (BPF_JMP | BPF_JA)) {
        if (static_cast<int32_t>(in.k) < 0) {
          return fail(i, "backward jump (by " + std::to_string(static_cast<int32_t>(in.k)) +
                             "); eBPF filters may only jump forward",
                      "`protochain` loops over extension headers with a backward jump, which "
                      "the in-kernel filter cannot do; use `ip proto N` or `ip6 proto N`");
        }
        if (auto err = reach(i, uint64_t{i} + 1 + in.k, "the jump")) return err;
        continue;
      }
      if (is_cond_jump(code)) {
        if (auto err = reach(i, uint64_t{i} + 1 + in.jt, "the true branch")) return err;
        if (auto err = reach(i, uint64_t{i} + 1 + in.jf, "the false branch")) return err;
        continue;
      }
      if (load_size(code) != 0 && BPF_MODE(code) != BPF_IND && static_cast<int32_t>(in.k) < 0) {
        return fail(i, "negative offset " + std::to_string(static_cast<int32_t>(in.k)) +
                           " (Linux ancillary data SKF_AD_* or SKF_NET_OFF/SKF_LL_OFF)",
                    "only the packet bytes can be read in the kernel, not socket-filter "
                    "metadata");
      }
      if (uses_scratch(code) && in.k >= BPF_MEMWORDS) {
        return fail(i, "scratch memory M[" + std::to_string(in.k) + "] does not exist");
      }
      if (is_alu_op(code) && BPF_SRC(code) == BPF_K &&
          (BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) && in.k == 0) {
        return fail(i, "division by the constant 0");
      }
      if (i + 1 == n) return fail(i, "the program ends here without a ret");
      reachable_[i + 1] = true;
    }
    return std::nullopt;
  }

  // Whether a load of `size` bytes at (indirect ? X : 0) + k can be served from the window.
  bool in_window(uint32_t size, bool indirect, uint32_t k) const {
    return !indirect && size <= window_bytes_ && k <= window_bytes_ - size;
  }

  // The window, when some load uses it, below the load buffer (with a BtfWindow only the
  // packet's address, when some load is past the window); then M[k] slots, 4 bytes each, only
  // for the k the program uses.
  void plan_stack() {
    bool past_window = false;
    for (size_t i = 0; i < prog_.size(); i++) {
      const uint16_t code = prog_[i].code;
      if (!reachable_[i] || !load_size(code)) continue;
      if (in_window(load_size(code), BPF_MODE(code) == BPF_IND, prog_[i].k))
        window_ = true;
      else
        past_window = true;
    }
    spill_data_ = btf_ && window_ && past_window;
    const uint32_t window_stack = !window_ ? 0 : btf_ ? (spill_data_ ? 8 : 0) : kWindowBytes;
    const uint32_t base = kLoadBufBytes + window_stack;
    uint32_t used = 0;
    for (size_t i = 0; i < prog_.size(); i++) {
      if (!reachable_[i] || !uses_scratch(prog_[i].code)) continue;
      uint32_t k = prog_[i].k;
      if (slot_[k] == 0) slot_[k] = -static_cast<int16_t>(base + 4 * ++used);
      if (prog_[i].code == (BPF_LD | BPF_MEM) || prog_[i].code == (BPF_LDX | BPF_MEM))
        read_[k] = true;
    }
    out_.stack_bytes = (base + 4 * used + 7) / 8 * 8;
  }

  void emit(EbpfInsn i) { out_.insns.push_back(i); }

  // A jump to `target`, resolved once every label has its position.
  void jump(uint8_t code, Reg dst, Reg src, int32_t imm, Label target) {
    fixups_.push_back({out_.insns.size(), target});
    emit(insn(code, dst, src, 0, imm));
  }

  void mov32_imm(Reg dst, uint32_t k) {
    emit(insn(BPF_ALU | BPF_MOV | BPF_K, dst, R0, 0, static_cast<int32_t>(k)));
  }
  void mov32_reg(Reg dst, Reg src) { emit(insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)); }
  void mov64_reg(Reg dst, Reg src) { emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)); }
  void alu64_imm(uint8_t op, Reg dst, int32_t imm) {
    emit(insn(BPF_ALU64 | op | BPF_K, dst, R0, 0, imm));
  }
  void alu64_reg(uint8_t op, Reg dst, Reg src) {
    emit(insn(BPF_ALU64 | op | BPF_X, dst, src, 0, 0));
  }

  void prologue() {
    jump(BPF_JMP | BPF_JGT | BPF_X, R1, R2, 0, reject_);  // an inverted range matches nothing
    mov64_reg(kData, R1);
    mov64_reg(kLen, R2);
    alu64_reg(BPF_SUB, kLen, R1);
    mov32_imm(kA, 0);
    mov32_imm(kX, 0);
    // libpcap starts with M[] zeroed, and the verifier refuses to read unwritten stack.
    for (uint32_t k = 0; k < BPF_MEMWORDS; k++) {
      if (read_[k]) emit(insn(BPF_ST | BPF_W | BPF_MEM, R10, R0, slot_[k], 0));
    }
    if (!window_) return;
    out_.btf_window = btf_ != nullptr;
    if (btf_) {
      // kData becomes the cast pointer; loads past the window find the address on the stack.
      if (spill_data_) emit(insn(BPF_STX | BPF_DW | BPF_MEM, R10, kData, kDataSlot, 0));
      mov64_reg(R1, kData);
      emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R2, R0, 0, btf_->type_id));
      emit(insn(BPF_JMP | BPF_CALL, R0, static_cast<Reg>(BPF_PSEUDO_KFUNC_CALL), 0,
                btf_->cast_kfunc_id));
      mov64_reg(kData, R0);
      return;
    }
    // The window: min(kLen, 64) bytes. A read of variable size needs its buffer written first
    // (the verifier checks it as initialized), so it is zeroed. The bytes lie in the skb's
    // linear data, which a read does not fail on; if it did, the packet is rejected, as a load
    // of those bytes would be.
    for (int16_t off = kWindow; off < kLoadBuf; off += 8)
      emit(insn(BPF_ST | BPF_DW | BPF_MEM, R10, R0, off, 0));
    mov64_reg(R2, kLen);
    emit(insn(BPF_JMP | BPF_JLE | BPF_K, R2, R0, 1, static_cast<int32_t>(kWindowBytes)));
    emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R2, R0, 0, static_cast<int32_t>(kWindowBytes)));
    mov64_reg(R1, R10);
    alu64_imm(BPF_ADD, R1, kWindow);
    mov64_reg(R3, kData);
    emit(insn(BPF_JMP | BPF_CALL, R0, R0, 0, BPF_FUNC_probe_read_kernel));
    jump(BPF_JMP | BPF_JNE | BPF_K, R0, R0, 0, reject_);
  }

  // dst = the `size` big-endian bytes at window offset k, byte by byte: the verifier only takes
  // aligned stack loads, and bytes need no swapping.
  void load_from_window(uint32_t size, uint32_t k, Reg dst) {
    load_bytes(R10, static_cast<int16_t>(kWindow + static_cast<int16_t>(k)), size, dst);
  }

  // dst = the `size` bytes at base + at, shifted together big-endian, one byte load each.
  void load_bytes(Reg base, int16_t at, uint32_t size, Reg dst) {
    emit(insn(BPF_LDX | BPF_B | BPF_MEM, dst, base, at, 0));
    for (uint32_t i = 1; i < size; i++) {
      emit(insn(BPF_ALU | BPF_LSH | BPF_K, dst, R0, 0, 8));
      emit(insn(BPF_LDX | BPF_B | BPF_MEM, R1, base, static_cast<int16_t>(at + i), 0));
      emit(insn(BPF_ALU | BPF_OR | BPF_X, dst, R1, 0, 0));
    }
  }

  // dst = the `size` big-endian bytes at packet offset k through the BtfWindow's pointer: one
  // load and a byte swap inside a member, byte by byte across members.
  void load_from_btf_window(uint32_t size, uint32_t k, Reg dst) {
    const auto at = static_cast<int16_t>(k);
    if (size == 1 || k % kBtfMemberBytes + size <= kBtfMemberBytes) {
      const uint8_t width = size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
      emit(insn(BPF_LDX | width | BPF_MEM, dst, kData, at, 0));
      if (size > 1) {
        emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, R0, 0, static_cast<int32_t>(size * 8)));
      }
      return;
    }
    load_bytes(kData, at, size, dst);
  }

  // dst = the packet's address as a plain number, for a helper call.
  void packet_address(Reg dst) {
    if (spill_data_)
      emit(insn(BPF_LDX | BPF_DW | BPF_MEM, dst, R10, kDataSlot, 0));
    else
      mov64_reg(dst, kData);
  }

  // dst = the `size` big-endian bytes at (indirect ? X : 0) + k, or reject when they are not all
  // below kLen. The bound is checked in 64 bits, so X + k + size cannot wrap.
  void load(uint32_t size, bool indirect, uint32_t k, Reg dst) {
    constexpr uint32_t kMaxImm = std::numeric_limits<int32_t>::max();
    if (window_ && in_window(size, indirect, k)) {
      // Below kLen, so inside the min(kLen, 64) bytes the prologue read, or inside the linear
      // data the BtfWindow points into.
      jump(BPF_JMP | BPF_JLT | BPF_K, kLen, R0, static_cast<int32_t>(k + size), reject_);
      if (btf_)
        load_from_btf_window(size, k, dst);
      else
        load_from_window(size, k, dst);
      return;
    }
    if (!indirect && k <= kMaxImm - size) {
      jump(BPF_JMP | BPF_JLT | BPF_K, kLen, R0, static_cast<int32_t>(k + size), reject_);
      packet_address(R3);
      if (k != 0) alu64_imm(BPF_ADD, R3, static_cast<int32_t>(k));
    } else {
      if (indirect) {
        mov64_reg(R3, kX);
        if (k <= kMaxImm) {
          if (k != 0) alu64_imm(BPF_ADD, R3, static_cast<int32_t>(k));
        } else {
          mov32_imm(R1, k);  // zero-extended, where a 64-bit immediate would sign-extend
          alu64_reg(BPF_ADD, R3, R1);
        }
      } else {
        mov32_imm(R3, k);
      }
      mov64_reg(R1, R3);
      alu64_imm(BPF_ADD, R1, static_cast<int32_t>(size));
      jump(BPF_JMP | BPF_JGT | BPF_X, R1, kLen, 0, reject_);
      packet_address(R2);
      alu64_reg(BPF_ADD, R3, R2);
    }
    mov64_reg(R1, R10);
    alu64_imm(BPF_ADD, R1, kLoadBuf);
    emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R2, R0, 0, static_cast<int32_t>(size)));
    emit(insn(BPF_JMP | BPF_CALL, R0, R0, 0, BPF_FUNC_probe_read_kernel));
    jump(BPF_JMP | BPF_JNE | BPF_K, R0, R0, 0, reject_);
    const uint8_t width = size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
    emit(insn(BPF_LDX | width | BPF_MEM, dst, R10, kLoadBuf, 0));
    if (size > 1) {
      emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, R0, 0, static_cast<int32_t>(size * 8)));
    }
  }

  void alu(size_t i) {
    const CbpfInsn& in = prog_[i];
    const uint8_t op = BPF_OP(in.code);
    if (BPF_SRC(in.code) == BPF_K) {
      if ((op == BPF_LSH || op == BPF_RSH) && in.k >= 32) {
        mov32_imm(kA, 0);  // libpcap's result; eBPF leaves such shifts undefined
        return;
      }
      emit(insn(BPF_ALU | op | BPF_K, kA, R0, 0, static_cast<int32_t>(in.k)));
      return;
    }
    if (op == BPF_DIV || op == BPF_MOD) {
      jump(BPF_JMP32 | BPF_JEQ | BPF_K, kX, R0, 0, reject_);  // as libpcap: x == 0 rejects
    } else if (op == BPF_LSH || op == BPF_RSH) {
      // libpcap shifts everything out for x >= 32.
      emit(insn(BPF_JMP32 | BPF_JLT | BPF_K, kX, R0, 2, 32));
      mov32_imm(kA, 0);
      emit(insn(BPF_JMP | BPF_JA, R0, R0, 1, 0));
    }
    emit(insn(BPF_ALU | op | BPF_X, kA, kX, 0, 0));
  }

  // The next classic instruction that is emitted after i: where falling through lands.
  Label next_emitted(size_t i) const {
    size_t j = i + 1;
    while (j < prog_.size() && !reachable_[j]) j++;
    return j < prog_.size() ? j : reject_;
  }

  void cond_jump(size_t i) {
    const CbpfInsn& in = prog_[i];
    const Label t = i + 1 + in.jt, f = i + 1 + in.jf, next = next_emitted(i);
    const uint8_t op = BPF_OP(in.code);
    const bool x = BPF_SRC(in.code) == BPF_X;
    const Reg src = x ? kX : R0;
    const int32_t imm = x ? 0 : static_cast<int32_t>(in.k);  // JMP32 compares 32-bit unsigned
    const uint8_t src_bit = x ? BPF_X : BPF_K;
    if (t == f) {
      if (t != next) jump(BPF_JMP | BPF_JA, R0, R0, 0, t);
      return;
    }
    if (t == next && op != BPF_JSET) {
      const uint8_t inverse = op == BPF_JEQ ? BPF_JNE : op == BPF_JGT ? BPF_JLE : BPF_JLT;
      jump(BPF_JMP32 | inverse | src_bit, kA, src, imm, f);
      return;
    }
    if (t == next) {  // jset has no inverse: skip over the jump to f
      emit(insn(BPF_JMP32 | op | src_bit, kA, src, 1, imm));
      jump(BPF_JMP | BPF_JA, R0, R0, 0, f);
      return;
    }
    jump(BPF_JMP32 | op | src_bit, kA, src, imm, t);
    if (f != next) jump(BPF_JMP | BPF_JA, R0, R0, 0, f);
  }

  void translate(size_t i) {
    const CbpfInsn& in = prog_[i];
    const uint16_t code = in.code;
    if (uint32_t size = load_size(code)) {
      if (code == (BPF_LDX | BPF_MSH | BPF_B)) {
        load(1, false, in.k, kX);
        emit(insn(BPF_ALU | BPF_AND | BPF_K, kX, R0, 0, 0xf));
        emit(insn(BPF_ALU | BPF_LSH | BPF_K, kX, R0, 0, 2));
      } else {
        load(size, BPF_MODE(code) == BPF_IND, in.k, kA);
      }
      return;
    }
    if (is_alu_op(code)) return alu(i);
    if (is_cond_jump(code)) return cond_jump(i);
    switch (code) {
      case kRetK:
      case kRetA:
        if (code == kRetK) {
          emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, R0, 0, in.k != 0 ? 1 : 0));
        } else {  // r0 = (A != 0): A is zero-extended, so -A has bit 63 set exactly when A != 0
          mov64_reg(R0, kA);
          emit(insn(BPF_ALU64 | BPF_NEG, R0, R0, 0, 0));
          emit(insn(BPF_ALU64 | BPF_RSH | BPF_K, R0, R0, 0, 63));
        }
        emit(insn(BPF_JMP | BPF_EXIT, R0, R0, 0, 0));
        return;
      case BPF_JMP | BPF_JA:
        if (i + 1 + in.k != next_emitted(i)) jump(BPF_JMP | BPF_JA, R0, R0, 0, i + 1 + in.k);
        return;
      case BPF_LD | BPF_W | BPF_LEN: return mov32_reg(kA, kLen);
      case BPF_LDX | BPF_W | BPF_LEN: return mov32_reg(kX, kLen);
      case BPF_LD | BPF_IMM: return mov32_imm(kA, in.k);
      case BPF_LDX | BPF_IMM: return mov32_imm(kX, in.k);
      case BPF_LD | BPF_MEM: return emit(insn(BPF_LDX | BPF_W | BPF_MEM, kA, R10, slot_[in.k], 0));
      case BPF_LDX | BPF_MEM: return emit(insn(BPF_LDX | BPF_W | BPF_MEM, kX, R10, slot_[in.k], 0));
      case BPF_ST: return emit(insn(BPF_STX | BPF_W | BPF_MEM, R10, kA, slot_[in.k], 0));
      case BPF_STX: return emit(insn(BPF_STX | BPF_W | BPF_MEM, R10, kX, slot_[in.k], 0));
      case BPF_ALU | BPF_NEG: return emit(insn(BPF_ALU | BPF_NEG, kA, R0, 0, 0));
      case kTax: return mov32_reg(kX, kA);
      case kTxa: return mov32_reg(kA, kX);
      default: return;  // check() let nothing else through
    }
  }

  std::optional<Error> resolve() {
    for (const Fixup& f : fixups_) {
      const int64_t off = int64_t{label_pos_[f.target]} - static_cast<int64_t>(f.at) - 1;
      if (off > std::numeric_limits<int16_t>::max()) {
        return Error{ExitCode::BadFilter,
                     "cannot translate the pcap filter to eBPF: the program is too large (a "
                     "jump spans " + std::to_string(off) + " eBPF instructions, at most 32767)",
                     "simplify the filter expression"};
      }
      out_.insns[f.at].off = static_cast<int16_t>(off);
    }
    return std::nullopt;
  }

  struct Fixup {
    size_t at;
    Label target;
  };

  std::span<const CbpfInsn> prog_;
  std::vector<bool> reachable_;
  const Label reject_;
  std::array<int16_t, BPF_MEMWORDS> slot_{};  // stack offset of M[k], 0 when unused
  std::array<bool, BPF_MEMWORDS> read_{};     // M[k] is loaded somewhere
  const BtfWindow* btf_;                      // plain loads in the window, or nullptr
  const uint32_t window_bytes_;
  bool window_ = false;    // the prologue reads the packet's first bytes (or casts their address)
  bool spill_data_ = false;  // with btf_: the packet's address is kept at kDataSlot
  std::vector<Fixup> fixups_;
  std::vector<int32_t> label_pos_;
  EbpfFilter out_;
};

}  // namespace

Result<EbpfFilter> translate_cbpf(std::span<const CbpfInsn> prog, const BtfWindow* window) {
  if (window && (window->size < kWindowBytes || window->size > 4096 || window->type_id <= 0 ||
                 window->cast_kfunc_id <= 0)) {
    return Error{ExitCode::Failure,
                 "cannot translate the pcap filter to eBPF: unusable BTF window (size " +
                     std::to_string(window->size) + ")",
                 "this is a bug in pwrudump"};
  }
  return Translator(prog, window).run();
}

}  // namespace pwru
