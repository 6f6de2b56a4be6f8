// fentry backend: a BPF trampoline per function, for kernels with BTF but no kprobes.
//
// An fentry program's attach target is fixed at load, so every function gets its own copy of the
// template for its skb position (load_prog_copy) with the function's BTF id and its own probe id.
#include <bpf/btf.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/backend.h"
#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/parallel_for.h"
#include "core/prog_copy.h"
#include "core/skb_positions.h"
#include "pwru_rules.h"
#include "fentry.skel.h"

namespace pwru {
namespace {

// Loading is verifier work in the kernel: one thread per core is all that helps.
constexpr size_t kLoadThreads = 2;
constexpr size_t kDetachThreads = 32;

}  // namespace

Status check_fentry(uint32_t btf_id, const char* hint) {
  struct bpf_insn ret0[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = btf_id);
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_TRACING, "pwru_avail", "GPL", ret0, 2, &opts));
  if (!prog.valid()) {
    return Error{ExitCode::KernelFeature,
                 std::string("cannot use fentry: the kernel refuses to load it (") +
                     std::strerror(errno) + ")",
                 hint};
  }
  UniqueFd link(bpf_raw_tracepoint_open(nullptr, prog.get()));
  if (!link.valid()) {
    int err = errno;
    return Error{ExitCode::KernelFeature,
                 std::string("cannot use fentry: the kernel refuses trampolines (") +
                     std::strerror(err) + (err == EPERM ? "; kernel lockdown?" : "") + ")",
                 hint};
  }
  return Ok{};
}

namespace {

class FentryBackend final : public Backend {
 public:
  ~FentryBackend() override {
    parallel_for(attached_.size(), kDetachThreads, [this](size_t i) { attached_[i].link.reset(); });
  }

  std::string_view name() const override { return "fentry"; }

  // Tries a real trampoline on one vmlinux function with a two-instruction program.
  Status check_available(const BackendSetup& setup) override {
    const SkbFunction* target = nullptr;
    for (const auto& fn : setup.functions)
      if (fn.module.empty()) target = target ? target : &fn;
    if (!target) {
      return Error{ExitCode::KernelFeature, "cannot use fentry: no vmlinux function to attach to",
                   kOtherBackendHint};
    }
    return check_fentry(target->btf_id, kOtherBackendHint);
  }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    std::vector<const SkbFunction*> fns;
    for (const auto& fn : setup.functions) {
      if (!fn.module.empty()) {
        // A module target needs the module's BTF object fd at load, which this backend lacks.
        summary.skipped.push_back(fn.name + ": in module " + fn.module +
                                  " (fentry on module functions is not supported yet)");
        continue;
      }
      fns.push_back(&fn);
    }
    // --filter-non-skb-funcs: vmlinux functions with BTF, each a copy of fentry_nonskb (skb_pos
    // -1 marks them).
    std::vector<SkbFunction> nonskb;
    for (const auto& name : setup.non_skb_funcs) {
      int id = btf__find_by_name_kind(setup.btf.get(), name.c_str(), BTF_KIND_FUNC);
      if (id <= 0) {
        summary.skipped.push_back(name + " (--filter-non-skb-funcs): not in the kernel's BTF");
        continue;
      }
      nonskb.push_back(SkbFunction{name, "", -1, -1, static_cast<uint32_t>(id)});
    }
    for (const auto& fn : nonskb) fns.push_back(&fn);

    skel_.reset(fentry_bpf__open());
    if (!skel_) return load_error("the fentry BPF object", errno);
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st)
      return st;

    // Each template is loaded against the first function with the skb at its position.
    auto found = programs_by_position<PWRU_FUNC_ARGS>(skel_->obj, "fentry_skb_");
    if (!found) return found.error();
    const FuncPrograms& templates = *found;
    std::array<const SkbFunction*, PWRU_FUNC_ARGS> first = {};
    for (const auto* fn : fns)
      if (fn->skb_pos >= 0 && !first[fn->skb_pos]) first[fn->skb_pos] = fn;
    for (size_t i = 0; i < templates.size(); i++) {
      bpf_program__set_autoload(templates[i], first[i] != nullptr);
      if (first[i]) bpf_program__set_attach_target(templates[i], 0, first[i]->name.c_str());
    }
    bpf_program__set_autoload(skel_->progs.fentry_nonskb, !nonskb.empty());
    if (!nonskb.empty())
      bpf_program__set_attach_target(skel_->progs.fentry_nonskb, 0, nonskb.front().name.c_str());
    if (int err = fentry_bpf__load(skel_.get())) return load_error("the fentry BPF programs", err);
    int template_cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);

    // Where each function's code lies, for its caller (caller_from_stack in common.bpf.h).
    // A static name that several functions share is ambiguous: those get no caller.
    std::unordered_map<std::string, std::vector<uint64_t>> text;
    if (setup.ksyms) {
      std::unordered_set<std::string> names;
      for (const auto* fn : fns) names.insert(fn->name);
      text = setup.ksyms->addresses(names);
    }

    const size_t base = probes.size();
    for (const auto* fn : fns) probes.push_back(Probe{fn->name, ProbeKind::Fentry});
    // A non-skb function's program filters nothing: it has no pcap_filter to put the filter in.
    const KernelFilter no_filter{};
    std::vector<AttachedCopy> slots(fns.size());
    std::vector<Error> errors(fns.size());
    parallel_for(
        fns.size(), kLoadThreads,
        [&](size_t i) {
          const SkbFunction& fn = *fns[i];
          struct probe_cfg cfg = {};
          cfg.probe_id = static_cast<__u32>(base + i);
          cfg.location_pos = -1;
          cfg.reason_pos = fn.reason_pos;
          cfg.flags = rules::frees_skb(fn.name) ? PWRU_PROBE_FREES_SKB : 0;
          if (auto at = text.find(fn.name); at != text.end() && at->second.size() == 1) {
            cfg.text_start = at->second.front();
            cfg.text_end = setup.ksyms->end_of(cfg.text_start);
            if (!cfg.text_end) cfg.text_start = 0;
          }
          auto copy = load_prog_copy(
              fn.skb_pos >= 0 ? templates[fn.skb_pos] : skel_->progs.fentry_nonskb,
              template_cfg_fd, cfg,
              CopyTarget{BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, fn.btf_id},
              fn.skb_pos >= 0 ? setup.kfilter : no_filter, fn.name);
          if (!copy) {
            errors[i] = copy.error();
            return;
          }
          UniqueFd link(bpf_raw_tracepoint_open(nullptr, copy->prog.get()));
          if (!link.valid()) {
            errors[i] = load_error("fentry on " + fn.name, errno);
            return;
          }
          slots[i] = AttachedCopy{std::move(copy.value()), std::move(link)};
        },
        [&](size_t done) {
          if (progress) progress(done, fns.size());
        });

    for (size_t i = 0; i < fns.size(); i++) {
      if (slots[i].link.valid()) {
        summary.filter_fallbacks += slots[i].copy.filter_fallback;
        attached_.push_back(std::move(slots[i]));
        summary.attached++;
      } else {
        if (errors[i].code == ExitCode::Permission) return errors[i];
        summary.skipped.push_back(fns[i]->name + ": " + errors[i].message);
      }
    }
    return Ok{};
  }

 private:
  std::unique_ptr<fentry_bpf, SkelDestroy<fentry_bpf, &fentry_bpf__destroy>> skel_;
  std::vector<AttachedCopy> attached_;
};

}  // namespace

std::unique_ptr<Backend> make_fentry_backend() { return std::make_unique<FentryBackend>(); }

}  // namespace pwru
