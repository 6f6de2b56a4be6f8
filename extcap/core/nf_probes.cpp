// NfProbes: loads bpf/nf.bpf.c's programs for the netfilter functions this kernel has and attaches
// a copy of each, with the pcap filter in it, to its function: the return first, so that no
// entry is left without its return while attaching.
#include "core/nf_probes.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/perf_kprobe.h"
#include "core/prog_copy.h"
#include "nf.skel.h"

namespace pwru {
namespace {

// The BTF object of `module`, as the fd the kernel takes for an fentry target in a module.
Result<UniqueFd> module_btf_fd(const std::string& module) {
  __u32 id = 0;
  int err = ENOENT;
  while (bpf_btf_get_next_id(id, &id) == 0) {
    UniqueFd fd(bpf_btf_get_fd_by_id(id));
    if (!fd.valid()) {
      err = errno;
      continue;
    }
    char name[64] = {};
    struct bpf_btf_info info = {};
    __u32 len = sizeof(info);
    info.name = reinterpret_cast<__u64>(name);
    info.name_len = sizeof(name);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && module == name) return fd;
  }
  if (errno != ENOENT) err = errno;
  return Error{err == EPERM ? ExitCode::Permission : ExitCode::KernelFeature,
               "cannot open the BTF of module " + module + ": " + std::strerror(err),
               "run as root: opening a module's BTF needs CAP_SYS_ADMIN"};
}

// Kernels before 5.11 have no BTF for modules: a module's function is known from kallsyms alone,
// and ipt_do_table's argument order from the release ("netfilter: iptables: allow use of
// ipt_do_table as hookfn", 5.16). Its types then come from vmlinux's BTF, which on those kernels
// has struct xt_table but none of nf_tables'.
std::optional<SkbFunction> function_without_btf(const BackendSetup& setup, const NfFunction& f,
                                                std::string& why) {
  const std::string name(f.name), module(f.module);
  if (access(("/sys/kernel/btf/" + module).c_str(), F_OK) == 0 || !setup.ksyms ||
      setup.ksyms->present({name}).empty()) {
    why = "module " + module + " is not loaded (its chains are not named until pwrudump starts "
          "again after it is)";
    return std::nullopt;
  }
  if (name == "nft_do_chain" ||
      btf__find_by_name_kind(setup.btf.get(), "xt_table", BTF_KIND_STRUCT) <= 0) {
    why = "the kernel has no BTF for module " + module + " (Linux 5.11 and later have it)";
    return std::nullopt;
  }
  struct utsname u{};
  unsigned major = 0, minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%u.%u", &major, &minor) != 2) {
    why = "no BTF for module " + module + ", and the kernel's release is unknown";
    return std::nullopt;
  }
  SkbFunction fn;
  fn.name = name;
  fn.module = module;
  fn.skb_pos = major > 5 || (major == 5 && minor >= 16) ? 1 : 0;
  return fn;
}

// One program copy attached: a perf kprobe (kprobe flavour) or a link (fentry flavour).
struct NfAttached {
  ProgCopy copy;
  PerfKprobe kprobe;
  UniqueFd link;
};

class NfProbesImpl final : public NfProbes {
 public:
  explicit NfProbesImpl(bool fentry) : fentry_(fentry) {}
  // Entries were attached after their returns: detached before them.
  ~NfProbesImpl() override {
    while (!attached_.empty()) attached_.pop_back();
  }
  size_t attached() const override { return functions_; }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary) {
    std::vector<SkbFunction> fns;
    for (const NfFunction& f : kNfFunctions) {
      auto fn = setup.btf.function(std::string(f.name), std::string(f.module));
      std::string why;
      if (!fn) {
        fn = function_without_btf(setup, f, why);
        if (fn && fentry_) {
          fn.reset();
          why = "the kernel has no BTF for module " + std::string(f.module) +
                ", which fentry needs (Linux 5.11 and later have it)";
        }
      }
      if (!fn) {
        summary.notes.push_back("netfilter: " + std::string(f.name) + " not probed: " + why);
        continue;
      }
      // ipt_do_table(skb, state, table) before 5.16, (priv, skb, state) after.
      if (f.name != "nft_do_chain" && fn->skb_pos != 0 && fn->skb_pos != 1) {
        summary.notes.push_back("netfilter: " + fn->name + " not probed: no skb among its first "
                                "two arguments");
        continue;
      }
      fns.push_back(std::move(*fn));
    }
    if (fns.empty()) return Ok{};

    skel_.reset(nf_bpf__open());
    if (!skel_) return load_error("the netfilter BPF object", errno);
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st) return st;
    struct bpf_program* entry_nft = fentry_ ? skel_->progs.fentry_nft_entry : skel_->progs.kprobe_nft_entry;
    struct bpf_program* entry_ipt = fentry_ ? skel_->progs.fentry_ipt_entry : skel_->progs.kprobe_ipt_entry;
    struct bpf_program* exit_nft = fentry_ ? skel_->progs.fexit_nft_exit : skel_->progs.kretprobe_nf_exit;
    struct bpf_program* exit_ipt = fentry_ ? skel_->progs.fexit_ipt_exit : skel_->progs.kretprobe_nf_exit;
    struct bpf_object* obj = skel_->obj;
    struct bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj) bpf_program__set_autoload(prog, false);
    const SkbFunction* nft = nullptr;
    const SkbFunction* ipt = nullptr;  // the first of ipt_do_table and ip6t_do_table
    for (const auto& fn : fns) {
      if (fn.name == "nft_do_chain") {
        nft = &fn;
      } else if (!ipt) {
        ipt = &fn;
        skel_->rodata->nf_ipt_priv_first = fn.skb_pos == 1;
      }
    }
    // A template is verified against the first function it serves; its copies are loaded
    // against each function's own BTF.
    auto use = [this](struct bpf_program* p, const SkbFunction* fn) {
      if (!fn) return;
      bpf_program__set_autoload(p, true);
      if (fentry_) bpf_program__set_attach_target(p, 0, fn->name.c_str());
    };
    use(entry_nft, nft);
    use(exit_nft, nft);
    use(entry_ipt, ipt);
    use(exit_ipt, ipt);
    if (int err = nf_bpf__load(skel_.get())) return load_error("the netfilter BPF programs", err);

    const ProbeKind kind = fentry_ ? ProbeKind::Fentry : ProbeKind::Kprobe;
    for (const auto& fn : fns) {
      const bool is_nft = &fn == nft;
      const auto probe_id = static_cast<__u32>(probes.size());
      probes.push_back(Probe{fn.name, kind});
      auto st = attach_function(setup, fn, probe_id, is_nft ? entry_nft : entry_ipt,
                                is_nft ? exit_nft : exit_ipt);
      if (!st) {
        summary.notes.push_back("netfilter: " + fn.name + " not probed: " + st.error().message);
        continue;
      }
      functions_++;
      summary.attached += 2;
    }
    return Ok{};
  }

 private:
  // The return's copy, then the entry's, each attached; on failure both go.
  Status attach_function(const BackendSetup& setup, const SkbFunction& fn, __u32 probe_id,
                         struct bpf_program* entry, struct bpf_program* exit) {
    const size_t before = attached_.size();
    UniqueFd btf_obj;
    if (fentry_ && !fn.module.empty()) {
      auto fd = module_btf_fd(fn.module);
      if (!fd) return fd.error();
      btf_obj = std::move(fd.value());
    }
    int template_cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);
    struct probe_cfg cfg = {};
    cfg.probe_id = probe_id;
    cfg.location_pos = -1;
    cfg.reason_pos = -1;
    // The return filters nothing (its skb was chosen at entry): it has no filter to splice.
    const KernelFilter no_filter;
    for (bool is_exit : {true, false}) {
      // fentry: the entry finds its caller on the stack within the function's code.
      if (fentry_ && !is_exit && setup.ksyms) {
        auto text = setup.ksyms->addresses({fn.name});
        if (auto at = text.find(fn.name); at != text.end() && at->second.size() == 1) {
          cfg.text_start = at->second.front();
          cfg.text_end = setup.ksyms->end_of(cfg.text_start);
          if (!cfg.text_end) cfg.text_start = 0;
        }
      }
      const CopyTarget target =
          fentry_ ? CopyTarget{BPF_PROG_TYPE_TRACING, is_exit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
                               fn.btf_id, btf_obj.valid() ? btf_obj.get() : 0}
                  : CopyTarget{BPF_PROG_TYPE_KPROBE};
      const std::string what = fn.name + (is_exit ? " (return)" : " (entry)");
      auto copy = load_prog_copy(is_exit ? exit : entry, template_cfg_fd, cfg, target,
                                 is_exit ? no_filter : setup.kfilter, what);
      if (!copy) return undo(before, copy.error());
      NfAttached a{std::move(copy.value()), {}, {}};
      if (fentry_) {
        a.link.reset(bpf_raw_tracepoint_open(nullptr, a.copy.prog.get()));
        if (!a.link.valid()) return undo(before, load_error("fentry on " + what, errno));
      } else {
        auto k = attach_kprobe(kprobe_pmu_type(), fn.name, a.copy.prog.get(), 0, is_exit);
        if (!k) return undo(before, k.error());
        a.kprobe = std::move(k.value());
      }
      attached_.push_back(std::move(a));
    }
    return Ok{};
  }

  Error undo(size_t keep, Error e) {
    while (attached_.size() > keep) attached_.pop_back();
    return e;
  }

  bool fentry_;
  // Destroyed in reverse: the attached copies, then the templates.
  std::unique_ptr<nf_bpf, SkelDestroy<nf_bpf, &nf_bpf__destroy>> skel_;
  std::vector<NfAttached> attached_;
  size_t functions_ = 0;
};

}  // namespace

std::unique_ptr<NfProbes> NfProbes::attach(const BackendSetup& setup, std::string_view backend,
                                           std::vector<Probe>& probes, AttachSummary& summary) {
  auto impl = std::make_unique<NfProbesImpl>(backend == "fentry");
  if (!setup.btf.is_running_kernel()) {
    summary.notes.push_back("netfilter: no probes: they need the running kernel's own BTF, not "
                            "--kernel-btf");
    return impl;
  }
  if (auto st = impl->attach(setup, probes, summary); !st) {
    summary.notes.push_back("netfilter: no probes: " + st.error().message);
    return std::make_unique<NfProbesImpl>(false);
  }
  return impl;
}

}  // namespace pwru
