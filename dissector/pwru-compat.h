// What differs between the Wireshark versions the plugin is built against (4.0, 4.4, 4.6), in one
// place: the parts use these names, never Wireshark's version numbers. Tested: 4.0 (Debian 12),
// 4.4 (Debian 13), 4.6 (Debian sid). Versions in between are not tested; each difference below
// says where it is known to lie.
#pragma once

#include <wireshark.h>
#include <cfile.h>
#include <epan/address.h>
#include <epan/conversation_filter.h>
#include <epan/dfilter/dfilter.h>
#include <epan/epan.h>
#include <epan/prefs.h>
#include <epan/tap.h>
#include <epan/tvbuff.h>
#include <wiretap/wtap.h>
#include <wsutil/buffer.h>
#include <wsutil/filesystem.h>
#include <wsutil/wslog.h>

#if __has_include(<wsutil/plugins.h>)
#include <wsutil/plugins.h>
#endif

#define PWRU_WIRESHARK_AT_LEAST(major, minor)                                                   \
    (WIRESHARK_VERSION_MAJOR > (major) ||                                                       \
     (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

// --- plugin glue (plugin.cpp) ---
// Wireshark with plugin descriptions (4.2 and later; `tshark -G plugins` shows them) asks the
// plugin what it registers: PWRU_PLUGIN_DESCRIBE(flags) defines plugin_describe() there, and is
// nothing where Wireshark has no such flags (4.0).
#ifdef WS_PLUGIN_DESC_DISSECTOR
#define PWRU_PLUGIN_DESC_DISSECTOR WS_PLUGIN_DESC_DISSECTOR
#define PWRU_PLUGIN_DESC_TAP_LISTENER WS_PLUGIN_DESC_TAP_LISTENER
#define PWRU_PLUGIN_DESCRIBE(flags)                                                             \
    extern "C" {                                                                                \
    WS_DLL_PUBLIC uint32_t plugin_describe(void);                                               \
    }                                                                                           \
    uint32_t plugin_describe(void) { return (flags); }
#else
#define PWRU_PLUGIN_DESC_DISSECTOR 0
#define PWRU_PLUGIN_DESC_TAP_LISTENER 0
#define PWRU_PLUGIN_DESCRIBE(flags)
#endif

// --- renamed and retyped calls ---
// tvb_get_guint8 is deprecated from 4.4 on (tvb_get_uint8); 4.0 has only the old name.
static inline guint8
pwru_tvb_get_u8(tvbuff_t *tvb, const gint offset)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    return tvb_get_uint8(tvb, offset);
#else
    return tvb_get_guint8(tvb, offset);
#endif
}

// A boolean preference's variable: gboolean in 4.0, bool in 4.4 and later. Read from
// prefs_register_bool_preference's own last parameter, so it is right for any version.
template <typename R, typename M, typename N, typename T, typename D, typename V>
V pwru_pref_bool_of(R (*)(M, N, T, D, V *));
using pwru_pref_bool = decltype(pwru_pref_bool_of(&prefs_register_bool_preference));

// The name the session reports for a record's interface. From 4.4 on an interface id counts
// within its pcapng section, and the session takes the section too.
static inline const char *
pwru_session_interface_name(const epan_t *session, const wtap_rec *rec)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    return epan_get_interface_name(session, rec->rec_header.packet_header.interface_id,
                                   rec->section_number);
#else
    return epan_get_interface_name(session, rec->rec_header.packet_header.interface_id);
#endif
}

// The index of a record's interface in the file's interface descriptions
// (wtap_file_get_idb_info): from 4.4 on, the section's id mapped to the file's. 4.0 has no such
// mapping: the record's id is used as it is, which is right for the one-section files pwrudump
// writes.
static inline guint
pwru_file_interface_index(wtap *wth, const wtap_rec *rec)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    return wtap_file_get_shb_global_interface_id(wth, rec->section_number,
                                                 rec->rec_header.packet_header.interface_id);
#else
    (void)wth;
    return rec->rec_header.packet_header.interface_id;
#endif
}

// --- conversation filters ---
// The callbacks return gboolean in 4.0; from 4.4 on they return bool and take the user data
// given at registration. The dissector writes them once, as Valid and Build below.
template <gboolean (*Valid)(packet_info *), gchar *(*Build)(packet_info *)>
static inline void
pwru_register_conversation_filter(const char *proto_name, const char *display_name)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    register_conversation_filter(
        proto_name, display_name,
        [](packet_info *pinfo, void *) -> bool { return Valid(pinfo); },
        [](packet_info *pinfo, void *) -> char * { return Build(pinfo); }, NULL);
#else
    register_conversation_filter(proto_name, display_name, Valid, Build);
#endif
}

// Calls a registered conversation filter (tests/dissector/pwru-convfilter.cpp): NULL when it does
// not apply to the packet.
static inline gchar *
pwru_conversation_filter_build(const conversation_filter_t *filter, packet_info *pinfo)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    return filter->is_filter_valid(pinfo, filter->user_data)
               ? filter->build_filter_string(pinfo, filter->user_data)
               : NULL;
#else
    return filter->is_filter_valid(pinfo) ? filter->build_filter_string(pinfo) : NULL;
#endif
}

// --- a program that reads captures with wiretap and dissects them with epan itself, as
//     tests/dissector/pwru-convfilter.cpp does ---
// 4.6 dropped the program name from ws_log_init and the namespace from configuration_init.
static inline void
pwru_log_init(const char *progname)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    (void)progname;
    ws_log_init(NULL);
#else
    ws_log_init(progname, NULL);
#endif
}

static inline char *
pwru_configuration_init(const char *arg0)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    return configuration_init(arg0);
#else
    return configuration_init(arg0, NULL);
#endif
}

// The session's callbacks: FrameTs, and Name given the interface's index in the file's
// interface descriptions (the provider maps a section's id to it from 4.4 on).
template <const nstime_t *(*FrameTs)(struct packet_provider_data *, guint32),
          const char *(*Name)(struct packet_provider_data *, guint)>
static inline struct packet_provider_funcs
pwru_packet_provider_funcs(void)
{
    struct packet_provider_funcs funcs {};
    funcs.get_frame_ts = FrameTs;
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
    funcs.get_interface_name = [](struct packet_provider_data *prov, uint32_t interface_id,
                                  unsigned section_number) -> const char * {
        return Name(prov, wtap_file_get_shb_global_interface_id(prov->wth, section_number,
                                                                interface_id));
    };
#else
    funcs.get_interface_name = Name;
#endif
    return funcs;
}

// From 4.6 on a record holds its own bytes: `buf` is used only before.
static inline void
pwru_rec_init(wtap_rec *rec, Buffer *buf)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    (void)buf;
    wtap_rec_init(rec, 1514);
#else
    wtap_rec_init(rec);
    ws_buffer_init(buf, 1514);
#endif
}

static inline gboolean
pwru_wtap_read(wtap *wth, wtap_rec *rec, Buffer *buf, int *err, gchar **err_info,
               gint64 *offset)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    (void)buf;
    return wtap_read(wth, rec, err, err_info, offset);
#else
    return wtap_read(wth, rec, buf, err, err_info, offset);
#endif
}

// Puts bytes into a record made by the program itself (tests/fuzz's record_fuzzer), where
// pwru_dissect_record reads them.
static inline void
pwru_rec_set_bytes(wtap_rec *rec, Buffer *buf, guint8 *bytes, gsize len)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    (void)buf;
    ws_buffer_clean(&rec->data);
    ws_buffer_append(&rec->data, bytes, len);
#else
    (void)rec;
    ws_buffer_clean(buf);
    ws_buffer_append(buf, bytes, len);
#endif
}

// Dissects the record just read (pwru_wtap_read) or set (pwru_rec_set_bytes) as frame `fd`;
// with_taps also gives it to the tap listeners, as tshark does.
static inline void
pwru_dissect_record(epan_dissect_t *edt, int file_type_subtype, wtap_rec *rec, Buffer *buf,
                    frame_data *fd, bool with_taps = false)
{
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    (void)buf;
    if (with_taps)
        epan_dissect_run_with_taps(edt, file_type_subtype, rec, fd, NULL);
    else
        epan_dissect_run(edt, file_type_subtype, rec, fd, NULL);
#else
    tvbuff_t *tvb = tvb_new_real_data(ws_buffer_start_ptr(buf), fd->cap_len, fd->pkt_len);
    if (with_taps)
        epan_dissect_run_with_taps(edt, file_type_subtype, rec, tvb, fd, NULL);
    else
        epan_dissect_run(edt, file_type_subtype, rec, tvb, fd, NULL);
#endif
}

static inline void
pwru_rec_cleanup(wtap_rec *rec, Buffer *buf)
{
#if !PWRU_WIRESHARK_AT_LEAST(4, 6)
    ws_buffer_free(buf);
#else
    (void)buf;
#endif
    wtap_rec_cleanup(rec);
}

// Compiles a display filter; on error *err_msg is the message (g_free it). The error is a
// df_error_t where Wireshark defines its codes (4.4, 4.6), a string before (4.0).
static inline bool
pwru_dfilter_compile(const char *text, dfilter_t **dfp, gchar **err_msg)
{
#ifdef DF_ERROR_GENERIC
    df_error_t *err = NULL;
    if (dfilter_compile(text, dfp, &err))
        return true;
    *err_msg = g_strdup(err != NULL ? err->msg : "unknown error");
    df_error_free(&err);
    return false;
#else
    return dfilter_compile(text, dfp, err_msg);
#endif
}

// --- the flow graph (pwru-flow.cpp) ---
// epan/sequence_analysis.h is not among the headers Wireshark installs (4.0, 4.4, 4.6), though
// libwireshark exports its functions: the part pwru-flow.cpp uses is declared here. Its items
// are allocated by the plugin and freed by Wireshark (g_free), so their layout must be
// Wireshark's: gboolean flags in 4.0, bool from 4.4 on (checked in the 4.0.17, 4.4.19 and 4.6.9
// sources and in each libwireshark's code that reads `display`, `src_node` and frees the item);
// 4.6 added the info_ptr free callback. Other versions get no flow graph.
#if !PWRU_WIRESHARK_AT_LEAST(4, 7)
#define PWRU_HAS_FLOW_GRAPH 1
#if PWRU_WIRESHARK_AT_LEAST(4, 4)
typedef bool pwru_seq_flag;
#else
typedef gboolean pwru_seq_flag;
#endif
extern "C" {
typedef struct _seq_analysis_item {
    guint32 frame_number;
    address src_addr;
    guint16 port_src;
    address dst_addr;
    guint16 port_dst;
    gchar *frame_label;  // g_malloc'ed, like every pointer here: Wireshark g_frees them
    gchar *time_str;
    gchar *comment;
    guint16 conv_num;
    unsigned fg_color;
    unsigned bg_color;
    pwru_seq_flag has_color_filter;
    pwru_seq_flag display;
    guint src_node;
    guint dst_node;
    guint16 line_style;
    guint32 info_type;
    gpointer info_ptr;
#if PWRU_WIRESHARK_AT_LEAST(4, 6)
    void (*free_info_ptr)(void *);
#endif
} seq_analysis_item_t;

// Only the members before `items` are read; the struct is always Wireshark's.
typedef struct _seq_analysis_info {
    const char *name;
    pwru_seq_flag any_addr;
    int nconv;
    GQueue *items;
} seq_analysis_info_t;

WS_DLL_PUBLIC void register_seq_analysis(const char *name, const char *ui_name,
                                         const int proto_id, const char *tap_listener,
                                         guint tap_flags, tap_packet_cb tap_func);
WS_DLL_PUBLIC void sequence_analysis_use_color_filter(packet_info *pinfo,
                                                      seq_analysis_item_t *sai);
}
static_assert(offsetof(seq_analysis_item_t, frame_label) == 0x48 &&
              offsetof(seq_analysis_item_t, src_node) ==
                  (PWRU_WIRESHARK_AT_LEAST(4, 4) ? 0x70 : 0x74) &&
              sizeof(seq_analysis_item_t) == (PWRU_WIRESHARK_AT_LEAST(4, 4) &&
                                                      !PWRU_WIRESHARK_AT_LEAST(4, 6)
                                                  ? 0x88
                                                  : 0x90) &&
              offsetof(seq_analysis_info_t, items) == 0x10,
              "the sequence analysis layout read in libwireshark (see above)");
#else
#define PWRU_HAS_FLOW_GRAPH 0
#endif

// --- the private layout pwru-lost-events.cpp reads ---
// struct epan_session (private to epan.c) starts with the application's
// struct packet_provider_data pointer, whose first member (cfile.h) is the open file's wtap: the
// only way a dissector reaches the capture's interface statistics. Checked in 4.0, 4.4 and 4.6:
// in epan.c's source, and in each libwireshark's epan_get_interface_name, which passes the
// session's first word to the provider's callback (funcs follow it).
#if PWRU_WIRESHARK_AT_LEAST(4, 0) && !PWRU_WIRESHARK_AT_LEAST(4, 7)
#define PWRU_EPAN_SESSION_STARTS_WITH_PROVIDER 1
#else
#define PWRU_EPAN_SESSION_STARTS_WITH_PROVIDER 0
#endif
