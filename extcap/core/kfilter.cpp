// make_kernel_filter: option strings to kernel-side filter values.
#include "core/kfilter.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/unique_fd.h"
#include "filter/pcap_program.h"

namespace pwru {
namespace {

constexpr const char* kNetnsHint =
    "pass /proc/PID/ns/net, /run/netns/NAME (as made by `ip netns add`), or inode:N";

Error usage(std::string message, std::string hint) {
  return Error{ExitCode::Usage, std::move(message), std::move(hint)};
}

// A path that cannot be opened: not there (NotFound), not ours to look at (Permission).
Error open_error(const std::string& what, int err, std::string hint) {
  ExitCode code = ExitCode::Usage;
  if (err == ENOENT || err == ENOTDIR) code = ExitCode::NotFound;
  if (err == EACCES || err == EPERM) {
    code = ExitCode::Permission;
    hint = "another user's /proc/PID/ns/net needs root or CAP_SYS_PTRACE; " + hint;
  }
  return Error{code, "cannot open " + what + ": " + std::strerror(err), std::move(hint)};
}

bool parse_u32(const std::string& text, uint32_t& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno || *end || v > 0xffffffffull || text[0] == '-') return false;
  out = static_cast<uint32_t>(v);
  return true;
}

uint32_t inode_of(const std::string& path) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

// A path to a network namespace with inode `inum`: /run/netns first, then processes.
std::string find_netns_path(uint32_t inum) {
  for (const char* dir : {"/run/netns", "/proc"}) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir), &closedir);
    while (d) {
      struct dirent* de = readdir(d.get());
      if (!de) break;
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      std::string path = std::string(dir) + "/" + name;
      if (std::string(dir) == "/proc") {
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        path += "/ns/net";
      }
      if (inode_of(path) == inum) return path;
    }
  }
  return {};
}

}  // namespace

Result<uint32_t> parse_netns(const std::string& spec) {
  if (spec.rfind("inode:", 0) == 0) {
    uint32_t inum = 0;
    if (!parse_u32(spec.substr(6), inum) || inum == 0)
      return usage("cannot use --filter-netns " + spec + ": not an inode number", kNetnsHint);
    return inum;
  }
  struct stat st{};
  if (stat(spec.c_str(), &st) != 0) return open_error("--filter-netns " + spec, errno, kNetnsHint);
  // Any other file's inode would filter out every event, silently.
  struct statfs fs{};
  if (statfs(spec.c_str(), &fs) != 0 || fs.f_type != NSFS_MAGIC) {
    return usage("cannot use --filter-netns " + spec + ": not a namespace", kNetnsHint);
  }
  return static_cast<uint32_t>(st.st_ino);
}

Result<std::pair<uint32_t, uint32_t>> parse_mark(const std::string& spec) {
  size_t slash = spec.find('/');
  uint32_t value = 0, mask = 0xffffffffu;
  if (!parse_u32(spec.substr(0, slash), value) ||
      (slash != std::string::npos && !parse_u32(spec.substr(slash + 1), mask)) || mask == 0) {
    return usage("cannot use --filter-mark " + spec + ": not VALUE or VALUE/MASK",
                 "pass e.g. --filter-mark 0x2a or --filter-mark 0x200/0xf00 (mask not 0)");
  }
  return std::make_pair(value & mask, mask);
}

Result<uint32_t> resolve_ifname(const std::string& ifname, const std::string& netns_spec) {
  std::string path = netns_spec;
  if (netns_spec.rfind("inode:", 0) == 0) {
    auto inum = parse_netns(netns_spec);
    if (!inum) return inum.error();
    path = find_netns_path(*inum);
    if (path.empty()) {
      return Error{ExitCode::NotFound,
                   "cannot resolve --filter-ifname " + ifname + ": no process or /run/netns "
                   "entry is in network namespace " + netns_spec,
                   "name the namespace by path (/proc/PID/ns/net) instead"};
    }
  }
  unsigned int index = 0;
  int err = 0;
  if (path.empty()) {
    index = if_nametoindex(ifname.c_str());
    err = errno;
  } else {
    UniqueFd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) return open_error("--filter-netns " + path, errno, kNetnsHint);
    // setns changes only the calling thread's namespace: a short-lived thread looks it up.
    std::thread([&] {
      if (setns(ns.get(), CLONE_NEWNET) != 0) {
        err = errno;
        return;
      }
      index = if_nametoindex(ifname.c_str());
      err = errno;
    }).join();
  }
  if (index == 0 && (err == EPERM || err == EACCES) && !path.empty()) {
    return Error{ExitCode::Permission,
                 "cannot enter network namespace " + path + " to find " + ifname + ": " +
                     std::strerror(err),
                 "entering another namespace needs root or CAP_SYS_ADMIN"};
  }
  if (index == 0) {
    std::string where = path.empty() ? "this network namespace" : path;
    return Error{ExitCode::NotFound,
                 "cannot find interface " + ifname + " in " + where + ": " + std::strerror(err),
                 "list interfaces with `ip link`" +
                     (path.empty() ? std::string(", or pass --filter-netns first") : "")};
  }
  return static_cast<uint32_t>(index);
}

Status resolve_skb_exprs(const TraceOptions& options, const struct btf* btf, KernelFilter& f) {
  f.meta.clear();
  for (const auto& text : options.skb_metadata) {
    auto e = resolve_skb_expr(btf, text);
    if (!e) return e.error();
    f.meta.push_back(std::move(e.value()));
  }
  f.expr_filter.reset();
  if (!options.filter_skb_expr.empty()) {
    auto filter = parse_skb_filter(btf, options.filter_skb_expr);
    if (!filter) return filter.error();
    f.expr_filter = std::move(filter.value());
  }
  f.shinfo = options.output_shinfo;
  f.cb = options.output_cb;
  return Ok{};
}

Result<KernelFilter> make_kernel_filter(const TraceOptions& options, const BtfWindow* window) {
  KernelFilter f;
  if (!options.filter_netns.empty()) {
    auto inum = parse_netns(options.filter_netns);
    if (!inum) return inum.error();
    f.netns = *inum;
  }
  if (!options.filter_mark.empty()) {
    auto mark = parse_mark(options.filter_mark);
    if (!mark) return mark.error();
    f.mark = mark->first;
    f.mark_mask = mark->second;
  }
  if (!options.filter_ifname.empty()) {
    auto index = resolve_ifname(options.filter_ifname, options.filter_netns);
    if (!index) return index.error();
    f.ifindex = *index;
  }
  f.track_skb = options.track_skb;
  f.track_by_stackid = options.track_skb_by_stackid || !options.non_skb_funcs.empty();
  const PcapExpressions exprs{options.pcap_filter, options.tunnel_pcap_l2,
                              options.tunnel_pcap_l3};
  auto body = pcap_filter_program(exprs);
  if (!body) return body.error();
  f.pcap_body = std::move(body->insns);
  f.outer_pcap = body->outer;
  f.tunnel_pcap = body->tunnel;
  if (window && !f.pcap_body.empty()) {
    auto direct = pcap_filter_program(exprs, window);
    if (!direct) return direct.error();
    f.pcap_body_btf = std::move(direct->insns);
  }
  return f;
}

}  // namespace pwru
