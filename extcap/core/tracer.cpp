// Tracer: creates the shared maps, attaches the backends, and decodes ring buffer records.
#include "core/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <malloc.h>
#include <linux/types.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "core/backend.h"
#include "core/bpf_progs.h"
#include "core/btf.h"
#include "core/decoder.h"
#include "core/functions.h"
#include "core/kallsyms.h"
#include "core/kfilter.h"
#include "core/nf_probes.h"
#include "core/trace_bounds.h"
#include "core/track_skb.h"
#include "pwru_event.h"
#include "pwru_record.h"
#include "pwru_rules.h"

namespace pwru {
namespace {

// A ring buffer callback's way to say "the sink asked to stop": libbpf stops consuming on a
// negative return, after committing the records consumed so far.
constexpr int kSinkStopped = -ECANCELED;
// Batches below kSmallBatch events make the reader pause kGatherNs before waiting again.
constexpr int kSmallBatch = 512;
constexpr long kGatherNs = 2'000'000;
// skbs followed at once by --filter-track-skb; the map is LRU, so the oldest go first.
constexpr uint32_t kTrackedSkbs = 65536;
// skbs inside a netfilter chain, or just dropped by one, at once (bpf/common.bpf.h's nf_seen).
constexpr uint32_t kNfSkbs = 16384;
// Stacks following a packet at once, with --filter-track-skb-by-stackid (bpf/stackid.bpf.h).
constexpr uint32_t kStackIds = 4096;

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

Error map_error(const char* what, int err) {
  if (err == EPERM || err == EACCES) {
    return Error{ExitCode::Permission,
                 std::string("cannot create ") + what + ": " + std::strerror(err),
                 kPermissionHint};
  }
  return Error{ExitCode::KernelFeature,
               std::string("cannot create ") + what + ": " + std::strerror(err),
               "the kernel needs BPF ring buffers (Linux 5.8 or later)"};
}

int print_to_stderr(enum libbpf_print_level, const char* format, va_list args) {
  return std::vfprintf(stderr, format, args);
}

// libbpf's own messages would reach stderr, which Wireshark shows as an error: by default every
// failure comes back to us as an errno (and a verifier log we ask for) and is reported from
// there. --debug (never set in extcap mode) lets them through.
void set_libbpf_print(bool debug) { libbpf_set_print(debug ? print_to_stderr : nullptr); }

class TracerImpl final : public Tracer {
 public:
  static Result<std::unique_ptr<Tracer>> create(const TraceOptions& options,
                                                const ProgressFn& progress) {
    if (auto st = check_bounds(options); !st) return st.error();
    auto btf = KernelBtf::load(options.kernel_btf);
    if (!btf) return btf.error();
    auto filter = FuncFilter::compile(options.filter_func);
    if (!filter) return filter.error();
    const auto window = btf->btf_window();
    auto kfilter = make_kernel_filter(options, window ? &*window : nullptr);
    if (!kfilter) return kfilter.error();
    if (auto st = resolve_skb_exprs(options, btf->get(), *kfilter); !st) return st.error();
    std::unique_ptr<TracerImpl> t(new TracerImpl(std::move(btf.value()), options));
    t->reasons_ = t->btf_->drop_reasons();
    t->load_.drops_only = options.drops_only;
    for (const auto& [value, name] : t->reasons_) {
      if (name == rules::kReasonConsumed) t->load_.consumed_reason = value;
      if (name == "NETFILTER_DROP") t->load_.nf_drop_reason = value;
    }
    // Without kallsyms, callers are shown as addresses; tracing itself still works.
    if (auto ks = Kallsyms::load()) t->ksyms_ = std::move(ks.value());
    t->mono_to_real_ = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);

    t->events_.reset(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pwru_events", 0, 0,
                                    options.ringbuf_bytes, nullptr));
    if (!t->events_.valid()) return map_error("the event ring buffer", errno);
    t->lost_.reset(bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pwru_lost", sizeof(__u32),
                                  sizeof(__u64), 1, nullptr));
    if (!t->lost_.valid()) return map_error("the lost-event counter", errno);
    // One slot is enough when nothing is tracked: the programs only need the map to exist.
    t->tracked_.reset(bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "pwru_tracked", sizeof(__u64),
                                     sizeof(__u8), options.track_skb ? kTrackedSkbs : 1,
                                     nullptr));
    if (!t->tracked_.valid()) return map_error("the tracked-skb map", errno);
    const bool by_stack = options.track_skb_by_stackid || !options.non_skb_funcs.empty();
    t->stack_skb_.reset(bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "pwru_stack_skb", sizeof(__u64),
                                       sizeof(__u64), by_stack ? kStackIds : 1, nullptr));
    if (!t->stack_skb_.valid()) return map_error("the stack id map", errno);
    t->skb_stack_.reset(bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "pwru_skb_stack", sizeof(__u64),
                                       sizeof(__u64), by_stack ? kStackIds : 1, nullptr));
    if (!t->skb_stack_.valid()) return map_error("the stack id map", errno);
    // Likewise until the netfilter probes are attached (attach_backends).
    t->nf_seen_ = nf_seen_map(1);
    if (!t->nf_seen_.valid()) return map_error("the netfilter chain map", errno);
    t->kfilter_ = std::move(kfilter.value());
    int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) {
      return Error{ExitCode::Failure, "cannot count possible CPUs",
                   "mount sysfs: libbpf reads /sys/devices/system/cpu/possible"};
    }
    t->ncpus_ = static_cast<size_t>(ncpus);

    if (auto st = t->attach_backends(options, *filter, progress); !st) return st.error();
    // The kernel's BTF and what finding the probes took are not needed while tracing: give
    // them back before the ring buffer is mapped, so the peak RSS stays below 64 MiB with the
    // default ring buffer (docs/performance.md).
    t->btf_.reset();
    malloc_trim(0);
    t->decoder_.emplace(t->probes_, t->reasons_, t->ksyms_ ? &*t->ksyms_ : nullptr,
                        t->load_.stack_bytes, t->mono_to_real_);
    t->decoder_->set_skb_exprs(&t->kfilter_.meta);
    t->rb_.reset(ring_buffer__new(t->events_.get(), &TracerImpl::on_sample, t.get(), nullptr));
    if (!t->rb_) return map_error("the ring buffer reader", errno);
    return std::unique_ptr<Tracer>(std::move(t));
  }

  // Picks the backend (the first usable one for "auto"), attaches it, and next to a function
  // backend also the tracepoints that carry a location or drop reason.
  Status attach_backends(const TraceOptions& options, const FuncFilter& filter,
                         const ProgressFn& progress) {
    const auto& registry = backend_registry();
    const BackendInfo* chosen = nullptr;
    if (options.backend != "auto") {
      for (const auto& info : registry)
        if (info.name == options.backend) chosen = &info;
      // check_bounds (in create) refused any other name.
    }
    if (auto st = check_non_skb_backend(options, chosen); !st) return st;
    FunctionSet fset;
    bool want_functions = !chosen || chosen->traces_functions;
    if (want_functions) {
      auto found = find_skb_functions(*btf_, ksyms_ ? &*ksyms_ : nullptr, filter);
      if (!found) {
        if (chosen) return found.error();
        summary_.notes.push_back("function backends not usable: " + found.error().message);
      } else {
        fset = std::move(found.value());
        for (auto& n : fset.notes) summary_.notes.push_back(n);
      }
    }
    BackendSetup setup{*btf_,
                       ksyms_ ? &*ksyms_ : nullptr,
                       SharedMaps{events_.get(), lost_.get(), tracked_.get(), nf_seen_.get(),
                                  stack_skb_.get(), skb_stack_.get()},
                       load_,
                       kfilter_,
                       fset.functions,
                       filter};

    std::unique_ptr<Backend> backend;
    if (chosen) {
      backend = chosen->make();
      if (auto st = backend->check_available(setup); !st) {
        Error e = st.error();
        if (e.hint.empty()) e.hint = kOtherBackendHint;
        return chosen->traces_functions ? explain_refusal(std::move(e), fset) : e;
      }
    } else {
      for (const auto& info : registry) {
        if (info.traces_functions && fset.functions.empty()) continue;
        auto candidate = info.make();
        if (auto st = candidate->check_available(setup); !st) {
          summary_.notes.push_back(st.error().message);
          continue;
        }
        chosen = &info;
        backend = std::move(candidate);
        break;
      }
      if (!backend) {
        return Error{ExitCode::KernelFeature,
                     "cannot find a usable backend: " + join(summary_.notes, "; "),
                     "pwrudump needs Linux 5.8 or later with BTF (/sys/kernel/btf/vmlinux)"};
      }
    }
    summary_.backend = std::string(chosen->name);
    // The tc and XDP programs first: a kernel that refuses them fails the capture before the
    // backend's probes take their time.
    if (options.trace_tc || options.trace_xdp) {
      auto progs = BpfProgProbes::attach(setup, options.trace_tc, options.trace_xdp, probes_,
                                         summary_);
      if (!progs) return progs.error();
      bpf_progs_ = std::move(progs.value());
    }
    if (auto st = check_non_skb_backend(options, chosen); !st) return st;
    setup.non_skb_funcs = non_skb_functions(options.non_skb_funcs, fset.functions,
                                            ksyms_ ? &*ksyms_ : nullptr, summary_);
    clones_ = follow_clones(kfilter_.track_skb, tracked_.get(), btf_->is_running_kernel(), summary_);
    if (auto st = backend->attach(setup, probes_, summary_, progress); !st) {
      return chosen->traces_functions ? explain_refusal(st.error(), fset) : st.error();
    }
    backends_.push_back(std::move(backend));

    // The netfilter probes (core/nf_probes.h), before the tracepoints whose drops read them.
    if (chosen->traces_functions && options.nf_probes) {
      nf_seen_ = nf_seen_map(kNfSkbs);
      if (!nf_seen_.valid()) return map_error("the netfilter chain map", errno);
      setup.maps.nf_seen_fd = nf_seen_.get();
      nf_ = NfProbes::attach(setup, chosen->name, probes_, summary_);
      setup.load.nf_probes = nf_->attached() > 0;
    }
    if (chosen->traces_functions) {
      setup.extras_only = true;
      auto tp = make_tracepoint_backend();
      if (auto st = tp->attach(setup, probes_, summary_, {}); !st) return st;
      backends_.push_back(std::move(tp));
    }
    if (summary_.filter_fallbacks) {
      summary_.notes.push_back(
          "the kernel refused the pcap filter's plain packet loads (bpf_rdonly_cast) in " +
          std::to_string(summary_.filter_fallbacks) +
          " programs: they read packets with bpf_probe_read_kernel, which costs more per run");
    }
    if (summary_.attached == 0) {
      std::string why = summary_.skipped.empty() ? "" : ": " + summary_.skipped.front();
      return Error{ExitCode::KernelFeature, "cannot attach any probe" + why, kOtherBackendHint};
    }
    return Ok{};
  }

  Result<int> poll(int timeout_ms, const Sink& sink) override {
    return read_events(sink, [&] { return ring_buffer__poll(rb_.get(), timeout_ms); });
  }

  // The links go with the backends; the ring buffer and the maps stay for drain() and lost().
  void detach() override {
    bpf_progs_.reset();
    nf_.reset();
    backends_.clear();
  }

  Result<int> drain(const Sink& sink) override {
    return read_events(sink, [&] { return ring_buffer__consume(rb_.get()); });
  }

  template <typename Read>
  Result<int> read_events(const Sink& sink, Read read) {
    sink_ = &sink;
    handed_ = 0;
    int n = read();
    sink_ = nullptr;
    if (n < 0 && n != kSinkStopped && n != -EINTR) {
      return Error{ExitCode::Failure,
                   std::string("cannot read the event ring buffer: ") + std::strerror(-n),
                   kReportHint};
    }
    // A small batch means we caught up with the kernel: let events gather for a moment before
    // the next wait, rather than being woken for every few of them: woken that often, the reader
    // spends more CPU on wakeups (a context switch each) than on writing the events
    // (docs/performance.md).
    // A gap of kGatherNs holds a fraction of the ring buffer at any rate we can keep up with.
    if (handed_ > 0 && handed_ < kSmallBatch) {
      struct timespec gap{0, kGatherNs};
      nanosleep(&gap, nullptr);  // a signal cuts it short, as it should
    }
    return handed_;
  }

  Result<uint64_t> lost() const override {
    std::vector<__u64> per_cpu(ncpus_);
    __u32 zero = 0;
    if (bpf_map_lookup_elem(lost_.get(), &zero, per_cpu.data())) {
      return Error{ExitCode::Failure,
                   std::string("cannot read the lost-event count: ") + std::strerror(errno),
                   std::string("the trace may have holes that no count shows; ") + kReportHint};
    }
    uint64_t sum = decoder_->malformed();
    for (__u64 v : per_cpu) sum += v;
    return sum;
  }

  uint64_t unknown_probes() const override { return decoder_->unknown_probes(); }

  const AttachSummary& summary() const override { return summary_; }

 private:
  TracerImpl(KernelBtf btf, const TraceOptions& options) : btf_(std::move(btf)) {
    load_.snaplen = options.snaplen;
    load_.stack_bytes = options.output_stack ? 8 * PWRU_MAX_STACK_DEPTH : 0;
  }

  // --filter-non-skb-funcs needs a function backend: with --backend tracepoint asked for, a
  // usage error; with auto choosing it (`chosen` set, options.backend "auto"), the kernel has no
  // function backend. Before the choice (`chosen` null), ok.
  static Status check_non_skb_backend(const TraceOptions& options, const BackendInfo* chosen) {
    if (options.non_skb_funcs.empty() || !chosen || chosen->traces_functions) return Ok{};
    const std::string why = "cannot probe --filter-non-skb-funcs with the " +
                            std::string(chosen->name) + " backend: ";
    if (options.backend == "auto") {
      return Error{ExitCode::KernelFeature,
                   why + "auto chose it, as no function backend (kprobe-multi, kprobe, fentry) "
                         "works here",
                   "leave out --filter-non-skb-funcs; --filter-track-skb-by-stackid works with "
                   "every backend"};
    }
    return Error{ExitCode::Usage, why + "it probes tracepoints, not functions",
                 "pass --backend kprobe-multi, kprobe or fentry, or leave out "
                 "--filter-non-skb-funcs (--filter-track-skb-by-stackid works with every backend)"};
  }

  static UniqueFd nf_seen_map(uint32_t entries) {
    return UniqueFd(bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "pwru_nf_seen", sizeof(__u64),
                                   sizeof(struct pwru_nf), entries, nullptr));
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<TracerImpl*>(ctx);
    if (!self->decoder_->decode(data, size, self->event_)) return 0;  // counted as lost
    self->handed_++;
    if (self->sink_ && !(*self->sink_)(self->event_)) return kSinkStopped;
    return 0;
  }

  struct RingBufferDeleter {
    void operator()(struct ring_buffer* rb) const { ring_buffer__free(rb); }
  };

  std::optional<KernelBtf> btf_;  // until the probes are attached
  LoadSettings load_;
  std::map<uint32_t, std::string> reasons_;
  std::optional<Kallsyms> ksyms_;
  int64_t mono_to_real_ = 0;
  size_t ncpus_ = 0;
  // Declaration order is teardown order reversed: the reader and the backends (which detach
  // every link) go before the maps they use.
  UniqueFd events_;
  UniqueFd lost_;
  UniqueFd tracked_;
  UniqueFd nf_seen_;
  UniqueFd stack_skb_;  // --filter-track-skb-by-stackid (bpf/stackid.bpf.h)
  UniqueFd skb_stack_;
  std::unique_ptr<CloneFollower> clones_;  // --filter-track-skb, for every backend
  KernelFilter kfilter_;
  std::vector<Probe> probes_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::unique_ptr<NfProbes> nf_;  // the function backends' netfilter probes
  std::unique_ptr<BpfProgProbes> bpf_progs_;  // --filter-trace-tc, --filter-trace-xdp
  std::optional<EventDecoder> decoder_;  // reads probes_, reasons_ and ksyms_
  std::unique_ptr<struct ring_buffer, RingBufferDeleter> rb_;
  AttachSummary summary_;

  const Sink* sink_ = nullptr;
  int handed_ = 0;
  Event event_;
};

}  // namespace

Result<std::unique_ptr<Tracer>> Tracer::open(const TraceOptions& options,
                                             const ProgressFn& progress) {
  set_libbpf_print(options.debug);
  // Before 5.11 BPF maps count against RLIMIT_MEMLOCK (often 8 MiB, less than our ring buffer).
  // libbpf raises it only for its own objects, and we create the shared maps first.
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &unlimited);  // where this fails, map creation says why
  // kprobe and fentry hold a descriptor or two per function (1300-1600 of them); a session's
  // soft limit is often 1024. The hard limit is ours to take.
  struct rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return TracerImpl::create(options, progress);
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names{"auto"};
  for (const auto& info : backend_registry()) names.emplace_back(info.name);
  return names;
}

Result<ProbeList> list_probes(const TraceOptions& options) {
  set_libbpf_print(options.debug);
  auto btf = KernelBtf::load(options.kernel_btf);
  if (!btf) return btf.error();
  auto filter = FuncFilter::compile(options.filter_func);
  if (!filter) return filter.error();
  ProbeList out;
  if (options.backend == "tracepoint") {
    for (const auto& tp : btf->skb_tracepoints())
      if (filter->matches(tp.name)) out.names.push_back(tp.name);
    return out;
  }
  std::optional<Kallsyms> ksyms;
  if (auto ks = Kallsyms::load()) ksyms = std::move(ks.value());
  auto fset = find_skb_functions(*btf, ksyms ? &*ksyms : nullptr, *filter);
  if (!fset) return fset.error();
  out.notes = std::move(fset->notes);
  for (const auto& fn : fset->functions)
    out.names.push_back(fn.module.empty() ? fn.name : fn.name + " [" + fn.module + "]");
  return out;
}

}  // namespace pwru
