// kprobe backend: one perf kprobe per function, attached and detached in parallel.
//
// The programs are copies of the skeleton's templates with the pcap filter spliced in
// (load_prog_copy), attached by fd to a kprobe perf event per function. Unregistering a kprobe
// waits for an RCU grace period; done one after another that is what makes detaching every skb
// function's kprobe slow. Closed from many threads at once the grace periods overlap.
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/backend.h"
#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "core/load_settings.h"
#include "core/parallel_for.h"
#include "core/perf_kprobe.h"
#include "core/prog_copy.h"
#include "core/skb_positions.h"
#include "pwru_rules.h"
#include "kprobe.skel.h"

namespace pwru {
namespace {

constexpr size_t kAttachThreads = 8;
constexpr size_t kDetachThreads = 64;

class KprobeBackend final : public Backend {
 public:
  ~KprobeBackend() override {
    parallel_for(kprobes_.size(), kDetachThreads, [this](size_t i) {
      kprobes_[i].link.reset();
      kprobes_[i].perf.reset();
    });
  }

  std::string_view name() const override { return "kprobe"; }

  // A real kprobe on the first function: the PMU can exist while perf_event_open is refused
  // (without CAP_SYS_ADMIN on Debian's kernels), and then fentry is the better choice.
  Status check_available(const BackendSetup& setup) override {
    int type = kprobe_pmu_type();
    if (type < 0) {
      return Error{ExitCode::KernelFeature,
                   std::string("cannot use kprobes: the kernel has no kprobe PMU (") + kKprobePmuType +
                       "; CONFIG_KPROBES is off)",
                   "use --backend tracepoint"};
    }
    if (setup.functions.empty()) return Ok{};
    // A function every kernel lets kprobes on, if we trace it; only a refusal for lack of
    // privileges rules the backend out (other errors are one function's, reported at attach).
    std::string func = setup.functions.front().name;
    for (const auto& fn : setup.functions)
      if (fn.name == "ip_rcv") func = fn.name;
    UniqueFd event(open_kprobe_event(type, func));
    if (!event.valid() && (errno == EACCES || errno == EPERM)) {
      Error e = kprobe_error(func, errno);
      e.message = "cannot use kprobes: " + e.message;
      return e;
    }
    return Ok{};
  }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    int pmu_type = kprobe_pmu_type();
    // One kprobe per name: kprobes attach by symbol name (module symbols included).
    std::vector<const SkbFunction*> fns;
    std::unordered_set<std::string> seen;
    for (const auto& fn : setup.functions)
      if (seen.insert(fn.name).second) fns.push_back(&fn);
    // Cookies carry the drop-reason position and the frees-skb bit; without them (before 5.15)
    // the plain programs are used, and such kernels have no drop-reason functions anyway.
    const bool cookies = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
                                                 BPF_FUNC_get_attach_cookie, nullptr) == 1;

    skel_.reset(kprobe_bpf__open());
    if (!skel_) return load_error("the kprobe BPF object", errno);
    const struct probe_cfg cfg = shared_probe(probes, ProbeKind::Kprobe);
    skel_->rodata_probe->probe = cfg;
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st) return st;

    auto plain = programs_by_position<PWRU_FUNC_ARGS>(skel_->obj, "kprobe_skb_");
    if (!plain) return plain.error();
    auto with_cookie = programs_by_position<PWRU_FUNC_ARGS>(skel_->obj, "kprobe_skb_", "_cookie");
    if (!with_cookie) return with_cookie.error();
    const FuncPrograms& templates = cookies ? *with_cookie : *plain;
    std::array<bool, PWRU_FUNC_ARGS> used = {};
    for (const auto* fn : fns) used[fn->skb_pos] = true;
    for (size_t i = 0; i < used.size(); i++) {
      bpf_program__set_autoload((*plain)[i], !cookies && used[i]);
      bpf_program__set_autoload((*with_cookie)[i], cookies && used[i]);
    }
    bpf_program__set_autoload(skel_->progs.kprobe_nonskb, !setup.non_skb_funcs.empty());
    if (int err = kprobe_bpf__load(skel_.get())) return load_error("the kprobe BPF programs", err);

    // One program copy per position, with the pcap filter in it.
    int cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);
    for (size_t i = 0; i < used.size(); i++) {
      if (!used[i]) continue;
      auto copy = load_prog_copy(templates[i], cfg_fd, cfg, CopyTarget{BPF_PROG_TYPE_KPROBE},
                                 setup.kfilter, "kprobes (skb argument " + std::to_string(i + 1) + ")");
      if (!copy) return copy.error();
      summary.filter_fallbacks += copy->filter_fallback;
      progs_[i] = std::move(copy.value());
    }

    // --filter-non-skb-funcs: after the skb functions, with their own program.
    const size_t nonskb = setup.non_skb_funcs.size();
    std::vector<Result<PerfKprobe>> results;
    results.reserve(fns.size() + nonskb);
    for (size_t i = 0; i < fns.size() + nonskb; i++) results.emplace_back(Error{});
    auto name_of = [&](size_t i) -> const std::string& {
      return i < fns.size() ? fns[i]->name : setup.non_skb_funcs[i - fns.size()];
    };
    parallel_for(
        fns.size() + nonskb, kAttachThreads,
        [&](size_t i) {
          if (i >= fns.size()) {
            results[i] = attach_kprobe(pmu_type, name_of(i),
                                       bpf_program__fd(skel_->progs.kprobe_nonskb), 0);
            return;
          }
          const SkbFunction& fn = *fns[i];
          __u64 cookie = 0;
          if (cookies) {
            if (fn.reason_pos >= 0) cookie |= PWRU_COOKIE_REASON(fn.reason_pos);
            if (rules::frees_skb(fn.name)) cookie |= PWRU_COOKIE_FREES;
          }
          results[i] = attach_kprobe(pmu_type, fn.name, progs_[fn.skb_pos].prog.get(), cookie);
        },
        [&](size_t done) {
          if (progress) progress(done, fns.size() + nonskb);
        });

    for (size_t i = 0; i < fns.size() + nonskb; i++) {
      if (results[i]) {
        kprobes_.push_back(std::move(results[i].value()));
        summary.attached++;
      } else {
        if (results[i].error().code == ExitCode::Permission) return results[i].error();
        summary.skipped.push_back(name_of(i) + ": " + results[i].error().message);
      }
    }
    return Ok{};
  }

 private:
  std::unique_ptr<kprobe_bpf, SkelDestroy<kprobe_bpf, &kprobe_bpf__destroy>> skel_;
  std::array<ProgCopy, PWRU_FUNC_ARGS> progs_;
  std::vector<PerfKprobe> kprobes_;  // closed in parallel before the programs
};

}  // namespace

std::unique_ptr<Backend> make_kprobe_backend() { return std::make_unique<KprobeBackend>(); }

}  // namespace pwru
