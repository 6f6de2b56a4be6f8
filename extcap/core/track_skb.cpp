// Following clones, for --filter-track-skb.
#include "core/track_skb.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace pwru {

std::vector<Link> attach_clone_kprobes(struct bpf_program* entry, struct bpf_program* exit,
                                       AttachSummary& summary) {
  std::vector<Link> links;
  for (const char* fn : kCloneFunctions) {
    Link in(bpf_program__attach_kprobe(entry, false, fn));
    int err = in ? 0 : errno;
    Link out(in ? bpf_program__attach_kprobe(exit, true, fn) : nullptr);
    if (in && !out) err = errno;
    if (!in || !out) {
      summary.skipped.push_back(std::string(fn) + " (following clones): " + std::strerror(err));
      continue;
    }
    links.push_back(std::move(in));
    links.push_back(std::move(out));
  }
  return links;
}

}  // namespace pwru
