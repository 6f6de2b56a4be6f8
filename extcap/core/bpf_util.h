// Pieces the backends share: libbpf skeleton ownership, load errors that say what to do, loading
// a copy of a program with its own frozen per-probe settings, and running work on threads.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "pwru_event.h"

namespace pwru {

// Owns a libbpf skeleton: unique_ptr<foo_bpf, SkelDestroy<foo_bpf, &foo_bpf__destroy>>.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkelDestroy {
  void operator()(Skel* s) const { Destroy(s); }
};

// "cannot load <what>: <errno text>" with the fix: privileges for EPERM/EACCES.
Error load_error(const std::string& what, int err, const std::string& verifier_log = {});

// Before load: the per-run settings, and the ring buffer and lost counter every backend shares.
// Every backend skeleton has the same .rodata `snaplen` and maps `events` and `lost`.
template <typename Skel>
Status share_maps(Skel* skel, uint32_t snaplen, int events_fd, int lost_fd) {
  skel->rodata->snaplen = snaplen;
  if (int err = bpf_map__reuse_fd(skel->maps.events, events_fd))
    return load_error("the event ring buffer", err);
  if (int err = bpf_map__reuse_fd(skel->maps.lost, lost_fd))
    return load_error("the lost-event counter", err);
  return Ok{};
}

// A program loaded from a template's final (relocated) instructions, with the template's
// .rodata.probe map replaced by a map of its own holding `cfg`. This is how one program text
// serves many probes that cannot otherwise tell each other apart (raw tracepoints; fentry,
// whose attach target is fixed at load).
struct ProgCopy {
  UniqueFd cfg_map;
  UniqueFd prog;
};

struct CopyTarget {
  enum bpf_prog_type type;
  enum bpf_attach_type expected_attach_type = static_cast<enum bpf_attach_type>(0);
  __u32 attach_btf_id = 0;
  int attach_btf_obj_fd = 0;
};

Result<ProgCopy> load_prog_copy(struct bpf_program* tmpl, int template_cfg_fd,
                                const struct probe_cfg& cfg, const CopyTarget& target,
                                const std::string& what);

// Runs work(i) for i in [0, n) on up to `threads` threads; progress(done) is called on the
// calling thread now and then.
void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& work,
                  const std::function<void(size_t)>& progress = {});

}  // namespace pwru
