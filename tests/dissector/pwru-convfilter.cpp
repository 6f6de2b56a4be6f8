// Prints, for every frame of a capture, the display filter that the "pwru skb" conversation
// filter builds (Analyze > Conversation Filter > pwru skb) and the one View > Colorize
// Conversation would use (conversation_filter_from_packet). tshark has no way to call these, so
// this is a tiny tshark: it reads the capture with wiretap and dissects each frame with epan, the
// pwru dissector compiled in (registered as the plugin glue does, so no plugin folder is needed).
//
// usage: pwru-convfilter CAPTURE.pcapng
// output: one line per frame, "FRAME<TAB>PWRU_SKB_FILTER<TAB>COLORIZE_FILTER", "-" for none.
#include <cstdio>
#include <string>
#include <vector>

#include <wireshark.h>
#include <cfile.h>
#include <epan/conversation_filter.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/frame_data.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <wiretap/wtap.h>
#include <wsutil/buffer.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>

#include "packet-pwru.h"
#include "pwru-compat.h"

namespace {

// Every frame read so far: they live until the end, since the dissector keeps each event's
// journey with its frame, and the session asks for their times.
std::vector<frame_data*> frames;

const nstime_t* frame_ts(struct packet_provider_data*, guint32 frame_num) {
  if (frame_num == 0 || frame_num > frames.size()) return nullptr;
  return &frames[frame_num - 1]->abs_ts;
}

// The interface name as tshark's provider reports it (file_packet_provider.c): the pwru
// dissector checks it against wiretap's own string before it reads the capture's statistics.
const char* interface_name(struct packet_provider_data* prov, guint index) {
  wtapng_iface_descriptions_t* idb_info = wtap_file_get_idb_info(prov->wth);
  wtap_block_t idb = nullptr;
  char* name = nullptr;
  if (index < idb_info->interface_data->len)
    idb = g_array_index(idb_info->interface_data, wtap_block_t, index);
  g_free(idb_info);
  if (idb != nullptr &&
      wtap_block_get_string_option_value(idb, OPT_IDB_NAME, &name) == WTAP_OPTTYPE_SUCCESS)
    return name;
  return "unknown";
}

const conversation_filter_t* find_filter(const char* display_name) {
  for (GList* l = packet_conv_filter_list; l != nullptr; l = l->next) {
    const auto* f = static_cast<const conversation_filter_t*>(l->data);
    if (g_strcmp0(f->display_name, display_name) == 0) return f;
  }
  return nullptr;
}

// The filter text, "-" when the filter does not apply to this frame.
std::string filter_text(gchar* filter) {
  std::string text = filter != nullptr ? filter : "-";
  g_free(filter);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pwru-convfilter CAPTURE.pcapng\n");
    return 2;
  }
  pwru_log_init("pwru-convfilter");
  init_process_policies();
  relinquish_special_privs_perm();
  if (char* err = pwru_configuration_init(argv[0]); err != nullptr) {
    std::fprintf(stderr, "pwru-convfilter: cannot find its own folder: %s\n", err);
    g_free(err);
    return 1;
  }
  static proto_plugin plug;
  plug.register_protoinfo = proto_register_pwru;
  plug.register_handoff = proto_reg_handoff_pwru;
  proto_register_plugin(&plug);
  wtap_init(FALSE);
  // No plugin folders: an installed pwru.so would register the protocol a second time.
  if (!epan_init(nullptr, nullptr, FALSE)) {
    std::fprintf(stderr, "pwru-convfilter: cannot initialize epan\n");
    return 1;
  }
  epan_load_settings();
  prefs_apply_all();

  const conversation_filter_t* pwru_skb = find_filter("pwru skb");
  if (pwru_skb == nullptr || g_strcmp0(pwru_skb->proto_name, "pwru") != 0) {
    std::fprintf(stderr, "pwru-convfilter: no conversation filter \"pwru skb\" for protocol pwru\n");
    return 1;
  }

  int err = 0;
  gchar* err_info = nullptr;
  struct packet_provider_data prov = {};
  prov.wth = wtap_open_offline(argv[1], WTAP_TYPE_AUTO, &err, &err_info, FALSE);
  if (prov.wth == nullptr) {
    std::fprintf(stderr, "pwru-convfilter: cannot open %s: %s\n", argv[1],
                 err_info != nullptr ? err_info : g_strerror(err));
    return 1;
  }
  static const struct packet_provider_funcs funcs =
      pwru_packet_provider_funcs<frame_ts, interface_name>();
  epan_t* session = epan_new(&prov, &funcs);
  epan_dissect_t* edt = epan_dissect_new(session, TRUE, FALSE);

  wtap_rec rec;
  Buffer buf;
  pwru_rec_init(&rec, &buf);
  gint64 offset = 0;
  guint32 cum_bytes = 0;
  nstime_t elapsed = NSTIME_INIT_ZERO;
  const frame_data* ref = nullptr;
  frame_data* prev_dis = nullptr;
  while (pwru_wtap_read(prov.wth, &rec, &buf, &err, &err_info, &offset)) {
    auto* fd = g_new0(frame_data, 1);
    frame_data_init(fd, static_cast<guint32>(frames.size() + 1), &rec, offset, cum_bytes);
    frames.push_back(fd);
    frame_data_set_before_dissect(fd, &elapsed, &ref, prev_dis);
    pwru_dissect_record(edt, wtap_file_type_subtype(prov.wth), &rec, &buf, fd);
    frame_data_set_after_dissect(fd, &cum_bytes);
    prev_dis = fd;

    packet_info* pinfo = &edt->pi;
    const std::string own =
        filter_text(pwru_conversation_filter_build(pwru_skb, pinfo));
    const std::string colorize = filter_text(conversation_filter_from_packet(pinfo));
    std::printf("%u\t%s\t%s\n", fd->num, own.c_str(), colorize.c_str());
    epan_dissect_reset(edt);
    wtap_rec_reset(&rec);
  }
  if (err != 0) {
    std::fprintf(stderr, "pwru-convfilter: cannot read %s: %s\n", argv[1],
                 err_info != nullptr ? err_info : g_strerror(err));
    return 1;
  }

  epan_dissect_free(edt);
  epan_free(session);
  for (frame_data* fd : frames) {
    frame_data_destroy(fd);
    g_free(fd);
  }
  pwru_rec_cleanup(&rec, &buf);
  wtap_close(prov.wth);
  epan_cleanup();
  wtap_cleanup();
  return 0;
}
