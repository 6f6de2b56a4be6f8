// TraceSession: per namespace, the owned trace table and the listener, made there by the
// namespace broker, which reads the rules; namespaces followed as they come and go.
#include "nf/trace_session.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "nf/broker.h"
#include "nf/listing.h"
#include "nf/netns_set.h"
#include "nf/netlink.h"
#include "nf/tie.h"
#include "nf/trace_key.h"

namespace pwru::nf {
namespace {

// The trace table's families: ip and ip6 (docs/netfilter.md says why not one inet table).
bool own_family(uint8_t family) { return family == 2 || family == 10; }

// What a namespace's rules are read through: the broker, which entered it.
class NamespaceReader {
 public:
  NamespaceReader(Broker* broker, uint32_t inode) : broker_(broker), inode_(inode) {}

  // libnftables' output for `command` (`list table ...`); nullopt if it failed.
  std::optional<std::string> list(const std::string& command) {
    auto out = broker_->list(inode_, command);
    if (!out) return std::nullopt;
    return std::move(*out);
  }

  // iptables-nft-save's (ip6tables-nft-save's for ip6) output for the table; nullopt if it fails.
  std::optional<std::string> save(uint8_t family, const std::string& table) {
    return broker_->save(inode_, family, table);
  }

 private:
  Broker* broker_;
  uint32_t inode_;
};
}  // namespace

std::string trace_table_name() { return "pwrudump_" + std::to_string(getpid()); }

struct Namespace {
  uint32_t inode = 0;
  UniqueFd owner;     // closing it makes the kernel delete the trace table
  std::optional<TraceListener> listener;
  NamespaceReader broker;  // lists its rules, runs iptables-nft-save there
  std::map<std::pair<uint8_t, std::string>, TableListing> listings;  // (family, table)
  RuleHistory history;  // the text each handle had, as the stream went
};

// What a listener read, in socket order, and when.
struct Item {
  std::variant<TraceMessage, RuleChange, std::monostate> what;  // monostate: another change
  uint64_t read_ns = 0;  // CLOCK_MONOTONIC: what it reports happened before
};

struct TraceSession::Impl {
  std::string table;
  std::vector<std::string> notes;
  std::vector<Namespace> namespaces;
  std::unique_ptr<TraceKeyReader> key_reader;  // before `tie`, which calls it
  TraceTie tie;
  uint64_t lost = 0;  // overflows of the listeners' queues (ENOBUFS)
  std::map<uint32_t, uint64_t> unreported_lost;  // by namespace, since take_lost()
  std::vector<std::string> read_errors;

  // Ours, or another pwrudump's tracing the same namespace: marking, not the user's ruleset.
  bool own(uint8_t family, const std::string& name) const {
    return own_family(family) && (name == table || name.starts_with("pwrudump_"));
  }

  // Appends what the namespace's listener holds to `items`.
  void drain(Namespace& ns, std::deque<Item>& items) {
    const uint64_t now = clock_ns(CLOCK_MONOTONIC);
    ListenerSink sink;
    sink.trace = [&](TraceMessage&& m) { items.push_back(Item{std::move(m), now}); };
    sink.rule_changed = [&](RuleChange&& c) { items.push_back(Item{std::move(c), now}); };
    sink.ruleset_changed = [&] { items.push_back(Item{std::monostate{}, now}); };
    auto complete = ns.listener->read_all(sink);
    if (!complete) {
      if (read_errors.empty()) read_errors.push_back(complete.error().message);
    } else if (*complete > 0) {
      lost += *complete;
      unreported_lost[ns.inode] += *complete;
    }
  }

  // Reads the listing of (family, name) when the history lacks the handle's text or the base
  // chain's hook. The listing is the ruleset of now, later than the trace being named: the
  // listener is read again right after it, and the handles that change in what it still holds
  // keep no text from it (RuleHistory::listed).
  const TableListing* listing(Namespace& ns, uint8_t family, const std::string& name,
                              const std::optional<uint64_t>& handle, const std::string& base,
                              std::deque<Item>& items) {
    const auto key = std::make_pair(family, name);
    auto it = ns.listings.find(key);
    const RuleHistory::Entry* known = handle ? ns.history.find(family, name, *handle) : nullptr;
    const bool fresh = it != ns.listings.end() && it->second.hooks.contains(base) &&
                       (!handle || (known != nullptr && (known->text || known->deleted)));
    if (fresh) return &it->second;
    const std::string cmd = "list table " + nf_family_name(family) + " " + name;
    const auto list = [&] { return ns.broker.list(cmd); };
    const auto text = list();
    if (!text) return it != ns.listings.end() ? &it->second : nullptr;
    it = ns.listings.insert_or_assign(key, parse_table_listing(*text)).first;
    if (maybe_iptables_table(family, name)) {
      // Both dumps list a chain in the kernel's order; use_iptables_text zips them only if they
      // agree, and only if the table did not change around the save (a rule deleted and one
      // added would keep the counts but shift the positions). Else the nft text stays.
      if (auto save = ns.broker.save(family, name); save && list() == text) {
        (void)use_iptables_text(it->second, *save);
      }
    }
    drain(ns, items);
    std::set<uint64_t> later;
    for (const Item& i : items) {
      const auto* c = std::get_if<RuleChange>(&i.what);
      if (c == nullptr || c->family != family || c->table != name) continue;
      if (!c->handle) {
        for (const auto& [h, rule] : it->second.rules) later.insert(h);
      } else {
        later.insert(*c->handle);
      }
    }
    ns.history.listed(family, name, it->second, later);
    return &it->second;
  }

  // The exact tie by trace id (trace_id.h): 5.10's needs nothing, 6.1's and later's the key,
  // where kallsyms shows it. Loaded now, while privileged.
  void tie_exactly() {
    key_reader = TraceKeyReader::open();
    TraceIds::KeyReader read;
    if (key_reader) read = [r = key_reader.get()] { return r->read(); };
    tie.tie_exactly(TraceIds(std::move(read)));
  }

  // The hook, and the text the rule has at this place in the stream, never another's.
  void name_rule(Namespace& ns, NfRule& r, const std::string& base, std::deque<Item>& items) {
    const TableListing* l = listing(ns, r.family, r.table, r.handle, base, items);
    if (l != nullptr) {
      if (auto hook = l->hooks.find(base); hook != l->hooks.end()) r.hook = hook->second;
    }
    if (r.type == NfTraceType::Policy) {
      r.rule = "policy " + nf_verdict_name(r.verdict);
      return;
    }
    if (!r.handle) return;
    const RuleHistory::Entry* e = ns.history.find(r.family, r.table, *r.handle);
    if (e == nullptr) return;
    if (e->text && e->chain == r.chain) r.rule = *e->text;
    // Traced just after its deletion (a packet still in the old ruleset generation).
    if (e->deleted) r.state = NfRuleState::Deleted;
  }

  void read(Namespace& ns) {
    std::deque<Item> items;
    drain(ns, items);
    while (!items.empty()) {
      Item item = std::move(items.front());
      items.pop_front();
      if (auto* m = std::get_if<TraceMessage>(&item.what)) {
        if (own(m->family, m->table)) continue;
        if (auto d = tie.feed(*m, item.read_ns)) {
          name_rule(ns, d->rule, d->base_chain, items);
          for (NfRule& r : d->passed) name_rule(ns, r, d->base_chain, items);
          tie.hold(std::move(*d), item.read_ns);
        }
        if (auto call = tie.ended_call()) {
          for (NfRule& r : call->rules) name_rule(ns, r, call->base_chain, items);
          tie.hold(std::move(*call), item.read_ns);
        }
      } else if (auto* c = std::get_if<RuleChange>(&item.what)) {
        if (own(c->family, c->table)) continue;
        const NfRuleState state = ns.history.changed(*c);
        tie.mark(RuleChangeMark{ns.inode, c->family, c->table, c->handle, state});
        if (!c->handle) ns.listings.erase(std::make_pair(c->family, c->table));
      } else {
        ns.listings.clear();  // chains may have come or gone: hooks are read again
      }
    }
  }

  Namespace* find(uint32_t netns) {
    for (auto& ns : namespaces) {
      if (ns.inode == netns) return &ns;
    }
    return nullptr;
  }
};

// The namespaces' lifecycle: which get tables, and when they are let go.
struct TraceSession::Lifecycle {
  // Deadlines of the scans for namespaces born or gone: every second, and soon after an event
  // from a namespace we do not know.
  static constexpr uint64_t kScanEveryNs = 1'000'000'000;
  static constexpr uint64_t kScanSoonNs = 100'000'000;

  std::unique_ptr<Broker> broker;
  NamespaceChoice which;
  std::set<uint32_t> refused;  // namespaces whose setup failed: not asked again
  // Namespaces of events that a scan did not find (a thread's own, one only a descriptor
  // holds): no scan for them again until the next periodic one.
  std::set<uint32_t> unfindable;
  uint64_t last_scan_ns = 0;
  uint32_t last_seen = 0;      // the namespace of the last event, known to be traced or refused
  size_t later_failures = 0;   // setups that failed after the start
  std::optional<Error> later_failure;
  std::optional<Error> broker_failure;

  bool follow_all() const { return which.inode == 0; }

  // Adds namespace `inode`'s tables and sockets to `impl`.
  Status add(Impl& impl, uint32_t inode, const std::string& hint) {
    auto sockets = broker->open(inode, hint);
    if (!sockets) return sockets.error();
    auto listener = TraceListener::adopt(std::move(sockets->listener), inode);
    if (!listener) return listener.error();
    Namespace ns{inode, std::move(sockets->owner), std::move(*listener),
                 NamespaceReader(broker.get(), inode), {}, {}};
    impl.namespaces.push_back(std::move(ns));
    for (auto& note : sockets->notes) {
      if (std::find(impl.notes.begin(), impl.notes.end(), note) == impl.notes.end()) {
        impl.notes.push_back(std::move(note));
      }
    }
    return Ok{};
  }

  bool known(const Impl& impl, uint32_t inode) const {
    if (refused.contains(inode) || unfindable.contains(inode)) return true;
    return std::any_of(impl.namespaces.begin(), impl.namespaces.end(),
                       [inode](const Namespace& ns) { return ns.inode == inode; });
  }

  // Lets go of the namespaces no process and no bind mount holds (our sockets would keep them,
  // and their devices, alive), and adds the tables to those born since, when following all.
  // Returns the setups that failed.
  std::vector<Error> scan(Impl& impl, uint64_t now) {
    last_scan_ns = now;
    std::vector<Error> failed;
    if (broker_failure) return failed;
    auto live = broker->scan();
    if (!live) {
      broker_failure = live.error();
      return failed;
    }
    std::erase_if(refused, [&](uint32_t inode) { return !live->contains(inode); });
    for (auto it = impl.namespaces.begin(); it != impl.namespaces.end();) {
      if (live->contains(it->inode)) {
        ++it;
        continue;
      }
      impl.read(*it);  // what it sent before it went
      broker->forget(it->inode);
      it = impl.namespaces.erase(it);  // closes its sockets: the kernel may free it now
    }
    if (!follow_all()) return failed;
    for (uint32_t inode : *live) {
      if (known(impl, inode)) continue;
      if (auto st = add(impl, inode, ""); !st) {
        refused.insert(inode);
        // One gone between the scan and the setup is no failure.
        if (st.error().code != ExitCode::NotFound) failed.push_back(st.error());
      }
    }
    if (!broker->alive() && !broker_failure) {
      broker_failure = Error{ExitCode::Failure, "cannot reach the namespace broker", ""};
    }
    last_seen = 0;
    return failed;
  }

  void scan_later(Impl& impl, uint64_t now) {
    for (auto& e : scan(impl, now)) {
      ++later_failures;
      if (!later_failure) later_failure = std::move(e);
    }
  }
};

TraceSession::TraceSession(std::unique_ptr<Impl> impl, std::unique_ptr<Lifecycle> life)
    : life_(std::move(life)), impl_(std::move(impl)) {}

TraceSession::~TraceSession() {
  // The namespaces' sockets first (the kernel deletes the tables as they close), then the broker.
  impl_.reset();
  life_.reset();
}

Result<std::unique_ptr<TraceSession>> TraceSession::open(const NamespaceChoice& which,
                                                         const MarkFilter& filter) {
  auto impl = std::make_unique<Impl>();
  impl->table = trace_table_name();
  impl->tie_exactly();
  std::vector<sock_filter> mark;
  if (!filter.expression.empty()) {
    if (filter.program.empty()) {
      impl->notes.push_back("the capture filter \"" + filter.expression + "\" has no form for "
                            "packets that start at IP: every packet is traced");
    } else if (filter.program.size() > kMaxMarkInsns) {
      impl->notes.push_back("the capture filter \"" + filter.expression + "\" takes " +
                            std::to_string(filter.program.size()) + " classic BPF instructions, "
                            "xt_bpf at most " + std::to_string(kMaxMarkInsns) +
                            ": every packet is traced");
    } else {
      mark = filter.program;
    }
  }
  // Two descriptors per namespace: a host with hundreds of namespaces needs more than the usual
  // soft limit of 1024, and the hard limit is ours to take.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  auto life = std::make_unique<Lifecycle>();
  life->which = which;
  auto broker = Broker::start(impl->table, mark);
  if (!broker) return broker.error();
  life->broker = std::move(*broker);
  // The namespace asked for, or pwrudump's own: it must work. The others may refuse us (a
  // namespace of another user namespace, no CAP_SYS_ADMIN): their drops stay unnamed.
  const uint32_t first = which.inode != 0 ? which.inode : current_netns_inode();
  if (auto st = life->add(*impl, first, which.path); !st) return st.error();
  if (life->follow_all()) {
    const auto failed = life->scan(*impl, clock_ns(CLOCK_MONOTONIC));
    if (!failed.empty()) {
      impl->notes.push_back(failed.front().message + (failed.size() > 1
                                ? " (and " + std::to_string(failed.size() - 1) +
                                      " more namespaces)"
                                : std::string()) +
                            ": drops there are not named");
    }
  }
  return std::unique_ptr<TraceSession>(new TraceSession(std::move(impl), std::move(life)));
}

TraceSession::Placement TraceSession::place(const Event& ev) {
  Placement out;
  Namespace* ns = impl_->find(ev.netns);
  if (ns == nullptr) return out;
  // Every message of a hook that came before the event is on its namespace's socket by now; the
  // other namespaces' sockets wait for the next batch (read()), not for every event.
  impl_->read(*ns);
  auto placed = impl_->tie.place(ev, clock_ns(CLOCK_MONOTONIC));
  for (NfRule& r : placed.before) out.before.push_back(passed_event(ev, std::move(r)));
  out.drop = std::move(placed.drop);
  return out;
}

void TraceSession::saw_netns(uint32_t netns) {
  if (netns == 0 || netns == life_->last_seen || !life_->follow_all()) return;
  if (life_->known(*impl_, netns)) {
    life_->last_seen = netns;
    return;
  }
  // A namespace born since the last scan: traced from when its tables are in.
  const uint64_t now = clock_ns(CLOCK_MONOTONIC);
  if (now - life_->last_scan_ns < Lifecycle::kScanSoonNs) return;
  life_->scan_later(*impl_, now);
  if (!life_->known(*impl_, netns)) life_->unfindable.insert(netns);
}

std::vector<Event> TraceSession::expired(bool all) {
  std::vector<Event> out;
  for (Following& f : impl_->tie.expired(clock_ns(CLOCK_MONOTONIC), all)) {
    for (NfRule& r : f.rules) out.push_back(passed_event(f.event, std::move(r)));
  }
  return out;
}

uint64_t TraceSession::untied() const { return impl_->tie.untied(); }

const std::vector<std::string>& TraceSession::notes() const { return impl_->notes; }

void TraceSession::read() {
  for (auto& ns : impl_->namespaces) impl_->read(ns);
  const uint64_t now = clock_ns(CLOCK_MONOTONIC);
  if (now - life_->last_scan_ns >= Lifecycle::kScanEveryNs) {
    life_->unfindable.clear();
    life_->scan_later(*impl_, now);
  }
}

Broker& TraceSession::broker() { return *life_->broker; }

std::vector<std::pair<uint32_t, uint64_t>> TraceSession::take_lost() {
  std::vector<std::pair<uint32_t, uint64_t>> out(impl_->unreported_lost.begin(),
                                                 impl_->unreported_lost.end());
  impl_->unreported_lost.clear();
  return out;
}

std::vector<Error> TraceSession::remove_tables() {
  std::vector<Error> out;
  for (auto& ns : impl_->namespaces) {
    if (auto st = life_->broker->remove(ns.inode); !st) out.push_back(st.error());
  }
  return out;
}

std::vector<std::string> TraceSession::problems() const {
  std::vector<std::string> out = impl_->read_errors;
  if (impl_->lost > 0) {
    out.push_back("the kernel dropped netfilter trace messages " + std::to_string(impl_->lost) +
                  " times (a listener fell behind): some drops are not named");
  }
  if (life_->later_failure) {
    out.push_back(life_->later_failure->message +
                  (life_->later_failures > 1
                       ? " (and " + std::to_string(life_->later_failures - 1) + " more namespaces)"
                       : std::string()) +
                  ": drops there are not named");
  }
  if (life_->broker_failure) {
    out.push_back(life_->broker_failure->message + ": namespaces born or gone since were not "
                  "followed, and rules read since are not named");
  }
  return out;
}

}  // namespace pwru::nf
