// --output-skb-metadata and --filter-skb-expr: C expressions on the skb (`skb->dev->ifindex`,
// `skb->len > 1000`) resolved through the kernel's BTF into the steps bpf/skb_expr.bpf.h runs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

struct btf;
struct pwru_expr;

namespace pwru {

// How a value is shown.
enum class SkbExprKind : uint8_t { Unsigned, Signed, Bool, Pointer, Enum, String };

// A field reached from the skb: what the BPF side reads (struct pwru_expr) and how to show it.
struct SkbExpr {
  std::string text;                // the expression as given, spaces removed: "skb->dev->ifindex"
  std::vector<uint32_t> deref;     // offsets of the pointers read on the way, in order
  uint32_t offset = 0;             // of the value, from the last pointer (the skb without one)
  uint8_t size = 0;                // bytes read: 1 to 8, a string up to 16
  uint8_t bit_shift = 0;
  uint8_t bit_width = 0;           // bits kept: 8 * size unless a bitfield
  SkbExprKind kind = SkbExprKind::Unsigned;
  std::string type;                // its C type as BTF names it: "u32", "struct net_device *"
  std::vector<std::pair<int64_t, std::string>> enumerators;  // Enum: the names of its values
  bool is_signed = false;          // sign-extended from bit_width bits (Signed, a signed enum)
};

enum class SkbExprOp : uint8_t { Eq = 1, Ne, Lt, Le, Gt, Ge };  // enum pwru_expr_op

// --filter-skb-expr: (field & mask) op value.
struct SkbExprFilter {
  SkbExpr field;
  uint64_t mask = ~0ull;
  uint64_t value = 0;
  SkbExprOp op = SkbExprOp::Eq;
};

// Resolves `expr` (`skb` then `->member`, `.member`, `[index]`, any number of them) through the
// struct sk_buff of `btf`. Errors (ExitCode::Usage) name `option` and the part that does not
// resolve, with the closest member names.
Result<SkbExpr> resolve_skb_expr(const struct btf* btf, const std::string& expr,
                                 const std::string& option = "--output-skb-metadata");

// Parses `FIELD [& MASK] OP VALUE` (OP one of == != < <= > >=; FIELD an integer, enum, bool or
// pointer field) for --filter-skb-expr.
Result<SkbExprFilter> parse_skb_filter(const struct btf* btf, const std::string& text);

// The value of `e` as read by the BPF side (PWRU_META_BYTES bytes: a little-endian u64 already
// shifted, masked and sign-extended, or a string's bytes), as text and JSON show it: decimal,
// pointers in hex, enums by name (their number when unnamed), strings as they are.
std::string format_skb_expr_value(const SkbExpr& e, const uint8_t* raw);

// `e` as bpf/skb_expr.bpf.h runs it.
void to_bpf_expr(const SkbExpr& e, struct pwru_expr& out);

// The names closest to `name` among `candidates` (edit distance), best first, at most `max`.
std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& candidates,
                                       size_t max = 3);

}  // namespace pwru
