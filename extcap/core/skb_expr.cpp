// Resolves skb expressions through BTF with libbpf's btf API (core/skb_expr.h).
#include "core/skb_expr.h"

#include <bpf/btf.h>
#include <linux/types.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "pwru_event.h"

namespace pwru {
namespace {

constexpr const char* kSyntaxHint =
    "write the field as in C from skb, e.g. skb->hash, skb->dev->ifindex, skb->cb[0]";

Error usage(const std::string& option, const std::string& expr, const std::string& why,
            std::string hint = kSyntaxHint) {
  return Error{ExitCode::Usage, "cannot use " + option + " " + expr + ": " + why,
               std::move(hint)};
}

// Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the type they name.
uint32_t skip_mods(const struct btf* btf, uint32_t id) {
  for (int i = 0; i < 64; i++) {
    const struct btf_type* t = btf__type_by_id(btf, id);
    if (!t || !(btf_is_typedef(t) || btf_is_mod(t))) return id;
    id = t->type;
  }
  return id;
}

std::string type_name(const struct btf* btf, uint32_t id) {
  const struct btf_type* t = btf__type_by_id(btf, id);
  if (!t || id == 0) return "void";
  const std::string name = btf__name_by_offset(btf, t->name_off);
  if (btf_is_ptr(t)) return type_name(btf, t->type) + " *";
  if (btf_is_mod(t)) return type_name(btf, t->type);
  if (btf_is_array(t)) {
    return type_name(btf, btf_array(t)->type) + "[" + std::to_string(btf_array(t)->nelems) + "]";
  }
  if (btf_is_struct(t)) return "struct " + (name.empty() ? "(anonymous)" : name);
  if (btf_is_union(t)) return "union " + (name.empty() ? "(anonymous)" : name);
  if (btf_is_any_enum(t)) return "enum " + (name.empty() ? "(anonymous)" : name);
  if (btf_is_func_proto(t)) return "function";
  return name;
}

// A member found in a struct or union, through its anonymous members too.
struct Member {
  uint32_t type = 0;
  uint32_t bit_offset = 0;  // from the start of the outer struct
  uint32_t bitfield = 0;    // width, 0: no bitfield
};

bool find_member(const struct btf* btf, uint32_t id, const std::string& name, uint32_t base,
                 Member& out) {
  const struct btf_type* t = btf__type_by_id(btf, skip_mods(btf, id));
  if (!t || !btf_is_composite(t)) return false;
  const struct btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++) {
    const uint32_t off = base + btf_member_bit_offset(t, i);
    const char* mname = btf__name_by_offset(btf, m[i].name_off);
    if (mname && *mname) {
      if (name == mname) {
        out = Member{m[i].type, off, btf_member_bitfield_size(t, i)};
        return true;
      }
    } else if (find_member(btf, m[i].type, name, off, out)) {
      return true;
    }
  }
  return false;
}

void member_names(const struct btf* btf, uint32_t id, std::vector<std::string>& out) {
  const struct btf_type* t = btf__type_by_id(btf, skip_mods(btf, id));
  if (!t || !btf_is_composite(t)) return;
  const struct btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++) {
    const char* mname = btf__name_by_offset(btf, m[i].name_off);
    if (mname && *mname) {
      out.emplace_back(mname);
    } else {
      member_names(btf, m[i].type, out);
    }
  }
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) row[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      const size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The expression's tokens: identifiers, numbers, "->", ".", "[", "]".
struct Token {
  enum Kind { Ident, Number, Arrow, Dot, Open, Close } kind;
  std::string text;
};

bool tokenize(const std::string& expr, std::vector<Token>& out, std::string& bad) {
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      i++;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < expr.size() &&
             (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_'))
        j++;
      out.push_back({Token::Ident, expr.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < expr.size() && std::isalnum(static_cast<unsigned char>(expr[j]))) j++;
      out.push_back({Token::Number, expr.substr(i, j - i)});
      i = j;
    } else if (expr.compare(i, 2, "->") == 0) {
      out.push_back({Token::Arrow, "->"});
      i += 2;
    } else if (c == '.') {
      out.push_back({Token::Dot, "."});
      i++;
    } else if (c == '[') {
      out.push_back({Token::Open, "["});
      i++;
    } else if (c == ']') {
      out.push_back({Token::Close, "]"});
      i++;
    } else {
      bad = std::string(1, c);
      return false;
    }
  }
  return true;
}

bool parse_u64(std::string text, uint64_t& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text = text.substr(2);
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

std::string compact(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

}  // namespace

std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& candidates, size_t max) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    // A name that contains the wanted one (hash in l4_hash) is close whatever its length.
    if (c.find(name) != std::string::npos || name.find(c) != std::string::npos)
      d = std::min<size_t>(d, 2);
    if (d <= std::max<size_t>(2, name.size() / 3)) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [d, c] : scored) {
    if (std::find(out.begin(), out.end(), c) != out.end()) continue;
    out.push_back(c);
    if (out.size() == max) break;
  }
  return out;
}

Result<SkbExpr> resolve_skb_expr(const struct btf* btf, const std::string& expr_in,
                                 const std::string& option) {
  const std::string expr = compact(expr_in);
  std::vector<Token> tokens;
  std::string bad;
  if (expr.empty()) return usage(option, "\"\"", "no expression");
  if (!tokenize(expr, tokens, bad)) {
    return usage(option, expr, "unexpected character '" + bad + "'");
  }
  if (tokens.empty() || tokens[0].kind != Token::Ident || tokens[0].text != "skb") {
    return usage(option, expr, "the expression must start with skb");
  }
  const int skb_id = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
  if (skb_id <= 0) {
    return Error{ExitCode::KernelFeature,
                 "cannot use " + option + " " + expr + ": the kernel's BTF has no struct sk_buff",
                 "pass the running kernel's BTF (/sys/kernel/btf/vmlinux, or --kernel-btf FILE)"};
  }

  SkbExpr e;
  e.text = expr;
  // Where the walk is: `at_base` while the current value is the skb pointer itself (held in a
  // register, not read from memory); otherwise a `type` at `offset` bytes from the last pointer.
  bool at_base = true;
  uint32_t type = 0;  // at_base: the skb's type is a pointer to struct sk_buff
  uint32_t offset = 0;
  Member last{};      // the member just taken (its bitfield)
  std::string path = "skb";

  // The struct a pointer at the current place points to; reads it when needed.
  auto deref = [&](uint32_t& pointee) -> Status {
    if (at_base) {
      pointee = static_cast<uint32_t>(skb_id);
      offset = 0;
      at_base = false;
      return Ok{};
    }
    const struct btf_type* t = btf__type_by_id(btf, skip_mods(btf, type));
    if (!t || !btf_is_ptr(t)) {
      return usage(option, expr, path + " is " + type_name(btf, type) + ", not a pointer",
                   "use . for a member of a struct that is not behind a pointer");
    }
    if (e.deref.size() >= PWRU_EXPR_DEREFS) {
      return usage(option, expr,
                   "more than " + std::to_string(PWRU_EXPR_DEREFS) + " pointers on the way",
                   "pick a field fewer pointers away");
    }
    e.deref.push_back(offset);
    offset = 0;
    pointee = t->type;
    return Ok{};
  };

  size_t i = 1;
  while (i < tokens.size()) {
    const Token& tok = tokens[i];
    if (last.bitfield) return usage(option, expr, path + " is a bitfield: it has no members");
    if (tok.kind == Token::Arrow || tok.kind == Token::Dot) {
      if (i + 1 >= tokens.size() || tokens[i + 1].kind != Token::Ident) {
        return usage(option, expr, "a member name must follow " + tok.text);
      }
      const std::string& name = tokens[i + 1].text;
      uint32_t owner = 0;
      if (tok.kind == Token::Arrow) {
        if (auto st = deref(owner); !st) return st.error();
      } else {
        if (at_base) {
          return usage(option, expr, "skb is a pointer: write skb->" + name,
                       "use -> after a pointer, . after a struct");
        }
        owner = type;
      }
      const struct btf_type* ot = btf__type_by_id(btf, skip_mods(btf, owner));
      if (!ot || !btf_is_composite(ot)) {
        return usage(option, expr,
                     path + (tok.kind == Token::Arrow ? " points to " : " is ") +
                         type_name(btf, owner) + ", which has no members");
      }
      Member m;
      if (!find_member(btf, owner, name, 0, m)) {
        std::vector<std::string> names;
        member_names(btf, owner, names);
        const auto near = closest_names(name, names);
        return usage(option, expr,
                     type_name(btf, skip_mods(btf, owner)) + " has no member " + name,
                     near.empty() ? "list its members with `bpftool btf dump file "
                                    "/sys/kernel/btf/vmlinux format c`"
                                  : "did you mean " + join(near) + "?");
      }
      offset += m.bitfield ? 0 : m.bit_offset / 8;
      last = m;
      if (m.bitfield) last.bit_offset = m.bit_offset;  // kept whole until the end
      type = m.type;
      path += tok.text + name;
      i += 2;
    } else if (tok.kind == Token::Open) {
      if (i + 2 >= tokens.size() || tokens[i + 1].kind != Token::Number ||
          tokens[i + 2].kind != Token::Close) {
        return usage(option, expr, "an index is a number in brackets, e.g. [2]");
      }
      uint64_t index = 0;
      if (!parse_u64(tokens[i + 1].text, index)) {
        return usage(option, expr, tokens[i + 1].text + " is not an index");
      }
      uint32_t elem = 0;
      const struct btf_type* t = at_base ? nullptr : btf__type_by_id(btf, skip_mods(btf, type));
      if (t && btf_is_array(t)) {
        const struct btf_array* a = btf_array(t);
        if (a->nelems && index >= a->nelems) {
          return usage(option, expr,
                       path + " has " + std::to_string(a->nelems) + " elements: [" +
                           std::to_string(index) + "] is past its end",
                       "pass an index from 0 to " + std::to_string(a->nelems - 1));
        }
        elem = a->type;
      } else if (at_base || (t && btf_is_ptr(t))) {
        if (auto st = deref(elem); !st) return st.error();
      } else {
        return usage(option, expr, path + " is " + type_name(btf, type) + ": it has no elements");
      }
      const __s64 size = btf__resolve_size(btf, elem);
      if (size <= 0 || index * static_cast<uint64_t>(size) > 0xffff'ffffull) {
        return usage(option, expr, "cannot index " + path + ": its elements have no size");
      }
      offset += static_cast<uint32_t>(index * size);
      type = elem;
      last = Member{};
      path += "[" + tokens[i + 1].text + "]";
      i += 3;
    } else {
      return usage(option, expr, "unexpected " + tok.text + " after " + path);
    }
  }
  if (at_base) {
    return usage(option, expr, "skb alone is the skb's address, which every event has",
                 "pick a field, e.g. skb->hash");
  }

  // The value: what it is and how many bytes to read.
  const uint32_t vid = skip_mods(btf, type);
  const struct btf_type* t = btf__type_by_id(btf, vid);
  e.type = type_name(btf, type);
  e.deref.shrink_to_fit();
  if (!t) return usage(option, expr, path + " has no type in the kernel's BTF");
  if (last.bitfield) {
    // Read the bytes that hold the bits.
    const uint32_t first = last.bit_offset / 8;
    e.offset = offset + first;
    e.bit_shift = static_cast<uint8_t>(last.bit_offset % 8);
    e.bit_width = static_cast<uint8_t>(last.bitfield);
    e.size = static_cast<uint8_t>((e.bit_shift + e.bit_width + 7) / 8);
    if (e.size > 8) return usage(option, expr, path + " is a bitfield wider than 56 bits");
  } else {
    e.offset = offset;
  }
  if (btf_is_int(t)) {
    const uint8_t enc = btf_int_encoding(t);
    e.kind = (enc & BTF_INT_BOOL) ? SkbExprKind::Bool
             : (enc & BTF_INT_SIGNED) ? SkbExprKind::Signed
                                      : SkbExprKind::Unsigned;
    if (!last.bitfield) {
      if (t->size > 8) {
        return usage(option, expr,
                     path + " is " + e.type + ", wider than the 8 bytes a value holds");
      }
      e.size = static_cast<uint8_t>(t->size);
      e.bit_width = static_cast<uint8_t>(8 * t->size);
    }
  } else if (btf_is_any_enum(t)) {
    e.kind = SkbExprKind::Enum;
    const bool is_signed = btf_kflag(t);
    if (btf_is_enum(t)) {
      const struct btf_enum* v = btf_enum(t);
      for (uint16_t k = 0; k < btf_vlen(t); k++) {
        const int64_t value =
            is_signed ? int64_t{v[k].val} : int64_t{static_cast<uint32_t>(v[k].val)};
        e.enumerators.emplace_back(value, btf__name_by_offset(btf, v[k].name_off));
      }
    } else {
      const struct btf_enum64* v = btf_enum64(t);
      for (uint16_t k = 0; k < btf_vlen(t); k++) {
        e.enumerators.emplace_back(static_cast<int64_t>(btf_enum64_value(v + k)),
                                   btf__name_by_offset(btf, v[k].name_off));
      }
    }
    if (!last.bitfield) {
      e.size = static_cast<uint8_t>(t->size);
      e.bit_width = static_cast<uint8_t>(8 * t->size);
    }
    e.is_signed = is_signed;
  } else if (btf_is_ptr(t)) {
    e.kind = SkbExprKind::Pointer;
    e.size = 8;
    e.bit_width = 64;
  } else if (btf_is_array(t)) {
    const struct btf_array* a = btf_array(t);
    const struct btf_type* et = btf__type_by_id(btf, skip_mods(btf, a->type));
    const bool chars = et && btf_is_int(et) && et->size == 1 &&
                       (btf_int_encoding(et) & BTF_INT_CHAR ||
                        std::strcmp(btf__name_by_offset(btf, et->name_off), "char") == 0);
    if (!chars) {
      return usage(option, expr, path + " is " + e.type + ", an array",
                   "pick an element, e.g. " + path + "[0]");
    }
    e.kind = SkbExprKind::String;
    e.size = static_cast<uint8_t>(std::min<uint32_t>(a->nelems, PWRU_META_BYTES));
    if (e.size == 0) return usage(option, expr, path + " is an empty array");
  } else if (btf_is_composite(t)) {
    std::vector<std::string> names;
    member_names(btf, vid, names);
    if (names.size() > 8) {
      names.resize(8);
      names.emplace_back("...");
    }
    return usage(option, expr, path + " is " + e.type + ", not a value",
                 "pick one of its members: " + join(names));
  } else {
    return usage(option, expr, path + " is " + e.type + ", not a value it can show");
  }
  e.is_signed = e.is_signed || e.kind == SkbExprKind::Signed;
  return e;
}

Result<SkbExprFilter> parse_skb_filter(const struct btf* btf, const std::string& text_in) {
  const std::string option = "--filter-skb-expr";
  const std::string text = compact(text_in);
  const char* hint = "write FIELD OP VALUE or FIELD & MASK OP VALUE, OP one of == != < <= > >=, "
                     "e.g. \"skb->dev->ifindex == 11\" or \"skb->mark & 0xff == 1\"";
  // The comparison: the first operator found; the field comes before it.
  static const std::pair<const char*, SkbExprOp> kOps[] = {
      {"==", SkbExprOp::Eq}, {"!=", SkbExprOp::Ne}, {"<=", SkbExprOp::Le},
      {">=", SkbExprOp::Ge}, {"<", SkbExprOp::Lt},  {">", SkbExprOp::Gt}};
  size_t at = std::string::npos, len = 0;
  SkbExprOp op = SkbExprOp::Eq;
  for (size_t i = 0; i < text.size() && at == std::string::npos; i++) {
    if (text.compare(i, 2, "->") == 0) {
      i++;
      continue;
    }
    for (const auto& [word, o] : kOps) {
      if (text.compare(i, std::strlen(word), word) == 0) {
        at = i;
        len = std::strlen(word);
        op = o;
        break;
      }
    }
  }
  if (at == std::string::npos) return usage(option, text_in, "no comparison", hint);
  std::string lhs = text.substr(0, at), rhs = text.substr(at + len);
  // Parentheses around the left side, as C needs them around `a & b`: (skb->mark & 0xff) == 1.
  if (lhs.size() >= 2 && lhs.front() == '(' && lhs.back() == ')') {
    lhs = lhs.substr(1, lhs.size() - 2);
  }
  SkbExprFilter f;
  f.op = op;
  if (size_t amp = lhs.find('&'); amp != std::string::npos) {
    if (!parse_u64(lhs.substr(amp + 1), f.mask)) {
      return usage(option, text_in, "the mask " + lhs.substr(amp + 1) + " is not a number", hint);
    }
    lhs = lhs.substr(0, amp);
  }
  bool negative = !rhs.empty() && rhs[0] == '-';
  uint64_t value = 0;
  if (!parse_u64(negative ? rhs.substr(1) : rhs, value)) {
    return usage(option, text_in, "the value " + rhs + " is not a number", hint);
  }
  auto field = resolve_skb_expr(btf, lhs, option);
  if (!field) return field.error();
  if (field->kind == SkbExprKind::String) {
    return usage(option, text_in, lhs + " is a string, which the filter cannot compare",
                 "compare a number, e.g. skb->dev->ifindex == 11 (--filter-ifname takes a name)");
  }
  if (negative && !field->is_signed) {
    return usage(option, text_in, lhs + " is " + field->type + ", which is never negative", hint);
  }
  f.value = negative ? ~value + 1 : value;
  f.field = std::move(field.value());
  return f;
}

std::string format_skb_expr_value(const SkbExpr& e, const uint8_t* raw) {
  if (e.kind == SkbExprKind::String) {
    const auto* s = reinterpret_cast<const char*>(raw);
    return std::string(s, strnlen(s, std::min<size_t>(e.size, PWRU_META_BYTES)));
  }
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | raw[i];
  char buf[32];
  switch (e.kind) {
    case SkbExprKind::Bool: return v ? "true" : "false";
    case SkbExprKind::Pointer:
      std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
      return buf;
    case SkbExprKind::Signed:
      return std::to_string(static_cast<int64_t>(v));
    case SkbExprKind::Enum:
      for (const auto& [value, name] : e.enumerators)
        if (static_cast<uint64_t>(value) == v) return name;
      return e.is_signed ? std::to_string(static_cast<int64_t>(v)) : std::to_string(v);
    default:
      return std::to_string(v);
  }
}

void to_bpf_expr(const SkbExpr& e, struct pwru_expr& out) {
  out = pwru_expr{};
  for (size_t i = 0; i < e.deref.size() && i < PWRU_EXPR_DEREFS; i++) out.deref[i] = e.deref[i];
  out.nderef = static_cast<__u8>(std::min<size_t>(e.deref.size(), PWRU_EXPR_DEREFS));
  out.offset = e.offset;
  out.size = e.size;
  out.bit_shift = e.bit_shift;
  out.bit_width = e.bit_width;
  out.is_signed = e.is_signed;
  out.is_string = e.kind == SkbExprKind::String;
}

}  // namespace pwru
