// Encode an Event into a pwru record and decode it back (format: pwru_record.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "record/event.h"

namespace pwru {

// Appends the record for `ev` to `out` (header, then one TLV per field that is set).
// `time_ns` is not encoded: it is the pcapng packet timestamp. Fields that are not "set" by the
// rules in docs/record-format.md (ifname/mtu when ifindex is 0, address bytes past the family's
// size, drop_reason_name without drop_reason) are not encoded either. Strings and the packet are
// cut to 65535 bytes.
void encode_record(const Event& ev, std::vector<uint8_t>& out);

// Decodes a record. Unknown TLV types are skipped and counted in `unknown_fields` if given.
// A truncated record, a wrong version or a field of the wrong size is an error naming the offset.
// Never reads outside `data`, whatever it holds. The decoded event has time_ns 0; ip_version is
// 4 or 6 when address fields were present (both families in one record is an error). A field
// that is not repeatable and appears twice keeps its last value.
Result<Event> decode_record(std::span<const uint8_t> data, size_t* unknown_fields = nullptr);

}  // namespace pwru
