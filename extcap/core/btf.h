// Questions about the running kernel answered from its BTF: which tracepoints carry an skb,
// and what the drop reasons are called.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/cbpf_to_ebpf.h"

struct btf;

namespace pwru {

struct SkbTracepoint {
  std::string name;       // as given to bpf_raw_tracepoint_open, e.g. "kfree_skb"
  int skb_pos = -1;       // 0-based position of the struct sk_buff * argument
  int location_pos = -1;  // position of the `location` argument, -1 if none
  int reason_pos = -1;    // position of the enum skb_drop_reason argument, -1 if none
  int nr_args = 0;
  uint32_t btf_id = 0;    // of the typedef btf_trace_<name>: the attach target of a tp_btf program
};

// A kernel function with a struct sk_buff * among its first five parameters.
struct SkbFunction {
  std::string name;
  std::string module;     // empty for vmlinux
  int skb_pos = -1;       // 0-based position of the first struct sk_buff * parameter
  int reason_pos = -1;    // position of an enum skb_drop_reason parameter, -1 if none
  uint32_t btf_id = 0;    // in vmlinux BTF, or in the module's split BTF
};

class KernelBtf {
 public:
  // Loads `path`, or the running kernel's BTF (/sys/kernel/btf/vmlinux) when empty.
  static Result<KernelBtf> load(const std::string& path = {});

  // Every tracepoint whose prototype (typedef btf_trace_<name>) has a struct sk_buff * argument,
  // sorted by name.
  std::vector<SkbTracepoint> skb_tracepoints() const;
  // Every FUNC with a struct sk_buff * among parameters 1..5, from vmlinux and, when
  // `with_modules`, from the modules' BTF under /sys/kernel/btf/. Sorted by name.
  std::vector<SkbFunction> skb_functions(bool with_modules = true) const;

  // Function `name` from vmlinux or, where it is not built in, from `module`'s BTF; nullopt when
  // neither has it (a module that is not loaded). skb_pos is -1 when no parameter is an skb.
  std::optional<SkbFunction> function(const std::string& name, const std::string& module) const;

  // enum skb_drop_reason values and names without the SKB_DROP_REASON_ prefix; empty on kernels
  // that predate drop reasons.
  std::map<uint32_t, std::string> drop_reasons() const;

  // What the pcap filter needs to read the packet's first bytes by plain loads: the kfunc
  // bpf_rdonly_cast (Linux 6.2) and a struct of 8-byte integers to cast to. nullopt when the
  // kernel has no such kfunc, or when this BTF is not the running kernel's own.
  std::optional<BtfWindow> btf_window() const;

  const struct btf* get() const { return btf_.get(); }
  // Whether this is the running kernel's own BTF (/sys/kernel/btf/vmlinux), whose type ids the
  // kernel takes as attach targets; not so for --kernel-btf.
  bool is_running_kernel() const { return running_kernel_; }

 private:
  struct Deleter {
    void operator()(struct btf* b) const;
  };
  KernelBtf(struct btf* b, bool running_kernel) : btf_(b), running_kernel_(running_kernel) {}
  std::unique_ptr<struct btf, Deleter> btf_;
  bool running_kernel_ = false;
};

}  // namespace pwru
