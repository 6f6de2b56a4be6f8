// BpfProgProbes: finds the tc and XDP programs the kernel holds (bpf_prog_get_next_id), names
// each by its entry function in its own BTF, and attaches bpf/bpf_progs.bpf.c's pair to each:
// the object is loaded once per hook, against that hook's first program it can be verified on,
// and each program gets its own copy of the entry and of the return (core/prog_copy.h), loaded
// with that program as attach target, sharing the run's maps.
#include "core/bpf_progs.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/unique_fd.h"
#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/prog_copy.h"
#include "pwru_bpf.h"
#include "bpf_progs.skel.h"

namespace pwru {
namespace {

// What the errors say to do when the kernel cannot trace BPF programs.
constexpr const char* kTrampolineHint =
    "--filter-trace-tc and --filter-trace-xdp need fentry on BPF programs (BPF trampolines, "
    "Linux 5.5 or later, not refused by lockdown); leave them out to trace the kernel's own "
    "functions and tracepoints";

// Templates tried per hook before its programs are given up: each failed try is a verifier run.
constexpr int kTemplateTries = 3;

struct Target {
  UniqueFd fd;
  uint32_t id = 0;
  uint8_t hook = 0;       // PWRU_BPF_HOOK_*
  std::string name;       // the entry function's name in the program's BTF
  uint32_t func_btf_id = 0;  // that function in the program's BTF: the attach target
};

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};

// The program's entry function (func_info[0]) and its name from the program's BTF; the reason
// when it has none.
Status name_from_btf(Target& t, const struct bpf_prog_info& info) {
  if (info.btf_id == 0 || info.nr_func_info == 0) {
    return Error{ExitCode::KernelFeature, "it has no BTF (load it with BTF: clang -g)", ""};
  }
  struct bpf_func_info first = {};
  struct bpf_prog_info more = {};
  __u32 len = sizeof(more);
  more.nr_func_info = 1;
  more.func_info_rec_size = sizeof(first);
  more.func_info = reinterpret_cast<__u64>(&first);
  if (bpf_obj_get_info_by_fd(t.fd.get(), &more, &len)) {
    return Error{ExitCode::KernelFeature,
                 std::string("cannot read its function info: ") + std::strerror(errno), ""};
  }
  std::unique_ptr<struct btf, BtfFree> btf(btf__load_from_kernel_by_id(info.btf_id));
  if (!btf) {
    return Error{ExitCode::KernelFeature,
                 std::string("cannot read its BTF: ") + std::strerror(errno), ""};
  }
  const struct btf_type* fn = btf__type_by_id(btf.get(), first.type_id);
  const char* name = fn ? btf__name_by_offset(btf.get(), fn->name_off) : nullptr;
  if (!fn || !btf_is_func(fn) || !name || !*name) {
    return Error{ExitCode::KernelFeature, "its BTF names no entry function", ""};
  }
  t.name = name;
  t.func_btf_id = first.type_id;
  return Ok{};
}

// The loaded tc (sched_cls) and XDP programs of the hooks asked for; those that cannot be traced
// are named in `notes`.
std::vector<Target> find_targets(bool tc, bool xdp, std::vector<std::string>& notes) {
  std::vector<Target> out;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    Target t;
    t.id = id;
    t.fd.reset(bpf_prog_get_fd_by_id(id));
    if (!t.fd.valid()) {
      if (errno != ENOENT) {  // ENOENT: unloaded meanwhile
        notes.push_back("BPF program id " + std::to_string(id) + " not traced: cannot open it: " +
                        std::strerror(errno));
      }
      continue;
    }
    struct bpf_prog_info info = {};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(t.fd.get(), &info, &len)) continue;
    if (info.type == BPF_PROG_TYPE_SCHED_CLS && tc) {
      t.hook = PWRU_BPF_HOOK_TC;
    } else if (info.type == BPF_PROG_TYPE_XDP && xdp) {
      t.hook = PWRU_BPF_HOOK_XDP;
    } else {
      continue;
    }
    const std::string label = std::string(info.name) + "(" + bpf::hook_name(t.hook) +
                              ", id " + std::to_string(id) + ")";
    if (auto st = name_from_btf(t, info); !st) {
      notes.push_back("BPF program " + label + " not traced: " + st.error().message);
      continue;
    }
    out.push_back(std::move(t));
  }
  return out;
}

// A program's pair attached: return first, then entry (so no entry's mark waits for a return
// that is not there). Destroyed in reverse: the entry's link first.
struct AttachedPair {
  AttachedCopy exit;
  AttachedCopy entry;
};

class BpfProgProbesImpl final : public BpfProgProbes {
 public:
  size_t attached() const override { return pairs_.size(); }

  ~BpfProgProbesImpl() override {
    while (!pairs_.empty()) pairs_.pop_back();
  }

  // Loads the hook's template against one of `targets` and attaches a pair to each of them.
  void attach_hook(const BackendSetup& setup, uint8_t hook, std::vector<Target*>& targets,
                   std::vector<Probe>& probes, AttachSummary& summary) {
    Skel skel;
    struct bpf_program* entry = nullptr;
    struct bpf_program* exit = nullptr;
    size_t first = 0;
    for (int tries = 0; first < targets.size(); first++, tries++) {
      if (tries == kTemplateTries) break;
      const Target& t = *targets[first];
      auto loaded = load_template(setup, hook, t, entry, exit);
      if (loaded) {
        skel = std::move(loaded.value());
        break;
      }
      summary.notes.push_back("BPF program " + label(t) + " not traced: " +
                              loaded.error().message);
    }
    if (!skel) {
      for (size_t i = first; i < targets.size(); i++) {
        summary.notes.push_back("BPF program " + label(*targets[i]) +
                                " not traced: the tracing programs could not be loaded for the "
                                "ones before it");
      }
      return;
    }
    const int cfg_fd = bpf_map__fd(skel->maps.rodata_probe);
    const KernelFilter no_filter;  // the return filters nothing: its entry chose
    for (size_t i = first; i < targets.size(); i++) {
      const Target& t = *targets[i];
      struct probe_cfg cfg = {};
      cfg.probe_id = static_cast<__u32>(probes.size());
      cfg.location_pos = -1;
      cfg.reason_pos = -1;
      AttachedPair pair;
      auto st = attach_one(exit, cfg_fd, cfg, t, BPF_TRACE_FEXIT, no_filter, pair.exit);
      if (st) st = attach_one(entry, cfg_fd, cfg, t, BPF_TRACE_FENTRY, setup.kfilter, pair.entry);
      if (!st) {
        summary.notes.push_back("BPF program " + label(t) + " not traced: " + st.error().message);
        continue;
      }
      summary.filter_fallbacks += pair.entry.copy.filter_fallback;
      BpfProg prog;
      prog.name = t.name;
      prog.id = t.id;
      prog.hook = hook;
      probes.push_back(Probe{t.name + "(" + bpf::hook_name(hook) + ")", ProbeKind::Fentry, prog});
      pairs_.push_back(std::move(pair));
      summary.attached += 2;
    }
    skels_.push_back(std::move(skel));
  }

 private:
  using Skel = std::unique_ptr<bpf_progs_bpf, SkelDestroy<bpf_progs_bpf, &bpf_progs_bpf__destroy>>;

  static std::string label(const Target& t) {
    return t.name + "(" + bpf::hook_name(t.hook) + ", id " + std::to_string(t.id) + ")";
  }

  // The object with only the hook's pair, verified against `t`.
  static Result<Skel> load_template(const BackendSetup& setup, uint8_t hook, const Target& t,
                                    struct bpf_program*& entry, struct bpf_program*& exit) {
    Skel skel(bpf_progs_bpf__open());
    if (!skel) return load_error("the tc/XDP tracing BPF object", errno);
    if (auto st = configure(skel.get(), setup.load, setup.kfilter, setup.maps); !st)
      return st.error();
    const bool tc = hook == PWRU_BPF_HOOK_TC;
    entry = tc ? skel->progs.fentry_tc : skel->progs.fentry_xdp;
    exit = tc ? skel->progs.fexit_tc : skel->progs.fexit_xdp;
    struct bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
    for (struct bpf_program* p : {entry, exit}) {
      bpf_program__set_autoload(p, true);
      if (int err = bpf_program__set_attach_target(p, t.fd.get(), t.name.c_str()))
        return load_error("the tracing programs for " + label(t), err);
    }
    if (int err = bpf_progs_bpf__load(skel.get())) {
      Error e = load_error("the tracing programs for " + label(t), err);
      if (err == -EACCES || err == EACCES || err == -EINVAL || err == EINVAL) {
        e.message += " (is its argument `struct " +
                     std::string(tc ? "__sk_buff" : "xdp_md") + " *`?)";
      }
      return e;
    }
    return skel;
  }

  static Status attach_one(struct bpf_program* tmpl, int cfg_fd, const struct probe_cfg& cfg,
                           const Target& t, enum bpf_attach_type type, const KernelFilter& filter,
                           AttachedCopy& out) {
    const std::string what =
        label(t) + (type == BPF_TRACE_FEXIT ? " (return)" : " (entry)");
    CopyTarget target{BPF_PROG_TYPE_TRACING, type, t.func_btf_id};
    target.attach_prog_fd = t.fd.get();
    auto copy = load_prog_copy(tmpl, cfg_fd, cfg, target, filter, what);
    if (!copy) return copy.error();
    UniqueFd link(bpf_raw_tracepoint_open(nullptr, copy->prog.get()));
    if (!link.valid()) return load_error("fentry on " + what, errno);
    out = AttachedCopy{std::move(copy.value()), std::move(link)};
    return Ok{};
  }

  // Destroyed in reverse: the pairs, then the templates.
  std::vector<Skel> skels_;
  std::vector<AttachedPair> pairs_;
};

// A vmlinux function to try a trampoline on: one of the skb functions found, else one every
// kernel has.
uint32_t probe_target(const BackendSetup& setup) {
  for (const auto& fn : setup.functions)
    if (fn.module.empty()) return fn.btf_id;
  for (const char* name : {"consume_skb", "skb_clone", "__kfree_skb"}) {
    int id = btf__find_by_name_kind(setup.btf.get(), name, BTF_KIND_FUNC);
    if (id > 0) return static_cast<uint32_t>(id);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<BpfProgProbes>> BpfProgProbes::attach(const BackendSetup& setup, bool tc,
                                                             bool xdp, std::vector<Probe>& probes,
                                                             AttachSummary& summary) {
  const std::string what = std::string("cannot trace ") +
                           (tc && xdp ? "tc and XDP" : tc ? "tc" : "XDP") + " programs: ";
  if (!setup.btf.is_running_kernel()) {
    return Error{ExitCode::Usage, what + "--kernel-btf is not the running kernel's BTF",
                 "leave --kernel-btf out"};
  }
  // Asked once, whatever programs are loaded: a kernel that refuses fentry refuses it on every
  // program.
  const uint32_t fn = probe_target(setup);
  if (fn == 0) {
    return Error{ExitCode::KernelFeature, what + "the kernel's BTF has no function to try fentry on",
                 kTrampolineHint};
  }
  if (auto st = check_fentry(fn, kTrampolineHint); !st) {
    Error e = st.error();
    e.message = what + e.message;
    return e;
  }

  auto impl = std::make_unique<BpfProgProbesImpl>();
  std::vector<Target> targets = find_targets(tc, xdp, summary.notes);
  for (uint8_t hook : {uint8_t{PWRU_BPF_HOOK_TC}, uint8_t{PWRU_BPF_HOOK_XDP}}) {
    std::vector<Target*> of_hook;
    for (auto& t : targets)
      if (t.hook == hook) of_hook.push_back(&t);
    if (!of_hook.empty()) impl->attach_hook(setup, hook, of_hook, probes, summary);
  }
  if (impl->attached() == 0 && targets.empty()) {
    summary.notes.push_back(std::string("no ") + (tc && xdp ? "tc or XDP" : tc ? "tc" : "XDP") +
                            " program with BTF is loaded: none traced");
  }
  return std::unique_ptr<BpfProgProbes>(std::move(impl));
}

}  // namespace pwru
