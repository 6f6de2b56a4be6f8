// Registration entry points of the `pwru` dissector, called by the plugin glue (plugin.cpp).
#pragma once

void proto_register_pwru(void);
void proto_reg_handoff_pwru(void);
