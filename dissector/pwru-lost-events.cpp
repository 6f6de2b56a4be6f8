// The capture's count of events lost in the kernel (pwrudump's isb_ifdrop), for the expert
// warning and the stats trees. Reading it leans on a private layout of epan: that code sits here
// alone, behind the version guard of pwru-compat.h.
#include "packet-pwru.h"

#include <cfile.h>
#include <wiretap/wtap.h>

#include "pwru-compat.h"

static expert_field ei_pwru_lost_events = EI_INIT;

// Preference: read the lost-event count from the capture file (pwru_read_isb_ifdrop()).
static pwru_pref_bool pwru_read_lost_events = TRUE;

// First frame with a pwru record in the capture being read; reset with the file scope.
static guint32 pwru_first_frame;

static void
pwru_lost_events_init(void)
{
    pwru_first_frame = 0;
}

/* Lost events. pwrudump counts them in the Interface Statistics Block's isb_ifdrop, written once
 * after the last packet. Wireshark gives dissectors no API to interface statistics: wiretap
 * keeps them with the interface descriptions of the open file (its wtap), which only the
 * application holds. Every application that dissects files (Wireshark's file.c, tshark,
 * sharkd, rawshark, tfshark) creates its epan session with epan_new(&cf->provider, ...), a
 * struct packet_provider_data (cfile.h) whose first member is that wtap, and the session
 * (struct epan_session, private to epan.c) keeps that pointer as its first member (checked for
 * the versions pwru-compat.h names). That layout is read here and checked: the interface name
 * the session reports through its public API must be the very string wiretap holds for the
 * interface. Since the ISB follows the last packet, the count is known only once the whole file
 * was read: in a later pass (tshark -2, the GUI).
 * Preference pwru.read_lost_events turns this off. */
#if PWRU_EPAN_SESSION_STARTS_WITH_PROVIDER
static gboolean
pwru_read_isb_ifdrop(packet_info *pinfo, guint64 *lost)
{
    const struct packet_provider_data *prov;
    wtapng_iface_descriptions_t *idb_info;
    wtapng_if_descr_mandatory_t *idb_mand;
    wtap_block_t idb = NULL, isb;
    char *name = NULL;
    guint32 if_id;

    if (!pwru_read_lost_events || pinfo->epan == NULL || pinfo->rec == NULL ||
        pinfo->rec->rec_type != REC_TYPE_PACKET ||
        !(pinfo->rec->presence_flags & WTAP_HAS_INTERFACE_ID))
        return FALSE;
    prov = *(const struct packet_provider_data *const *)pinfo->epan;
    if (prov == NULL || prov->wth == NULL)
        return FALSE;

    if_id = pwru_file_interface_index(prov->wth, pinfo->rec);
    idb_info = wtap_file_get_idb_info(prov->wth);
    if (if_id < idb_info->interface_data->len)
        idb = g_array_index(idb_info->interface_data, wtap_block_t, if_id);
    g_free(idb_info);
    if (idb == NULL ||
        wtap_block_get_string_option_value(idb, OPT_IDB_NAME, &name) != WTAP_OPTTYPE_SUCCESS ||
        name != pwru_session_interface_name(pinfo->epan, pinfo->rec))
        return FALSE;

    idb_mand = (wtapng_if_descr_mandatory_t *)wtap_block_get_mandatory_data(idb);
    if (idb_mand->interface_statistics == NULL || idb_mand->interface_statistics->len == 0)
        return FALSE;
    // The counters run from the start of the capture: the last ISB holds the total.
    isb = g_array_index(idb_mand->interface_statistics, wtap_block_t,
                        idb_mand->interface_statistics->len - 1);
    return wtap_block_get_uint64_option_value(isb, OPT_ISB_IFDROP, lost) == WTAP_OPTTYPE_SUCCESS;
}
#else
// Another Wireshark: the layout above is unchecked there, so the count stays unknown.
static gboolean
pwru_read_isb_ifdrop(packet_info *pinfo _U_, guint64 *lost _U_)
{
    return FALSE;
}
#endif

gint64
pwru_lost_events(packet_info *pinfo)
{
    guint64 lost;

    if (!pwru_read_isb_ifdrop(pinfo, &lost))
        return -1;
    return lost > G_MAXINT64 ? G_MAXINT64 : (gint64)lost;
}

// On the capture's first pwru frame, where it is seen first: the count concerns every event.
void
pwru_add_lost_events_expert(packet_info *pinfo, proto_item *root, gint64 lost)
{
    if (!PINFO_FD_VISITED(pinfo) && pwru_first_frame == 0)
        pwru_first_frame = pinfo->num;
    if (lost > 0 && pinfo->num == pwru_first_frame)
        expert_add_info_format(pinfo, root, &ei_pwru_lost_events,
                               "%" PRId64 " events were lost in the kernel (ring buffer full): "
                               "journeys may miss hops, drops may be missing", lost);
}

void
pwru_register_lost_events(expert_module_t *expert, module_t *prefs)
{
    static ei_register_info ei[] = {
        { &ei_pwru_lost_events,
          { "pwru.lost_events", PI_SEQUENCE, PI_WARN, "Events lost in the kernel", EXPFILL } },
    };

    expert_register_field_array(expert, ei, array_length(ei));
    prefs_register_bool_preference(
        prefs, "read_lost_events", "Read the lost-event count from the capture file",
        "Warn on the first event when the capture's statistics (isb_ifdrop) count events lost "
        "in the kernel. Known once the whole file was read (the GUI, tshark -2). Reads "
        "Wireshark's capture-file handle through its epan session (see the source).",
        &pwru_read_lost_events);
    register_init_routine(pwru_lost_events_init);
}
