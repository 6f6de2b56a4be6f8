// What differs between the Wireshark versions the plugin is built against, in one place: the
// parts test these names, never Wireshark's version numbers.
#pragma once

#include <wireshark.h>

// Wireshark 4.0's struct epan_session (private to epan.c) starts with the application's
// struct packet_provider_data pointer, whose first member is the open file's wtap: the only way
// a dissector reaches the capture's interface statistics (pwru-lost-events.cpp). Checked for 4.0.
#if WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR == 0
#define PWRU_EPAN_SESSION_STARTS_WITH_PROVIDER 1
#else
#define PWRU_EPAN_SESSION_STARTS_WITH_PROVIDER 0
#endif
