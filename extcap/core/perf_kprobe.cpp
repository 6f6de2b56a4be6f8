// kprobe perf events: perf_event_open on the kprobe PMU, then the program by link or ioctl.
#include "core/perf_kprobe.h"

#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/load_error.h"

namespace pwru {
namespace {

// Which config bit makes a return probe: "config:0" on every kernel so far, read as libbpf does.
constexpr const char* kRetprobeFormat = "/sys/bus/event_source/devices/kprobe/format/retprobe";

int retprobe_bit() {
  std::ifstream in(kRetprobeFormat);
  std::string text;
  if (!(in >> text) || text.rfind("config:", 0) != 0) return 0;
  return std::atoi(text.c_str() + 7);
}

}  // namespace

const char* const kKprobePmuType = "/sys/bus/event_source/devices/kprobe/type";

int kprobe_pmu_type() {
  std::ifstream in(kKprobePmuType);
  int type = -1;
  return (in >> type) ? type : -1;
}

int open_kprobe_event(int pmu_type, const std::string& func, bool retprobe) {
  struct perf_event_attr attr = {};
  attr.size = sizeof(attr);
  attr.type = static_cast<__u32>(pmu_type);
  attr.config = retprobe ? 1ULL << retprobe_bit() : 0;
  attr.config1 = reinterpret_cast<__u64>(func.c_str());  // kprobe_func
  attr.config2 = 0;                                      // probe_offset
  return static_cast<int>(
      syscall(__NR_perf_event_open, &attr, -1 /*pid*/, 0 /*cpu*/, -1, PERF_FLAG_FD_CLOEXEC));
}

Error kprobe_error(const std::string& func, int err) {
  if (err == EACCES || err == EPERM) {
    return Error{ExitCode::Permission,
                 "cannot create a kprobe on " + func + ": " + std::strerror(err),
                 "kprobes need root or CAP_SYS_ADMIN; with only CAP_BPF and CAP_PERFMON use "
                 "--backend fentry or tracepoint (auto does so)"};
  }
  return Error{ExitCode::KernelFeature, "cannot create a kprobe on " + func + ": " + std::strerror(err),
               "the kernel may refuse kprobes on it (its kprobe blacklist); the rest are traced"};
}

Result<PerfKprobe> attach_kprobe(int pmu_type, const std::string& func, int prog_fd,
                                 __u64 cookie, bool retprobe) {
  PerfKprobe k;
  k.perf.reset(open_kprobe_event(pmu_type, func, retprobe));
  if (!k.perf.valid()) return kprobe_error(func, errno);
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.perf_event.bpf_cookie = cookie;
  k.link.reset(bpf_link_create(prog_fd, k.perf.get(), BPF_PERF_EVENT, &opts));
  if (!k.link.valid()) {
    int err = errno;
    if (cookie || (err != EINVAL && err != EOPNOTSUPP)) return load_error("kprobe " + func, err);
    if (ioctl(k.perf.get(), PERF_EVENT_IOC_SET_BPF, prog_fd) < 0)
      return load_error("kprobe " + func, errno);
  }
  if (ioctl(k.perf.get(), PERF_EVENT_IOC_ENABLE, 0) < 0) return load_error("kprobe " + func, errno);
  return k;
}

}  // namespace pwru
