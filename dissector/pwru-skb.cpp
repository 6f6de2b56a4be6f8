// skb fields chosen on pwrudump's command line: the values of --output-skb-metadata (META_NAME,
// META_VALUE: a pwru.meta item per expression, pwru.meta.name and pwru.meta.value under it), the
// skb's shared info (SHINFO: pwru.shinfo.*, laid out as PWRU_SHINFO_* says) and its control
// buffer (CB: pwru.cb).
#include "packet-pwru.h"
#include "pwru-compat.h"

#include "pwru_record.h"

int hf_pwru_meta_name = -1;
int hf_pwru_meta_value = -1;
int hf_pwru_shinfo = -1;
int hf_pwru_cb = -1;
static int hf_pwru_meta = -1;
static int hf_pwru_shinfo_gso_size = -1;
static int hf_pwru_shinfo_gso_segs = -1;
static int hf_pwru_shinfo_gso_type = -1;
static int hf_pwru_shinfo_nr_frags = -1;
static int hf_pwru_shinfo_tx_flags = -1;
static int hf_pwru_shinfo_flags = -1;
static int hf_pwru_shinfo_meta_len = -1;
static int hf_pwru_shinfo_dataref = -1;
static int hf_pwru_shinfo_tskey = -1;
static int hf_pwru_shinfo_frag_list = -1;

static gint ett_pwru_meta = -1;
static gint ett_pwru_shinfo = -1;

// SHINFO's fields at their PWRU_SHINFO_* offsets.
struct pwru_shinfo_field {
    int *hf;
    int offset;
    int size;
};

static const pwru_shinfo_field pwru_shinfo_fields[] = {
    { &hf_pwru_shinfo_nr_frags, PWRU_SHINFO_NR_FRAGS, 1 },
    { &hf_pwru_shinfo_gso_size, PWRU_SHINFO_GSO_SIZE, 2 },
    { &hf_pwru_shinfo_gso_segs, PWRU_SHINFO_GSO_SEGS, 2 },
    { &hf_pwru_shinfo_gso_type, PWRU_SHINFO_GSO_TYPE, 4 },
    { &hf_pwru_shinfo_tx_flags, PWRU_SHINFO_TX_FLAGS, 1 },
    { &hf_pwru_shinfo_flags, PWRU_SHINFO_FLAGS, 1 },
    { &hf_pwru_shinfo_meta_len, PWRU_SHINFO_META_LEN, 1 },
    { &hf_pwru_shinfo_dataref, PWRU_SHINFO_DATAREF, 4 },
    { &hf_pwru_shinfo_tskey, PWRU_SHINFO_TSKEY, 4 },
    { &hf_pwru_shinfo_frag_list, PWRU_SHINFO_FRAG_LIST, 8 },
};

void
pwru_meta_done(pwru_summary *summary)
{
    if (summary->meta_item != NULL)
        proto_item_append_text(summary->meta_item, " (not readable)");
    summary->meta_item = NULL;
    summary->meta_tree = NULL;
}

int
dissect_pwru_skb_field(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                       int length, guint type, pwru_summary *summary)
{
    const char *text;
    proto_tree *sub;
    proto_item *ti;

    switch (type) {
    case PWRU_TLV_META_NAME:
        pwru_meta_done(summary);  // the previous item got no value
        summary->meta_item = proto_tree_add_item(tree, hf_pwru_meta, tvb, offset, length, ENC_NA);
        summary->meta_tree = proto_item_add_subtree(summary->meta_item, ett_pwru_meta);
        proto_tree_add_item_ret_string(summary->meta_tree, hf_pwru_meta_name, tvb, offset, length,
                                       ENC_UTF_8, pinfo->pool, (const guint8 **)&text);
        proto_item_append_text(summary->meta_item, ": %s", text);
        break;
    case PWRU_TLV_META_VALUE:
        // A value follows its name; one without is shown on its own.
        sub = summary->meta_tree != NULL ? summary->meta_tree : tree;
        proto_tree_add_item_ret_string(sub, hf_pwru_meta_value, tvb, offset, length, ENC_UTF_8,
                                       pinfo->pool, (const guint8 **)&text);
        if (summary->meta_item != NULL) {
            proto_item_append_text(summary->meta_item, " = %s", text);
            proto_item_set_end(summary->meta_item, tvb, offset + length);
        }
        summary->meta_item = NULL;
        summary->meta_tree = NULL;
        break;
    case PWRU_TLV_SHINFO:
        ti = proto_tree_add_item(tree, hf_pwru_shinfo, tvb, offset, length, ENC_NA);
        sub = proto_item_add_subtree(ti, ett_pwru_shinfo);
        for (size_t i = 0; i < G_N_ELEMENTS(pwru_shinfo_fields); i++) {
            const pwru_shinfo_field *f = &pwru_shinfo_fields[i];
            proto_tree_add_item(sub, *f->hf, tvb, offset + f->offset, f->size, ENC_LITTLE_ENDIAN);
        }
        proto_item_append_text(ti, ": gso_size %u, gso_segs %u, nr_frags %u",
                               tvb_get_letohs(tvb, offset + PWRU_SHINFO_GSO_SIZE),
                               tvb_get_letohs(tvb, offset + PWRU_SHINFO_GSO_SEGS),
                               pwru_tvb_get_u8(tvb, offset + PWRU_SHINFO_NR_FRAGS));
        break;
    case PWRU_TLV_CB:
        proto_tree_add_item(tree, hf_pwru_cb, tvb, offset, length, ENC_NA);
        break;
    default:
        break;
    }
    return offset + length;
}

void
pwru_register_skb(int proto)
{
    static hf_register_info hf[] = {
        { &hf_pwru_meta,
          { "Metadata", "pwru.meta", FT_NONE, BASE_NONE, NULL, 0x0,
            "An skb field chosen by --output-skb-metadata and its value", HFILL } },
        { &hf_pwru_meta_name,
          { "Expression", "pwru.meta.name", FT_STRING, BASE_NONE, NULL, 0x0,
            "The field as given to --output-skb-metadata, e.g. skb->dev->ifindex", HFILL } },
        { &hf_pwru_meta_value,
          { "Value", "pwru.meta.value", FT_STRING, BASE_NONE, NULL, 0x0,
            "The field's value at the event, as pwrudump's text shows it", HFILL } },
        { &hf_pwru_shinfo,
          { "Shared info", "pwru.shinfo", FT_NONE, BASE_NONE, NULL, 0x0,
            "The skb's struct skb_shared_info (--output-skb-shared-info)", HFILL } },
        { &hf_pwru_shinfo_nr_frags,
          { "Fragments", "pwru.shinfo.nr_frags", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Page fragments holding the data past the linear part", HFILL } },
        { &hf_pwru_shinfo_gso_size,
          { "GSO size", "pwru.shinfo.gso_size", FT_UINT16, BASE_DEC, NULL, 0x0,
            "Payload bytes per segment when the skb is segmented (0: not a GSO skb)", HFILL } },
        { &hf_pwru_shinfo_gso_segs,
          { "GSO segments", "pwru.shinfo.gso_segs", FT_UINT16, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_pwru_shinfo_gso_type,
          { "GSO type", "pwru.shinfo.gso_type", FT_UINT32, BASE_HEX, NULL, 0x0,
            "SKB_GSO_* bits (include/linux/skbuff.h)", HFILL } },
        { &hf_pwru_shinfo_tx_flags,
          { "TX flags", "pwru.shinfo.tx_flags", FT_UINT8, BASE_HEX, NULL, 0x0,
            "SKBTX_* bits", HFILL } },
        { &hf_pwru_shinfo_flags,
          { "Flags", "pwru.shinfo.flags", FT_UINT8, BASE_HEX, NULL, 0x0,
            "SKBFL_* bits (Linux 5.12 and later)", HFILL } },
        { &hf_pwru_shinfo_meta_len,
          { "Metadata length", "pwru.shinfo.meta_len", FT_UINT8, BASE_DEC, NULL, 0x0,
            "XDP metadata bytes before the packet", HFILL } },
        { &hf_pwru_shinfo_dataref,
          { "Data references", "pwru.shinfo.dataref", FT_UINT32, BASE_DEC, NULL, 0x0,
            "skbs sharing this data (clones)", HFILL } },
        { &hf_pwru_shinfo_tskey,
          { "Timestamp key", "pwru.shinfo.tskey", FT_UINT32, BASE_DEC, NULL, 0x0, NULL,
            HFILL } },
        { &hf_pwru_shinfo_frag_list,
          { "Frag list", "pwru.shinfo.frag_list", FT_UINT64, BASE_HEX, NULL, 0x0,
            "Address of the first skb of the frag list (0: none)", HFILL } },
        { &hf_pwru_cb,
          { "Control buffer", "pwru.cb", FT_BYTES, BASE_NONE, NULL, 0x0,
            "skb->cb, the 48 bytes the layer holding the skb keeps there (--output-skb-cb)",
            HFILL } },
    };

    static gint *ett[] = {
        &ett_pwru_meta,
        &ett_pwru_shinfo,
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
}
