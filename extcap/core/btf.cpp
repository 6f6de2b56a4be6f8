// KernelBtf: walks the kernel's BTF with libbpf's btf API.
#include "core/btf.h"

#include <bpf/btf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace pwru {
namespace {

constexpr std::string_view kTracePrefix = "btf_trace_";
constexpr std::string_view kTraceFuncPrefix = "__bpf_trace_";
constexpr std::string_view kDropPrefix = "SKB_DROP_REASON_";

// Follows typedefs and qualifiers to the type they name.
const struct btf_type* resolve(const struct btf* btf, uint32_t* id) {
  const struct btf_type* t = btf__type_by_id(btf, *id);
  while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
    *id = t->type;
    t = btf__type_by_id(btf, *id);
  }
  return t;
}

bool is_ptr_to_struct(const struct btf* btf, uint32_t id, std::string_view name) {
  const struct btf_type* t = resolve(btf, &id);
  if (!t || !btf_is_ptr(t)) return false;
  id = t->type;
  t = resolve(btf, &id);
  return t && btf_is_struct(t) && name == btf__name_by_offset(btf, t->name_off);
}

bool is_enum(const struct btf* btf, uint32_t id, std::string_view name) {
  const struct btf_type* t = resolve(btf, &id);
  return t && btf_is_enum(t) && name == btf__name_by_offset(btf, t->name_off);
}

}  // namespace

void KernelBtf::Deleter::operator()(struct btf* b) const { btf__free(b); }

Result<KernelBtf> KernelBtf::load(const std::string& path) {
  struct btf* b = path.empty() ? btf__load_vmlinux_btf() : btf__parse(path.c_str(), nullptr);
  if (!b) {
    int err = errno;
    std::string what = path.empty() ? "the kernel's BTF (/sys/kernel/btf/vmlinux)" : path;
    return Error{ExitCode::KernelFeature, "cannot load " + what + ": " + std::strerror(err),
                 "pwrudump needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"};
  }
  return KernelBtf(b);
}

std::vector<SkbTracepoint> KernelBtf::skb_tracepoints() const {
  const struct btf* btf = btf_.get();
  std::vector<SkbTracepoint> out;
  uint32_t n = btf__type_cnt(btf);
  for (uint32_t id = 1; id < n; id++) {
    const struct btf_type* t = btf__type_by_id(btf, id);
    if (!btf_is_typedef(t)) continue;
    std::string_view name = btf__name_by_offset(btf, t->name_off);
    if (!name.starts_with(kTracePrefix)) continue;
    // btf_trace_<name> is a pointer to void (*)(void *__data, <tracepoint args>).
    uint32_t pid = t->type;
    const struct btf_type* ptr = resolve(btf, &pid);
    if (!ptr || !btf_is_ptr(ptr)) continue;
    uint32_t fid = ptr->type;
    const struct btf_type* proto = resolve(btf, &fid);
    if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) < 2) continue;
    const struct btf_param* params = btf_params(proto);
    SkbTracepoint tp;
    tp.name = std::string(name.substr(kTracePrefix.size()));
    tp.nr_args = btf_vlen(proto) - 1;
    for (int i = 1; i < btf_vlen(proto); i++) {
      if (tp.skb_pos < 0 && is_ptr_to_struct(btf, params[i].type, "sk_buff")) tp.skb_pos = i - 1;
      if (tp.reason_pos < 0 && is_enum(btf, params[i].type, "skb_drop_reason")) tp.reason_pos = i - 1;
    }
    if (tp.skb_pos < 0) continue;
    // The typedef's prototype has no parameter names; the tracepoint's __bpf_trace_<name>
    // function has them. `location` is the caller address kfree_skb and consume_skb carry.
    std::string func = std::string(kTraceFuncPrefix) + tp.name;
    int fn = btf__find_by_name_kind(btf, func.c_str(), BTF_KIND_FUNC);
    if (fn > 0) {
      const struct btf_type* f = btf__type_by_id(btf, fn);
      const struct btf_type* fproto = btf__type_by_id(btf, f->type);
      if (fproto && btf_is_func_proto(fproto)) {
        const struct btf_param* fp = btf_params(fproto);
        for (int i = 1; i < btf_vlen(fproto); i++) {
          if (std::string_view(btf__name_by_offset(btf, fp[i].name_off)) == "location") {
            tp.location_pos = i - 1;
          }
        }
      }
    }
    out.push_back(std::move(tp));
  }
  std::sort(out.begin(), out.end(),
            [](const SkbTracepoint& a, const SkbTracepoint& b) { return a.name < b.name; });
  return out;
}

std::map<uint32_t, std::string> KernelBtf::drop_reasons() const {
  const struct btf* btf = btf_.get();
  std::map<uint32_t, std::string> out;
  int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
  if (id <= 0) return out;
  const struct btf_type* t = btf__type_by_id(btf, id);
  const struct btf_enum* e = btf_enum(t);
  for (int i = 0; i < btf_vlen(t); i++) {
    std::string_view name = btf__name_by_offset(btf, e[i].name_off);
    if (name.starts_with(kDropPrefix)) name.remove_prefix(kDropPrefix.size());
    out.emplace(static_cast<uint32_t>(e[i].val), std::string(name));
  }
  return out;
}

}  // namespace pwru
