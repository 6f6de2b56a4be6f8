// Owning pointers for the libbpf objects the backends hold: skeletons and links.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

namespace pwru {

// Owns a libbpf skeleton: unique_ptr<foo_bpf, SkelDestroy<foo_bpf, &foo_bpf__destroy>>.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkelDestroy {
  void operator()(Skel* s) const { Destroy(s); }
};

// An owned libbpf link: destroying it detaches.
struct LinkDestroy {
  void operator()(struct bpf_link* l) const { bpf_link__destroy(l); }
};
using Link = std::unique_ptr<struct bpf_link, LinkDestroy>;

}  // namespace pwru
