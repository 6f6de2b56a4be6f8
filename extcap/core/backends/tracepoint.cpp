// Tracepoint backend: a program on every tracepoint whose BTF prototype has an skb.
//
// A tracepoint program cannot tell which tracepoint fired it, so each tracepoint gets its own
// copy of the program for its skb position (load_prog_copy), with its own frozen .rodata.probe
// holding the probe id and the positions of `location` and the drop reason. The copies are
// tp_btf programs, which read the skb directly, when the kernel's own BTF is at hand; else raw
// tracepoint programs (bpf/tracepoint.bpf.c).
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/prog_copy.h"
#include "pwru_rules.h"
#include "tracepoint.skel.h"

namespace pwru {
namespace {

class TracepointBackend final : public Backend {
 public:
  std::string_view name() const override { return "tracepoint"; }

  // Raw tracepoints exist on every kernel pwrudump supports; attach errors say the rest.
  Status probe(const BackendSetup&) override { return Ok{}; }

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
                   ""};
    }
    // tp_btf where the kernel's own BTF names the tracepoints; raw_tp where it came from a file,
    // or where the kernel refuses tp_btf.
    const bool direct = setup.btf.is_running_kernel();
    if (auto st = load_templates(setup, tps, direct); !st) {
      if (!direct || st.error().code == ExitCode::Permission) return st;
      if (auto again = load_templates(setup, tps, false); !again) return again;
    }
    int template_cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);

    size_t done = 0;
    for (const auto& tp : tps) {
      if (progress) progress(done, tps.size());
      done++;
      if (tp.skb_pos > PWRU_MAX_ARG_POS) {
        summary.skipped.push_back(tp.name + ": skb is argument " + std::to_string(tp.skb_pos + 1));
        continue;
      }
      struct probe_cfg cfg = {};
      cfg.probe_id = static_cast<__u32>(probes.size());
      cfg.location_pos = tp.location_pos;
      cfg.reason_pos = tp.reason_pos;
      cfg.flags = rules::frees_skb(tp.name) ? PWRU_PROBE_FREES_SKB : 0;
      const CopyTarget target =
          direct_ ? CopyTarget{BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, tp.btf_id}
                  : CopyTarget{BPF_PROG_TYPE_RAW_TRACEPOINT};
      auto copy = load_prog_copy(templates_[tp.skb_pos], template_cfg_fd, cfg, target,
                                 setup.kfilter, "tracepoint " + tp.name);
      if (!copy) {
        if (copy.error().code == ExitCode::Permission) return copy.error();
        summary.skipped.push_back(tp.name + ": " + copy.error().message);
        continue;
      }
      // A tp_btf program names its tracepoint in its attach target already.
      UniqueFd link(bpf_raw_tracepoint_open(direct_ ? nullptr : tp.name.c_str(), copy->prog.get()));
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
  // Opens and loads the skeleton with the templates of one flavour (tp_btf when `direct`), only
  // for the skb positions that some tracepoint in `tps` uses.
  Status load_templates(const BackendSetup& setup, const std::vector<SkbTracepoint>& tps,
                        bool direct) {
    skel_.reset(tracepoint_bpf__open());
    if (!skel_) return load_error("the tracepoint BPF object", errno);
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st) return st;
    auto& p = skel_->progs;
    struct bpf_program* raw[] = {p.raw_tp_skb_0, p.raw_tp_skb_1, p.raw_tp_skb_2,
                                 p.raw_tp_skb_3, p.raw_tp_skb_4, p.raw_tp_skb_5};
    struct bpf_program* btf[] = {p.tp_btf_skb_0, p.tp_btf_skb_1, p.tp_btf_skb_2,
                                 p.tp_btf_skb_3, p.tp_btf_skb_4, p.tp_btf_skb_5};
    static_assert(std::size(raw) == PWRU_MAX_ARG_POS + 1 && std::size(btf) == std::size(raw));
    // Each tp_btf template is verified against the first tracepoint with the skb at its place.
    const SkbTracepoint* first[PWRU_MAX_ARG_POS + 1] = {};
    for (const auto& tp : tps)
      if (tp.skb_pos >= 0 && tp.skb_pos <= PWRU_MAX_ARG_POS && !first[tp.skb_pos])
        first[tp.skb_pos] = &tp;
    for (int i = 0; i <= PWRU_MAX_ARG_POS; i++) {
      templates_[i] = direct ? btf[i] : raw[i];
      bpf_program__set_autoload(raw[i], !direct && first[i]);
      bpf_program__set_autoload(btf[i], direct && first[i]);
      if (direct && first[i]) bpf_program__set_attach_target(btf[i], 0, first[i]->name.c_str());
    }
    direct_ = direct;
    if (int err = tracepoint_bpf__load(skel_.get()))
      return load_error(direct ? "the tracepoint BPF programs (tp_btf)"
                               : "the tracepoint BPF programs",
                        err);
    return Ok{};
  }

  std::unique_ptr<tracepoint_bpf, SkelDestroy<tracepoint_bpf, &tracepoint_bpf__destroy>> skel_;
  struct bpf_program* templates_[PWRU_MAX_ARG_POS + 1] = {};
  bool direct_ = false;
  std::vector<AttachedCopy> attached_;
};

}  // namespace

std::unique_ptr<Backend> make_tracepoint_backend() { return std::make_unique<TracepointBackend>(); }

}  // namespace pwru
