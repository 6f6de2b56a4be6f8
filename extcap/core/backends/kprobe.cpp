// kprobe backend: one perf kprobe per function, attached and detached in parallel.
//
// Unregistering a kprobe waits for an RCU grace period; done one after another that is what makes
// detaching ~1.5k kprobes take a minute. Done from many threads at once the grace periods overlap.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/backend.h"
#include "core/bpf_util.h"
#include "kprobe.skel.h"

namespace pwru {
namespace {

constexpr size_t kAttachThreads = 8;
constexpr size_t kDetachThreads = 64;

bool exists(const char* path) {
  struct stat st{};
  return stat(path, &st) == 0;
}

class KprobeBackend final : public Backend {
 public:
  ~KprobeBackend() override {
    parallel_for(links_.size(), kDetachThreads, [this](size_t i) {
      if (links_[i]) bpf_link__destroy(links_[i]);
    });
  }

  std::string_view name() const override { return "kprobe"; }

  Status probe(const BackendSetup&) override {
    if (exists("/sys/bus/event_source/devices/kprobe/type") ||
        exists("/sys/kernel/tracing/kprobe_events") ||
        exists("/sys/kernel/debug/tracing/kprobe_events")) {
      return Ok{};
    }
    return Error{ExitCode::KernelFeature,
                 "cannot use kprobes: the kernel has no kprobe PMU or kprobe_events "
                 "(CONFIG_KPROBES is off)",
                 "use --backend tracepoint"};
  }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    // One kprobe per name: kprobes attach by symbol name (module symbols included).
    std::vector<const SkbFunction*> fns;
    std::unordered_set<std::string> seen;
    for (const auto& fn : setup.functions)
      if (seen.insert(fn.name).second) fns.push_back(&fn);

    skel_.reset(kprobe_bpf__open());
    if (!skel_) return load_error("the kprobe BPF object", errno);
    skel_->rodata_probe->probe.probe_id = static_cast<__u32>(probes.size());
    skel_->rodata_probe->probe.location_pos = -1;
    skel_->rodata_probe->probe.reason_pos = -1;
    probes.push_back(Probe{"", ProbeKind::Kprobe});  // events name their function by address
    if (auto st = share_maps(skel_.get(), setup.snaplen, setup.events_fd, setup.lost_fd); !st)
      return st;

    struct bpf_program* plain[] = {skel_->progs.kprobe_skb_0, skel_->progs.kprobe_skb_1,
                                   skel_->progs.kprobe_skb_2, skel_->progs.kprobe_skb_3,
                                   skel_->progs.kprobe_skb_4};
    struct bpf_program* with_reason[] = {
        skel_->progs.kprobe_skb_0_reason, skel_->progs.kprobe_skb_1_reason,
        skel_->progs.kprobe_skb_2_reason, skel_->progs.kprobe_skb_3_reason,
        skel_->progs.kprobe_skb_4_reason};
    constexpr int kPositions = sizeof(plain) / sizeof(plain[0]);
    bool used_plain[kPositions] = {}, used_reason[kPositions] = {};
    for (const auto* fn : fns) (fn->reason_pos >= 0 ? used_reason : used_plain)[fn->skb_pos] = true;
    for (int i = 0; i < kPositions; i++) {
      bpf_program__set_autoload(plain[i], used_plain[i]);
      bpf_program__set_autoload(with_reason[i], used_reason[i]);
    }
    if (int err = kprobe_bpf__load(skel_.get())) return load_error("the kprobe BPF programs", err);

    links_.assign(fns.size(), nullptr);
    std::vector<int> errors(fns.size(), 0);
    parallel_for(
        fns.size(), kAttachThreads,
        [&](size_t i) {
          const SkbFunction& fn = *fns[i];
          LIBBPF_OPTS(bpf_kprobe_opts, opts);
          struct bpf_program* prog = plain[fn.skb_pos];
          if (fn.reason_pos >= 0) {
            prog = with_reason[fn.skb_pos];
            opts.bpf_cookie = PWRU_COOKIE_REASON(fn.reason_pos);
          }
          links_[i] = bpf_program__attach_kprobe_opts(prog, fn.name.c_str(), &opts);
          if (!links_[i]) errors[i] = errno;
        },
        [&](size_t done) {
          if (progress) progress(done, fns.size());
        });

    for (size_t i = 0; i < fns.size(); i++) {
      if (links_[i]) {
        summary.attached++;
      } else {
        if (errors[i] == EPERM || errors[i] == EACCES)
          return load_error("kprobe on " + fns[i]->name, errors[i]);
        summary.skipped.push_back(fns[i]->name + ": " + std::strerror(errors[i]));
      }
    }
    return Ok{};
  }

 private:
  std::unique_ptr<kprobe_bpf, SkelDestroy<kprobe_bpf, &kprobe_bpf__destroy>> skel_;
  std::vector<struct bpf_link*> links_;  // destroyed in parallel before the skeleton
};

}  // namespace

std::unique_ptr<Backend> make_kprobe_backend() { return std::make_unique<KprobeBackend>(); }

}  // namespace pwru
