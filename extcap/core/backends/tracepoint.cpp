// Tracepoint backend: a raw tracepoint program on every tracepoint whose BTF prototype has an skb.
//
// A raw tracepoint program cannot tell which tracepoint fired it, so each tracepoint gets its own
// copy of the program for its skb position, loaded with its own frozen .rodata.probe map that
// holds the probe id and the positions of `location` and the drop reason. The copy is made from
// the template's final instructions (after libbpf's CO-RE relocation), with the references to the
// template's .rodata.probe map pointed at the copy's map.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/btf.h"
#include "core/unique_fd.h"
#include "pwru_event.h"
#include "tracepoint.skel.h"

namespace pwru {
namespace {

struct SkelDeleter {
  void operator()(tracepoint_bpf* s) const { tracepoint_bpf__destroy(s); }
};

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

Error load_error(const std::string& what, int err, const std::string& log = {}) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    return Error{ExitCode::Permission, "cannot load " + what + ": " + errno_text(err),
                 "run as root, or grant pwrudump CAP_BPF and CAP_PERFMON"};
  }
  std::string msg = "cannot load " + what + ": " + errno_text(err);
  if (!log.empty()) msg += "\nverifier log (tail):\n" + log;
  return Error{ExitCode::KernelFeature, msg, "please report this with your kernel version"};
}

class TracepointBackend final : public Backend {
 public:
  std::string_view name() const override { return "tracepoint"; }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    std::vector<SkbTracepoint> tps = setup.btf.skb_tracepoints();
    if (tps.empty()) {
      return Error{ExitCode::KernelFeature,
                   "cannot find tracepoints: no tracepoint in the kernel's BTF takes an skb", ""};
    }
    skel_.reset(tracepoint_bpf__open());
    if (!skel_) return load_error("the tracepoint BPF object", errno);
    skel_->rodata->snaplen = setup.snaplen;
    if (int err = bpf_map__reuse_fd(skel_->maps.events, setup.events_fd))
      return load_error("the event ring buffer", err);
    if (int err = bpf_map__reuse_fd(skel_->maps.lost, setup.lost_fd))
      return load_error("the lost-event counter", err);

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
      auto copy = attach_copy(templates[tp.skb_pos], template_cfg_fd, cfg, tp.name);
      if (!copy) {
        if (copy.error().code == ExitCode::Permission) return copy.error();
        summary.skipped.push_back(tp.name + ": " + copy.error().message);
        continue;
      }
      attached_.push_back(std::move(copy.value()));
      probes.push_back(Probe{tp.name, ProbeKind::Tracepoint});
      summary.attached++;
    }
    if (progress) progress(done, tps.size());
    return Ok{};
  }

 private:
  // Declared in teardown order reversed: the link goes first, then the program, then its map.
  struct Attached {
    UniqueFd cfg_map;
    UniqueFd prog;
    UniqueFd link;
  };

  Result<Attached> attach_copy(struct bpf_program* tmpl, int template_cfg_fd,
                               const struct probe_cfg& cfg, const std::string& tp_name) {
    Attached a;
    LIBBPF_OPTS(bpf_map_create_opts, map_opts, .map_flags = BPF_F_RDONLY_PROG);
    a.cfg_map.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "pwru_probe", sizeof(__u32),
                                   sizeof(cfg), 1, &map_opts));
    if (!a.cfg_map.valid()) return load_error("probe settings for " + tp_name, errno);
    __u32 zero = 0;
    if (bpf_map_update_elem(a.cfg_map.get(), &zero, &cfg, BPF_ANY) ||
        bpf_map_freeze(a.cfg_map.get())) {
      return load_error("probe settings for " + tp_name, errno);
    }

    const struct bpf_insn* insns = bpf_program__insns(tmpl);
    size_t cnt = bpf_program__insn_cnt(tmpl);
    std::vector<struct bpf_insn> code(insns, insns + cnt);
    size_t patched = 0;
    for (size_t i = 0; i + 1 < code.size(); i++) {
      struct bpf_insn& in = code[i];
      if (in.code != (BPF_LD | BPF_DW | BPF_IMM)) continue;
      if ((in.src_reg == BPF_PSEUDO_MAP_VALUE || in.src_reg == BPF_PSEUDO_MAP_FD) &&
          in.imm == template_cfg_fd) {
        in.imm = a.cfg_map.get();
        patched++;
      }
      i++;  // the second half of the 16-byte instruction
    }
    if (patched == 0) {
      return Error{ExitCode::Failure,
                   "cannot copy program for " + tp_name + ": it never reads its probe settings",
                   "this is a bug in pwrudump"};
    }

    char log[4096] = {};
    LIBBPF_OPTS(bpf_prog_load_opts, prog_opts);
    a.prog.reset(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pwru_tp", "GPL", code.data(),
                               code.size(), &prog_opts));
    if (!a.prog.valid()) {
      int err = errno;
      // Load again with a log only on failure: logging slows every successful load.
      prog_opts.log_buf = log;
      prog_opts.log_size = sizeof(log);
      prog_opts.log_level = 1;
      UniqueFd retry(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pwru_tp", "GPL", code.data(),
                                   code.size(), &prog_opts));
      std::string text(log);
      if (text.size() > 1500) text = text.substr(text.size() - 1500);
      return load_error("program for tracepoint " + tp_name, err, text);
    }
    a.link.reset(bpf_raw_tracepoint_open(tp_name.c_str(), a.prog.get()));
    if (!a.link.valid()) {
      int err = errno;
      if (err == EPERM || err == EACCES) return load_error("tracepoint " + tp_name, err);
      return Error{ExitCode::KernelFeature, "attach failed: " + errno_text(err), ""};
    }
    return a;
  }

  std::unique_ptr<tracepoint_bpf, SkelDeleter> skel_;
  std::vector<Attached> attached_;
};

}  // namespace

std::unique_ptr<Backend> make_tracepoint_backend() { return std::make_unique<TracepointBackend>(); }

}  // namespace pwru
