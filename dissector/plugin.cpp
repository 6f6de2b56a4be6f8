// Plugin glue: the symbols Wireshark looks up in pwru.so to load the `pwru` dissector and its
// stats trees.
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "packet-pwru.h"
#include "pwru-compat.h"

// extern "C" alone is not enough: a namespace-scope const has internal linkage in C++, so each
// definition also says `extern`, or tshark reports "has no plugin_version symbol".
extern "C" {
extern WS_DLL_PUBLIC_DEF const gchar plugin_version[] = PWRU_PLUGIN_VERSION;
extern WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
extern WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
}

PWRU_PLUGIN_DESCRIBE(PWRU_PLUGIN_DESC_DISSECTOR | PWRU_PLUGIN_DESC_TAP_LISTENER)

void plugin_register(void)
{
    static proto_plugin plug_pwru;
    static tap_plugin plug_pwru_stats;

    plug_pwru.register_protoinfo = proto_register_pwru;
    plug_pwru.register_handoff = proto_reg_handoff_pwru;
    proto_register_plugin(&plug_pwru);

    // Stats trees register as tap listeners, after every protocol (and the "pwru" tap) exists.
    plug_pwru_stats.register_tap_listener = register_pwru_stat_trees;
    tap_register_plugin(&plug_pwru_stats);
}
