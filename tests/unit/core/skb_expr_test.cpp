// skb expressions resolved through BTF: a small BTF built here (every kind of step, laid out as
// written below), and the running kernel's (the fields the e2e tests read).
#include "core/skb_expr.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>
#include <memory>

#include "ci_skip.h"
#include "pwru_event.h"

namespace pwru {
namespace {

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfFree>;

// struct net_device { char name[16]; int ifindex; };                         (20 bytes)
// typedef unsigned int u32;
// enum dir { D_IN = 0, D_OUT = 1 };
// struct sk_buff {
//   struct net_device *dev;                  0
//   union { u32 hash; const u32 alt; };       8   (anonymous)
//   unsigned char pkt_type:3, nohdr:1;        12  (bitfields at bits 96 and 99)
//   signed char delta;                        13
//   enum dir dir;                             16
//   char cb[48];                              20
//   struct { int a; int b; } pair;            68
//   _Bool ok;                                 76
//   struct sk_buff *next;                     80
// };
BtfPtr small_btf() {
  BtfPtr b(btf__new_empty());
  struct btf* btf = b.get();
  const int u8 = btf__add_int(btf, "unsigned char", 1, 0);
  const int chr = btf__add_int(btf, "char", 1, BTF_INT_CHAR | BTF_INT_SIGNED);
  const int s8 = btf__add_int(btf, "signed char", 1, BTF_INT_SIGNED);
  const int i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
  const int u32i = btf__add_int(btf, "unsigned int", 4, 0);
  const int boolean = btf__add_int(btf, "_Bool", 1, BTF_INT_BOOL);
  const int u32 = btf__add_typedef(btf, "u32", u32i);
  const int cu32 = btf__add_const(btf, u32);
  const int name16 = btf__add_array(btf, i32, chr, 16);
  const int cb48 = btf__add_array(btf, i32, chr, 48);
  const int dev = btf__add_struct(btf, "net_device", 20);
  btf__add_field(btf, "name", name16, 0, 0);
  btf__add_field(btf, "ifindex", i32, 128, 0);
  const int dev_ptr = btf__add_ptr(btf, dev);
  const int dir = btf__add_enum(btf, "dir", 4);
  btf__add_enum_value(btf, "D_IN", 0);
  btf__add_enum_value(btf, "D_OUT", 1);
  const int anon = btf__add_union(btf, nullptr, 4);
  btf__add_field(btf, "hash", u32, 0, 0);
  btf__add_field(btf, "alt", cu32, 0, 0);
  const int pair = btf__add_struct(btf, nullptr, 8);
  btf__add_field(btf, "a", i32, 0, 0);
  btf__add_field(btf, "b", i32, 32, 0);
  // The pointer to sk_buff first: a struct's fields must follow it. It takes the next id, the
  // struct the one after.
  const int skb_ptr = btf__add_ptr(btf, static_cast<int>(btf__type_cnt(btf)) + 1);
  const int skb = btf__add_struct(btf, "sk_buff", 88);
  EXPECT_EQ(skb, skb_ptr + 1);
  btf__add_field(btf, "dev", dev_ptr, 0, 0);
  btf__add_field(btf, nullptr, anon, 64, 0);
  btf__add_field(btf, "pkt_type", u8, 96, 3);
  btf__add_field(btf, "nohdr", u8, 99, 1);
  btf__add_field(btf, "delta", s8, 104, 0);
  btf__add_field(btf, "dir", dir, 128, 0);
  btf__add_field(btf, "cb", cb48, 160, 0);
  btf__add_field(btf, "pair", pair, 544, 0);
  btf__add_field(btf, "ok", boolean, 608, 0);
  btf__add_field(btf, "next", skb_ptr, 640, 0);
  return b;
}

std::string error_of(const Result<SkbExpr>& r) { return r ? "" : r.error().text(); }

TEST(SkbExpr, MembersThroughPointersAnonymousUnionsAndTypedefs) {
  auto btf = small_btf();
  auto hash = resolve_skb_expr(btf.get(), "skb->hash");
  ASSERT_TRUE(hash.ok()) << error_of(hash);
  EXPECT_TRUE(hash->deref.empty());
  EXPECT_EQ(hash->offset, 8u);
  EXPECT_EQ(hash->size, 4);
  EXPECT_EQ(hash->bit_width, 32);
  EXPECT_EQ(hash->kind, SkbExprKind::Unsigned);
  EXPECT_EQ(hash->type, "u32");

  auto alt = resolve_skb_expr(btf.get(), "skb->alt");  // const u32
  ASSERT_TRUE(alt.ok()) << error_of(alt);
  EXPECT_EQ(alt->offset, 8u);

  auto ifindex = resolve_skb_expr(btf.get(), " skb -> dev -> ifindex ");
  ASSERT_TRUE(ifindex.ok()) << error_of(ifindex);
  EXPECT_EQ(ifindex->text, "skb->dev->ifindex");
  ASSERT_EQ(ifindex->deref, std::vector<uint32_t>{0});
  EXPECT_EQ(ifindex->offset, 16u);
  EXPECT_EQ(ifindex->kind, SkbExprKind::Signed);
  EXPECT_TRUE(ifindex->is_signed);

  auto chain = resolve_skb_expr(btf.get(), "skb->next->next->dev->ifindex");
  ASSERT_TRUE(chain.ok()) << error_of(chain);
  EXPECT_EQ(chain->deref, (std::vector<uint32_t>{80, 80, 0}));
  EXPECT_EQ(chain->offset, 16u);

  auto b = resolve_skb_expr(btf.get(), "skb->pair.b");
  ASSERT_TRUE(b.ok()) << error_of(b);
  EXPECT_EQ(b->offset, 72u);

  auto ptr = resolve_skb_expr(btf.get(), "skb->dev");
  ASSERT_TRUE(ptr.ok()) << error_of(ptr);
  EXPECT_EQ(ptr->kind, SkbExprKind::Pointer);
  EXPECT_EQ(ptr->size, 8);
  EXPECT_EQ(ptr->type, "struct net_device *");
}

TEST(SkbExpr, BitfieldsArraysEnumsStrings) {
  auto btf = small_btf();
  auto nohdr = resolve_skb_expr(btf.get(), "skb->nohdr");
  ASSERT_TRUE(nohdr.ok()) << error_of(nohdr);
  EXPECT_EQ(nohdr->offset, 12u);
  EXPECT_EQ(nohdr->bit_shift, 3);
  EXPECT_EQ(nohdr->bit_width, 1);
  EXPECT_EQ(nohdr->size, 1);

  auto cb = resolve_skb_expr(btf.get(), "skb->cb[5]");
  ASSERT_TRUE(cb.ok()) << error_of(cb);
  EXPECT_EQ(cb->offset, 25u);
  EXPECT_EQ(cb->size, 1);
  EXPECT_EQ(cb->kind, SkbExprKind::Signed);

  auto past = resolve_skb_expr(btf.get(), "skb->cb[48]");
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().text().find("past its end"), std::string::npos) << past.error().text();

  auto dir = resolve_skb_expr(btf.get(), "skb->dir");
  ASSERT_TRUE(dir.ok()) << error_of(dir);
  EXPECT_EQ(dir->kind, SkbExprKind::Enum);
  uint8_t raw[PWRU_META_BYTES] = {1};
  EXPECT_EQ(format_skb_expr_value(*dir, raw), "D_OUT");
  raw[0] = 7;
  EXPECT_EQ(format_skb_expr_value(*dir, raw), "7");

  auto name = resolve_skb_expr(btf.get(), "skb->dev->name");
  ASSERT_TRUE(name.ok()) << error_of(name);
  EXPECT_EQ(name->kind, SkbExprKind::String);
  EXPECT_EQ(name->size, 16);
  uint8_t text[PWRU_META_BYTES] = {};
  std::memcpy(text, "veth0", 5);
  EXPECT_EQ(format_skb_expr_value(*name, text), "veth0");

  auto ok = resolve_skb_expr(btf.get(), "skb->ok");
  ASSERT_TRUE(ok.ok()) << error_of(ok);
  uint8_t one[PWRU_META_BYTES] = {1};
  EXPECT_EQ(format_skb_expr_value(*ok, one), "true");

  auto delta = resolve_skb_expr(btf.get(), "skb->delta");
  ASSERT_TRUE(delta.ok()) << error_of(delta);
  uint8_t minus[PWRU_META_BYTES];
  std::memset(minus, 0xff, 8);  // the BPF side sign-extends
  EXPECT_EQ(format_skb_expr_value(*delta, minus), "-1");
}

TEST(SkbExpr, ErrorsNameTheFieldAndTheClosestMembers) {
  auto btf = small_btf();
  auto typo = resolve_skb_expr(btf.get(), "skb->hsah");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().code, ExitCode::Usage);
  EXPECT_NE(typo.error().message.find("struct sk_buff has no member hsah"), std::string::npos)
      << typo.error().text();
  EXPECT_NE(typo.error().hint.find("hash"), std::string::npos) << typo.error().text();

  auto deep = resolve_skb_expr(btf.get(), "skb->dev->ifindx");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("struct net_device has no member ifindx"), std::string::npos);
  EXPECT_NE(deep.error().hint.find("ifindex"), std::string::npos);

  EXPECT_NE(error_of(resolve_skb_expr(btf.get(), "sk->len")).find("must start with skb"),
            std::string::npos);
  EXPECT_NE(
      error_of(resolve_skb_expr(btf.get(), "skb->pair")).find("pick one of its members: a, b"),
      std::string::npos);
  EXPECT_NE(error_of(resolve_skb_expr(btf.get(), "skb->hash->x")).find("not a pointer"),
            std::string::npos);
  EXPECT_NE(error_of(resolve_skb_expr(btf.get(), "skb.hash")).find("write skb->hash"),
            std::string::npos);
  EXPECT_NE(error_of(resolve_skb_expr(btf.get(), "skb->hash + 1")).find("unexpected character"),
            std::string::npos);
  EXPECT_NE(error_of(resolve_skb_expr(btf.get(), "skb")).find("pick a field"), std::string::npos);
}

TEST(SkbExpr, Filters) {
  auto btf = small_btf();
  auto f = parse_skb_filter(btf.get(), "skb->dev->ifindex == 11");
  ASSERT_TRUE(f.ok()) << f.error().text();
  EXPECT_EQ(f->op, SkbExprOp::Eq);
  EXPECT_EQ(f->value, 11u);
  EXPECT_EQ(f->mask, ~0ull);
  EXPECT_EQ(f->field.deref, std::vector<uint32_t>{0});

  auto masked = parse_skb_filter(btf.get(), "(skb->hash & 0xff) >= 0x10");
  ASSERT_TRUE(masked.ok()) << masked.error().text();
  EXPECT_EQ(masked->op, SkbExprOp::Ge);
  EXPECT_EQ(masked->mask, 0xffu);
  EXPECT_EQ(masked->value, 0x10u);

  auto lt = parse_skb_filter(btf.get(), "skb->delta<-1");
  ASSERT_TRUE(lt.ok()) << lt.error().text();
  EXPECT_EQ(lt->op, SkbExprOp::Lt);
  EXPECT_EQ(static_cast<int64_t>(lt->value), -1);

  EXPECT_FALSE(parse_skb_filter(btf.get(), "skb->hash").ok());
  EXPECT_FALSE(parse_skb_filter(btf.get(), "skb->hash == x").ok());
  EXPECT_FALSE(parse_skb_filter(btf.get(), "skb->hash == -1").ok());  // unsigned
  EXPECT_FALSE(parse_skb_filter(btf.get(), "skb->dev->name == 1").ok());
  auto typo = parse_skb_filter(btf.get(), "skb->lne > 1000");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("--filter-skb-expr"), std::string::npos);
}

TEST(SkbExpr, ClosestNames) {
  const std::vector<std::string> names{"hash", "l4_hash", "sw_hash", "len", "data_len", "mark"};
  auto near = closest_names("hsah", names);
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near.front(), "hash");
  EXPECT_TRUE(closest_names("zzzzzzzz", names).empty());
}

// The running kernel's sk_buff: the fields the e2e tests and the docs use resolve.
TEST(SkbExpr, RunningKernel) {
  BtfPtr btf(btf__load_vmlinux_btf());
  if (!btf) PWRU_SKIP_OR_FAIL("no kernel BTF at /sys/kernel/btf/vmlinux");
  for (const char* e : {"skb->hash", "skb->len", "skb->mark", "skb->queue_mapping",
                        "skb->dev->ifindex", "skb->dev->name", "skb->sk->__sk_common.skc_family",
                        "skb->pkt_type", "skb->cb[0]", "skb->dev->nd_net.net->ns.inum"}) {
    auto r = resolve_skb_expr(btf.get(), e);
    EXPECT_TRUE(r.ok()) << e << ": " << error_of(r);
  }
  auto pkt_type = resolve_skb_expr(btf.get(), "skb->pkt_type");
  ASSERT_TRUE(pkt_type.ok());
  EXPECT_EQ(pkt_type->bit_width, 3);  // a bitfield since 2.6
  auto len = resolve_skb_expr(btf.get(), "skb->len");
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(len->size, 4);
  EXPECT_TRUE(len->deref.empty());
  auto typo = resolve_skb_expr(btf.get(), "skb->dev->ifidx");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().hint.find("ifindex"), std::string::npos) << typo.error().text();
}

}  // namespace
}  // namespace pwru
