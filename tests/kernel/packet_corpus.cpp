// Builds the differential test's packets byte by byte from a seeded generator. Addresses and
// ports come from small pools that the test's expressions name, so filters match often enough.
#include "packet_corpus.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

#include "filter/test_packets.h"

namespace pwru::testing {

namespace {

using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

const std::vector<Ip4> kIp4 = {{10, 0, 0, 1},    {10, 0, 0, 2},      {10, 1, 2, 3},
                               {192, 168, 1, 10}, {192, 168, 1, 20},  {172, 16, 0, 5},
                               {8, 8, 8, 8},      {224, 0, 0, 251},   {255, 255, 255, 255},
                               {127, 0, 0, 1},    {192, 168, 2, 255}, {0, 0, 0, 0}};
const std::vector<Ip6> kIp6 = {
    {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x53},
    {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
const std::vector<Mac> kMacs = {kMacA,
                                kMacB,
                                {0x00, 0x11, 0x22, 0x33, 0x44, 0x55},
                                {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb},
                                {0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
                                {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};
const std::vector<uint16_t> kPorts = {22,   53,   80,   443,  123,  8080, 1024, 1500,
                                      4789, 5353, 6000, 6005, 6010, 0,    1,    65535};
const std::vector<uint16_t> kVlanIds = {1, 100, 200, 4094, 0};

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                  kEce = 0x40, kCwr = 0x80;

constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kDestOpts = 60;

void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  uint32_t next() { return static_cast<uint32_t>(rng_()); }
  uint32_t below(size_t n) { return next() % static_cast<uint32_t>(n); }
  bool chance(uint32_t percent) { return below(100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  Bytes bytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(next());
    return b;
  }
  // Mostly an entry of `pool` (which the expressions name), else random bytes.
  template <typename T>
  T pick_or_random(const std::vector<T>& pool, uint32_t percent) {
    if (chance(percent)) return pick(pool);
    T v;
    for (auto& x : v) x = static_cast<uint8_t>(next());
    return v;
  }
  Mac mac() { return pick_or_random(kMacs, 80); }
  Ip4 ip4() { return pick_or_random(kIp4, 85); }
  Ip6 ip6() { return pick_or_random(kIp6, 85); }
  uint16_t port() { return chance(85) ? pick(kPorts) : static_cast<uint16_t>(next()); }

 private:
  std::mt19937 rng_;
};

Bytes tcp(Gen& g, uint8_t flags) {
  Bytes b;
  put16(b, g.port());
  put16(b, g.port());
  put32(b, g.chance(20) ? 0 : g.next());  // sequence
  put32(b, g.chance(30) ? 0 : g.next());  // acknowledgment
  Bytes opts;
  if (g.chance(60)) {
    const uint32_t n = g.below(5);
    for (uint32_t i = 0; i < n; i++) {
      switch (g.below(5)) {
        case 0: opts.insert(opts.end(), {2, 4, 0x05, 0xb4}); break;  // MSS 1460
        case 1: opts.insert(opts.end(), {3, 3, 7}); break;           // window scale
        case 2: opts.insert(opts.end(), {4, 2}); break;              // SACK permitted
        case 3: opts.insert(opts.end(), {8, 10}); append(opts, g.bytes(8)); break;  // timestamps
        default: opts.push_back(1); break;                           // NOP
      }
    }
    while (opts.size() % 4) opts.push_back(0);
    if (opts.size() > 40) opts.resize(40);
  }
  const uint8_t doff = static_cast<uint8_t>(5 + opts.size() / 4);
  b.push_back(static_cast<uint8_t>(doff << 4 | (g.chance(10) ? 1 : 0)));  // + NS bit sometimes
  b.push_back(flags);
  static const std::vector<uint16_t> kWindows = {65535, 64000, 29200, 0};
  put16(b, g.chance(30) ? g.pick(kWindows) : static_cast<uint16_t>(g.next()));  // window
  put16(b, 0);                                                        // checksum
  put16(b, static_cast<uint16_t>(flags & kUrg ? g.next() : 0));
  append(b, opts);
  switch (g.below(6)) {
    case 0: { const char* get = "GET / HTTP/1.1\r\n"; b.insert(b.end(), get, get + 16); break; }
    case 1: b.insert(b.end(), {0x16, 0x03, 0x01, 0x00, 0x40}); break;  // TLS handshake
    case 2: append(b, g.bytes(g.below(60))); break;
    case 3: if (g.chance(20)) append(b, g.bytes(900 + g.below(2000))); break;  // past 1500
    default: break;
  }
  return b;
}

uint8_t tcp_flags(Gen& g) {
  static const std::vector<uint8_t> kCommon = {kSyn,
                                               kSyn | kAck,
                                               kAck,
                                               kFin | kAck,
                                               kRst,
                                               kRst | kAck,
                                               kPsh | kAck,
                                               kUrg | kAck,
                                               kSyn | kEce | kCwr,
                                               kEce | kAck,
                                               kCwr | kAck,
                                               0,
                                               kFin | kSyn | kRst | kPsh | kUrg};
  return g.chance(85) ? g.pick(kCommon) : static_cast<uint8_t>(g.next());
}

Bytes udp(Gen& g) {
  Bytes payload;
  switch (g.below(4)) {
    case 0: payload = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0}; break;  // DNS query
    case 1: payload = {0x08, 0, 0, 0, 0, 0, 0x2a, 0}; append(payload, g.bytes(14)); break;  // VXLAN
    case 2: payload = g.bytes(g.below(200)); break;
    default: break;
  }
  Bytes b;
  put16(b, g.port());
  put16(b, g.port());
  put16(b, static_cast<uint16_t>(g.chance(10) ? g.below(8) : 8 + payload.size()));
  put16(b, 0);
  append(b, payload);
  return b;
}

Bytes icmp(Gen& g) {
  static const std::vector<std::array<uint8_t, 2>> kTypes = {
      {8, 0}, {8, 0}, {0, 0}, {0, 0}, {3, 3}, {3, 1}, {11, 0}, {5, 1}, {13, 0}};
  const auto t = g.chance(85) ? g.pick(kTypes) : std::array<uint8_t, 2>{
      static_cast<uint8_t>(g.below(256)), static_cast<uint8_t>(g.below(16))};
  Bytes b = {t[0], t[1], 0, 0};
  put16(b, static_cast<uint16_t>(g.chance(50) ? 1 : g.next()));
  put16(b, static_cast<uint16_t>(g.next()));
  append(b, g.bytes(g.below(40)));
  return b;
}

Bytes icmp6(Gen& g) {
  static const std::vector<uint8_t> kTypes = {128, 129, 135, 136, 133, 134, 1, 3, 143, 130};
  Bytes b = {g.chance(90) ? g.pick(kTypes) : static_cast<uint8_t>(g.next()),
             static_cast<uint8_t>(g.below(4)), 0, 0};
  append(b, g.bytes(4 + g.below(3) * 16));
  return b;
}

Bytes l4_for(Gen& g, uint8_t proto) {
  switch (proto) {
    case 6: return tcp(g, tcp_flags(g));
    case 17: return udp(g);
    case 1: return icmp(g);
    case 58: return icmp6(g);
    case 132: {  // SCTP common header, then a chunk
      Bytes b;
      put16(b, g.port());
      put16(b, g.port());
      append(b, g.bytes(8 + 4 + g.below(20)));
      return b;
    }
    case 2: {  // IGMP query or report
      Bytes b = {g.chance(50) ? uint8_t{0x11} : uint8_t{0x16}, 100, 0, 0};
      const Ip4 group = g.ip4();
      b.insert(b.end(), group.begin(), group.end());
      return b;
    }
    default: return g.bytes(8 + g.below(40));
  }
}

struct Frag {
  bool more = false;
  uint16_t offset = 0;  // in 8-byte units
};

Bytes ipv4(Gen& g, uint8_t proto, const Bytes& payload, Frag frag = {}) {
  Bytes opts;
  if (g.chance(15)) {
    const uint32_t words = 1 + g.below(10);
    opts.push_back(7);  // record route
    opts.push_back(static_cast<uint8_t>(words * 4 - 1));
    opts.push_back(4);
    append(opts, g.bytes(words * 4 - 3));
  }
  static const std::vector<uint8_t> kTos = {0, 0, 0x10, 0xb8, 0x02};
  static const std::vector<uint8_t> kTtl = {1, 32, 63, 64, 64, 128, 255};
  Bytes b = {static_cast<uint8_t>(0x40 | (5 + opts.size() / 4)),
             g.chance(90) ? g.pick(kTos) : static_cast<uint8_t>(g.next())};
  put16(b, static_cast<uint16_t>(20 + opts.size() + payload.size()));
  put16(b, static_cast<uint16_t>(g.chance(20) ? 0x1234 : g.next()));
  const uint16_t df = !frag.more && frag.offset == 0 && g.chance(50) ? 0x4000 : 0;
  put16(b, static_cast<uint16_t>(df | (frag.more ? 0x2000 : 0) | (frag.offset & 0x1fff)));
  b.push_back(g.chance(90) ? g.pick(kTtl) : static_cast<uint8_t>(g.next()));
  b.push_back(proto);
  put16(b, 0);  // checksum: no filter reads it
  const Ip4 src = g.ip4(), dst = g.ip4();
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  append(b, opts);
  append(b, payload);
  return b;
}

// IPv6 with the extension headers `exts` in order, then `final_proto` and its header.
Bytes ipv6(Gen& g, const std::vector<uint8_t>& exts, uint8_t final_proto, const Bytes& l4) {
  Bytes chain;
  for (size_t i = 0; i < exts.size(); i++) {
    const uint8_t next = i + 1 < exts.size() ? exts[i + 1] : final_proto;
    switch (exts[i]) {
      case kFragment: {
        chain.insert(chain.end(), {next, 0});
        const uint16_t offset = g.chance(50) ? 0 : static_cast<uint16_t>(1 + g.below(200));
        put16(chain, static_cast<uint16_t>(offset << 3 | (g.chance(50) ? 1 : 0)));
        put32(chain, g.next());
        break;
      }
      case kRouting: {  // type 4 (segment routing) with one segment
        chain.insert(chain.end(), {next, 2, 4, 0, 0, 0, 0, 0});
        const Ip6 seg = g.ip6();
        chain.insert(chain.end(), seg.begin(), seg.end());
        break;
      }
      default: {  // hop-by-hop or destination options: PadN, sometimes router alert
        const uint8_t len = static_cast<uint8_t>(g.below(2));
        chain.insert(chain.end(), {next, len});
        if (g.chance(50)) {
          chain.insert(chain.end(), {5, 2, 0, 0, 1, 0});  // router alert + Pad2
        } else {
          chain.insert(chain.end(), {1, 4, 0, 0, 0, 0});
        }
        if (len) chain.insert(chain.end(), {1, 6, 0, 0, 0, 0, 0, 0});
        break;
      }
    }
  }
  const uint8_t first = exts.empty() ? final_proto : exts[0];
  Bytes b = {static_cast<uint8_t>(0x60 | (g.chance(20) ? g.below(16) : 0)),
             static_cast<uint8_t>(g.next()), static_cast<uint8_t>(g.next()),
             static_cast<uint8_t>(g.next())};
  put16(b, static_cast<uint16_t>(chain.size() + l4.size()));
  static const std::vector<uint8_t> kHops = {1, 64, 64, 255, 128};
  b.push_back(first);
  b.push_back(g.pick(kHops));
  const Ip6 src = g.ip6(), dst = g.ip6();
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  append(b, chain);
  append(b, l4);
  return b;
}

Bytes arp(Gen& g, bool reverse) {
  Bytes b = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00,
             static_cast<uint8_t>(reverse ? 3 + g.below(2) : 1 + g.below(2))};
  for (int i = 0; i < 2; i++) {
    const Mac m = g.mac();
    const Ip4 a = g.ip4();
    b.insert(b.end(), m.begin(), m.end());
    b.insert(b.end(), a.begin(), a.end());
  }
  if (g.chance(50)) b.resize(b.size() + 18, 0);  // Ethernet minimum-size padding
  return b;
}

uint16_t tci(Gen& g) {
  const uint16_t id = g.chance(85) ? g.pick(kVlanIds) : static_cast<uint16_t>(g.below(4096));
  return static_cast<uint16_t>(g.below(8) << 13 | id);
}

struct Builder {
  Gen g;
  std::vector<CorpusPacket> out;

  // Ethernet header with random addresses, drawn in a fixed order (destination first): the
  // order in which function arguments are evaluated is unspecified.
  Bytes frame(uint16_t type, const Bytes& payload) {
    const Mac dst = g.mac();
    const Mac src = g.mac();
    return frame(dst, src, type, payload);
  }

  // test_packets.h's ethernet(), written out: GCC 12 sees a false array-bounds error in it here.
  static Bytes frame(const Mac& dst, const Mac& src, uint16_t type_or_len, const Bytes& payload) {
    Bytes b;
    b.reserve(14 + payload.size());
    for (const Mac* m : {&dst, &src})
      for (uint8_t x : *m) b.push_back(x);
    put16(b, type_or_len);
    append(b, payload);
    return b;
  }

  void add(std::string kind, Bytes eth, std::optional<Bytes> l3) {
    out.push_back({std::move(kind), std::move(eth), std::move(l3)});
  }

  // An IP packet of a random kind, with its name.
  std::pair<std::string, Bytes> ip_packet() {
    if (g.chance(55)) {
      static const std::vector<uint8_t> kProtos = {6, 6, 6, 17, 17, 1, 1, 2, 47, 50, 51, 89,
                                                   103, 112, 132};
      const uint8_t proto = g.pick(kProtos);
      return {"ipv4/" + std::to_string(proto), ipv4(g, proto, l4_for(g, proto))};
    }
    std::vector<uint8_t> exts;
    if (g.chance(50)) {
      if (g.chance(50)) exts.push_back(kHopByHop);
      static const std::vector<uint8_t> kLater = {kRouting, kFragment, kDestOpts};
      for (uint32_t n = g.below(3); n > 0; n--) exts.push_back(g.pick(kLater));
    }
    static const std::vector<uint8_t> kProtos = {6, 6, 17, 17, 58, 58, 132, 59};
    const uint8_t proto = g.pick(kProtos);
    std::string kind = "ipv6";
    for (uint8_t e : exts) kind += "+" + std::to_string(e);
    return {kind + "/" + std::to_string(proto), ipv6(g, exts, proto, l4_for(g, proto))};
  }

  uint16_t ethertype_of(const Bytes& ip) { return (ip[0] >> 4) == 4 ? 0x0800 : 0x86dd; }

  void plain_ip(int n) {
    for (int i = 0; i < n; i++) {
      auto [kind, ip] = ip_packet();
      add("eth/" + kind, frame(ethertype_of(ip), ip), ip);
    }
  }

  void fragments(int n) {
    for (int i = 0; i < n; i++) {
      const uint8_t proto = g.chance(50) ? 6 : 17;
      Frag frag{g.chance(60), static_cast<uint16_t>(g.chance(40) ? 0 : 1 + g.below(8000))};
      Bytes payload = frag.offset == 0 ? l4_for(g, proto) : g.bytes(8 + g.below(64));
      Bytes ip = ipv4(g, proto, payload, frag);
      add("eth/ipv4-frag/" + std::to_string(proto), frame(0x0800, ip), ip);
    }
  }

  void arps(int n) {
    for (int i = 0; i < n; i++) {
      const bool reverse = g.chance(25);
      add(reverse ? "rarp" : "arp",
          frame(reverse ? 0x8035 : 0x0806, arp(g, reverse)), std::nullopt);
    }
  }

  // One or two 802.1Q/802.1ad tags in front of IP or ARP.
  void vlans(int n) {
    for (int i = 0; i < n; i++) {
      const int tags = g.chance(40) ? 2 : 1;
      Bytes inner;
      std::optional<Bytes> l3;
      uint16_t type = 0x0806;
      std::string kind = "vlan" + std::to_string(tags);
      if (g.chance(85)) {
        auto [k, ip] = ip_packet();
        type = ethertype_of(ip);
        inner = ip;
        l3 = ip;
        kind += "/" + k;
      } else {
        inner = arp(g, false);
        kind += "/arp";
      }
      Bytes tagged;
      for (int t = 0; t < tags; t++) {
        put16(tagged, tci(g));
        put16(tagged, t + 1 < tags ? 0x8100 : type);
      }
      append(tagged, inner);
      const uint16_t outer = tags == 2 && g.chance(50) ? 0x88a8 : 0x8100;
      add(kind, frame(outer, tagged), l3);
    }
  }

  void mpls(int n) {
    static const std::vector<uint32_t> kLabels = {16, 17, 42, 100, 1048575};
    for (int i = 0; i < n; i++) {
      auto [kind, ip] = ip_packet();
      Bytes stack;
      const int labels = 1 + static_cast<int>(g.below(2));
      for (int l = 0; l < labels; l++) {
        const uint32_t label = g.chance(80) ? g.pick(kLabels) : g.below(1 << 20);
        put32(stack, label << 12 | (l + 1 == labels ? 0x100 : 0) | 64);
      }
      append(stack, ip);
      add("mpls" + std::to_string(labels) + "/" + kind, frame(0x8847, stack),
          ip);
    }
  }

  void pppoe(int n) {
    for (int i = 0; i < n; i++) {
      if (g.chance(25)) {  // discovery: PADI
        Bytes d = {0x11, 0x09, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00};
        add("pppoed", frame(0x8863, d), std::nullopt);
        continue;
      }
      auto [kind, ip] = ip_packet();
      Bytes s = {0x11, 0x00};
      put16(s, static_cast<uint16_t>(g.chance(50) ? 7 : g.next()));
      put16(s, static_cast<uint16_t>(ip.size() + 2));
      put16(s, ethertype_of(ip) == 0x0800 ? 0x0021 : 0x0057);
      append(s, ip);
      add("pppoes/" + kind, frame(0x8864, s), ip);
    }
  }

  // 802.3 frames: a length instead of an ethertype, then LLC (STP, IPX, SNAP, NetBEUI, OSI).
  void llc(int n) {
    static const std::vector<Bytes> kHeads = {
        {0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00},                    // STP BPDU
        {0xff, 0xff, 0x00, 0x30},                                      // raw 802.3 IPX
        {0xe0, 0xe0, 0x03, 0xff, 0xff},                                // IPX over LLC
        {0xaa, 0xaa, 0x03, 0x08, 0x00, 0x07, 0x80, 0x9b},              // SNAP AppleTalk
        {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x80, 0xf3},              // SNAP AARP
        {0xf0, 0xf0, 0x03},                                            // NetBEUI
        {0xfe, 0xfe, 0x03, 0x81},                                      // OSI CLNP
        {0xfe, 0xfe, 0x03, 0x83},                                      // OSI IS-IS
        {0xfe, 0xfe, 0x03, 0x82},                                      // OSI ES-IS
        {0x42, 0x42, 0x01}};                                           // LLC I-frame-ish
    for (int i = 0; i < n; i++) {
      Bytes payload = g.pick(kHeads);
      append(payload, g.bytes(g.below(40)));
      const Mac dst = g.mac(), src = g.mac();
      add("802.3-llc", frame(dst, src, static_cast<uint16_t>(payload.size()), payload),
          std::nullopt);
    }
  }

  void other_ethertypes(int n) {
    static const std::vector<uint16_t> kTypes = {0x8137, 0x809b, 0x80f3, 0x6003, 0x6004, 0x6002,
                                                 0x6001, 0x6007, 0x88cc, 0x8035, 0x88e5, 0x0842};
    for (int i = 0; i < n; i++) {
      const uint16_t type = g.chance(80) ? g.pick(kTypes) : static_cast<uint16_t>(g.next());
      add("ethertype", frame(type, g.bytes(g.below(80))), std::nullopt);
    }
  }

  void random(int n) {
    static const std::vector<uint16_t> kTypes = {0x0800, 0x86dd, 0x8100, 0x0806, 0x8847, 0x8864};
    for (int i = 0; i < n; i++) {
      Bytes l3 = g.bytes(g.below(120));
      if (!l3.empty() && g.chance(50)) {  // an IP version nibble, so the IP checks pass
        const uint8_t version = g.chance(50) ? 0x40 : 0x60;
        l3[0] = static_cast<uint8_t>(version | (l3[0] & 0x0f));
      }
      Bytes eth;
      if (g.chance(50)) {
        const uint16_t type = g.pick(kTypes);
        eth = frame(type, g.bytes(g.below(120)));
      } else {
        eth = g.bytes(g.below(200));
      }
      add("random", eth, l3);
    }
  }

  // Combinations the expressions name that random draws seldom make: IPv4 packets whose
  // transport header gets `l4` patched in (offset, bytes), to `dst`, inside VLAN `vlan`.
  void classics(int copies) {
    struct Classic {
      const char* name;
      uint8_t proto;
      std::vector<std::pair<size_t, Bytes>> l4;
      std::optional<Ip4> dst;
      uint16_t vlan = 0;
    };
    const std::vector<Classic> kClassics = {
        {"syn to 80", 6, {{2, {0, 80}}, {13, {kSyn}}}, {}},
        {"syn from 22", 6, {{0, {0, 22}}, {13, {kSyn}}}, {}},
        {"syn-ack from 443", 6, {{0, {0x01, 0xbb}}, {13, {kSyn | kAck}}}, {}},
        {"echo request to 10.0.0.2", 1, {{0, {8, 0}}}, Ip4{10, 0, 0, 2}},
        {"echo reply", 1, {{0, {0, 0}}}, {}},
        {"vxlan", 17, {{2, {0x12, 0xb5}}, {8, {0x08}}}, {}},
        {"mdns", 17, {{2, {0x14, 0xe9}}}, Ip4{224, 0, 0, 251}},
        {"udp payload 0", 17, {{8, {0, 0}}}, {}},
        {"sctp 5000", 132, {{0, {0x13, 0x88}}}, {}},
        {"vlan 100 http", 6, {{2, {0, 80}}}, {}, 100},
        {"vlan dns", 17, {{0, {0, 53}}}, {}, 200},
        {"vlan syn", 6, {{13, {kSyn}}}, {}, 1},
    };
    for (int c = 0; c < copies; c++) {
      for (const Classic& k : kClassics) {
        Bytes l4 = l4_for(g, k.proto);
        for (const auto& [off, bytes] : k.l4) {
          if (l4.size() < off + bytes.size()) l4.resize(off + bytes.size());
          std::copy(bytes.begin(), bytes.end(), l4.begin() + static_cast<long>(off));
        }
        Bytes ip = ipv4(g, k.proto, l4);
        if (k.dst) std::copy(k.dst->begin(), k.dst->end(), ip.begin() + 16);
        if (k.vlan) {
          Bytes tagged;
          put16(tagged, k.vlan);
          put16(tagged, 0x0800);
          append(tagged, ip);
          add(std::string("classic ") + k.name, frame(0x8100, tagged), ip);
        } else {
          add(std::string("classic ") + k.name, frame(0x0800, ip), ip);
        }
      }
    }
  }

  // Every `every`-th packet so far, cut at every length up to 96 bytes and then every 7th.
  void truncations(size_t every) {
    const size_t n = out.size();
    for (size_t i = 0; i < n; i += every) {
      const CorpusPacket p = out[i];
      for (size_t len = 0; len < p.ethernet.size(); len += len < 96 ? 1 : 7) {
        std::optional<Bytes> l3;
        if (p.l3) l3 = Bytes(p.l3->begin(), p.l3->begin() + std::min(len, p.l3->size()));
        add("truncated " + p.kind + " @" + std::to_string(len),
            Bytes(p.ethernet.begin(), p.ethernet.begin() + len), l3);
      }
    }
  }
};

}  // namespace

std::vector<CorpusPacket> make_corpus(uint32_t seed) {
  Builder b{Gen(seed), {}};
  b.plain_ip(600);
  b.classics(3);
  b.fragments(50);
  b.arps(40);
  b.vlans(100);
  b.mpls(40);
  b.pppoe(25);
  b.llc(50);
  b.other_ethertypes(40);
  b.truncations(29);
  b.random(200);
  return std::move(b.out);
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); i++) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    s += buf;
    if (i + 1 < bytes.size()) s += (i % 16 == 15) ? '\n' : ' ';
  }
  return s;
}

}  // namespace pwru::testing
