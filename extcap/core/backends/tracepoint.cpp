// Tracepoint backend: a program on every tracepoint whose BTF prototype has an skb.
//
// A tracepoint program cannot tell which tracepoint fired it, so each tracepoint gets its own
// copy of the program for its skb position (load_prog_copy), with its own frozen .rodata.probe
// holding the probe id and the positions of `location` and the drop reason. The copies are
// tp_btf programs, which read the skb directly, when the kernel's own BTF is at hand; else raw
// tracepoint programs (bpf/tracepoint.bpf.c).
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/prog_copy.h"
#include "core/skb_positions.h"
#include "pwru_rules.h"
#include "tracepoint.skel.h"

namespace pwru {
namespace {

class TracepointBackend final : public Backend {
 public:
  std::string_view name() const override { return "tracepoint"; }

  // Raw tracepoints exist on every kernel pwrudump supports; attach errors say the rest.
  Status check_available(const BackendSetup&) override { return Ok{}; }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    std::vector<SkbTracepoint> tps;
    for (auto& tp : setup.btf.skb_tracepoints()) {
      bool extra = tp.location_pos >= 0 || tp.reason_pos >= 0;
      if (setup.extras_only ? extra : setup.func_filter.matches(tp.name)) tps.push_back(std::move(tp));
    }
    if (tps.empty()) {
      if (setup.extras_only) return Ok{};
      return Error{ExitCode::KernelFeature,
                   "cannot find tracepoints: no tracepoint in the kernel's BTF takes an skb" +
                       (setup.func_filter.pattern().empty()
                            ? std::string()
                            : " and matches --filter-func \"" + setup.func_filter.pattern() + "\""),
                   "check the pattern against `pwrudump --backend tracepoint --list-funcs`"};
    }
    // tp_btf where the kernel's own BTF names the tracepoints; raw_tp where it came from a file,
    // or where the kernel refuses tp_btf.
    const bool tp_btf = setup.btf.is_running_kernel();
    if (auto st = load_templates(setup, tps, tp_btf); !st) {
      if (!tp_btf || st.error().code == ExitCode::Permission) return st;
      if (auto again = load_templates(setup, tps, false); !again) return again;
    }
    int template_cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);

    size_t done = 0;
    for (const auto& tp : tps) {
      if (progress) progress(done, tps.size());
      done++;
      if (tp.skb_pos >= PWRU_TP_ARGS) {
        summary.skipped.push_back(tp.name + ": skb is argument " + std::to_string(tp.skb_pos + 1));
        continue;
      }
      struct probe_cfg cfg = {};
      cfg.probe_id = static_cast<__u32>(probes.size());
      cfg.location_pos = tp.location_pos;
      cfg.reason_pos = tp.reason_pos;
      cfg.flags = rules::frees_skb(tp.name) ? PWRU_PROBE_FREES_SKB : 0;
      if (rules::func_in(tp.name, rules::kDropFuncs)) cfg.flags |= PWRU_PROBE_DROPS_SKB;
      const CopyTarget target =
          tp_btf_ ? CopyTarget{BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, tp.btf_id}
                  : CopyTarget{BPF_PROG_TYPE_RAW_TRACEPOINT};
      auto copy = load_prog_copy(templates_[tp.skb_pos], template_cfg_fd, cfg, target,
                                 setup.kfilter, "tracepoint " + tp.name);
      if (!copy) {
        if (copy.error().code == ExitCode::Permission) return copy.error();
        summary.skipped.push_back(tp.name + ": " + copy.error().message);
        continue;
      }
      // A tp_btf program names its tracepoint in its attach target already.
      UniqueFd link(bpf_raw_tracepoint_open(tp_btf_ ? nullptr : tp.name.c_str(), copy->prog.get()));
      if (!link.valid()) {
        int err = errno;
        if (err == EPERM) return load_error("tracepoint " + tp.name, err);
        summary.skipped.push_back(tp.name + ": attach failed: " + std::strerror(err));
        continue;
      }
      summary.filter_fallbacks += copy->filter_fallback;
      attached_.push_back(AttachedCopy{std::move(copy.value()), std::move(link)});
      probes.push_back(Probe{tp.name, ProbeKind::Tracepoint});
      summary.attached++;
    }
    if (progress) progress(done, tps.size());
    return Ok{};
  }

 private:
  // Opens and loads the skeleton with the templates of one flavour (tp_btf, else raw_tp), only
  // for the skb positions that some tracepoint in `tps` uses.
  Status load_templates(const BackendSetup& setup, const std::vector<SkbTracepoint>& tps,
                        bool tp_btf) {
    skel_.reset(tracepoint_bpf__open());
    if (!skel_) return load_error("the tracepoint BPF object", errno);
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st) return st;
    auto raw = programs_by_position<PWRU_TP_ARGS>(skel_->obj, "raw_tp_skb_");
    if (!raw) return raw.error();
    auto btf = programs_by_position<PWRU_TP_ARGS>(skel_->obj, "tp_btf_skb_");
    if (!btf) return btf.error();
    // Each tp_btf template is verified against the first tracepoint with the skb at its place.
    std::array<const SkbTracepoint*, PWRU_TP_ARGS> first = {};
    for (const auto& tp : tps)
      if (tp.skb_pos >= 0 && tp.skb_pos < PWRU_TP_ARGS && !first[tp.skb_pos])
        first[tp.skb_pos] = &tp;
    templates_ = tp_btf ? *btf : *raw;
    for (size_t i = 0; i < first.size(); i++) {
      bpf_program__set_autoload((*raw)[i], !tp_btf && first[i]);
      bpf_program__set_autoload((*btf)[i], tp_btf && first[i]);
      if (tp_btf && first[i])
        bpf_program__set_attach_target((*btf)[i], 0, first[i]->name.c_str());
    }
    tp_btf_ = tp_btf;
    if (int err = tracepoint_bpf__load(skel_.get()))
      return load_error(tp_btf ? "the tracepoint BPF programs (tp_btf)"
                               : "the tracepoint BPF programs",
                        err);
    return Ok{};
  }

  std::unique_ptr<tracepoint_bpf, SkelDestroy<tracepoint_bpf, &tracepoint_bpf__destroy>> skel_;
  TpPrograms templates_ = {};
  bool tp_btf_ = false;  // templates_ are tp_btf programs, else raw_tp
  std::vector<AttachedCopy> attached_;
};

}  // namespace

std::unique_ptr<Backend> make_tracepoint_backend() { return std::make_unique<TracepointBackend>(); }

}  // namespace pwru
