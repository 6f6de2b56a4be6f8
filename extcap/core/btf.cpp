// KernelBtf: walks the kernel's BTF with libbpf's btf API.
#include "core/btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <dirent.h>
#include <linux/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "pwru_event.h"

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

bool is_void_ptr(const struct btf* btf, uint32_t id) {
  const struct btf_type* t = resolve(btf, &id);
  return t && btf_is_ptr(t) && t->type == 0;
}

bool is_enum(const struct btf* btf, uint32_t id, std::string_view name) {
  const struct btf_type* t = resolve(btf, &id);
  return t && btf_is_enum(t) && name == btf__name_by_offset(btf, t->name_off);
}

// The struct a BtfWindow casts the packet to: 8-byte counters only (uapi, in every kernel).
constexpr const char* kWindowStruct = "rtnl_link_stats64";

// Whether every member of struct `t` is an 8-byte integer on an 8-byte boundary, no bitfield.
bool all_u64_members(const struct btf* btf, const struct btf_type* t) {
  const struct btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++) {
    uint32_t id = m[i].type;
    const struct btf_type* mt = resolve(btf, &id);
    if (!mt || !btf_is_int(mt) || mt->size != 8 || btf_member_bitfield_size(t, i) != 0 ||
        btf_member_bit_offset(t, i) % 64 != 0)
      return false;
  }
  return btf_vlen(t) > 0;
}

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};

// The FUNC `id` of `btf` with its skb and drop reason positions; nullopt when it is no function.
std::optional<SkbFunction> describe_function(const struct btf* btf, uint32_t id,
                                             const std::string& module) {
  const struct btf_type* t = btf__type_by_id(btf, id);
  if (!t || !btf_is_func(t)) return std::nullopt;
  const struct btf_type* proto = btf__type_by_id(btf, t->type);
  if (!proto || !btf_is_func_proto(proto)) return std::nullopt;
  const struct btf_param* params = btf_params(proto);
  SkbFunction fn;
  int nparams = std::min<int>(btf_vlen(proto), PWRU_FUNC_ARGS);
  for (int i = 0; i < nparams; i++) {
    if (fn.skb_pos < 0 && is_ptr_to_struct(btf, params[i].type, "sk_buff")) fn.skb_pos = i;
    if (fn.reason_pos < 0 && is_enum(btf, params[i].type, "skb_drop_reason")) fn.reason_pos = i;
  }
  fn.name = btf__name_by_offset(btf, t->name_off);
  fn.module = module;
  fn.btf_id = id;
  return fn;
}

// Appends the skb functions among the types [first, btf__type_cnt) of `btf`.
void collect_skb_functions(const struct btf* btf, uint32_t first, const std::string& module,
                           std::vector<SkbFunction>& out) {
  uint32_t n = btf__type_cnt(btf);
  for (uint32_t id = first; id < n; id++) {
    auto fn = describe_function(btf, id, module);
    if (fn && fn->skb_pos >= 0) out.push_back(std::move(*fn));
  }
}

}  // namespace

void KernelBtf::Deleter::operator()(struct btf* b) const { btf__free(b); }

Result<KernelBtf> KernelBtf::load(const std::string& path) {
  struct btf* b = path.empty() ? btf__load_vmlinux_btf() : btf__parse(path.c_str(), nullptr);
  if (!b) {
    // libbpf's own codes (4001 "Invalid BPF object format" for a file that is no BTF) too.
    char cause[128];
    libbpf_strerror(errno, cause, sizeof(cause));
    if (path.empty()) {
      return Error{ExitCode::NoBtf,
                   std::string("cannot load the kernel's BTF (/sys/kernel/btf/vmlinux): ") + cause,
                   "pwrudump needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or pass "
                   "--kernel-btf FILE with the running kernel's BTF"};
    }
    return Error{ExitCode::NoBtf, "cannot load --kernel-btf " + path + ": " + cause,
                 "pass the BTF of the running kernel (a vmlinux with BTF, or a .btf file), or "
                 "leave --kernel-btf out to use /sys/kernel/btf/vmlinux"};
  }
  // libbpf reads /sys/kernel/btf/vmlinux first and falls back to files under /boot.
  return KernelBtf(b, path.empty() && access("/sys/kernel/btf/vmlinux", R_OK) == 0);
}

std::optional<BtfWindow> KernelBtf::btf_window() const {
  if (!running_kernel_) return std::nullopt;  // ids from a file mean nothing to the kernel
  const struct btf* btf = btf_.get();
  const int cast = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC);
  const int type = btf__find_by_name_kind(btf, kWindowStruct, BTF_KIND_STRUCT);
  if (cast <= 0 || type <= 0) return std::nullopt;
  const struct btf_type* t = btf__type_by_id(btf, static_cast<uint32_t>(type));
  if (!t || t->size < 64 || !all_u64_members(btf, t)) return std::nullopt;
  return BtfWindow{cast, type, t->size};
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
    tp.btf_id = id;
    for (int i = 1; i < btf_vlen(proto); i++) {
      if (tp.skb_pos < 0 && is_ptr_to_struct(btf, params[i].type, "sk_buff")) tp.skb_pos = i - 1;
      if (tp.reason_pos < 0 && is_enum(btf, params[i].type, "skb_drop_reason")) tp.reason_pos = i - 1;
    }
    if (tp.skb_pos < 0) continue;
    // The typedef's prototype has no parameter names; the tracepoint's __bpf_trace_<name>
    // function has them. `location` is the caller address kfree_skb and consume_skb carry.
    std::string func = std::string(kTraceFuncPrefix) + tp.name;
    int fn = btf__find_by_name_kind(btf, func.c_str(), BTF_KIND_FUNC);
    if (fn <= 0) {
      // 5.10's BTF lacks the __bpf_trace_ functions. There, the only skb tracepoint with a
      // `void *` right after the skb is kfree_skb(skb, location).
      int next = tp.skb_pos + 2;  // params[] index: 0 is __data
      if (next < btf_vlen(proto) && is_void_ptr(btf, params[next].type)) tp.location_pos = next - 1;
    }
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

std::vector<SkbFunction> KernelBtf::skb_functions(bool with_modules) const {
  std::vector<SkbFunction> out;
  collect_skb_functions(btf_.get(), 1, "", out);
  if (with_modules) {
    // Module BTF is split BTF on top of vmlinux: its own types start after vmlinux's.
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/sys/kernel/btf"), &closedir);
    uint32_t base_cnt = btf__type_cnt(btf_.get());
    while (dir) {
      struct dirent* de = readdir(dir.get());
      if (!de) break;
      std::string name = de->d_name;
      if (name == "." || name == ".." || name == "vmlinux") continue;
      std::string path = "/sys/kernel/btf/" + name;
      std::unique_ptr<struct btf, BtfFree> mod(btf__parse_split(path.c_str(), btf_.get()));
      if (!mod) continue;  // unreadable module BTF: its functions are simply not offered
      collect_skb_functions(mod.get(), base_cnt, name, out);
    }
  }
  std::sort(out.begin(), out.end(), [](const SkbFunction& a, const SkbFunction& b) {
    return a.name != b.name ? a.name < b.name : a.module < b.module;
  });
  return out;
}

std::optional<SkbFunction> KernelBtf::function(const std::string& name,
                                               const std::string& module) const {
  int id = btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_FUNC);
  if (id > 0) return describe_function(btf_.get(), static_cast<uint32_t>(id), "");
  std::string path = "/sys/kernel/btf/" + module;
  std::unique_ptr<struct btf, BtfFree> mod(btf__parse_split(path.c_str(), btf_.get()));
  if (!mod) return std::nullopt;
  id = btf__find_by_name_kind(mod.get(), name.c_str(), BTF_KIND_FUNC);
  if (id <= 0) return std::nullopt;
  return describe_function(mod.get(), static_cast<uint32_t>(id), module);
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
