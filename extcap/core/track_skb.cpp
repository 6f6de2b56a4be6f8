// --filter-track-skb: the programs that follow clones (bpf/track_clones.bpf.c), attached once per
// run.
#include "core/track_skb.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/libbpf_ptr.h"
#include "core/load_error.h"
#include "track_clones.skel.h"

namespace pwru {
namespace {

// The functions whose return value is a copy of their skb argument (the first).
constexpr const char* kCloneFunctions[] = {"skb_clone", "skb_copy"};

using Skel =
    std::unique_ptr<track_clones_bpf, SkelDestroy<track_clones_bpf, &track_clones_bpf__destroy>>;

class Follower final : public CloneFollower {
 public:
  explicit Follower(Skel s) : skel(std::move(s)) {}
  Skel skel;
  std::vector<Link> links;  // declared last: detached before the programs go
};

// The object with one flavour's programs loaded (fexit, else the kprobe pair), on the run's map.
Result<Skel> load(int tracked_fd, bool fexit) {
  Skel skel(track_clones_bpf__open());
  if (!skel) return load_error("the clone-following BPF object", errno);
  auto& p = skel->progs;
  bpf_program__set_autoload(p.fexit_skb_clone, fexit);
  bpf_program__set_autoload(p.fexit_skb_copy, fexit);
  bpf_program__set_autoload(p.kprobe_clone_entry, !fexit);
  bpf_program__set_autoload(p.kretprobe_clone_exit, !fexit);
  if (int err = bpf_map__reuse_fd(skel->maps.tracked, tracked_fd))
    return load_error("the tracked-skb map", err);
  if (int err = track_clones_bpf__load(skel.get()))
    return load_error(fexit ? "fexit programs" : "kprobe programs", err);
  return skel;
}

// fexit on every clone function, or the reason why not.
Result<std::unique_ptr<Follower>> attach_fexit(int tracked_fd) {
  auto skel = load(tracked_fd, true);
  if (!skel) return skel.error();
  auto f = std::make_unique<Follower>(std::move(skel.value()));
  for (auto* prog : {f->skel->progs.fexit_skb_clone, f->skel->progs.fexit_skb_copy}) {
    Link link(bpf_program__attach(prog));
    if (!link) {
      return Error{ExitCode::KernelFeature,
                   std::string("cannot attach ") + bpf_program__name(prog) + ": " +
                       std::strerror(errno),
                   ""};
    }
    f->links.push_back(std::move(link));
  }
  return f;
}

}  // namespace

std::unique_ptr<CloneFollower> follow_clones(bool track_skb, int tracked_fd, bool kernel_btf,
                                             AttachSummary& summary) {
  if (!track_skb) return nullptr;
  // fexit first: one trampoline per function, and it needs neither the kprobe PMU nor
  // CAP_SYS_ADMIN. Its attach target is found in the kernel's own BTF.
  std::string fexit_why = "fexit: the kernel's own BTF is not at hand";
  if (kernel_btf) {
    auto f = attach_fexit(tracked_fd);
    if (f) return std::move(f.value());
    fexit_why = "fexit: " + f.error().message;
  }
  auto skel = load(tracked_fd, false);
  if (!skel) {
    for (const char* fn : kCloneFunctions) {
      summary.skipped.push_back(std::string(fn) + " (following clones): " + fexit_why +
                                "; kprobe: " + skel.error().message);
    }
    return nullptr;
  }
  auto f = std::make_unique<Follower>(std::move(skel.value()));
  for (const char* fn : kCloneFunctions) {
    Link in(bpf_program__attach_kprobe(f->skel->progs.kprobe_clone_entry, false, fn));
    int err = in ? 0 : errno;
    Link out(in ? bpf_program__attach_kprobe(f->skel->progs.kretprobe_clone_exit, true, fn)
                : nullptr);
    if (in && !out) err = errno;
    if (!in || !out) {
      summary.skipped.push_back(std::string(fn) + " (following clones): " + fexit_why +
                                "; kprobe: " + std::strerror(err));
      continue;
    }
    f->links.push_back(std::move(in));
    f->links.push_back(std::move(out));
  }
  return f;
}

}  // namespace pwru
