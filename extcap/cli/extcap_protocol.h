// Wireshark's extcap protocol: the sentences pwrudump answers Wireshark's metadata calls with.
// These calls run at every Wireshark start, so they only format text: no BPF, no privileges.
#pragma once

#include <string>
#include <vector>

#include "remote/hosts.h"

namespace pwru {

// --extcap-interfaces: the `extcap` and `interface` sentences, one per line: pwru, pwru-drops,
// then pwru@HOST for each of `hosts` (the hosts file's).
std::string extcap_interfaces_sentences(const std::vector<Host>& hosts = {});
// --extcap-dlts: the one link type, LINKTYPE_WIRESHARK_UPPER_PDU.
std::string extcap_dlts_sentences();
// --extcap-config: one `arg` per capture option. Each `call` is a flag parse_options accepts,
// each `default` the parser's own default.
std::string extcap_config_sentences();
// --extcap-capture-filter F: empty when `filter` compiles, else libpcap's message and a
// newline (Wireshark shows the first line and marks the filter invalid).
std::string extcap_filter_check(const std::string& filter);

}  // namespace pwru
