// The tracing core: picks a backend, loads and attaches the BPF programs, and turns ring buffer
// records into decoded Events. Frontends (command line, extcap) only talk to this class.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "record/event.h"

namespace pwru {

struct TraceOptions {
  uint32_t snaplen = 256;              // packet bytes per event, 0..PWRU_MAX_SNAPLEN
  // BPF ring buffer size, a power of two >= page size. The reader maps it twice, so it counts
  // twice in the RSS: 32 MiB would put the RSS above 64 MiB (docs/performance.md).
  uint32_t ringbuf_bytes = 16u << 20;
  std::string backend = "auto";        // auto, or a name from backend_names()
  std::string filter_func;             // --filter-func regex (whole-name match); empty: all
  std::string kernel_btf;              // BTF file instead of /sys/kernel/btf/vmlinux
  bool output_stack = false;           // kernel stack of every event (Event::stack)
  bool drops_only = false;             // no frees with reason SKB_CONSUMED (pwru-drops)
  // In-kernel filters (empty: any).
  std::string pcap_filter;             // tcpdump syntax
  std::string tunnel_pcap_l2;          // on the frame inside VXLAN or Geneve
  std::string tunnel_pcap_l3;          // on the IP packet inside it
  std::string filter_netns;            // /proc/PID/ns/net, /run/netns/NAME, or inode:N
  std::string filter_mark;             // VALUE[/MASK]
  std::string filter_ifname;           // resolved in the filtered netns, else the current one
  bool track_skb = false;              // follow an skb once it matched
  // C expressions on the skb, resolved through the kernel's BTF (core/skb_expr.h): up to
  // PWRU_META_MAX fields shown with each event, and a comparison the kernel filters with.
  std::vector<std::string> skb_metadata;  // --output-skb-metadata, e.g. skb->dev->ifindex
  std::string filter_skb_expr;            // --filter-skb-expr, e.g. "skb->len > 1000"
  bool output_shinfo = false;          // --output-skb-shared-info
  bool output_cb = false;              // --output-skb-cb
  // Keep the events of other skbs on the kernel stack of a packet the filters passed
  // (bpf/stackid.bpf.h); set by non_skb_funcs too, as in pwru.
  bool track_skb_by_stackid = false;
  // Functions without skb argument to probe (function backends), whose events are those of the
  // packet their stack follows: exact names, as pwru takes them.
  std::vector<std::string> non_skb_funcs;
  // With a function backend, probe nft_do_chain, ipt_do_table and ip6t_do_table for the table,
  // chain and verdict of each netfilter chain (core/nf_probes.h).
  bool nf_probes = true;
  // --filter-trace-tc, --filter-trace-xdp: fentry and fexit on every tc (sched_cls) or XDP
  // program loaded when the capture starts (core/bpf_progs.h).
  bool trace_tc = false;
  bool trace_xdp = false;
  // libbpf's messages (with the verifier log of a refused skeleton program) to stderr; off, they
  // are dropped and a refused load is reported by its error alone, which carries the tail of
  // the verifier log for the programs pwrudump loads itself.
  bool debug = false;
};

struct AttachSummary {
  std::string backend;                // e.g. "kprobe-multi", or "tracepoint"
  size_t attached = 0;                // probes attached
  std::vector<std::string> skipped;   // "<probe>: <why>" for each probe not attached
  std::vector<std::string> notes;     // why "auto" chose as it did, sources that were unreadable
  size_t filter_fallbacks = 0;        // programs whose kernel refused the filter's plain loads
};

// The fix for being refused BPF (EPERM), in the one wording every such error uses.
inline constexpr const char* kPermissionHint =
    "run as root, or grant pwrudump CAP_BPF and CAP_PERFMON";
// The fix for what should never happen.
inline constexpr const char* kReportHint =
    "this is unexpected: please report it with `pwrudump --version` and `uname -r`";

// "auto" and every backend name, best first.
std::vector<std::string> backend_names();

// What `options` would probe, without loading anything, for --list-funcs.
struct ProbeList {
  std::vector<std::string> names;  // "name" or "name [module]" per function (or tracepoint with
                                   // --backend tracepoint)
  std::vector<std::string> notes;  // what could not be read, and what was used instead
};
Result<ProbeList> list_probes(const TraceOptions& options);

// Called during attach with (done, total) so the command line can draw progress.
using ProgressFn = std::function<void(size_t done, size_t total)>;

class Tracer {
 public:
  // Sink for decoded events; return false to stop delivering the current batch.
  using Sink = std::function<bool(const Event&)>;

  static Result<std::unique_ptr<Tracer>> open(const TraceOptions& options,
                                               const ProgressFn& progress = {});
  virtual ~Tracer() = default;

  // Waits up to `timeout_ms` for events and hands each to `sink`. Returns how many were handed
  // over. EINTR is not an error (returns 0), so a signal handler can set a stop flag.
  virtual Result<int> poll(int timeout_ms, const Sink& sink) = 0;
  // Removes every probe from the kernel, so what drain() then hands over and lost() counts is
  // the whole capture (but for a program already running on another CPU, which finishes within
  // microseconds: the kernel frees programs after an RCU grace period).
  virtual void detach() = 0;
  // Hands every event still in the ring buffer to `sink` without waiting; like poll().
  virtual Result<int> drain(const Sink& sink) = 0;
  // Events the probes made that no sink saw: those the kernel could not put into the ring buffer
  // (summed over CPUs) and records too short to decode. An error when the kernel's count cannot
  // be read: never 0 for "unknown".
  virtual Result<uint64_t> lost() const = 0;
  // Events handed over whose probe id names no attached probe (ProbeKind::Unknown): a bug.
  virtual uint64_t unknown_probes() const = 0;
  virtual const AttachSummary& summary() const = 0;
};

}  // namespace pwru
