// Encode an Event into a pwru record and decode it back (format: pwru_record.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/result.h"

namespace pwru {

// Appends the record for `ev` to `out` (header, then one TLV per field that is set).
void encode_record(const Event& ev, std::vector<uint8_t>& out);

// Decodes a record. Unknown TLV types are skipped and counted in `unknown_fields` if given.
// A truncated record, a wrong version or a field of the wrong size is an error naming the offset.
Result<Event> decode_record(std::span<const uint8_t> data, size_t* unknown_fields = nullptr);

}  // namespace pwru
