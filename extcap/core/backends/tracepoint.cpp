// Tracepoint backend: a raw tracepoint program on every tracepoint whose BTF prototype has an skb.
//
// A raw tracepoint program cannot tell which tracepoint fired it, so each tracepoint gets its own
// copy of the program for its skb position (load_prog_copy), with its own frozen .rodata.probe
// holding the probe id and the positions of `location` and the drop reason.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/bpf_util.h"
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
    skel_.reset(tracepoint_bpf__open());
    if (!skel_) return load_error("the tracepoint BPF object", errno);
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st)
      return st;

    // Only the templates for skb positions that some tracepoint uses are loaded.
    struct bpf_program* templates[PWRU_MAX_ARG_POS + 1] = {
        skel_->progs.raw_tp_skb_0, skel_->progs.raw_tp_skb_1, skel_->progs.raw_tp_skb_2,
        skel_->progs.raw_tp_skb_3, skel_->progs.raw_tp_skb_4, skel_->progs.raw_tp_skb_5};
    bool used[PWRU_MAX_ARG_POS + 1] = {};
    for (const auto& tp : tps)
      if (tp.skb_pos <= PWRU_MAX_ARG_POS) used[tp.skb_pos] = true;
    for (int i = 0; i <= PWRU_MAX_ARG_POS; i++) bpf_program__set_autoload(templates[i], used[i]);
    if (int err = tracepoint_bpf__load(skel_.get()))
      return load_error("the tracepoint BPF programs", err);
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
      cfg.flags = frees_skb(tp.name) ? PWRU_PROBE_FREES_SKB : 0;
      auto copy = load_prog_copy(templates[tp.skb_pos], template_cfg_fd, cfg,
                                 CopyTarget{BPF_PROG_TYPE_RAW_TRACEPOINT}, setup.kfilter,
                                 "tracepoint " + tp.name);
      if (!copy) {
        if (copy.error().code == ExitCode::Permission) return copy.error();
        summary.skipped.push_back(tp.name + ": " + copy.error().message);
        continue;
      }
      UniqueFd link(bpf_raw_tracepoint_open(tp.name.c_str(), copy->prog.get()));
      if (!link.valid()) {
        int err = errno;
        if (err == EPERM) return load_error("tracepoint " + tp.name, err);
        summary.skipped.push_back(tp.name + ": attach failed: " + std::strerror(err));
        continue;
      }
      attached_.push_back(AttachedCopy{std::move(copy.value()), std::move(link)});
      probes.push_back(Probe{tp.name, ProbeKind::Tracepoint});
      summary.attached++;
    }
    if (progress) progress(done, tps.size());
    return Ok{};
  }

 private:
  std::unique_ptr<tracepoint_bpf, SkelDestroy<tracepoint_bpf, &tracepoint_bpf__destroy>> skel_;
  std::vector<AttachedCopy> attached_;
};

}  // namespace

std::unique_ptr<Backend> make_tracepoint_backend() { return std::make_unique<TracepointBackend>(); }

}  // namespace pwru
