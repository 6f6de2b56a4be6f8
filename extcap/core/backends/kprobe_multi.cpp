// kprobe-multi backend: one link per position of the skb argument, attached by address, with a
// per-address cookie that says where the drop reason is. A link is all or nothing, so when the
// kernel refuses a batch the batch is halved until the functions it refuses are found and skipped.
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
#include "core/prog_copy.h"
#include "core/skb_positions.h"
#include "pwru_rules.h"
#include "kprobe_multi.skel.h"

namespace pwru {
namespace {

struct Target {
  unsigned long addr;
  __u64 cookie;
  const std::string* name;
};

class KprobeMultiBackend final : public Backend {
 public:
  std::string_view name() const override { return "kprobe-multi"; }

  // Tries a real kprobe-multi link on one function with a two-instruction program.
  Status check_available(const BackendSetup& setup) override {
    if (!setup.ksyms) {
      return Error{ExitCode::KernelFeature,
                   "cannot use kprobe-multi: /proc/kallsyms gives no addresses",
                   "run as root, or grant pwrudump CAP_SYSLOG"};
    }
    unsigned long addr = 0;
    for (const auto& fn : setup.functions) {
      auto addrs = setup.ksyms->addresses({fn.name});
      if (!addrs.empty()) {
        addr = addrs.begin()->second.front();
        break;
      }
    }
    if (!addr) return Error{ExitCode::KernelFeature, "cannot use kprobe-multi: no address", kOtherBackendHint};
    struct bpf_insn ret0[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_KPROBE_MULTI);
    UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_KPROBE, "pwru_avail", "GPL", ret0, 2, &opts));
    if (!prog.valid()) {
      return Error{ExitCode::KernelFeature,
                   std::string("cannot use kprobe-multi: the kernel does not know it (") +
                       std::strerror(errno) + "; it needs Linux 5.18 or later)",
                   kOtherBackendHint};
    }
    LIBBPF_OPTS(bpf_link_create_opts, lopts);
    lopts.kprobe_multi.addrs = &addr;
    lopts.kprobe_multi.cnt = 1;
    UniqueFd link(bpf_link_create(prog.get(), 0, BPF_TRACE_KPROBE_MULTI, &lopts));
    if (!link.valid()) {
      int err = errno;
      return Error{ExitCode::KernelFeature,
                   std::string("cannot use kprobe-multi: ") + std::strerror(err) +
                       (err == EOPNOTSUPP ? " (the kernel is built without CONFIG_FPROBE)" : ""),
                   kOtherBackendHint};
    }
    return Ok{};
  }

  Status attach(const BackendSetup& setup, std::vector<Probe>& probes, AttachSummary& summary,
                const ProgressFn& progress) override {
    skel_.reset(kprobe_multi_bpf__open());
    if (!skel_) return load_error("the kprobe-multi BPF object", errno);
    const struct probe_cfg cfg = shared_probe(probes, ProbeKind::KprobeMulti);
    skel_->rodata_probe->probe = cfg;
    if (auto st = configure(skel_.get(), setup.load, setup.kfilter, setup.maps); !st) return st;

    // Addresses of every function, in one pass over kallsyms.
    std::unordered_set<std::string> names;
    for (const auto& fn : setup.functions) names.insert(fn.name);
    auto addrs = setup.ksyms->addresses(names);
    std::array<std::vector<Target>, PWRU_FUNC_ARGS> targets;
    std::unordered_set<unsigned long> taken;
    size_t total = 0;
    for (const auto& fn : setup.functions) {
      auto it = addrs.find(fn.name);
      if (it == addrs.end()) {
        summary.skipped.push_back(fn.name + ": not in /proc/kallsyms");
        continue;
      }
      __u64 cookie = fn.reason_pos >= 0 ? PWRU_COOKIE_REASON(fn.reason_pos) : 0;
      if (rules::frees_skb(fn.name)) cookie |= PWRU_COOKIE_FREES;
      for (unsigned long a : it->second) {
        if (!taken.insert(a).second) continue;  // a name in vmlinux and a module BTF
        targets[fn.skb_pos].push_back(Target{a, cookie, &fn.name});
        total++;
      }
    }

    auto progs = programs_by_position<PWRU_FUNC_ARGS>(skel_->obj, "kprobe_multi_skb_");
    if (!progs) return progs.error();
    for (size_t i = 0; i < targets.size(); i++)
      bpf_program__set_autoload((*progs)[i], !targets[i].empty());
    // --filter-non-skb-funcs: one more link, with their own program.
    std::vector<Target> nonskb;
    if (!setup.non_skb_funcs.empty()) {
      auto nonskb_addrs = setup.ksyms->addresses(std::unordered_set<std::string>(
          setup.non_skb_funcs.begin(), setup.non_skb_funcs.end()));
      for (const auto& name : setup.non_skb_funcs) {
        auto it = nonskb_addrs.find(name);
        if (it == nonskb_addrs.end()) continue;  // non_skb_functions left out what kallsyms has not
        for (unsigned long a : it->second)
          if (taken.insert(a).second) nonskb.push_back(Target{a, 0, &name});
      }
    }
    bpf_program__set_autoload(skel_->progs.kprobe_multi_nonskb, !nonskb.empty());
    if (int err = kprobe_multi_bpf__load(skel_.get()))
      return load_error("the kprobe-multi BPF programs", err);

    // One program copy per position, with the pcap filter in it, attached by fd.
    int cfg_fd = bpf_map__fd(skel_->maps.rodata_probe);
    size_t done = 0;
    for (size_t pos = 0; pos < targets.size(); pos++) {
      if (targets[pos].empty()) continue;
      auto copy = load_prog_copy((*progs)[pos], cfg_fd, cfg,
                                 CopyTarget{BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI},
                                 setup.kfilter,
                                 "kprobe-multi (skb argument " + std::to_string(pos + 1) + ")");
      if (!copy) return copy.error();
      summary.filter_fallbacks += copy->filter_fallback;
      copies_.push_back(std::move(copy.value()));
      int prog_fd = copies_.back().prog.get();
      if (auto st = attach_batch(prog_fd, targets[pos].data(), targets[pos].size(), summary);
          !st) {
        return st;
      }
      done += targets[pos].size();
      if (progress) progress(done, total);
    }
    if (!nonskb.empty()) {
      if (auto st = attach_batch(bpf_program__fd(skel_->progs.kprobe_multi_nonskb),
                                 nonskb.data(), nonskb.size(), summary);
          !st) {
        return st;
      }
    }
    return Ok{};
  }

 private:
  Status attach_batch(int prog_fd, const Target* t, size_t n, AttachSummary& summary) {
    std::vector<unsigned long> a(n);
    std::vector<__u64> c(n);
    for (size_t i = 0; i < n; i++) {
      a[i] = t[i].addr;
      c[i] = t[i].cookie;
    }
    LIBBPF_OPTS(bpf_link_create_opts, opts);
    opts.kprobe_multi.addrs = a.data();
    opts.kprobe_multi.cookies = c.data();
    opts.kprobe_multi.cnt = static_cast<__u32>(n);
    UniqueFd link(bpf_link_create(prog_fd, 0, BPF_TRACE_KPROBE_MULTI, &opts));
    if (link.valid()) {
      links_.push_back(std::move(link));
      summary.attached += n;
      return Ok{};
    }
    int err = errno;
    if (err == EPERM || err == EACCES) return load_error("kprobe-multi link", err);
    if (n == 1) {
      summary.skipped.push_back(*t->name + ": " + std::strerror(err));
      return Ok{};
    }
    if (auto st = attach_batch(prog_fd, t, n / 2, summary); !st) return st;
    return attach_batch(prog_fd, t + n / 2, n - n / 2, summary);
  }

  // Destroyed in reverse: links, then the program copies, then the templates.
  std::unique_ptr<kprobe_multi_bpf, SkelDestroy<kprobe_multi_bpf, &kprobe_multi_bpf__destroy>>
      skel_;
  std::vector<ProgCopy> copies_;
  std::vector<UniqueFd> links_;
};

}  // namespace

std::unique_ptr<Backend> make_kprobe_multi_backend() {
  return std::make_unique<KprobeMultiBackend>();
}

}  // namespace pwru
